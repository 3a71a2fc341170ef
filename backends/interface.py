"""The backend contract (docs/design.md section 7.1), declared once.

Every registered backend subclasses :class:`Backend` (build, map, report) and, if it runs
the episode protocol, :class:`EpisodeBackend` too. ``pipeline/simulate.py``,
``pipeline/protocol.py`` and ``pipeline/recall.py`` call only the members declared here;
the class data below are the defaults a backend overrides. Units: times in ms, weights
in mV (PyNN's), rates in Hz.
"""
from __future__ import annotations

import abc
from typing import Any

import numpy as np

from pipeline.model import Params
from pipeline.protocol import NEST_PROTOCOL, ProtocolRules


class Backend(abc.ABC):
    """A simulator that builds the model of ``pipeline.model``; constructed as
    ``Backend(cfg, seed, run_dir)`` (a validated config, the experiment seed, the run
    directory)."""

    #: registry name and the one-line label printed and recorded in provenance
    name: str = ""
    label: str = ""
    #: True: the backend maps the network but runs no episodes (no spikes, no weights)
    map_only: bool = False
    #: True: a run yields spike trains (False for mapping on a virtual board)
    produces_spikes: bool = True
    #: the training protocol it can execute (pipeline/protocol.py)
    protocol: ProtocolRules = NEST_PROTOCOL
    #: how the run was executed, recorded in provenance (None: an ordinary simulation)
    execution: str | None = None
    #: the simulator applies potentiation at the next pre spike (pipeline/stdp_bookkeeping.py)
    deferred_facilitation: bool = False

    @staticmethod
    @abc.abstractmethod
    def time_step(cfg: dict) -> float:
        """Return the backend's time step [ms] for ``cfg``."""

    @abc.abstractmethod
    def setup(self, rng_seed: int | None = None) -> None:
        """Start a fresh simulator whose own random streams are seeded with ``rng_seed``."""

    @abc.abstractmethod
    def build(self, p: Params, conn: Any, **kwargs: Any) -> Any:
        """Build the model (``pipeline.model.build``) with connectivity ``conn``."""

    @abc.abstractmethod
    def translation_report(self) -> dict:
        """Return what the backend translated (parameters, types, units), for the run's
        translation.json."""

    @abc.abstractmethod
    def end(self) -> None:
        """Release the simulator."""

    def schedule(self, p: Params, pat: Any, first: int, stop: int) -> None:
        """Load the cues of episodes [first, stop) with the next build (sPyNNaker loads
        every spike source with the network); nothing to do for a simulator that takes
        each episode's drive when it comes."""

    def map(self, duration: float) -> dict:
        """Map the built network for ``duration`` [ms] and return the resource report
        (map-only backends)."""
        raise NotImplementedError(f"backend '{self.name}' does not map on a board")

    def set_supervision(self, supervision_rates: np.ndarray) -> None:
        """Set each E neuron's supervision rate [Hz] of the mapped episode."""
        raise NotImplementedError(f"backend '{self.name}' has no mapped supervision")


class EpisodeBackend(Backend):
    """A backend that runs the episode protocol: phases, drive, plasticity, weights."""

    dt: float

    @abc.abstractmethod
    def now(self) -> float:
        """Return the simulator's clock [ms]."""

    @abc.abstractmethod
    def run(self, duration: float) -> None:
        """Advance the simulation by ``duration`` [ms]."""

    @abc.abstractmethod
    def set_drive(self, trains: list[np.ndarray], supervision_rates: np.ndarray) -> None:
        """Set the input spike ``trains`` [ms] (one per input neuron) and each E neuron's
        supervision rate [Hz] for the next phase."""

    @abc.abstractmethod
    def set_plasticity(self, rows: np.ndarray, on: bool) -> None:
        """Switch the STDP of the feed-forward ``rows`` (input indices) on or off."""

    @abc.abstractmethod
    def spikes(self, pop: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (neuron index, time [ms]) of the spikes of ``pop`` since the last call."""

    @abc.abstractmethod
    def read_weights(self, rows: np.ndarray) -> np.ndarray:
        """Return the feed-forward weights [mV] of ``rows``, shape (len(rows), n_exc)."""

    @abc.abstractmethod
    def write_weights(self, rows: np.ndarray, values: np.ndarray) -> None:
        """Write feed-forward weights [mV] of ``rows`` into the simulator."""

    @abc.abstractmethod
    def potentiation_step(self, w: np.ndarray) -> np.ndarray | float:
        """Return the potentiation per unit pre trace at weights ``w`` [mV]."""

    @abc.abstractmethod
    def plastic_delay(self) -> float:
        """Return the delay [ms] of the plastic synapses."""

    @abc.abstractmethod
    def plastic_weights_flat(self) -> np.ndarray:
        """Return every plastic weight [mV] as one flat array (the recall checks that its
        sessions leave them unchanged)."""
