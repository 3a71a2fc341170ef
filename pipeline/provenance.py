"""Provenance records: what produced an output, from which config, seed and versions."""
from __future__ import annotations

import datetime as _dt
import functools
import json
import os
import platform
import resource
import socket
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from .config import config_hash

PACKAGES = ("nest-simulator", "PyNN", "sPyNNaker", "neuron", "neo", "elephant", "nixio", "numpy",
            "scipy", "matplotlib", "snakemake", "quantities")


def package_versions() -> dict[str, str | None]:
    """Return the installed version of each package the results depend on (None if absent)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


PROJECT = "stdp-capacity"
ROOT = Path(__file__).resolve().parent.parent


@functools.lru_cache(maxsize=1)
def code_version() -> dict[str, Any]:
    """Return the version of this project's own code: in a git checkout the commit and
    whether tracked files differ from it (``dirty``); outside git the installed package
    version. Keys: ``source`` ('git' or 'package'), ``commit``, ``dirty``, ``version``."""
    out: dict[str, Any] = {"source": "package", "commit": None, "dirty": None,
                           "version": None}
    try:
        out["version"] = metadata.version(PROJECT)
    except metadata.PackageNotFoundError:
        pass
    try:
        git = ["git", "-C", str(ROOT)]
        top = subprocess.run([*git, "rev-parse", "--show-toplevel"], capture_output=True,
                             text=True, timeout=20)
        if top.returncode == 0 and Path(top.stdout.strip()).resolve() == ROOT:
            commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True,
                                    text=True, timeout=20, check=True).stdout.strip()
            status = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no"],
                                    capture_output=True, text=True, timeout=20, check=True)
            out.update(source="git", commit=commit, dirty=bool(status.stdout.strip()))
    except (OSError, subprocess.SubprocessError):
        pass
    return out


def code_label(version: dict | None) -> str:
    """Return a short label of a :func:`code_version` record ('abc1234 (dirty)', 'package
    0.1.0', 'unknown' for records written before code versions were recorded)."""
    if not version:
        return "unknown (no code_version in provenance)"
    if version.get("commit"):
        return version["commit"][:10] + (" (dirty)" if version.get("dirty") else "")
    return f"package {version.get('version')}"


def warn_mixed_code_versions(runs: list[tuple[Any, dict]], step: str,
                             stream=None) -> bool:
    """Print a warning when the provenance records of ``runs`` ((path, provenance) pairs)
    come from different code versions (commit, dirty flag or package version; records
    without one count as a version of their own). Returns True if it warned."""
    labels = {str(path): code_label(prov.get("code_version")) for path, prov in runs}
    versions = {json.dumps(prov.get("code_version"), sort_keys=True) for _, prov in runs}
    if len(versions) <= 1:
        return False
    listing = "; ".join(f"{p}: {label}" for p, label in labels.items())
    print(f"warning: {step} combines runs from different code versions of {PROJECT} "
          f"(git commit, uncommitted changes, or package version): {listing}",
          file=stream or sys.stderr, flush=True)
    return True


# What a SLURM job says about itself (sbatch/srun environment), recorded when present.
SLURM_VARIABLES = ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID", "SLURM_JOB_NAME",
                   "SLURM_JOB_PARTITION", "SLURM_CLUSTER_NAME", "SLURMD_NODENAME",
                   "SLURM_JOB_NODELIST", "SLURM_CPUS_PER_TASK", "SLURM_CPUS_ON_NODE",
                   "SLURM_MEM_PER_NODE", "SLURM_MEM_PER_CPU", "SLURM_STEP_ID")


def slurm_job(environ: dict[str, str] | None = None) -> dict[str, str] | None:
    """Return the SLURM job this process runs in (the SLURM_* variables of
    ``SLURM_VARIABLES`` that are set, keys lower-cased without the prefix), or None
    outside SLURM. ``cpus_per_task`` is the number of cores SLURM granted the task;
    ``mem_per_node`` is in MB."""
    env = os.environ if environ is None else environ
    if not env.get("SLURM_JOB_ID"):
        return None
    out = {}
    for var in SLURM_VARIABLES:
        if env.get(var):
            key = var.split("_", 1)[1].lower() if var.startswith("SLURM_") else "nodename"
            out[key] = env[var]
    return out


def granted_cores(environ: dict[str, str] | None = None) -> int | None:
    """Return the cores SLURM granted this task (SLURM_CPUS_PER_TASK), or None outside
    SLURM or when the job did not ask for cores per task."""
    from .machine import slurm_cpus_per_task

    env = os.environ if environ is None else environ
    return slurm_cpus_per_task(env) if env.get("SLURM_JOB_ID") else None


def peak_rss_mb() -> float:
    """Return the peak resident memory of this process and its finished children [MB]
    (getrusage ru_maxrss, kB on Linux)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


class Provenance:
    """Collects a provenance record over the life of one step.

    ``finish()`` returns the record as a JSON-ready dict: config hash, seed, backend,
    translation report, the project's code version (git commit and dirty flag, or package
    version), package versions, host, start and end time (UTC), wall time [s], peak
    resident memory [MB], and under SLURM the job (``slurm``: job id, node, granted cores,
    ...; see ``slurm_job``).
    """

    def __init__(self, step: str, cfg: dict | None = None, **fields: Any) -> None:
        self._t0 = time.perf_counter()
        self.record: dict[str, Any] = {
            "step": step,
            "command": " ".join(sys.argv),
            "config_hash": config_hash(cfg) if cfg is not None else None,
            "experiment": cfg.get("experiment") if cfg else None,
            "host": socket.gethostname(),
            "platform": platform.platform(),
            "code_version": code_version(),
            "packages": package_versions(),
            "start_time": _now(),
        }
        job = slurm_job()
        if job is not None:
            self.record["slurm"] = job
        self.record.update(fields)

    def finish(self, **fields: Any) -> dict[str, Any]:
        """Stamp the end time and wall time [s]; return the record."""
        self.record.update(fields)
        self.record["end_time"] = _now()
        self.record["wall_time_s"] = round(time.perf_counter() - self._t0, 3)
        self.record["peak_rss_mb"] = peak_rss_mb()
        return self.record
