"""The training protocol: P one-shot episodes of hetero-association (docs/design.md section 3).

Each episode: present cue q_i (input neurons at nu1) and supervise target p_i (Poisson
drive of every target neuron), first for t_warm with plasticity off, then for t_train
with plasticity on; then rescale every E neuron's feed-forward row to mean m0
(homeostasis) and record. The host holds the feed-forward matrix; the backend holds the
copy it simulates with.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

import numpy as np

from . import model
from .stdp_bookkeeping import PreTrace, facilitation_correction


@dataclass(frozen=True)
class ProtocolRules:
    """What the episode loop may do between and within runs (data, one per protocol).

    ``switch_plasticity``: plasticity off for the warm-up, on for training (else on
    throughout). ``host_writes``: the host may write feed-forward weights into the running
    simulator (else weights only go in with a build). ``homeostasis_at``: 'episode' (after
    every episode, on the host, written back) or 'rebuild' (only where the network is
    rebuilt from the host's weights: every ``spinnaker.rebuild_every`` episodes, never if
    0). ``read_back``: when the weights are read from the simulator."""

    name: str
    switch_plasticity: bool
    host_writes: bool
    homeostasis_at: str
    read_back: str
    description: str


NEST_PROTOCOL = ProtocolRules(
    name="nest", switch_plasticity=True, host_writes=True, homeostasis_at="episode",
    read_back="cue rows after every episode",
    description="docs/design.md section 3: warm-up with plasticity off, training with it on, "
                "homeostasis on the host after every episode, weights written back")

# What sPyNNaker 1!7.4.1 can execute (docs/backends.md, 'The hardware protocol'):
# Projection.set raises NotImplementedError, WeightChanger does not combine with STDP, so
# nothing is written between runs and plasticity cannot be switched per phase.
HARDWARE_PROTOCOL = ProtocolRules(
    name="hardware", switch_plasticity=False, host_writes=False, homeostasis_at="rebuild",
    read_back="cue rows after every episode (a pause of the run, Projection.get)",
    description="one continuous run per rebuild segment: every episode's cue and "
                "supervision scheduled, plasticity on throughout, no weight writes; "
                "homeostasis only where the network is rebuilt from the host's weights")

PROTOCOLS = {r.name: r for r in (NEST_PROTOCOL, HARDWARE_PROTOCOL)}


def protocol_deviations(rules: ProtocolRules, cfg: dict) -> list[dict]:
    """Return every way ``rules`` differ from the NEST protocol, as records
    {item, nest, this_protocol, consequence} (empty for the NEST protocol itself)."""
    if rules == NEST_PROTOCOL:
        return []
    every = int(cfg["spinnaker"].get("rebuild_every", 0))
    homeo = cfg["protocol"]["homeostasis"]
    out = []
    if not rules.switch_plasticity:
        out.append({"item": "plasticity during the warm-up",
                    "nest": "off (lambda = 0) for t_warm, on for t_train",
                    "this_protocol": "on throughout: the warm-up is 200 ms more training",
                    "consequence": "more potentiation per episode; the warm-up's rate "
                                   "transient is learnt"})
    if homeo and rules.homeostasis_at == "rebuild":
        out.append({"item": "homeostasis",
                    "nest": "every E neuron's feed-forward row scaled to mean m0 after every "
                            "episode (host), written back",
                    "this_protocol": (f"only at rebuilds, every {every} episodes" if every
                                      else "none: no rebuild (spinnaker.rebuild_every = 0)"),
                    "consequence": "row means drift between rebuilds; the weights' own "
                                   "fixed point (multiplicative depression) bounds them"})
    if not rules.host_writes:
        out.append({"item": "weight writes",
                    "nest": "host copy written into the simulator before each episode",
                    "this_protocol": "weights enter only with a build (Projection.set is not "
                                     "implemented in sPyNNaker)",
                    "consequence": "the facilitation owed at an episode's end is applied "
                                   "by the simulator itself at the next pre spike"})
    out.append({"item": "membrane state and traces",
                "nest": "continuous within a segment; reset at a build",
                "this_protocol": (f"continuous within a run; reset at each rebuild (every "
                                  f"{every} episodes)" if every else
                                  "continuous over the whole run (one build)"),
                "consequence": "none within a run"})
    out.append({"item": "read-back points",
                "nest": NEST_PROTOCOL.read_back,
                "this_protocol": rules.read_back,
                "consequence": "on a board each read is a pause of the real-time run; "
                               "the recall session is a separate load with the read weights"})
    return out

# Synapse classes: (post is a target of the episode?, pre is in its cue?)
CLASSES = ("cue->target", "cue->non_target", "non_cue->target", "non_cue->non_target")


def reference_memories(episodes: int, n_ref: int) -> np.ndarray:
    """Return the indices of the memories whose recall is followed over age: ``n_ref``
    episodes spread evenly over the first half (so each is followed for at least P/2
    ages), all of them if n_ref >= that many."""
    span = max(1, (episodes + 1) // 2)
    return np.unique(np.linspace(0, span - 1, min(n_ref, span)).round().astype(int))


def class_masks(m: int, n_exc: int, cue: np.ndarray, target: np.ndarray) -> list[np.ndarray]:
    """Return one boolean (M, N_E) mask per synapse class of CLASSES for one episode."""
    is_cue = np.zeros(m, bool)
    is_cue[cue] = True
    is_tgt = np.zeros(n_exc, bool)
    is_tgt[target] = True
    return [np.outer(is_cue, is_tgt), np.outer(is_cue, ~is_tgt),
            np.outer(~is_cue, is_tgt), np.outer(~is_cue, ~is_tgt)]


def homeostasis(w: np.ndarray, m0: float) -> np.ndarray:
    """Return ``w`` (M, N_E) with every column (one E neuron's inputs) scaled to mean m0."""
    mean = w.mean(axis=0)
    scale = np.divide(m0, mean, out=np.ones_like(mean), where=mean > 0)
    return w * scale[None, :]


def rate_hz(n_spikes: int, n_neurons: int, duration_ms: float) -> float:
    """Return the mean firing rate [Hz] of n_neurons that fired n_spikes in duration_ms."""
    return 1e3 * n_spikes / (n_neurons * duration_ms) if n_neurons else float("nan")


class Progress:
    """Prints one line per episode: done/total, time per episode, time left."""

    def __init__(self, total: int, stream: TextIO = sys.stderr, label: str = "") -> None:
        self.total, self.stream, self.label = total, stream, label
        self.restart(0)

    def restart(self, done: int) -> None:
        """Time from now on, with ``done`` episodes already trained (after a build)."""
        self.t0, self.done0 = time.perf_counter(), done

    def update(self, done: int, extra: str = "") -> None:
        el = time.perf_counter() - self.t0
        per = el / max(done - self.done0, 1)
        left = per * (self.total - done)
        print(f"{self.label}episode {done}/{self.total}  {per:.2f} s/episode  "
              f"elapsed {_hms(el)}  left ~{_hms(left)}  {extra}", file=self.stream, flush=True)


def _hms(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def supervision_rates(p: model.Params, target: np.ndarray) -> np.ndarray:
    """Return the supervision rate [Hz] of every E neuron for a target pattern."""
    r = np.zeros(p.n_exc)
    r[target] = p.supervision_rate
    return r


@dataclass
class Presentation:
    """One presented episode: plastic weights [mV] of ``rows`` after training (corrected
    for deferred facilitation), spikes of the warm-up and the training phase, the
    backend's clock [ms] at the start, at the end of the warm-up (``t1``) and at the end
    (``t2``), and wall times [s]. The phase boundaries are read from the clock, not
    summed from the durations: on NEST the first run of a simulator lasts one time step
    more than asked (PyNN simulates one min_delay past its first ``run``), and the spikes
    of that step belong to the phase that ran it."""

    weights: np.ndarray
    warm: dict
    train: dict
    trains: list
    t0: float
    sim_s: float
    io_s: float
    t1: float
    t2: float


def present_episode(backend, p: model.Params, seed: int, j: int, cue: np.ndarray,
                    target: np.ndarray, rows: np.ndarray, trace: PreTrace,
                    rules: ProtocolRules = NEST_PROTOCOL) -> Presentation:
    """Present episode j (warm-up, plasticity off unless ``rules`` keep it on; training,
    plasticity on) on a backend whose weights of ``rows`` are current; read those weights
    back. ``trace`` (the pre traces) is advanced in place."""
    t0 = backend.now()
    trains = model.draw_input_spikes(p, seed, j, cue, t0, p.t_warm + p.t_train, backend.dt)
    backend.set_drive(trains, supervision_rates(p, target))
    t_sim = time.perf_counter()
    if rules.switch_plasticity:
        backend.set_plasticity(rows, False)
    if p.t_warm > 0:
        backend.run(p.t_warm)
    warm = {k: backend.spikes(k) for k in ("exc", "inh")}
    t1 = backend.now()
    if rules.switch_plasticity:
        backend.set_plasticity(rows, True)
    backend.run(p.t_train)
    train = {k: backend.spikes(k) for k in ("exc", "inh", "inputs")}
    t2 = backend.now()
    sim = time.perf_counter() - t_sim
    t_io = time.perf_counter()
    after = backend.read_weights(rows)
    io = time.perf_counter() - t_io
    if backend.deferred_facilitation:
        post_idx = np.concatenate([warm["exc"][0], train["exc"][0]])
        post_t = np.concatenate([warm["exc"][1], train["exc"][1]])
        # plasticity on from t_on: the training phase, or the whole episode if not switched
        t_on = t1 if rules.switch_plasticity else t0
        after = np.clip(after + facilitation_correction(
            trace, rows, trains, post_idx, post_t, p.n_exc, t_on, t2,
            backend.plastic_delay(), p, step=backend.potentiation_step(after)),
            0.0, p.w_max)
    return Presentation(after, warm, train, trains, t0, sim, io, t1, t2)


@dataclass
class TrainingState:
    """Everything a run carries from one episode to the next on the host, so that a run
    can be checkpointed at an episode boundary and resumed.

    ``w`` is the feed-forward matrix [mV] (the truth), ``trace`` the pre traces,
    ``results`` the per-episode arrays (see :func:`run_episodes`), ``rows`` the
    episodes.csv rows, ``spikes`` per population a list of (index, time [ms]) chunks,
    ``epochs`` (label, start [ms], duration [ms]) of every phase, ``next_episode`` the
    first episode not yet trained.
    """

    w: np.ndarray
    trace: PreTrace
    results: dict
    rows: list = field(default_factory=list)
    spikes: dict = field(default_factory=lambda: {"inputs": [], "exc": [], "inh": []})
    epochs: list = field(default_factory=list)
    next_episode: int = 0
    t_offset: float = 0.0     # [ms] global time at which the current backend's clock is 0
    t_end: float = 0.0        # [ms] global time at the end of the last trained episode
    # spiking recall (pipeline.recall): recorded spikes per population on the recall clock,
    # (label, start [ms], duration [ms]) of every counting window, the recall clock [ms] at
    # the end of the last session, the wall time [s] spent on recall, the largest weight
    # change [mV] seen during recall
    recall_spikes: dict = field(default_factory=lambda: {"inputs": [], "exc": [], "inh": []})
    recall_epochs: list = field(default_factory=list)
    recall_t_end: float = 0.0
    recall_wall_s: float = 0.0
    recall_max_weight_change: float = 0.0
    # the backend's translation report of the last build (provenance of a run whose
    # outputs are written from its final checkpoint, with no build)
    translation: dict | None = None

    @classmethod
    def fresh(cls, p: model.Params, w0: np.ndarray, n_ref: int) -> "TrainingState":
        P = p.episodes
        return cls(w=w0.copy(), trace=PreTrace.empty(p.m), results={
            "class_mean": np.full((P, 4), np.nan), "class_var": np.full((P, 4), np.nan),
            "class_mean_before": np.full((P, 4), np.nan),
            "class_mean_start": np.full((P, 4), np.nan),
            "cue_sums": np.full((n_ref, P, p.n_exc), np.nan, dtype=np.float32)})


def run_episodes(backend, p: model.Params, pat: model.Patterns, seed: int, state: TrainingState,
                 stop: int, homeostasis_on: bool, ref: np.ndarray,
                 sample: dict[str, np.ndarray], full_weights_at: set[int],
                 progress: Progress | None = None, snapshot_at: set[int] = frozenset(),
                 snapshots: dict | None = None, rules: ProtocolRules = NEST_PROTOCOL) -> None:
    """Train episodes state.next_episode .. stop-1 on a backend built with the weights
    ``state.w``, updating ``state`` in place. After every episode j in ``snapshot_at`` a
    copy of the host weights [mV] is put in ``snapshots[j]`` (for the spiking recall).
    ``state.results`` holds (weights in theta):
    ``class_mean``/``class_var`` (P, 4) after homeostasis, ``class_mean_before`` (P, 4)
    before it, ``class_mean_start`` (P, 4) at the start of the episode, ``cue_sums``
    (len(ref), P, N_E) summed cue weights of every reference memory after every episode
    (NaN before the memory is stored), ``w_<j>`` full matrices.
    ``rules`` is the protocol: with ``rules.host_writes`` False nothing is written into
    the simulator and homeostasis is left to the caller (at rebuilds).
    """
    w, trace, out = state.w, state.trace, state.results
    stale = np.zeros(p.m, bool)              # rows where the backend's copy is outdated
    ref_pos = {int(k): i for i, k in enumerate(ref)}
    for j in range(state.next_episode, stop):
        t_ep = time.perf_counter()
        cue, target = pat.cues[j], pat.targets[j]
        rows = np.arange(p.m) if p.nu0 > 0 else cue
        t_io = time.perf_counter()
        to_write = rows[stale[rows]]
        if len(to_write):
            backend.write_weights(to_write, w[to_write])
            stale[to_write] = False
        io = time.perf_counter() - t_io
        before = w[rows].copy()
        masks = class_masks(p.m, p.n_exc, cue, target)
        out["class_mean_start"][j] = [w[mk].mean() / p.theta for mk in masks]
        ep = present_episode(backend, p, seed, j, cue, target, rows, trace, rules)
        io += ep.io_s
        after, warm, train, t0, sim = ep.weights, ep.warm, ep.train, ep.t0, ep.sim_s
        w[rows] = after

        dw = np.zeros((p.m, p.n_exc))
        dw[rows] = after - before
        out["class_mean_before"][j] = [w[mk].mean() / p.theta for mk in masks]
        if homeostasis_on and rules.homeostasis_at == "episode":
            w = homeostasis(w, p.m0)
            stale[:] = rules.host_writes
        out["class_mean"][j] = [w[mk].mean() / p.theta for mk in masks]
        out["class_var"][j] = [w[mk].var() / p.theta ** 2 for mk in masks]
        for k, i in ref_pos.items():
            if k <= j:
                out["cue_sums"][i, j] = w[pat.cues[k]].sum(axis=0) / p.theta
        if j in full_weights_at:
            out[f"w_{j}"] = (w / p.theta).astype(np.float32)
        if j in snapshot_at and snapshots is not None:
            snapshots[j] = w.copy()

        is_tgt = np.zeros(p.n_exc, bool)
        is_tgt[target] = True
        n_tgt_spk = int(is_tgt[train["exc"][0]].sum())
        row = {
            "episode": j,
            "rate_target_hz": rate_hz(n_tgt_spk, p.n_target, p.t_train),
            "rate_non_target_hz": rate_hz(len(train["exc"][0]) - n_tgt_spk,
                                          p.n_exc - p.n_target, p.t_train),
            "rate_inh_hz": rate_hz(len(train["inh"][0]), p.n_inh, p.t_train),
            "rate_exc_warm_hz": rate_hz(len(warm["exc"][0]), p.n_exc, p.t_warm)
            if p.t_warm > 0 else float("nan"),
            **{f"dw_{c.replace('->', '_to_')}": float(dw[mk].mean() / p.theta)
               for c, mk in zip(CLASSES, masks)},
            "wall_sim_s": round(sim, 4),
            "wall_io_s": round(io, 4),
            "wall_total_s": round(time.perf_counter() - t_ep, 4),
        }
        state.rows.append(row)
        off = state.t_offset
        state.spikes["inputs"].append((train["inputs"][0], train["inputs"][1] + off))
        for pop in ("exc", "inh"):
            idx, t = _merge_sample(warm[pop], train[pop], sample[pop])
            state.spikes[pop].append((idx, t + off))
        # phases on the backend's clock (see Presentation): the spikes of a build's first
        # episode reach t2 = t0 + t_warm + t_train + dt on NEST
        state.epochs += [(f"warm-up {j}", off + t0, ep.t1 - t0),
                         (f"training {j}", off + ep.t1, ep.t2 - ep.t1)]
        state.t_end = off + ep.t2
        state.w = w
        state.next_episode = j + 1
        if progress:
            progress.update(j + 1, f"rates T/N/I {row['rate_target_hz']:.1f}/"
                                   f"{row['rate_non_target_hz']:.1f}/{row['rate_inh_hz']:.1f} Hz")


def _merge_sample(a: tuple, b: tuple, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    idx = np.concatenate([a[0], b[0]])
    t = np.concatenate([a[1], b[1]])
    sel = np.isin(idx, keep)
    return idx[sel], t[sel]
