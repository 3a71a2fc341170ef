"""The ``validate`` step: are two sets of runs the same network and the same memory?
(DESIGN.md section 8)

A and B are run directories written by ``simulate``, one per seed, at least 2 per side
(e.g. NEST seeds 1, 2 against nest-spinnaker seeds 1, 2, or NEST seeds 1, 2 against NEST
seeds 3, 4). Every statistic is reduced, for each run, to one summary value (its mean
over the run's replicate units: training phases, synapses, reference memories) and that
value's within-run standard error. The verdict is then calibrated by the seed-to-seed
spread:

- The seed-level variance s^2 is the variance of the run summaries around their side's
  mean, pooled over A and B (nA + nB - 2 degrees of freedom). It can never be smaller
  than a run's own sampling noise: each side uses max(s^2, mean within-run SE^2 of that
  side). The reference is Student's t with nA + nB - 2 degrees of freedom, also when
  the floor wins: a within-run SE treats phases, synapses or memories as independent
  and can be far below the real seed-to-seed spread (with a normal reference there, the
  calibration found false alarms on seeds of one model).
- Difference of means Delta = mean(B) - mean(A), standard error
  SE = sqrt(var_A / nA + var_B / nB), test statistic Delta / SE, two-sided p-value.
- Holm's step-down correction over all tested statistics keeps the family-wise
  false-alarm level at ``alpha`` (default 0.05). A statistic whose corrected p-value is
  below alpha is "different"; the overall verdict is "different" if any is.
- Effect size: Cohen's d, Delta in units of the seed-level SD, with a 95% interval.
  For distributions the pooled Kolmogorov-Smirnov distance between A and B is given
  beside the KS distance between seeds within A.

The false-alarm rate and the power of this rule are measured by
``bench/validation_calibration.py`` (README, "Cross-backend validation").

Statistics (spike statistics over the training phases, with elephant): firing rates of
E neurons in the target and the non-target role and of I neurons; CV and LV of the
inter-spike intervals; pairwise spike-count correlation coefficients (10 ms bins); the
class CCGs (causal excess); the mean weight change per synapse class and episode
(``episodes.csv``); the feed-forward weight distribution per class at
``recording.full_weights_at``; the forgetting curve (mean accuracy over the ages every
reference memory reaches); the capacity.

Beside the verdict, NetworkUnit's model-to-model tests (``pipeline.model_to_model``:
rates, CV, LV, correlations; KS distance on the pooled neurons of a side) are run and
reported; they ignore the seed-to-seed spread, so they are not part of the verdict.

Writes ``validation.json``, ``validation.md`` and figures (``distributions``, ``curves``;
PNG and SVG) with A and B overlaid.
"""
from __future__ import annotations

import logging
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from scipy import stats as sps

from .analysis import bin_counts, class_pairs, summed_ccg, training_windows, trains_by_population
from .io import ResultFileError, read_csv, read_json, read_npz, read_spikes_nix, save_figure
from .io import write_json, write_text
from .protocol import CLASSES, class_masks
from .provenance import Provenance, warn_mixed_code_versions
from .readout import capacity_from_curve, forgetting_curves

ALPHA = 0.05
CORR_BIN_MS = 10.0       # spike-count bins of the pairwise correlations
CCG_BIN_MS = 1.0
CCG_MAX_LAG_MS = 250.0
CCG_CAUSAL_MS = 50.0     # the causal excess is integrated over (0, 50] ms after a pre spike
CCG_BASELINE_MS = 150.0  # lags beyond +-150 ms estimate the uncorrelated level
N_BOOTSTRAP = 200        # resamples of the reference memories for the capacity's SE


# ----------------------------------------------------------------------------- runs
@dataclass
class RunData:
    """One finished run directory, with everything the statistics need."""

    path: Path
    provenance: dict
    trains: dict
    windows: list
    weights: dict
    episodes: list

    @property
    def cfg(self) -> dict:
        return self.provenance.get("config") or {}

    @property
    def seed(self) -> int:
        return int(self.provenance.get("seed"))


def load_run(path: Path) -> RunData:
    """Read one run directory; ResultFileError names the run and what is wrong."""
    path = Path(path)
    if not path.is_dir():
        raise ResultFileError(f"run '{path}' does not exist: simulate it first (`python -m "
                              f"pipeline simulate --out {path} ...`)")
    if not (path / "provenance.json").is_file():
        raise ResultFileError(f"run '{path}' is unfinished or not a run: it has no "
                              f"provenance.json (simulate writes it last); rerun simulate")
    prov = read_json(path / "provenance.json", "provenance file")
    if not prov.get("produces_spikes", True):
        raise ResultFileError(f"run '{path}' ({prov.get('backend')}) produced no spikes (a "
                              f"virtual SpiNNaker board maps but does not simulate); it "
                              f"cannot be validated")
    block = read_spikes_nix(path / "spikes.nix")
    return RunData(path=path, provenance=prov, trains=trains_by_population(block),
                   windows=training_windows(block),
                   weights=read_npz(path / "weights.npz",
                                    required=("cue_sums", "targets", "cues", "reference")),
                   episodes=read_csv(path / "episodes.csv"))


def load_side(paths: list[Path], side: str) -> list[RunData]:
    """Load the runs of one side; they must be >= 2, of one config, and distinct seeds."""
    if len(paths) < 2:
        raise ResultFileError(f"side {side} has {len(paths)} run(s) "
                              f"({', '.join(map(str, paths)) or 'none'}): validation needs at "
                              f"least 2 seeds per side to measure the seed-to-seed spread")
    runs = [load_run(p) for p in paths]
    hashes = {r.provenance.get("config_hash") for r in runs}
    if len(hashes) > 1:
        listing = "; ".join(f"{r.path}: {r.provenance.get('config_hash')}" for r in runs)
        raise ResultFileError(f"the runs of side {side} come from different configs "
                              f"({listing}); a side must be seeds of one config")
    backends = {r.provenance.get("backend") for r in runs}
    if len(backends) > 1:
        raise ResultFileError(f"the runs of side {side} come from different backends "
                              f"({', '.join(sorted(map(str, backends)))}); a side is one backend")
    seen: dict[int, Path] = {}
    for r in runs:
        if r.seed in seen:
            raise ResultFileError(f"side {side} holds seed {r.seed} twice ({seen[r.seed]} and "
                                  f"{r.path}); give each seed once")
        seen[r.seed] = r.path
    return runs


def flat(d: dict, prefix: str = "") -> dict:
    """Return a nested dict flattened to dotted keys."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flat(v, key + "."))
        else:
            out[key] = v
    return out


def config_differences(a: dict, b: dict) -> dict:
    """Return {dotted key: [value in a, value in b]} for every key whose values differ
    (seeds and backend lists excluded: they select runs, they do not define them)."""
    fa, fb = flat(a), flat(b)
    skip = {"simulation.seeds", "simulation.backends"}
    return {k: [fa.get(k), fb.get(k)] for k in sorted(set(fa) | set(fb))
            if k not in skip and fa.get(k) != fb.get(k)}


# ----------------------------------------------------------------------- statistics
@dataclass
class Measure:
    """One statistic of one run: replicate units -> summary and within-run SE.

    ``units`` are the run's replicate values (e.g. one per training phase); the summary
    is their mean unless ``summary``/``se`` are given. ``dist`` holds the values drawn in
    the figures and compared by the KS distance (None: no distribution).
    """

    units: np.ndarray
    dist: np.ndarray | None = None
    summary: float | None = None
    se: float | None = None
    crossed: bool = True
    curve: np.ndarray | None = None   # a curve drawn in the figures (CCG, forgetting)

    def value(self) -> float:
        if self.summary is not None:
            return float(self.summary)
        u = self.units[np.isfinite(self.units)]
        return float(u.mean()) if len(u) else float("nan")

    def stderr(self) -> float:
        if self.se is not None:
            return float(self.se)
        u = self.units[np.isfinite(self.units)]
        return float(u.std(ddof=1) / np.sqrt(len(u))) if len(u) > 1 else float("nan")


@dataclass
class Statistic:
    """A named statistic: how to measure it on a run, its unit and its group."""

    name: str
    group: str
    unit: str
    measure: Callable[[RunData, dict], Measure | None]
    description: str = ""
    extra: dict = field(default_factory=dict)


def _window_spikes(t: np.ndarray, a: float, b: float) -> np.ndarray:
    return t[(t >= a) & (t < b)]


def _roles(run: RunData) -> list[np.ndarray]:
    """Per training phase, a boolean over the E sample: is the neuron a target?"""
    sample = np.array(sorted(run.trains["exc"]))
    return [np.isin(sample, run.weights["targets"][j]) for j in range(len(run.windows))]


def rates_measure(pop: str, role: str | None) -> Callable[[RunData, dict], Measure | None]:
    """Firing rates [Hz] per neuron and training phase of ``pop`` (E in a role, or I);
    units: the phases' mean rates."""
    def f(run: RunData, _ctx: dict) -> Measure | None:
        ids = sorted(run.trains[pop])
        if not ids:
            return None
        roles = _roles(run) if role else None
        units, dist = [], []
        for j, (a, b) in enumerate(run.windows):
            r = np.array([len(_window_spikes(run.trains[pop][n], a, b)) for n in ids]) / (
                (b - a) * 1e-3)
            if role:
                r = r[roles[j]] if role == "target" else r[~roles[j]]
            units.append(r.mean() if len(r) else np.nan)     # one unit per phase
            dist.append(r)
        return Measure(np.array(units), np.concatenate(dist) if dist else np.array([]))
    return f


def isi_cv(intervals: np.ndarray) -> float:
    """Return the coefficient of variation (SD / mean, SD without Bessel's correction) of
    ``intervals``: elephant's ``cv``, which is ``scipy.stats.variation``, without scipy's
    per-call array-API overhead (about 0.3 ms a call, a fifth of a full-run validation).
    Bitwise equal to elephant's (tests/test_validation.py)."""
    return float(np.std(intervals) / np.mean(intervals))


def isi_measure(pop: str, kind: str) -> Callable[[RunData, dict], Measure | None]:
    """CV or LV of the ISIs (elephant's definitions; :func:`isi_cv`) per neuron, over the
    ISIs within training phases; units: per phase, the mean over neurons with >= 3 spikes
    in it."""
    def f(run: RunData, _ctx: dict) -> Measure | None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from elephant.statistics import lv
        variation = isi_cv if kind == "cv" else lv
        ids = sorted(run.trains[pop])
        units, dist = [], []
        for a, b in run.windows:
            vals = []
            for n in ids:
                t = _window_spikes(run.trains[pop][n], a, b)
                if len(t) >= 3:
                    vals.append(variation(np.diff(t)))
            units.append(np.mean(vals) if vals else np.nan)   # one unit per phase
            dist.extend(vals)
        return Measure(np.array(units), np.array(dist)) if dist else None
    return f


def corr_measure(pop: str) -> Callable[[RunData, dict], Measure | None]:
    """Pairwise spike-count correlation coefficients (elephant, 10 ms bins) per training
    phase; units: per phase, the mean over pairs of neurons that spiked in it."""
    def f(run: RunData, _ctx: dict) -> Measure | None:
        import quantities as pq
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from elephant.conversion import BinnedSpikeTrain
            from elephant.spike_train_correlation import correlation_coefficient
        # elephant logs a warning per window for float rounding of the bin count
        import elephant.utils
        elephant.utils.logger.setLevel(logging.ERROR)
        ids = sorted(run.trains[pop])
        units, dist = [], []
        for a, b in run.windows:
            active = [t for t in (_window_spikes(run.trains[pop][n], a, b) for n in ids)
                      if len(t) > 0]
            if len(active) < 2:
                units.append(np.nan)                         # one unit per phase
                continue
            # elephant bins the count matrix it is given; binning here skips building a
            # neo SpikeTrain per neuron and phase (a third of a full-run validation)
            counts = np.vstack([bin_counts(t, a, b, CORR_BIN_MS) for t in active])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m = correlation_coefficient(BinnedSpikeTrain(
                    counts, bin_size=CORR_BIN_MS * pq.ms, t_start=0.0 * pq.ms,
                    t_stop=(b - a) * pq.ms))
            c = m[np.triu_indices_from(m, 1)]
            c = c[np.isfinite(c)]
            units.append(c.mean() if len(c) else np.nan)
            dist.append(c)
        return Measure(np.array(units), np.concatenate(dist)) if dist else None
    return f


def ccg_measure(cls: str) -> Callable[[RunData, dict], Measure | None]:
    """Causal excess of the class CCG (inputs -> sampled E): per training phase, the
    integral over lags (0, 50] ms of (density / baseline - 1) [ms], the baseline being the
    mean density at |lag| >= 150 ms. The curve drawn is the run's class CCG [Hz^2]."""
    def f(run: RunData, _ctx: dict) -> Measure | None:
        m = int(run.cfg["inputs"]["m"])
        if cls.startswith("non_cue") and float(run.cfg["inputs"]["nu0_hz"]) == 0:
            return None
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
                units.append(np.nan)                         # one unit per phase
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
        if not np.isfinite(units).any():
            return None
        return Measure(np.array(units), curve=np.vstack([lags, total / (pair_s * CCG_BIN_MS * 1e-3)]))
    return f


def dw_measure(cls: str) -> Callable[[RunData, dict], Measure | None]:
    """Mean weight change [theta] of a synapse class per episode (episodes.csv); units:
    the episodes."""
    key = "dw_" + cls.replace("->", "_to_")

    def f(run: RunData, _ctx: dict) -> Measure | None:
        v = np.array([float(r[key]) for r in run.episodes if r.get(key) not in (None, "")])
        if len(v) == 0 or not np.any(v):
            return None                      # a class that never changes (silent inputs)
        return Measure(v, v, curve=np.vstack([np.arange(len(v)), v]))
    return f


def weights_measure(cls: str, which: str) -> Callable[[RunData, dict], Measure | None]:
    """Feed-forward weights [theta] of a synapse class at the first or last episode of
    ``recording.full_weights_at`` (classes of that episode's pattern); units: synapses."""
    ci = CLASSES.index(cls)

    def f(run: RunData, ctx: dict) -> Measure | None:
        j = ctx["weights_at"][0 if which == "first" else -1] if ctx["weights_at"] else None
        if j is None or f"w_{j}" not in run.weights:
            return None
        w = run.weights[f"w_{j}"]
        mask = class_masks(w.shape[0], w.shape[1], run.weights["cues"][j],
                           run.weights["targets"][j])[ci]
        v = w[mask].astype(float)
        return Measure(v, v) if len(v) > 1 else None
    return f


def _curves(run: RunData) -> np.ndarray:
    w = run.weights
    return forgetting_curves(w["cue_sums"], w["targets"], w["reference"])


def forgetting_measure(run: RunData, ctx: dict) -> Measure | None:
    """Mean recall accuracy over ages 0..L-1, L the ages every reference memory of every
    run reaches; units: the reference memories. The curve drawn is the run's mean."""
    c = _curves(run)[:, :ctx["ages"]]
    return Measure(np.nanmean(c, axis=1), curve=np.vstack([np.arange(c.shape[1]),
                                                           np.nanmean(c, axis=0)]))


def capacity_measure(run: RunData, ctx: dict) -> Measure | None:
    """Capacity [episodes] of the run's mean forgetting curve; its SE from a bootstrap
    over the reference memories (fixed seed)."""
    c = _curves(run)
    thr = float(run.cfg.get("readout", {}).get("threshold", 0.5))
    cap, crossed = capacity_from_curve(np.nanmean(c, axis=0), thr)
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # ages no resampled memory reaches
        boots = [capacity_from_curve(np.nanmean(c[rng.integers(0, len(c), len(c))], axis=0),
                                     thr)[0] for _ in range(N_BOOTSTRAP)]
    return Measure(np.array([cap], float), summary=cap, se=float(np.std(boots, ddof=1)),
                   crossed=crossed)


def statistics() -> list[Statistic]:
    """Return every statistic the validation compares, in report order."""
    out = [
        Statistic("rate_exc_target", "rates", "Hz", rates_measure("exc", "target"),
                  "E neurons while targets of the episode"),
        Statistic("rate_exc_non_target", "rates", "Hz", rates_measure("exc", "non_target"),
                  "E neurons while not targets"),
        Statistic("rate_inh", "rates", "Hz", rates_measure("inh", None), "I neurons"),
    ]
    for pop in ("exc", "inh"):
        out += [Statistic(f"cv_isi_{pop}", "irregularity", "1", isi_measure(pop, "cv"),
                          "CV of inter-spike intervals"),
                Statistic(f"lv_isi_{pop}", "irregularity", "1", isi_measure(pop, "lv"),
                          "local variation LV of inter-spike intervals")]
    out += [Statistic(f"corr_{pop}", "correlations", "1", corr_measure(pop),
                      f"pairwise spike-count correlation, {CORR_BIN_MS:g} ms bins")
            for pop in ("exc", "inh")]
    out += [Statistic(f"ccg_{c}", "ccg", "ms", ccg_measure(c),
                      f"causal excess of the class CCG over (0, {CCG_CAUSAL_MS:g}] ms")
            for c in CLASSES]
    out += [Statistic(f"dw_{c}", "weight change", "theta/episode", dw_measure(c),
                      "mean weight change per episode (before homeostasis)") for c in CLASSES]
    for which in ("first", "last"):
        out += [Statistic(f"weights_{c}_{which}", "weights", "theta", weights_measure(c, which),
                          f"feed-forward weights at the {which} recorded episode")
                for c in CLASSES]
    out += [Statistic("forgetting_curve", "memory", "accuracy", forgetting_measure,
                      "mean recall accuracy over the ages every memory reaches"),
            Statistic("capacity", "memory", "episodes", capacity_measure,
                      "age at which the mean forgetting curve crosses the threshold")]
    return out


# ------------------------------------------------------------------------ decision
def compare(a: list[Measure], b: list[Measure]) -> dict:
    """Return the two-sample comparison of per-run summaries (see the module docstring):
    means, SDs, the seed-level variance used, Delta, its SE, the test statistic, dof,
    the raw p-value and Cohen's d with a 95% interval."""
    ma = np.array([x.value() for x in a])
    mb = np.array([x.value() for x in b])
    na, nb = len(ma), len(mb)
    ss = np.sum((ma - ma.mean()) ** 2) + np.sum((mb - mb.mean()) ** 2)
    dof = na + nb - 2
    s2 = ss / dof
    floor_a = np.nanmean([x.stderr() ** 2 for x in a])
    floor_b = np.nanmean([x.stderr() ** 2 for x in b])
    floor_a = 0.0 if not np.isfinite(floor_a) else floor_a
    floor_b = 0.0 if not np.isfinite(floor_b) else floor_b
    va, vb = max(s2, floor_a), max(s2, floor_b)
    floored = s2 < max(floor_a, floor_b)
    delta = float(mb.mean() - ma.mean())
    se = float(np.sqrt(va / na + vb / nb))
    # Student's t with the seed-level dof also when the floor wins: the within-run SE
    # treats phases, synapses or memories as independent and can be far below the true
    # seed-to-seed spread (a normal reference there gave false alarms: README)
    dist = sps.t(dof)
    if se > 0:
        tstat = delta / se
        p = float(2 * dist.sf(abs(tstat)))
    else:
        tstat, p = (0.0, 1.0) if delta == 0 else (np.inf, 0.0)
    sd = float(np.sqrt((va + vb) / 2))
    q = float(dist.ppf(0.975))
    d = delta / sd if sd > 0 else (0.0 if delta == 0 else np.inf)
    d_ci = [(delta - q * se) / sd, (delta + q * se) / sd] if sd > 0 else [d, d]
    return {"a": {"per_seed": ma.tolist(), "mean": float(ma.mean()), "sd": float(ma.std(ddof=1))},
            "b": {"per_seed": mb.tolist(), "mean": float(mb.mean()), "sd": float(mb.std(ddof=1))},
            "difference": delta, "relative_difference": delta / abs(ma.mean()) if ma.mean() else None,
            "se": se, "seed_variance": float(s2), "within_run_se2": [float(floor_a), float(floor_b)],
            "reference": f"Student t, {dof} dof" + (" (variance floored by the within-run "
                                                     "noise)" if floored else ""),
            "test_statistic": float(tstat), "dof": dof, "p_value": p,
            "effect_size": float(d), "effect_size_ci95": [float(x) for x in d_ci],
            "_quantile": dist}


def ks(x: np.ndarray, y: np.ndarray) -> float:
    """Return the two-sample Kolmogorov-Smirnov distance of two samples."""
    return float(sps.ks_2samp(x, y).statistic)


def holm(pvalues: list[float], alpha: float) -> list[float]:
    """Return Holm's step-down per-test p-value thresholds (alpha / (m - rank)), in the
    input order; a test is rejected if its p-value and all smaller ones beat theirs."""
    m = len(pvalues)
    order = np.argsort(pvalues)
    thr = np.empty(m)
    for rank, i in enumerate(order):
        thr[i] = alpha / (m - rank)
    return thr.tolist()


def holm_rejected(pvalues: list[float], alpha: float) -> set[int]:
    """Return the indices of the hypotheses Holm's step-down procedure rejects at family-wise
    level ``alpha``: the smallest p-values in order, up to the first that misses its
    threshold."""
    thr = holm(pvalues, alpha)
    rejected: set[int] = set()
    for i in np.argsort(pvalues):
        if pvalues[i] > thr[i]:
            break
        rejected.add(int(i))
    return rejected


def context(runs: list[RunData]) -> dict:
    """Return what the statistics of a comparison share: the episodes with full weight
    matrices on every run, and the ages every reference memory reaches on every run."""
    wa = [set(int(x) for x in r.cfg.get("recording", {}).get("full_weights_at", [])) for r in runs]
    ages = min(int(len(r.windows) - np.max(r.weights["reference"])) for r in runs)
    return {"weights_at": sorted(set.intersection(*wa)) if wa else [], "ages": max(ages, 1)}


def run_measures(runs: list[RunData], ctx: dict) -> dict[str, list]:
    """Return {statistic name: [Measure or None per run]} (every statistic of
    ``statistics()``, computed once per run)."""
    return {st.name: [st.measure(r, ctx) for r in runs] for st in statistics()}


def decide(meas_a: dict[str, list], meas_b: dict[str, list], alpha: float
           ) -> tuple[list[dict], dict, set[int]]:
    """Compare the per-run measures of A and B statistic by statistic (``compare``), with
    Holm's correction over the tested statistics. Returns (entries of validation.json's
    ``statistics``, {name: (measures A, measures B)} of the compared statistics, indices
    of the rejected ones among the tested entries)."""
    entries, measures = [], {}
    for st in statistics():
        ma, mb = meas_a.get(st.name), meas_b.get(st.name)
        if ma is None or mb is None or any(x is None for x in ma + mb):
            continue
        measures[st.name] = (ma, mb)
        e = {"name": st.name, "group": st.group, "unit": st.unit, "description": st.description}
        if st.name == "capacity" and not all(x.crossed for x in ma + mb):
            e.update(verdict="not tested", reason="a forgetting curve does not cross the "
                     "threshold within the trained episodes: the capacity is a lower bound",
                     a={"per_seed": [x.value() for x in ma]}, b={"per_seed": [x.value() for x in mb]},
                     test=None, effect_size=None, p_value=None)
            entries.append(e)
            continue
        c = compare(ma, mb)
        dist = c.pop("_quantile")
        e.update(c, test="difference of run means against the seed-level spread "
                 "(two-sided; Holm over statistics)")
        if ma[0].dist is not None:
            xa = [x.dist for x in ma]
            within = [ks(xa[i], xa[j]) for i in range(len(xa)) for j in range(i + 1, len(xa))]
            e["ks_distance"] = ks(np.concatenate(xa), np.concatenate([x.dist for x in mb]))
            e["ks_distance_within_a"] = float(np.mean(within))
        e["_dist"] = dist
        entries.append(e)

    tested = [e for e in entries if e.get("p_value") is not None]
    thr = holm([e["p_value"] for e in tested], alpha)
    rejected = holm_rejected([e["p_value"] for e in tested], alpha)
    for i, e in enumerate(tested):
        dist = e.pop("_dist")
        q = float(dist.isf(thr[i] / 2))
        e["threshold"] = {"p_value": thr[i], "abs_difference": q * e["se"],
                          "rule": "different if p <= the Holm threshold, i.e. |difference| > "
                                  "abs_difference (in the statistic's unit)"}
        e["verdict"] = "different" if i in rejected else "consistent"
    return entries, measures, rejected


def validate(a_paths: list[Path], b_paths: list[Path], out: Path | None,
             alpha: float = ALPHA, name: str = "", quiet: bool = False,
             networkunit: bool = True) -> dict:
    """Compare runs A with runs B; write validation.json/.md and figures into ``out``
    (if given). With ``networkunit``, also run NetworkUnit's pooled-sample
    model-to-model tests (``pipeline.model_to_model``; reported, not part of the
    verdict). Returns the validation.json content."""
    for p in a_paths:
        if Path(p).resolve() in {Path(q).resolve() for q in b_paths}:
            raise ResultFileError(f"run '{p}' is on both sides; A and B must be different runs")
    A, B = load_side([Path(p) for p in a_paths], "A"), load_side([Path(p) for p in b_paths], "B")
    mixed_code = warn_mixed_code_versions([(r.path, r.provenance) for r in A + B], "validate")
    ident_a = {(r.provenance.get("config_hash"), r.provenance.get("backend"), r.seed) for r in A}
    same = [r for r in B if (r.provenance.get("config_hash"), r.provenance.get("backend"),
                             r.seed) in ident_a]
    if same:
        raise ResultFileError(f"run '{same[0].path}' of B repeats a run of A (same config, "
                              f"backend and seed {same[0].seed}): compare other seeds")
    prov = Provenance("validate", None, runs_a=[str(r.path) for r in A],
                      runs_b=[str(r.path) for r in B])
    ctx = context(A + B)
    entries, measures, rejected = decide(run_measures(A, ctx), run_measures(B, ctx), alpha)
    tested = [e for e in entries if e.get("p_value") is not None]
    verdict = "different" if rejected else "consistent"
    cfg_a, cfg_b = A[0].cfg, B[0].cfg
    result = {
        "name": name,
        "verdict": verdict,
        "alpha": alpha,
        "calibration": "seed-to-seed spread of the run summaries (pooled over A and B), "
                       "floored by each side's within-run sampling noise; Holm over statistics",
        "a": {"backend": A[0].provenance.get("backend"), "config_hash":
              A[0].provenance.get("config_hash"), "seeds": [r.seed for r in A],
              "runs": [str(r.path) for r in A]},
        "b": {"backend": B[0].provenance.get("backend"), "config_hash":
              B[0].provenance.get("config_hash"), "seeds": [r.seed for r in B],
              "runs": [str(r.path) for r in B]},
        "config_differences": config_differences(cfg_a, cfg_b),
        "mixed_code_versions": mixed_code,
        "translation_differences": _translation_changes(B[0]),
        "n_statistics": len(tested),
        "n_different": len(rejected),
        "largest_effects": [{"name": e["name"], "effect_size": e["effect_size"],
                             "verdict": e["verdict"]}
                            for e in sorted(tested, key=lambda e: -abs(e["effect_size"]))[:5]],
        "statistics": entries,
    }
    if networkunit:
        from .model_to_model import run_tests
        m2m = run_tests(A, B)
        for k, v in m2m.items():
            v["significant_at_alpha"] = (v["p_value"] <= alpha) if "p_value" in v else None
        result["networkunit"] = {
            "what": "NetworkUnit 0.2.2 model-to-model tests (sciunit TestM2M, "
                    "scores.ks_distance) on the neurons (or pairs) of all runs of a side "
                    "pooled; they ignore the seed-to-seed spread and are NOT part of the "
                    "verdict (their false-alarm rate: README, Cross-backend validation)",
            "tests": m2m}
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        _plot(result, measures, out)
        write_text(out / "validation.md", markdown(result))
        result["provenance"] = prov.finish()
        write_json(out / "validation.json", result)
    if not quiet:
        print(summary_line(result), file=sys.stderr)
    return result


def _translation_changes(run: RunData) -> list:
    tr = run.provenance.get("translation") or {}
    return tr.get("changes", [])


def summary_line(result: dict) -> str:
    """Return a one-line summary: the verdict, how many statistics differ, the largest
    effects."""
    top = ", ".join(f"{e['name']} d={e['effect_size']:+.1f}" for e in result["largest_effects"][:3])
    return (f"[validate] {result['name'] or 'A vs B'}: {result['verdict'].upper()} "
            f"({result['n_different']} of {result['n_statistics']} statistics differ at "
            f"family-wise alpha {result['alpha']}); largest effects: {top}")


def _fmt(x, nd: int = 4) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and not np.isfinite(x):
        return str(x)
    return f"{x:.{nd}g}"


def markdown(result: dict) -> str:
    """Return validation.md: the verdict, the configs, and one table row per statistic."""
    a, b = result["a"], result["b"]
    lines = [f"# Validation: {result['name'] or 'A vs B'}", "",
             f"**Verdict: {result['verdict']}** ({result['n_different']} of "
             f"{result['n_statistics']} statistics differ; family-wise false-alarm level "
             f"{result['alpha']}, Holm).", "",
             f"- A: `{a['backend']}` seeds {a['seeds']} (config {a['config_hash']})",
             f"- B: `{b['backend']}` seeds {b['seeds']} (config {b['config_hash']})",
             f"- Calibration: {result['calibration']}.", ""]
    if result["config_differences"]:
        lines.append("Config keys that differ: " + ", ".join(
            f"`{k}` {v[0]} -> {v[1]}" for k, v in result["config_differences"].items()))
        lines.append("")
    if "nest-spinnaker" in (a["backend"], b["backend"]):
        lines += ["`nest-spinnaker` is an EMULATION: NEST under SpiNNaker's constraints, not "
                  "SpiNNaker hardware.", ""]
    lines += ["| statistic | unit | A mean (sd) | B mean (sd) | B - A | Cohen's d [95%] | p | "
              "threshold |B - A| | KS A-B (within A) | verdict |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for e in result["statistics"]:
        if e.get("p_value") is None:
            lines.append(f"| {e['name']} | {e['unit']} | {e['a']['per_seed']} | "
                         f"{e['b']['per_seed']} | | | | | | {e['verdict']}: {e['reason']} |")
            continue
        ksd = (f"{e['ks_distance']:.3f} ({e['ks_distance_within_a']:.3f})"
               if "ks_distance" in e else "")
        lines.append(
            f"| {e['name']} | {e['unit']} | {_fmt(e['a']['mean'])} ({_fmt(e['a']['sd'], 2)}) | "
            f"{_fmt(e['b']['mean'])} ({_fmt(e['b']['sd'], 2)}) | {_fmt(e['difference'], 3)} | "
            f"{e['effect_size']:+.2f} [{e['effect_size_ci95'][0]:+.2f}, "
            f"{e['effect_size_ci95'][1]:+.2f}] | {e['p_value']:.2g} | "
            f"{_fmt(e['threshold']['abs_difference'], 3)} | {ksd} | "
            f"{'**different**' if e['verdict'] == 'different' else e['verdict']} |")
    nu = result.get("networkunit")
    if nu:
        lines += ["", "## NetworkUnit model-to-model tests (pooled samples, not the verdict)",
                  "", nu["what"] + ".", "",
                  "| statistic | networkunit test | KS distance | p (pooled) | samples A, B |",
                  "|---|---|---|---|---|"]
        for k, v in nu["tests"].items():
            if "error" in v:
                lines.append(f"| {k} | {v['test']} | failed: {v['error']} | | |")
                continue
            lines.append(f"| {k} | `{v['test']}` | {v['ks_distance']:.3f} | "
                         f"{v['p_value']:.2g} | {v['samples'][0]}, {v['samples'][1]} |")
    lines += ["", "![distributions](distributions.png)", "", "![curves](curves.png)", ""]
    return "\n".join(lines)


def _plot(result: dict, measures: dict, out: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    la = f"A: {result['a']['backend']} {result['a']['seeds']}"
    lb = f"B: {result['b']['backend']} {result['b']['seeds']}"
    verdicts = {e["name"]: e["verdict"] for e in result["statistics"]}
    dists = [k for k, (ma, _) in measures.items() if ma[0].dist is not None
             and not k.startswith(("dw_", "weights_")) or k.endswith("_last") and "cue->" in k
             and not k.startswith("weights_non")]
    n = len(dists)
    cols = 4
    rows = max(1, -(-n // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.5 * rows), squeeze=False)
    for ax, k in zip(axes.ravel(), dists):
        ma, mb = measures[k]
        xa, xb = np.concatenate([x.dist for x in ma]), np.concatenate([x.dist for x in mb])
        both = np.concatenate([xa, xb])
        lo, hi = np.nanpercentile(both, [0.5, 99.5])
        bins = np.linspace(lo, hi if hi > lo else lo + 1, 40)
        ax.hist(xa, bins, density=True, histtype="step", color="C0", lw=1.3, label=la)
        ax.hist(xb, bins, density=True, histtype="step", color="C3", lw=1.3, label=lb)
        ax.set_title(f"{k}: {verdicts.get(k, '')}", fontsize=8,
                     color="C3" if verdicts.get(k) == "different" else "k")
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    axes[0][0].legend(fontsize=6)
    fig.suptitle(f"{result['name'] or 'validation'}: distributions (A blue, B red) - "
                 f"verdict {result['verdict']}", fontsize=10)
    fig.tight_layout()
    save_figure(fig, out / "distributions")
    plt.close(fig)

    curves = [k for k, (ma, _) in measures.items() if ma[0].curve is not None]
    curves = [k for k in curves if not k.startswith("dw_non_cue")]
    cols = 3
    rows = max(1, -(-len(curves) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.0 * cols, 2.8 * rows), squeeze=False)
    for ax, k in zip(axes.ravel(), curves):
        ma, mb = measures[k]
        for ms, color, lab in ((ma, "C0", la), (mb, "C3", lb)):
            for i, x in enumerate(ms):
                ax.plot(x.curve[0], x.curve[1], color=color, lw=0.9, alpha=0.8,
                        label=lab if i == 0 else None)
        ax.set_title(f"{k}: {verdicts.get(k, '')}", fontsize=8,
                     color="C3" if verdicts.get(k) == "different" else "k")
        ax.set_xlabel({"forgetting_curve": "age [episodes]"}.get(
            k, "lag [ms]" if k.startswith("ccg") else "episode"), fontsize=7)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(curves):]:
        ax.axis("off")
    axes[0][0].legend(fontsize=6)
    fig.suptitle("curves per seed (A blue, B red)", fontsize=10)
    fig.tight_layout()
    save_figure(fig, out / "curves")
    plt.close(fig)

