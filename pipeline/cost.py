"""What a run will cost, from its config alone: memory (the host's matrices and the
simulator's neurons and synapses) and wall time, before anything is drawn or built.

The simulator's costs per neuron, per synapse and per step are measured by
``bench/cost_constants.py`` with small real NEST runs (1 thread) and copied into
:data:`MEASURED`; the host's arrays are counted exactly from their shapes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# bench/results/cost_constants.json (2026-11-23, NEST 3.10.0, PyNN 0.13.0, 1 thread; times
# are CPU seconds, i.e. the wall time of a core the run has to itself). The fits reproduce
# the measured build peaks within 10% and the times per episode within 13% on the six
# configurations measured.
MEASURED = {
    # iaf_psc_delta with its noise and supervision sources, recorders and PyNN's objects
    "bytes_per_neuron": 13_840.0,
    "bytes_per_static_synapse": 83.0,        # recurrent static_synapse + PyNN list connector
    "bytes_per_plastic_synapse": 206.2,      # stdp_synapse + PyNN list connector
    "seconds_per_neuron_step": 6.24e-8,      # neuron update and spike delivery
    "seconds_per_static_synapse_second": 0.0,     # not resolved by the fit (>= 0)
    "seconds_per_plastic_synapse_episode": 2.24e-6,   # NEST's STDP + the host's matrix work
    "seconds_per_episode": 0.023,            # drive set-up, spike read-out, PyNN calls
}
# Sampled E/I neurons whose spikes the host keeps for the whole run: their rate is not
# known before the run, so the estimate takes a generous rate (the default config's are
# 2-30 Hz). Each kept spike is an int64 index and a float64 time, twice (the run's chunks
# and the neo Block written at the end).
SAMPLE_RATE_HZ = 50.0
BYTES_PER_KEPT_SPIKE = 32
BYTES_PER_EPISODE_ROW = 2_500        # one episodes.csv row as a Python dict (15 entries)
# float64 copies of the (M, N_E) feed-forward matrix alive at once during an episode: the
# initial matrix, the host truth, the change dw, the homeostasis result, a masked class
# copy; plus four boolean class masks
MATRIX_COPIES_F64 = 5
MATRIX_MASKS_BOOL = 4
DAY_S = 86_400.0


class InsufficientMemoryError(RuntimeError):
    """A run whose estimated memory exceeds what the machine has (the message says how
    much it needs and has, what to shrink, and the flag that overrides)."""


@dataclass
class CostEstimate:
    """Estimated memory [bytes] by part, and wall time [s] of one run."""

    memory: dict[str, float] = field(default_factory=dict)
    wall_s: float | None = None
    per_episode_s: float | None = None
    threads: int = 1
    episodes: int = 0

    @property
    def memory_total(self) -> float:
        """Return the estimated peak memory [bytes]: the sum of the parts."""
        return float(sum(self.memory.values()))

    def summary(self) -> str:
        """Return a one-line summary (GiB, h:mm:ss) for the log."""
        parts = ", ".join(f"{k} {_gib(v)}" for k, v in self.memory.items())
        line = f"estimate: memory {_gib(self.memory_total)} ({parts})"
        if self.wall_s is not None:
            line += (f"; wall time {duration(self.wall_s)} ({self.episodes} episodes x "
                     f"{self.per_episode_s:.3g} s on {self.threads} thread"
                     f"{'s' if self.threads > 1 else ''}, assuming linear speed-up)")
        return line


def _gib(n: float) -> str:
    return f"{n / 2**30:.3g} GiB"


def duration(s: float) -> str:
    """Return a duration [s] as 'h:mm:ss', or in days or years when it is long."""
    if s >= 365 * DAY_S:
        return f"{s / (365 * DAY_S):.3g} years"
    if s >= 2 * DAY_S:
        return f"{s / DAY_S:.3g} days"
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def estimate(cfg: dict, dt_ms: float, threads: int, runs_episodes: bool = True) -> CostEstimate:
    """Return the cost of simulating a validated ``cfg`` at time step ``dt_ms`` [ms] on
    ``threads`` threads. ``runs_episodes`` False (a map-only backend) leaves out the
    per-episode host arrays, the simulator and the wall time.

    All arithmetic is in Python floats, so absurd configs give large numbers, never an
    overflow."""
    net, inp, tgt = cfg["network"], cfg["inputs"], cfg["targets"]
    proto, rec = cfg["protocol"], cfg["recording"]
    n_exc, n_inh, m = float(net["n_exc"]), float(net["n_inh"]), float(inp["m"])
    P = float(proto["episodes"])
    n_cue = float(round(inp["f_c"] * inp["m"]))
    n_tgt = float(round(tgt["f_s"] * net["n_exc"]))
    neurons = n_exc + n_inh
    static = neurons * (net["c_exc"] + net["c_inh"])
    plastic = m * n_exc
    t_ep_ms = float(proto["t_warm_ms"]) + float(proto["t_train_ms"])
    mem = {
        # (pre, post) int64 pairs of the recurrent connectivity
        "host connectivity": static * 2 * 8,
        "host feed-forward matrices": plastic * (MATRIX_COPIES_F64 * 8 + MATRIX_MASKS_BOOL),
        "host patterns": P * (n_cue + n_tgt) * 8,
    }
    est = CostEstimate(memory=mem, threads=threads, episodes=int(P))
    if not runs_episodes:
        return est
    # protocol.reference_memories: at most reference_memories, at most (P + 1) // 2
    n_ref = min(float(cfg["readout"]["reference_memories"]), max(1.0, (P + 1) // 2))
    mem["host per-episode records"] = (
        n_ref * P * n_exc * 4                              # cue_sums (float32)
        + len(rec["full_weights_at"]) * plastic * 4        # full matrices (float32)
        + P * 16 * 8 + P * BYTES_PER_EPISODE_ROW)          # class statistics, csv rows
    input_rate_hz = n_cue * float(inp["nu1_hz"]) + (m - n_cue) * float(inp["nu0_hz"])
    kept_spikes = P * (input_rate_hz * float(proto["t_train_ms"]) / 1e3
                       + (rec["n_exc_sample"] + rec["n_inh_sample"]) * SAMPLE_RATE_HZ
                       * t_ep_ms / 1e3)
    mem["host kept spikes"] = kept_spikes * BYTES_PER_KEPT_SPIKE
    mem["simulator (NEST)"] = (neurons * MEASURED["bytes_per_neuron"]
                               + static * MEASURED["bytes_per_static_synapse"]
                               + plastic * MEASURED["bytes_per_plastic_synapse"])
    steps = t_ep_ms / dt_ms
    per_episode = (neurons * steps * MEASURED["seconds_per_neuron_step"]
                   + static * t_ep_ms / 1e3 * MEASURED["seconds_per_static_synapse_second"]
                   + plastic * MEASURED["seconds_per_plastic_synapse_episode"]
                   + MEASURED["seconds_per_episode"])
    est.per_episode_s = per_episode / max(1, threads)
    est.wall_s = est.per_episode_s * P
    return est
