"""bench/results.json, the one file every benchmark script writes its figures into.

Each script owns one top-level section; it is replaced whole, with the machine, software
versions and date of its own run, so that sections measured on different days (or
machines) say so. Writes are atomic (pipeline.io.write_json).
"""
from __future__ import annotations

import datetime
import hashlib
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


def code_fingerprint() -> str:
    """Return 12 hex digits that identify the code a workflow benchmark measures: git's
    tree ids of pipeline/, backends/, config/ and the Snakefile at HEAD, plus any
    uncommitted change to them. Repetitions with equal fingerprints measured the same code."""
    paths = ["pipeline", "backends", "config", "Snakefile"]
    ids = subprocess.run(["git", "rev-parse", *[f"HEAD:{p}" for p in paths]], cwd=ROOT,
                         capture_output=True, text=True).stdout
    diff = subprocess.run(["git", "diff", "HEAD", "--", *paths], cwd=ROOT,
                          capture_output=True, text=True).stdout
    return hashlib.sha256((ids + diff).encode()).hexdigest()[:12]


def add_repetition(name: str, rep: dict, keys: list[str], command: list[str],
                   path: Path = RESULTS) -> dict:
    """Add one repetition ``rep`` (with this run's date, machine and load average) to the
    section ``name``, for figures too long to repeat in one invocation (a whole seed, a
    whole workflow). Repetitions of other code (:func:`code_fingerprint`) are dropped; the
    section's ``summary`` gives :func:`stats` of each of ``keys`` over the ones kept.
    Returns the section."""
    results = json.loads(path.read_text()) if path.exists() else {}
    code = code_fingerprint()
    reps = [r for r in results.get(name, {}).get("repetitions", []) if r.get("code") == code]
    reps.append({"date": now(), "code": code, "machine": machine(),
                 "load_average_end": list(os.getloadavg()), **rep})
    results[name] = {"date": now(), "command": " ".join(command), "code": code,
                     "summary": {k: stats([r[k] for r in reps]) for k in keys},
                     "repetitions": reps}
    write_json(path, results)
    return results[name]
