"""The statistics a validation compares, measured on one run (docs/validation.md,
"Statistics").

Each statistic reduces a run to **units** along its replicate axis, episodes (one value
per training phase or episode) or reference memories (one per memory), and an estimator
of the run's value from them (the mean of the units, or the capacity of their mean
forgetting curve). Runs of one seed on two backends line up unit by unit (the same
episode's pattern, the same memory), which the paired block bootstrap uses
(:mod:`pipeline.validation.equivalence`).

Families (each with one tolerance, ``validation.tolerances``): rates, irregularity (CV,
LV of ISIs), correlations (pairwise spike counts), ccg (causal excess of class CCGs),
weight_change (per episode and class), weights (class means and SDs after each episode),
forgetting_curve, capacity. Non-cue weight means are derived, not tested, when every run
satisfies homeostasis's identity (a column's inputs sum to M m0), see :func:`derived`.
"""
from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..analysis import BIN_MS as CCG_BIN_MS
from ..analysis import MAX_LAG_MS as CCG_MAX_LAG_MS
from ..analysis import bin_counts, class_pairs, summed_ccg
from ..protocol import CLASSES
from ..readout import capacity_from_curve, forgetting_curves
from .equivalence import nanmean_rows
from .runs import RunData

CORR_BIN_MS = 10.0       # spike-count bins of the pairwise correlations
CCG_CAUSAL_MS = 50.0     # the causal excess is integrated over (0, 50] ms after a pre spike
CCG_BASELINE_MS = 150.0  # lags beyond +-150 ms estimate the uncorrelated level
FAMILIES = ("rates", "irregularity", "correlations", "ccg", "weight_change", "weights",
            "forgetting_curve", "capacity")
MEMORY = ("forgetting_curve", "capacity")     # the families that answer "is the memory the same?"


@dataclass
class Units:
    """One statistic of one run: its units (first axis: episodes or memories) and how the
    run's value is estimated from them."""

    values: np.ndarray
    axis: str                                   # "episode" or "memory"
    estimator: Callable[[np.ndarray], float] = nanmean_rows
    curve: np.ndarray | None = None             # (2, k) x, y drawn in the figures
    lower_bound: bool = False                   # the value is a lower bound (capacity)

    def value(self) -> float:
        return float(self.estimator(self.values))


@dataclass
class Statistic:
    """A named statistic: its family (tolerance), unit, and how to measure it on a run."""

    name: str
    family: str
    unit: str
    measure: Callable[[RunData, dict], Units | None]
    description: str = ""
    extra: dict = field(default_factory=dict)


def _window_spikes(t: np.ndarray, a: float, b: float) -> np.ndarray:
    return t[(t >= a) & (t < b)]


def rates_measure(column: str) -> Callable[[RunData, dict], Units | None]:
    """Firing rate [Hz] of every neuron of a role (episodes.csv: all neurons, not a
    sample), one unit per episode."""
    def f(run: RunData, _ctx: dict) -> Units | None:
        v = np.array([float(r[column]) for r in run.episodes if r.get(column) not in (None, "")])
        return Units(v, "episode", curve=np.vstack([np.arange(len(v)), v])) if len(v) else None
    return f


def isi_cv(intervals: np.ndarray) -> float:
    """Return the coefficient of variation (SD / mean, SD without Bessel's correction) of
    ``intervals``: elephant's ``cv`` (``scipy.stats.variation``) without scipy's per-call
    overhead. Bitwise equal to elephant's (tests/test_validation.py)."""
    return float(np.std(intervals) / np.mean(intervals))


def isi_measure(pop: str, kind: str) -> Callable[[RunData, dict], Units | None]:
    """CV or LV of the ISIs (elephant's definitions) per sampled neuron with >= 3 spikes in
    a training phase; one unit per phase: the mean over those neurons."""
    def f(run: RunData, _ctx: dict) -> Units | None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from elephant.statistics import lv
        variation = isi_cv if kind == "cv" else lv
        ids = sorted(run.trains[pop])
        units = []
        for a, b in run.windows:
            vals = [variation(np.diff(t)) for t in
                    (_window_spikes(run.trains[pop][n], a, b) for n in ids) if len(t) >= 3]
            units.append(np.mean(vals) if vals else np.nan)
        units = np.array(units)
        return Units(units, "episode") if np.isfinite(units).any() else None
    return f


def corr_measure(pop: str) -> Callable[[RunData, dict], Units | None]:
    """Pairwise spike-count correlation coefficient (elephant, 10 ms bins) of the sampled
    neurons that spiked in a training phase; one unit per phase: the mean over pairs."""
    def f(run: RunData, _ctx: dict) -> Units | None:
        import quantities as pq
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import elephant.utils
            from elephant.conversion import BinnedSpikeTrain
            from elephant.spike_train_correlation import correlation_coefficient
        elephant.utils.logger.setLevel(logging.ERROR)   # a warning per window otherwise
        ids = sorted(run.trains[pop])
        units = []
        for a, b in run.windows:
            active = [t for t in (_window_spikes(run.trains[pop][n], a, b) for n in ids)
                      if len(t) > 0]
            if len(active) < 2:
                units.append(np.nan)
                continue
            # elephant bins the count matrix it is given: no neo SpikeTrain per neuron
            counts = np.vstack([bin_counts(t, a, b, CORR_BIN_MS) for t in active])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m = correlation_coefficient(BinnedSpikeTrain(
                    counts, bin_size=CORR_BIN_MS * pq.ms, t_start=0.0 * pq.ms,
                    t_stop=(b - a) * pq.ms))
            c = m[np.triu_indices_from(m, 1)]
            c = c[np.isfinite(c)]
            units.append(c.mean() if len(c) else np.nan)
        units = np.array(units)
        return Units(units, "episode") if np.isfinite(units).any() else None
    return f


def ccg_measure(cls: str) -> Callable[[RunData, dict], Units | None]:
    """Causal excess of the class CCG (inputs -> sampled E) per training phase: the
    integral over lags (0, 50] ms of (density / baseline - 1) [ms], the baseline being the
    mean density at |lag| >= 150 ms. The curve drawn is the run's class CCG [Hz^2]."""
    def f(run: RunData, _ctx: dict) -> Units | None:
        m = int(run.cfg["inputs"]["m"])
        if cls.startswith("non_cue") and float(run.cfg["inputs"]["nu0_hz"]) == 0:
            return None                                  # silent inputs: no spikes, no CCG
        if min(b - a for a, b in run.windows) <= CCG_MAX_LAG_MS:
            return None                                  # phases too short for the lags
        max_lag = int(round(CCG_MAX_LAG_MS / CCG_BIN_MS))
        lags = np.arange(-max_lag, max_lag + 1) * CCG_BIN_MS
        causal = (lags > 0) & (lags <= CCG_CAUSAL_MS)
        base = np.abs(lags) >= CCG_BASELINE_MS
        sample = np.array(sorted(run.trains["exc"]))
        units, total, pair_s = [], np.zeros(len(lags)), np.zeros(len(lags))
        for j, (a, b) in enumerate(run.windows):
            pre, post = class_pairs(run.weights["cues"][j], run.weights["targets"][j],
                                    sample, m)[cls]
            if len(pre) == 0 or len(post) == 0:
                units.append(np.nan)
                continue
            cc = summed_ccg([run.trains["inputs"].get(int(i), np.array([])) for i in pre],
                            [run.trains["exc"][int(n)] for n in post], a, b, CCG_BIN_MS, max_lag)
            ps = len(pre) * len(post) * (b - a - np.abs(lags)) * 1e-3
            dens = cc / (ps * CCG_BIN_MS * 1e-3)
            total += cc
            pair_s += ps
            level = dens[base].mean()
            units.append(float(np.sum(dens[causal] / level - 1.0) * CCG_BIN_MS)
                         if level > 0 else np.nan)
        units = np.array(units)
        if not np.isfinite(units).any():
            return None
        return Units(units, "episode",
                     curve=np.vstack([lags, total / (pair_s * CCG_BIN_MS * 1e-3)]))
    return f


def dw_measure(cls: str) -> Callable[[RunData, dict], Units | None]:
    """Mean weight change [theta] of a synapse class in an episode (episodes.csv, before
    homeostasis), one unit per episode; None for a class that never changes."""
    key = "dw_" + cls.replace("->", "_to_")

    def f(run: RunData, _ctx: dict) -> Units | None:
        v = np.array([float(r[key]) for r in run.episodes if r.get(key) not in (None, "")])
        if len(v) == 0 or not np.any(v):
            return None
        return Units(v, "episode", curve=np.vstack([np.arange(len(v)), v]))
    return f


def weights_measure(cls: str, moment: str) -> Callable[[RunData, dict], Units | None]:
    """Mean or SD [theta] of the feed-forward weights of a synapse class (classes of the
    episode's own pattern) after each episode's homeostasis, one unit per episode."""
    ci = CLASSES.index(cls)

    def f(run: RunData, _ctx: dict) -> Units | None:
        key = "class_mean" if moment == "mean" else "class_var"
        v = np.asarray(run.weights[key], float)[:, ci]
        v = v if moment == "mean" else np.sqrt(v)
        return Units(v, "episode", curve=np.vstack([np.arange(len(v)), v])) \
            if np.isfinite(v).any() else None
    return f


def _curves(run: RunData) -> np.ndarray:
    w = run.weights
    return forgetting_curves(w["cue_sums"], w["targets"], w["reference"])


def forgetting_measure(run: RunData, ctx: dict) -> Units | None:
    """Mean recall accuracy (weight readout) over ages 0..L-1, L the ages every reference
    memory of every run reaches; one unit per reference memory. The curve drawn is the
    run's mean curve."""
    c = _curves(run)[:, :ctx["ages"]]
    return Units(np.nanmean(c, axis=1), "memory",
                 curve=np.vstack([np.arange(c.shape[1]), np.nanmean(c, axis=0)]))


def capacity_measure(run: RunData, ctx: dict) -> Units | None:
    """Capacity [episodes] of the run's mean forgetting curve (the readout's threshold);
    units: the reference memories' curves (resampled whole by the bootstrap)."""
    thr = float(run.cfg["readout"]["threshold"])

    def capacity(curves: np.ndarray) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # ages no resampled memory reaches
            return float(capacity_from_curve(np.nanmean(curves, axis=0), thr)[0])

    c = _curves(run)
    crossed = capacity_from_curve(np.nanmean(c, axis=0), thr)[1]
    return Units(c, "memory", estimator=capacity, lower_bound=not crossed)


def statistics() -> list[Statistic]:
    """Return every statistic a validation compares, in report order."""
    out = [Statistic("rate_target", "rates", "Hz", rates_measure("rate_target_hz"),
                     "E neurons while targets of the episode (all of them)"),
           Statistic("rate_non_target", "rates", "Hz", rates_measure("rate_non_target_hz"),
                     "E neurons while not targets (all of them)"),
           Statistic("rate_inh", "rates", "Hz", rates_measure("rate_inh_hz"),
                     "I neurons (all of them)")]
    for pop in ("exc", "inh"):
        out += [Statistic(f"cv_isi_{pop}", "irregularity", "1", isi_measure(pop, "cv"),
                          "CV of inter-spike intervals (sampled neurons)"),
                Statistic(f"lv_isi_{pop}", "irregularity", "1", isi_measure(pop, "lv"),
                          "local variation LV of inter-spike intervals (sampled neurons)")]
    out += [Statistic(f"corr_{pop}", "correlations", "1", corr_measure(pop),
                      f"pairwise spike-count correlation, {CORR_BIN_MS:g} ms bins")
            for pop in ("exc", "inh")]
    out += [Statistic(f"ccg_{c}", "ccg", "ms", ccg_measure(c),
                      f"causal excess of the class CCG over (0, {CCG_CAUSAL_MS:g}] ms")
            for c in CLASSES]
    out += [Statistic(f"dw_{c}", "weight_change", "theta/episode", dw_measure(c),
                      "mean weight change per episode (before homeostasis)") for c in CLASSES]
    out += [Statistic(f"w_mean_{c}", "weights", "theta", weights_measure(c, "mean"),
                      "class mean of the weights after each episode") for c in CLASSES]
    out += [Statistic(f"w_sd_{c}", "weights", "theta", weights_measure(c, "sd"),
                      "class SD of the weights after each episode") for c in CLASSES]
    out += [Statistic("forgetting_curve", "forgetting_curve", "accuracy", forgetting_measure,
                      "mean recall accuracy over the ages every memory reaches"),
            Statistic("capacity", "capacity", "episodes", capacity_measure,
                      "age at which the mean forgetting curve crosses the threshold")]
    return out


def homeostatic(run: RunData) -> bool:
    """True when every episode's weights satisfy homeostasis's identity: the class means
    of a column's cue and non-cue inputs average to m0 (n_c mean_cue + (M - n_c)
    mean_non_cue = M m0, for targets and non-targets), to 1e-6 relative."""
    cfg = run.cfg
    m, m0 = int(cfg["inputs"]["m"]), float(cfg["weights"]["m0"])
    n_c = len(run.weights["cues"][0])
    cm = np.asarray(run.weights["class_mean"], float)
    with np.errstate(invalid="ignore"):
        tgt = (n_c * cm[:, 0] + (m - n_c) * cm[:, 2]) / m
        non = (n_c * cm[:, 1] + (m - n_c) * cm[:, 3]) / m
    ok = np.isfinite(tgt) & np.isfinite(non)
    return bool(ok.any() and np.allclose(tgt[ok], m0, rtol=1e-6) and
                np.allclose(non[ok], m0, rtol=1e-6))


def derived(runs: list[RunData]) -> dict[str, str]:
    """Return {statistic: how it follows from tested ones} for the statistics fixed by
    construction on these runs: with homeostasis after every episode on every run, the
    non-cue class means mirror the cue class means."""
    if not all(homeostatic(r) for r in runs):
        return {}
    return {f"w_mean_non_cue->{post}": f"= (M m0 - n_c w_mean_cue->{post}) / (M - n_c): "
                                       f"homeostasis holds every column's mean at m0"
            for post in ("target", "non_target")}


def context(runs: list[RunData]) -> dict:
    """Return what the statistics of a comparison share: the ages every reference memory
    reaches on every run."""
    ages = min(int(len(r.windows) - np.max(r.weights["reference"])) for r in runs)
    return {"ages": max(ages, 1)}


def measure_all(runs: list[RunData], ctx: dict, skip: set[str] = frozenset()
                ) -> dict[str, list[Units | None]]:
    """Return {statistic name: [Units or None per run]} for every statistic not in
    ``skip``, each computed once per run."""
    return {st.name: [st.measure(r, ctx) for r in runs] for st in statistics()
            if st.name not in skip}
