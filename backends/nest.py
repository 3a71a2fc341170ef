"""NEST backend (the reference): ``pyNN.nest`` for the build, NEST directly for fast paths.

- Neurons: on-grid ``iaf_psc_delta`` at ``simulation.dt_ms``, min delay = dt.
- STDP: ``stdp_synapse`` with mu_plus = 0, mu_minus = 1 (PyNN's
  AdditivePotentiationMultiplicativeDepression). NEST's update is
  dw+ = lambda * Wmax * x_pre, dw- = -alpha * lambda * w * x_post, so lambda = Delta_c/w_max
  and alpha * lambda = -r_ac. The translation table below is checked against the values
  NEST reports after the build.
- Plasticity off (warm-up): ``lambda = 0`` on the connections from the inputs that spike,
  which stops potentiation and depression alike.
- Weights: a host copy is the truth; only rows of inputs that spike in an episode are
  written before it and read after it (silent inputs deliver no spike and never update).
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from pipeline.model import Network, Params, Translation, build

from .interface import EpisodeBackend
from .nest_bulk import bulk_from_list_connector
from .nest_sources import one_target_poisson_source

# The model's STDP rule in PyNN terms on NEST (exact, no substitution).
STDP_TRANSLATION = Translation(
    weight_dependence="AdditivePotentiationMultiplicativeDepression",
    parameters={
        "tau_plus": lambda p: p.tau_c,
        "tau_minus": lambda p: p.tau_ac,
        # PyNN/NEST: potentiation is A_plus * w_max (A_plus -> NEST lambda).
        "A_plus": lambda p: p.delta_c / p.w_max,
        # PyNN/NEST: depression is -A_minus * w * x_post (alpha = A_minus / A_plus).
        "A_minus": lambda p: -p.r_ac,
        # PyNN 0.13 multiplies w_max by 1000 (nA -> pA) but, for IF_curr_delta, does not
        # apply the receptor_scale 1e-3 that it applies to weights: compensate here.
        "w_max": lambda p: p.w_max / 1000.0,
        "w_min": lambda p: 0.0,
    },
    inhibitory_sign=-1.0,   # PyNN on NEST: current-based inhibitory weights are negative
    list_connector=bulk_from_list_connector,   # same connections, one NEST call
    poisson_source=one_target_poisson_source,  # supervision without relay parrots
    note="exact: NEST stdp_synapse with mu_plus=0 (additive potentiation), mu_minus=1 "
         "(multiplicative depression)",
)

# What NEST must report on a plastic connection, as functions of the model parameters.
EXPECTED_NATIVE: dict = {
    "Wmax": lambda p: p.w_max,
    "lambda": lambda p: p.delta_c / p.w_max,
    "alpha": lambda p: -p.r_ac / (p.delta_c / p.w_max),
    "mu_plus": lambda p: 0.0,
    "mu_minus": lambda p: 1.0,
    "tau_plus": lambda p: p.tau_c,
    "tau_minus": lambda p: p.tau_ac,   # read from the post neuron
}

# NEST kernel settings of every NEST run, set after PyNN's setup. NEST 3.10 shrinks its
# spike exchange buffer whenever a step sends fewer than 20% of its size, grows it again
# at the next busy step, and appends every resize to the kernel status's
# 'spike_buffer_resize_log'. With min_delay = dt that is about one entry every other step
# (24,699 after 4.8 s of the default network), and every GetKernelStatus (which PyNN's
# clock and each SynapseCollection.get/set call) converts the whole log: the time per
# episode grew without bound (2.3 s at episode 0 to 13 s at episode 70 of a default run).
# Never shrinking keeps the buffer at its largest size so far (a few kB) and the log at a
# few entries; which spikes are delivered, and when, does not depend on the buffer size
# (tests/test_nest_kernel.py checks runs with and without it bitwise).
KERNEL_STATUS = {"spike_buffer_shrink_limit": 0.0}


def import_pynn():
    """Return ``pyNN.nest``, with PyNN 0.13's IF_curr_delta made to accept initial values.

    PyNN 0.13 gives IF_curr_delta on NEST no ``variable_map``, so ``initialize(v=...)`` is
    dropped with a warning and V_m stays at PyNN's default -65 mV. The map below is the
    one PyNN uses for every other NEST integrate-and-fire model.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pyNN.nest as sim
        from pyNN.nest.standardmodels import cells
    if not hasattr(cells.IF_curr_delta, "variable_map"):
        cells.IF_curr_delta.variable_map = {"v": "V_m"}
    return sim


class NestBackend(EpisodeBackend):
    """Runs the model on NEST through pyNN.nest. See the module docstring."""

    name = "nest"
    label = "NEST (reference)"
    produces_spikes = True
    map_only = False               # runs the episode protocol
    deferred_facilitation = True   # facilitation is applied at the next pre spike
    translation = STDP_TRANSLATION
    expected_native = EXPECTED_NATIVE
    # parameters set on the plastic connections through NEST after the PyNN build, where
    # PyNN 0.13 drops them (functions of Params); checked like the rest
    native_overrides: dict = {}

    def __init__(self, cfg: dict, seed: int, run_dir) -> None:
        self.cfg = cfg
        self.seed = seed
        self.run_dir = run_dir
        self.dt = self.time_step(cfg)
        self.threads = int(cfg["simulation"]["threads"])
        self.net: Network | None = None
        self._rows: dict[int, Any] = {}            # input m -> its SynapseCollection
        self._targets: dict[int, np.ndarray] = {}  # input m -> E indices, NEST's order

    @staticmethod
    def time_step(cfg: dict) -> float:
        """Return the simulation time step [ms] this backend uses for ``cfg``."""
        return float(cfg["simulation"]["dt_ms"])

    # ------------------------------------------------------------------ set-up
    def setup(self, rng_seed: int | None = None):
        """Set up pyNN.nest (a fresh kernel); return the ``sim`` module.

        ``rng_seed`` seeds NEST's random streams (default: the experiment seed)."""
        sim = import_pynn()
        import nest
        nest.set_verbosity("M_ERROR")
        sim.setup(timestep=self.dt, min_delay=self.dt, max_delay=max(10 * self.dt, 1.0),
                  threads=self.threads, rng_seed=rng_seed or self.seed, spike_precision="on_grid",
                  verbosity="error")
        nest.SetKernelStatus(KERNEL_STATUS)
        self.sim = sim
        self.nest = nest
        return sim

    def build(self, p: Params, conn) -> Network:
        """Build the model (pipeline.model.build) and prepare the weight fast path."""
        self.p = p
        self._rows, self._targets = {}, {}
        self.net = build(self.sim, p, conn, self.translation)
        if self.native_overrides:
            self.net.plastic.nest_connections.set(
                {k: float(f(p)) for k, f in self.native_overrides.items()})
        self._check_native()
        return self.net

    def _check_native(self) -> None:
        """Fail loudly if NEST's plastic synapse does not hold the intended parameters."""
        status = self._row(0)[0].get()
        self.native = {k: float(status[k]) for k in self.expected_native if k in status}
        self.native["tau_minus"] = float(self.net.exc.node_collection[0].get("tau_minus"))
        for k, f in self.expected_native.items():
            want = f(self.p)
            if not np.isclose(self.native[k], want, rtol=1e-9, atol=1e-12):
                raise RuntimeError(f"NEST stdp_synapse has {k} = {self.native[k]!r}, expected "
                                   f"{want!r}: the PyNN translation of the STDP rule changed; "
                                   f"fix the translation table of backend '{self.name}'")

    def _row(self, m: int) -> Any:
        """Return the SynapseCollection of the plastic synapses of input m (cached per
        build). Filtering by source and the projection's synapse model and label only,
        with no target filter, makes NEST's search about 8x cheaper (measured at paper
        scale, 2 threads: 4 ms against 31 ms per row). The label is the plastic
        projection's own, so every synapse found reaches the E population; reading the
        targets checks that."""
        if m not in self._rows:
            self._rows[m] = self.nest.GetConnections(
                source=self.net.inputs.node_collection[m:m + 1],
                synapse_model=self.net.plastic.nest_synapse_model,
                synapse_label=self.net.plastic.nest_synapse_label)
        return self._rows[m]

    def _as_e_index(self, m: int, target_ids) -> np.ndarray:
        """Return NEST target node IDs as E indices, failing if one is not an E cell."""
        targets = np.atleast_1d(np.asarray(target_ids, dtype=np.int64)) - self.net.exc.first_id
        if np.any((targets < 0) | (targets >= self.p.n_exc)):
            raise RuntimeError(f"plastic synapses of input {m} reach nodes outside the E "
                               f"population: the plastic projection is not the only one "
                               f"with NEST label {self.net.plastic.nest_synapse_label}")
        return targets

    def _row_targets(self, m: int) -> np.ndarray:
        """Return the E indices of the plastic synapses of input m, in NEST's order."""
        if m not in self._targets:
            self._targets[m] = self._as_e_index(m, self._row(m).get("target"))
        return self._targets[m]

    def _row_weights(self, m: int) -> tuple[np.ndarray, np.ndarray]:
        """Return (E indices, weights [mV]) of the plastic synapses of input m. The first
        read of a row after a build fetches the targets in the same NEST call as the
        weights: NEST builds one full status dictionary per connection whatever the keys
        asked, so the targets then cost nothing extra."""
        conns = self._row(m)
        if m in self._targets:
            return self._targets[m], np.atleast_1d(np.asarray(conns.get("weight"), float))
        status = conns.get(["target", "weight"])
        self._targets[m] = self._as_e_index(m, status["target"])
        return self._targets[m], np.atleast_1d(np.asarray(status["weight"], float))

    # ------------------------------------------------------------------ episodes
    def now(self) -> float:
        """Return the kernel time [ms]: new input spikes must lie after it."""
        return float(self.nest.biological_time)

    def set_drive(self, trains: list[np.ndarray], supervision_rates: np.ndarray) -> None:
        """Set the input spike trains [ms] and the per-E-neuron supervision rates [Hz]."""
        self.net.inputs.set(spike_times=[self.sim.Sequence(t) for t in trains])
        self.net.supervision.set(rate=supervision_rates)

    def set_plasticity(self, rows: np.ndarray, on: bool) -> None:
        """Switch STDP on or off (lambda) on the synapses of the input rows ``rows``."""
        lam = self.translation.values(self.p)["A_plus"] if on else 0.0
        for m in rows:
            self._row(int(m)).set({"lambda": lam})

    def run(self, duration: float) -> None:
        """Advance the simulation by ``duration`` [ms]."""
        self.sim.run(duration)

    def spikes(self, pop: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (neuron index, time [ms]) of the spikes of ``pop`` ('exc', 'inh',
        'inputs') since the last call, and forget them."""
        popn = getattr(self.net, pop)
        dev = popn.recorder._spike_detector.device
        ev = dev.get("events")
        idx = np.asarray(ev["senders"], dtype=np.int64) - popn.first_id
        t = np.asarray(ev["times"], dtype=float)
        dev.set(n_events=0)
        order = np.lexsort((idx, t))
        return idx[order], t[order]

    def read_weights(self, rows: np.ndarray) -> np.ndarray:
        """Return the plastic weights [mV] of the input rows ``rows``, shape (len, N_E)."""
        out = np.empty((len(rows), self.p.n_exc))
        for i, m in enumerate(rows):
            targets, weights = self._row_weights(int(m))
            out[i, targets] = weights
        return out

    def plastic_weights_flat(self) -> np.ndarray:
        """Return every plastic weight [mV] in NEST's connection order (one call; for
        checking that nothing changed, not for indexing)."""
        return np.asarray(self.net.plastic.nest_connections.get("weight"), dtype=float)

    def write_weights(self, rows: np.ndarray, values: np.ndarray) -> None:
        """Set the plastic weights [mV] of the input rows ``rows`` to ``values`` (len, N_E)."""
        for i, m in enumerate(rows):
            self._row(int(m)).set(weight=values[i, self._row_targets(int(m))].tolist())

    def potentiation_step(self, w: np.ndarray) -> np.ndarray | float:
        """Return the weight step [mV] of one potentiating pair at unit trace for synapses
        of weight ``w`` [mV]: Delta_c for the model's additive potentiation."""
        return self.p.delta_c

    def plastic_delay(self) -> float:
        """Return the delay [ms] of the plastic synapses (NEST treats it as dendritic)."""
        return float(self.sim.get_min_delay())

    def translation_report(self) -> dict:
        """Return every parameter this backend had to change: none on NEST."""
        return {
            "backend": self.name,
            "emulation": False,
            "time_step_ms": self.dt,
            "delay_ms": {"model": "minimum delay", "used": self.dt},
            "stdp_rule": {"substitution": None, "note": self.translation.note,
                          "pynn": self.translation.weight_dependence,
                          "pynn_parameters": self.translation.values(self.p),
                          "nest_native": getattr(self, "native", {})},
            "weights": {"quantisation": None},
            "threads": self.threads,
            "changes": [],
        }

    def end(self) -> None:
        """Release the simulator."""
        self.sim.end()
