"""Provenance records: what produced an output, from which config, seed and versions."""
from __future__ import annotations

import datetime as _dt
import platform
import socket
import sys
import time
from importlib import metadata
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


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


class Provenance:
    """Collects a provenance record over the life of one step.

    ``finish()`` returns the record as a JSON-ready dict: config hash, seed, backend,
    translation report, package versions, host, start and end time (UTC), wall time [s].
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
            "packages": package_versions(),
            "start_time": _now(),
        }
        self.record.update(fields)

    def finish(self, **fields: Any) -> dict[str, Any]:
        """Stamp the end time and wall time [s]; return the record."""
        self.record.update(fields)
        self.record["end_time"] = _now()
        self.record["wall_time_s"] = round(time.perf_counter() - self._t0, 3)
        return self.record
