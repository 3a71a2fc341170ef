"""Spiking recall: read a memory from the network's response to its cue (docs/design.md section 4).

A recall session presents the cues of the memories stored so far, one after the other,
without supervision and with plasticity off: a pause of ``t_gap`` (no input, the response
to the previous cue decays), then cue k for ``t_recall`` (cue inputs at nu1, the others at
nu0). The f_s*N_E E neurons with the most spikes in that window are "recalled"; the
accuracy is |recalled AND p_k| / (f_s*N_E) as for the weight readout (chance f_s).

When: a session after every ``readout.recall_every``-th episode and after the last one
(``recall_every: 0``: the last one only). The session after episode j tests the memories
of ages 0, s, 2s, ... <= j (s = ``readout.recall_age_step``; s = 1: all earlier cues), so
age a (a multiple of s) gets one sample per session held after an episode >= a
(:func:`samples_per_age`).

Recall never touches training: the host keeps a copy of the weights at every recall point;
at the end of each training segment (after the training simulator is released) the
sessions of that segment run on a simulator of their own, built from those copies (under
the hardware protocol, which cannot write weights, one build per session: a load of its
own with the read-back weights, as a board would need), with
NEST seeds and input trains drawn from their own stream (model.STREAM_RECALL). Nothing is
written back, so a run with recall trains exactly as one without.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from . import model


@dataclass(frozen=True)
class RecallSettings:
    """The spiking recall of a config: ``t_recall`` and ``t_gap`` [ms] per cue, a session
    after every ``every``-th episode (0: only after the last), testing every
    ``age_step``-th age."""

    t_recall: float
    t_gap: float
    every: int
    age_step: int = 1

    @classmethod
    def from_config(cls, cfg: dict) -> "RecallSettings | None":
        """Return the settings of ``cfg['readout']``, or None when ``spiking`` is off."""
        r = cfg["readout"]
        if not r.get("spiking", False):
            return None
        return cls(t_recall=float(r["t_recall_ms"]), t_gap=float(r["t_recall_gap_ms"]),
                   every=int(r["recall_every"]), age_step=int(r["recall_age_step"]))


def recall_points(episodes: int, every: int) -> list[int]:
    """Return the episodes (0-based) after which a recall session is held: every ``every``-th
    one (every-1, 2*every-1, ...) and always the last one (P-1)."""
    pts = set(range(every - 1, episodes, every)) if every > 0 else set()
    return sorted(pts | {episodes - 1})


def tested_memories(j: int, age_step: int) -> np.ndarray:
    """Return the memories (ascending) the session after episode j tests: ages 0,
    age_step, 2 age_step, ... <= j."""
    return np.sort(j - np.arange(0, j + 1, age_step))


def samples_per_age(points: list[int], episodes: int, age_step: int = 1) -> np.ndarray:
    """Return, for each age 0..P-1, the number of recall samples per seed: one per session
    held after an episode j >= age, for ages that are multiples of ``age_step``."""
    pts = np.asarray(points)
    return np.array([int(np.sum(pts >= a)) if a % age_step == 0 else 0
                     for a in range(episodes)])


def spiking_accuracy(counts: np.ndarray, target: np.ndarray) -> float:
    """Return the recall accuracy (0..1) when the len(target) E neurons with the most spikes
    are recalled. Neurons tied at the last recalled count are drawn at random; the value
    returned is the expectation over that draw (exact, no random numbers)."""
    c = np.asarray(counts)
    k = len(target)
    c_star = np.partition(c, len(c) - k)[len(c) - k]     # the k-th largest count
    above, tie = c > c_star, c == c_star
    is_t = np.zeros(len(c), bool)
    is_t[target] = True
    need = k - int(above.sum())
    hits = int((above & is_t).sum()) + need * int((tie & is_t).sum()) / int(tie.sum())
    return float(hits) / k


def spiking_curve(counts: np.ndarray, after: np.ndarray, memory: np.ndarray,
                  targets: np.ndarray, episodes: int) -> np.ndarray:
    """Return accuracy by age (P,) of one run, averaged over its recall samples of each age
    (NaN for ages without a sample). ``counts`` (n, N_E) are spike counts of presentation i
    of memory ``memory[i]`` in the session after episode ``after[i]``."""
    acc = np.array([spiking_accuracy(c, targets[k]) for c, k in zip(counts, memory)])
    return _by_age(acc, after - memory, episodes)


def recall_rates(counts: np.ndarray, after: np.ndarray, memory: np.ndarray,
                 targets: np.ndarray, episodes: int, t_recall: float) -> dict[str, np.ndarray]:
    """Return the mean rates [Hz] of the tested memory's targets and non-targets during
    recall, by age (P,) (NaN for ages without a sample); ``t_recall`` in ms."""
    n_exc = counts.shape[1]
    rt, rn = [], []
    for c, k in zip(counts, memory):
        is_t = np.zeros(n_exc, bool)
        is_t[targets[k]] = True
        rt.append(1e3 * c[is_t].mean() / t_recall)
        rn.append(1e3 * c[~is_t].mean() / t_recall)
    age = after - memory
    return {"target": _by_age(np.array(rt), age, episodes),
            "non_target": _by_age(np.array(rn), age, episodes)}


def _by_age(x: np.ndarray, age: np.ndarray, episodes: int) -> np.ndarray:
    out = np.full(episodes, np.nan)
    for a in np.unique(age):
        out[a] = float(np.mean(x[age == a]))
    return out


@dataclass
class RecallBatch:
    """The recall sessions of one training segment: ``counts`` (n, N_E) spike counts per
    presentation, ``after``/``memory`` (n,) the session's episode and the memory tested,
    ``spikes`` per population (index, time [ms] on the recall clock) of the recorded sample,
    ``epochs`` (label, start [ms], duration [ms]) of every counting window, ``t_end`` [ms]
    the recall clock at the end, ``max_weight_change`` [mV] the largest change of any
    feed-forward weight over the sessions (0 with plasticity off), ``wall_s`` [s]."""

    counts: np.ndarray
    after: np.ndarray
    memory: np.ndarray
    spikes: dict
    epochs: list
    t_end: float
    max_weight_change: float
    wall_s: float


def run_sessions(backend, p: model.Params, conn: model.Connectivity, pat: model.Patterns,
                 seed: int, snapshots: dict[int, np.ndarray], settings: RecallSettings,
                 sample: dict[str, np.ndarray], t_offset: float,
                 replicate: int = 0) -> RecallBatch:
    """Hold one recall session per entry of ``snapshots`` (episode j -> host weights [mV]
    after it) on a fresh simulator of ``backend``, and release it. The simulator is built
    with the first snapshot; later sessions write all weights first. ``t_offset`` [ms]
    places this batch on the run's recall clock; ``replicate`` (``simulation.replicate``)
    selects the simulator's seed, nothing else. Returns the RecallBatch."""
    t_wall = time.perf_counter()
    first = min(snapshots)
    backend.setup(rng_seed=recall_simulator_seed(seed, first, replicate))
    v_init = _initial_state(p, seed, first)
    backend.build(p, model.Connectivity(lists=conn.lists, w0=snapshots[first], v_init=v_init))
    rows = np.arange(p.m)
    counts, after, memory, epochs = [], [], [], []
    spikes: dict[str, list] = {"inputs": [], "exc": [], "inh": []}
    max_dw = 0.0
    # A backend whose protocol cannot write weights (the hardware protocol: sPyNNaker has no
    # Projection.set) gets a load of its own per session, built from that session's weights.
    loads = not backend.protocol.host_writes
    base = t_offset
    try:
        backend.set_plasticity(rows, False)
        for j in sorted(snapshots):
            if j != first and loads:
                base += backend.now()        # the recall clock runs on across loads
                backend.end()
                backend.setup(rng_seed=recall_simulator_seed(seed, j, replicate))
                backend.build(p, model.Connectivity(lists=conn.lists, w0=snapshots[j],
                                                    v_init=_initial_state(p, seed, j)))
                backend.set_plasticity(rows, False)
            elif j != first:
                backend.write_weights(rows, snapshots[j])
            w_before = backend.plastic_weights_flat()
            t0 = backend.now()
            slot = settings.t_gap + settings.t_recall
            ks = tested_memories(j, settings.age_step)
            starts = t0 + np.arange(len(ks)) * slot + settings.t_gap
            trains = [[] for _ in range(p.m)]
            for i, k in enumerate(ks):
                tk = model.draw_input_spikes(p, seed, k, pat.cues[k], starts[i],
                                             settings.t_recall, backend.dt,
                                             rng_key=[seed, model.STREAM_RECALL, 1, j, k])
                for m in range(p.m):
                    trains[m].append(tk[m])
            backend.set_drive([np.concatenate(t) for t in trains], np.zeros(p.n_exc))
            backend.run(len(ks) * slot)
            got = {pop: backend.spikes(pop) for pop in ("exc", "inh", "inputs")}
            idx, t = got["exc"]
            slot_of = np.floor((t - t0) / slot).astype(int)
            counting = (t - t0) - slot_of * slot >= settings.t_gap
            for i, k in enumerate(ks):
                sel = counting & (slot_of == i)
                counts.append(np.bincount(idx[sel], minlength=p.n_exc).astype(np.int32))
                epochs.append((f"recall after episode {j}: memory {k} (age {j - k})",
                               base + starts[i], settings.t_recall))
            after += [j] * len(ks)
            memory += [int(k) for k in ks]
            for pop, (i_, t_) in got.items():
                keep = np.isin(i_, sample[pop]) if pop in sample else np.ones(len(i_), bool)
                spikes[pop].append((i_[keep], t_[keep] + base))
            max_dw = max(max_dw, float(np.max(np.abs(backend.plastic_weights_flat() - w_before))))
        t_end = base + backend.now()
    finally:
        backend.end()
    return RecallBatch(counts=np.array(counts), after=np.array(after), memory=np.array(memory),
                       spikes=spikes, epochs=epochs, t_end=t_end, max_weight_change=max_dw,
                       wall_s=time.perf_counter() - t_wall)


def recall_simulator_seed(seed: int, episode: int, replicate: int = 0) -> int:
    """Return the simulator's RNG seed for the recall batch that starts after ``episode``
    (drawn from STREAM_RECALL, so training's seeds are never reused; a replicate > 0 adds
    its number to the key)."""
    key = [seed, model.STREAM_RECALL, 0, episode] + ([replicate] if replicate else [])
    return int(np.random.default_rng(key).integers(1, 2**31 - 1))


def _initial_state(p: model.Params, seed: int, episode: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, model.STREAM_RECALL, 2, episode])
    return {"exc": rng.uniform(0.0, p.theta, size=p.n_exc),
            "inh": rng.uniform(0.0, p.theta, size=p.n_inh)}


def append_batch(results: dict, batch: RecallBatch) -> None:
    """Append a batch's counts, episodes and memories to a run's per-episode ``results``
    (keys recall_counts, recall_after, recall_memory)."""
    for key, x in (("recall_counts", batch.counts), ("recall_after", batch.after),
                   ("recall_memory", batch.memory)):
        results[key] = np.concatenate([results[key], x]) if key in results else x
