"""bench/results.json, the one file every benchmark script writes its figures into.

Each script owns one top-level section; it is replaced whole, with the machine, software
versions and date of its own run, so that sections measured on different days (or
machines) say so. Writes are atomic (pipeline.io.write_json).
"""
from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pipeline.io import write_json  # noqa: E402

RESULTS = ROOT / "bench" / "results.json"


def stats(values: list[float]) -> dict:
    """Return median, min, max and n of ``values``."""
    v = np.asarray(values, dtype=float)
    return {"median": float(np.median(v)), "min": float(v.min()), "max": float(v.max()),
            "n": int(v.size)}


def now() -> str:
    """Return the UTC time, ISO 8601, to the second."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def machine() -> dict:
    """Return the machine and software description (CPU, cores, versions, git commit)."""
    import importlib.metadata as md

    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                if ln.startswith("model name")), platform.processor())
    versions = {}
    for pkg in ("nest-simulator", "PyNN", "numpy", "neo", "elephant", "sPyNNaker"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "versions": versions, "git_commit": commit,
            "mem_total_bytes": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")}


def write_section(name: str, data: dict, command: list[str], path: Path = RESULTS) -> dict:
    """Replace section ``name`` of the results file by ``data`` plus the machine, date,
    command and load average of this run; return the whole results dict."""
    results = json.loads(path.read_text()) if path.exists() else {}
    results[name] = {"date": now(), "command": " ".join(command), "machine": machine(),
                     "load_average_end": list(os.getloadavg()), **data}
    write_json(path, results)
    return results
