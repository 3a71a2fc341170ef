"""One reader of a finished run directory (docs/design.md section 9).

``simulate`` writes spikes.nix, weights.npz, episodes.csv, translation.json and, last,
provenance.json. :func:`open_run` checks that a directory holds a finished run that
produced spikes, and returns a :class:`RunDirectory` whose files are read once, when first
asked for (a capacity needs only the weights; the validation also the spikes). Every
damaged or missing file raises ResultFileError naming the file and the fix.
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from .io import ResultFileError, read_csv, read_json, read_npz, read_spikes_nix


def trains_by_population(block) -> dict[str, dict[int, np.ndarray]]:
    """Return {population: {neuron index: spike times [ms]}} of a run's neo Block."""
    out: dict[str, dict[int, np.ndarray]] = {"inputs": {}, "exc": {}, "inh": {}}
    for st in block.segments[0].spiketrains:
        out[st.annotations["population"]][int(st.annotations["index"])] = \
            np.asarray(st.rescale("ms").magnitude)
    return out


def training_windows(block) -> list[tuple[float, float]]:
    """Return the (start, stop) [ms] of every training phase of a run's neo Block."""
    ep = [e for e in block.segments[0].epochs if e.name == "phases"][0]
    t = ep.times.rescale("ms").magnitude
    d = ep.durations.rescale("ms").magnitude
    # to the ns: the phases come from the simulator's clock (NEST's 0.1 ms steps summed in
    # float), and a 999.99999998 ms phase would lose its last 10 ms bin
    return [(round(float(a), 6), round(float(a + b), 6)) for a, b, lab in zip(t, d, ep.labels)
            if str(lab).startswith("training")]


class RunDirectory:
    """A finished run directory: its provenance at once, every other file on demand."""

    def __init__(self, path: Path, provenance: dict) -> None:
        self.path = Path(path)
        self.provenance = provenance

    @property
    def cfg(self) -> dict:
        """The run's validated config (as simulate recorded it)."""
        return self.provenance.get("config") or {}

    @property
    def seed(self) -> int:
        return int(self.provenance["seed"])

    @property
    def backend(self) -> str:
        return str(self.provenance.get("backend"))

    @property
    def replicate(self) -> int:
        return int(self.cfg.get("simulation", {}).get("replicate", 0))

    @cached_property
    def weights(self) -> dict[str, np.ndarray]:
        """weights.npz's arrays by name (weights in theta unless the name says mV)."""
        return read_npz(self.path / "weights.npz")

    def require_weights(self, *required: str) -> dict[str, np.ndarray]:
        """Return weights.npz's arrays; ResultFileError if one of ``required`` is missing."""
        data = self.weights
        missing = [k for k in required if k not in data]
        if missing:
            raise ResultFileError(f"'{self.path / 'weights.npz'}' lacks the arrays {missing}: "
                                  f"it was written by another version of the pipeline; rerun "
                                  f"simulate for this run")
        return data

    @cached_property
    def spikes(self) -> Any:
        """The neo Block of spikes.nix (segment 'run', and 'recall' with a spiking recall)."""
        return read_spikes_nix(self.path / "spikes.nix")

    @cached_property
    def trains(self) -> dict[str, dict[int, np.ndarray]]:
        """{population: {neuron index: spike times [ms]}} of the training run."""
        return trains_by_population(self.spikes)

    @cached_property
    def windows(self) -> list[tuple[float, float]]:
        """The (start, stop) [ms] of every training phase."""
        return training_windows(self.spikes)

    @cached_property
    def episodes(self) -> list[dict]:
        """The rows of episodes.csv (one per episode)."""
        return read_csv(self.path / "episodes.csv")


def open_run(path: Path | str, purpose: str) -> RunDirectory:
    """Return the run directory ``path``, checked to hold a finished run with spikes;
    ``purpose`` says in the error what was wanted (e.g. 'a forgetting curve').

    Raises ResultFileError if the directory does not exist, is unfinished (no
    provenance.json: simulate writes it last) or produced no spikes (a virtual board)."""
    path = Path(path)
    if not path.is_dir():
        raise ResultFileError(f"run directory '{path}' does not exist: run `python -m "
                              f"pipeline simulate --out {path} ...` first")
    if not (path / "provenance.json").is_file():
        raise ResultFileError(f"run '{path}' is unfinished or not a run: it has no "
                              f"provenance.json (simulate writes it last); rerun simulate")
    prov = read_json(path / "provenance.json", "provenance file")
    if not prov.get("produces_spikes", True):
        raise ResultFileError(f"run '{path}' ({prov.get('backend')}) produced no spikes and "
                              f"no weight dynamics (a virtual SpiNNaker board maps but does "
                              f"not simulate); it has no {purpose}")
    return RunDirectory(path, prov)
