"""What the machine grants this process: cores (CPU affinity, SLURM, cgroup quota) and
memory (MemAvailable, cgroup limit). Used to check a run before it starts."""
from __future__ import annotations

import math
import os
from pathlib import Path

_CGROUP = Path("/sys/fs/cgroup")


def slurm_cpus_per_task(environ: dict[str, str] | None = None) -> int | None:
    """Return the cores per task SLURM granted (``SLURM_CPUS_PER_TASK``, a positive
    integer), or None when it is unset or not one."""
    env = os.environ if environ is None else environ
    value = env.get("SLURM_CPUS_PER_TASK", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def usable_cores() -> tuple[int, dict[str, int]]:
    """Return (cores this process may use, the limit of each source that sets one).

    Sources: the CPU affinity mask, SLURM's grant (``SLURM_CPUS_PER_TASK``), and the
    cgroup v2 CPU quota (``cpu.max``). The number is the smallest of them, at least 1.
    """
    limits: dict[str, int] = {}
    try:
        limits["affinity"] = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        limits["os.cpu_count"] = os.cpu_count() or 1
    slurm = slurm_cpus_per_task()
    if slurm is not None:
        limits["SLURM_CPUS_PER_TASK"] = slurm
    try:
        quota, period = (_CGROUP / "cpu.max").read_text().split()[:2]
        if quota != "max":
            limits["cgroup cpu.max"] = max(1, math.floor(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    return max(1, min(limits.values())), limits


def available_memory_bytes() -> tuple[int | None, str]:
    """Return (bytes of memory a new allocation can get, where the number comes from):
    the smaller of the kernel's MemAvailable and the cgroup v2 limit minus its usage.
    (None, reason) when neither can be read."""
    found: list[tuple[int, str]] = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append((int(line.split()[1]) * 1024, "MemAvailable"))
    except (OSError, ValueError):
        pass
    try:
        limit = (_CGROUP / "memory.max").read_text().strip()
        if limit != "max":
            used = int((_CGROUP / "memory.current").read_text())
            found.append((max(0, int(limit) - used), "cgroup memory.max"))
    except (OSError, ValueError):
        pass
    if not found:
        return None, "unknown (no /proc/meminfo or cgroup limit)"
    return min(found)
