"""The record a timing worker of ``bench/speed.py`` prints (one JSON line on stdout)."""
from __future__ import annotations

import json
import resource

import numpy as np


def emit(record: dict, laps: list[dict]) -> dict:
    """Add to ``record`` the mean of every timed quantity over the steady episodes (the
    first lap, which pays first-touch costs, is left out when there are more), their
    number, and the process's peak resident memory [bytes]; print it as one JSON line
    and return it."""
    steady = laps[1:] or laps
    record["episodes_timed"] = len(steady)
    record["episode"] = {k: float(np.mean([r[k] for r in steady])) for k in steady[0]}
    record["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB
    print(json.dumps(record))
    return record
