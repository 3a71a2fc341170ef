"""Equivalence testing of a difference B - A: intervals, verdicts and the seeds a decision
needs (docs/validation.md, "The rule").

Pure arithmetic on numbers; nothing here reads a file. Every statistic of a comparison
gives, per seed, a value on each side and a within-run uncertainty; this module turns
them into one mean difference with its standard error, a simultaneous confidence
interval, and a verdict against a tolerance:

- **paired** (both sides hold the same seeds): the per-seed differences d_i = B_i - A_i
  share every host draw (connectivity, weights, patterns, inputs), so the network-to-
  network spread cancels. Their mean's variance is estimated between seeds (s_d^2 / n)
  and within runs (sum v_i / n^2, v_i from a paired block bootstrap of seed i's episodes
  or memories); pooled when Cochran's Q finds the seeds consistent with the within-run
  noise, else the larger with n - 1 dof (:func:`paired`).
- **unpaired** (the seeds differ): Welch's difference of the side means; the seed-level
  spread (network to network) cannot be replaced by a within-run estimate, which only
  floors it.

Verdicts, with the m statistics of a comparison tested on simultaneous two-sided
(1 - alpha / m) intervals (Bonferroni), so that with probability >= 1 - alpha every
interval covers its true difference at once and no verdict of the comparison is wrong:

- "equivalent": the interval lies inside (-tolerance, +tolerance);
- "different": the interval excludes 0 and does not lie inside the tolerance band;
- "inconclusive": neither; :func:`seeds_to_decide` gives the seeds that would likely
  decide it if the difference and the spread stay as observed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import stats as sps

EQUIVALENT, DIFFERENT, INCONCLUSIVE = "equivalent", "different", "inconclusive"
N_RESAMPLES = 400        # bootstrap resamples per seed and statistic
MAX_SEEDS = 1000         # seeds_to_decide gives up beyond this ("more than 1000")


# ------------------------------------------------------------------ block bootstrap
def flat_top(t: np.ndarray) -> np.ndarray:
    """Politis and Romano's flat-top (trapezoid) lag window: 1 for |t| <= 1/2, falling
    linearly to 0 at |t| = 1."""
    t = np.abs(t)
    return np.where(t <= 0.5, 1.0, np.where(t <= 1.0, 2.0 * (1.0 - t), 0.0))


def block_length(x: np.ndarray) -> int:
    """Return the circular block bootstrap's block length [units of the series] for the
    series ``x``: Politis and White's (2004) automatic choice with Patton, Politis and
    White's (2009) correction, b = (2 G^2 / D)^(1/3) n^(1/3), G and D from the flat-top
    spectral estimates at lags up to twice the first lag m after which K_n autocorrelations
    in a row are insignificant (|rho| < 2 sqrt(log10(n) / n)). At least 1, at most n / 3."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n < 6 or np.var(x) == 0:
        return 1
    xc = x - x.mean()
    acov = np.array([np.dot(xc[: n - k], xc[k:]) / n for k in range(n)])
    rho = acov / acov[0]
    k_n = max(5, int(math.ceil(math.sqrt(math.log10(n)))))
    crit = 2.0 * math.sqrt(math.log10(n) / n)
    max_lag = min(n - 1, int(math.ceil(math.sqrt(n))) + k_n)
    m_hat = max_lag
    for m in range(1, max_lag - k_n + 1):
        if np.all(np.abs(rho[m: m + k_n]) < crit):
            m_hat = m - 1 if m > 0 else 0
            break
    big_m = min(2 * max(m_hat, 1), n - 1)
    lags = np.arange(-big_m, big_m + 1)
    lam = flat_top(lags / big_m)
    r = acov[np.abs(lags)]
    g0 = float(np.sum(lam * r))
    g = float(np.sum(lam * np.abs(lags) * r))
    if g0 <= 0:
        return 1
    b = (2.0 * g * g / ((4.0 / 3.0) * g0 * g0)) ** (1.0 / 3.0) * n ** (1.0 / 3.0)
    return int(min(max(1, math.ceil(b)), max(1, n // 3)))


def circular_blocks(n: int, b: int, rng: np.random.Generator, n_resamples: int) -> np.ndarray:
    """Return ``n_resamples`` index vectors (n_resamples, n) of a circular block bootstrap:
    ceil(n / b) blocks of b consecutive indices (wrapping at n) from random starts,
    concatenated and cut to n."""
    k = -(-n // b)
    starts = rng.integers(0, n, size=(n_resamples, k))
    idx = (starts[:, :, None] + np.arange(b)[None, None, :]) % n
    return idx.reshape(n_resamples, k * b)[:, :n]


def nanmean_rows(x: np.ndarray) -> float:
    """The default estimator: the mean of the finite unit values [the statistic's unit]."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return float(x.mean()) if len(x) else float("nan")


@dataclass
class WithinRun:
    """A seed's estimate and its within-run sampling variance from a block bootstrap."""

    estimate: float       # B - A (paired) or the side's value (one run)
    variance: float       # bootstrap variance of ``estimate`` [unit^2]
    blocks: int           # number of blocks of the bootstrap (its dof is blocks - 1)
    block_length: int


def bootstrap(units_a: np.ndarray, units_b: np.ndarray | None,
              estimator: Callable[[np.ndarray], float], rng: np.random.Generator,
              n_resamples: int = N_RESAMPLES) -> WithinRun:
    """Block-bootstrap one seed: with ``units_b`` the paired difference estimator(B) -
    estimator(A), the same blocks of units (episodes or memories, first axis) resampled
    on both sides; without, estimator(A) alone. The block length comes from the series
    of per-unit differences (or values): :func:`block_length`."""
    a = np.asarray(units_a, float)
    b = None if units_b is None else np.asarray(units_b, float)
    if b is not None and a.shape[0] != b.shape[0]:
        raise ValueError(f"paired units differ in length: {a.shape[0]} and {b.shape[0]}")
    n = a.shape[0]
    per_unit = (b - a) if b is not None else a
    if per_unit.ndim > 1:
        with np.errstate(all="ignore"):
            per_unit = np.nanmean(per_unit.reshape(n, -1), axis=1)
    bl = block_length(per_unit)

    def est(idx):
        return estimator(b[idx]) - estimator(a[idx]) if b is not None else estimator(a[idx])

    full = np.arange(n)
    value = est(full)
    draws = np.array([est(i) for i in circular_blocks(n, bl, rng, n_resamples)])
    draws = draws[np.isfinite(draws)]
    var = float(np.var(draws, ddof=1)) if len(draws) > 1 else float("nan")
    return WithinRun(float(value), var, max(1, n // bl), bl)


# --------------------------------------------------------------- seeds -> interval
@dataclass
class Difference:
    """The mean difference B - A over seeds, its SE and the reference distribution."""

    design: str           # "paired" or "unpaired"
    estimate: float       # [the statistic's unit]
    se: float
    dof: float
    se_between: float     # from the seed-to-seed spread (nan with one seed a side)
    se_within: float      # from the within-run bootstraps
    source: str           # which SE was used: "between seeds" or "within runs"
    n: int                # seeds (pairs, or the smaller side)
    sd_one_seed: float    # the SE times sqrt(n): paired, the SD of one seed's difference;
                          # unpaired, sqrt(s_A^2 + s_B^2) with n seeds a side (seeds_to_decide)


HOMOGENEITY_ALPHA = 0.05   # Cochran's Q level below which the seeds' differences disagree


def paired(d: list[float], v: list[float], blocks: list[int]) -> Difference:
    """Combine per-seed paired differences ``d`` with within-run variances ``v`` (and the
    bootstraps' block counts) into the mean difference and its SE.

    Two estimates of Var(mean d): between seeds, s_d^2 / n (n - 1 dof), and within runs,
    sum(v_i) / n^2 (dof: the bootstraps' blocks minus one, summed). When the seeds'
    differences agree with their within-run noise (Cochran's Q test of homogeneity,
    p >= HOMOGENEITY_ALPHA) both estimate the same variance and are pooled by their
    dof; when they disagree (the difference depends on the network), the larger of the
    two is used with the between-seed dof n - 1 (a random-effects SE)."""
    d, v = np.asarray(d, float), np.asarray(v, float)
    n = len(d)
    v_w = float(np.nansum(v)) / n ** 2
    dof_w = float(max(1, sum(max(1, k - 1) for k in blocks)))
    if n < 2:
        se = math.sqrt(v_w)
        return Difference("paired", float(d.mean()), se, dof_w, float("nan"), se,
                          "within runs (one seed)", n, se * math.sqrt(n))
    v_b = float(np.var(d, ddof=1)) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        q = float(np.sum((d - d.mean()) ** 2 / v)) if np.all(v > 0) else float("inf")
    p_q = float(sps.chi2.sf(q, n - 1)) if np.isfinite(q) else 0.0
    if v_b == 0 and v_w == 0:
        p_q = 1.0
    if p_q >= HOMOGENEITY_ALPHA:
        dof = (n - 1) + dof_w
        var = ((n - 1) * v_b + dof_w * v_w) / dof
        source = f"pooled: seeds agree with the within-run noise (Cochran's Q p = {p_q:.2g})"
    else:
        dof, var = float(n - 1), max(v_b, v_w)
        source = f"between seeds: the difference varies with the network (Q p = {p_q:.2g})"
    se = math.sqrt(var)
    return Difference("paired", float(d.mean()), se, dof, math.sqrt(v_b), math.sqrt(v_w),
                      source, n, se * math.sqrt(n))


def unpaired(a: list[float], b: list[float], va: list[float], vb: list[float]) -> Difference:
    """Welch's difference of side means (seeds differ), floored by the within-run
    variances: the seed spread holds the network-to-network variation, which no
    within-run estimate sees."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    na, nb = len(a), len(b)
    sa2 = float(np.var(a, ddof=1)) if na > 1 else float("nan")
    sb2 = float(np.var(b, ddof=1)) if nb > 1 else float("nan")
    wa, wb = float(np.nanmean(va)) if len(va) else 0.0, float(np.nanmean(vb)) if len(vb) else 0.0
    sa2f, sb2f = np.nanmax([sa2, wa]), np.nanmax([sb2, wb])
    se_b = math.sqrt(sa2 / na + sb2 / nb) if na > 1 and nb > 1 else float("nan")
    se = math.sqrt(sa2f / na + sb2f / nb)
    num = (sa2f / na + sb2f / nb) ** 2
    den = ((sa2f / na) ** 2 / max(na - 1, 1)) + ((sb2f / nb) ** 2 / max(nb - 1, 1))
    dof = num / den if den > 0 else float(na + nb - 2)
    se_w = math.sqrt(wa / na + wb / nb)
    floored = not (se_b >= se_w)              # also when se_b is nan (one seed a side)
    return Difference("unpaired", float(b.mean() - a.mean()), se, float(max(dof, 1.0)),
                      se_b, se_w, "within runs (floor)" if floored else "between seeds",
                      min(na, nb), math.sqrt(sa2f + sb2f))


def quantile(alpha: float, m: int, dof: float) -> float:
    """Return the two-sided simultaneous quantile t_{1 - alpha / (2 m)} with ``dof``."""
    return float(sps.t.ppf(1.0 - alpha / (2.0 * max(m, 1)), dof))


def interval(diff: Difference, alpha: float, m: int) -> tuple[float, float]:
    """Return the simultaneous (1 - alpha / m) confidence interval of the difference."""
    q = quantile(alpha, m, diff.dof)
    return diff.estimate - q * diff.se, diff.estimate + q * diff.se


def verdict(lo: float, hi: float, tolerance: float) -> str:
    """Return the verdict of an interval [lo, hi] against the band (-tolerance, +tolerance):
    equivalent inside it; different when it excludes 0 and is not inside; else
    inconclusive."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return INCONCLUSIVE
    if -tolerance < lo and hi < tolerance:
        return EQUIVALENT
    if lo > 0 or hi < 0:
        return DIFFERENT
    return INCONCLUSIVE


def detectable(diff: Difference, alpha: float, m: int, tolerance: float) -> float:
    """Return the smallest |B - A| [the statistic's unit] that this comparison would have
    called "different" at its SE: beyond the interval's half-width q SE (so 0 is outside)
    and beyond tolerance - q SE (so the interval is not inside the band)."""
    h = quantile(alpha, m, diff.dof) * diff.se
    return float(max(h, tolerance - h))


def seeds_to_decide(diff: Difference, alpha: float, m: int, tolerance: float) -> int | None:
    """Return the number of seeds (pairs, or per side) with which the observed difference
    and spread would give a verdict other than inconclusive: "equivalent" if |estimate| <
    tolerance, "different" if it lies beyond. None if no number up to MAX_SEEDS does (an
    estimate on the tolerance's edge)."""
    if not (np.isfinite(diff.estimate) and np.isfinite(diff.sd_one_seed)):
        return None
    gap = tolerance - abs(diff.estimate) if abs(diff.estimate) < tolerance \
        else abs(diff.estimate)
    if gap <= 0:
        return None
    scale = diff.dof / max(diff.n, 1) if not diff.source.startswith("between") else None
    for n in range(2, MAX_SEEDS + 1):
        dof = scale * n if scale else (n - 1 if diff.design == "paired" else 2 * n - 2)
        if quantile(alpha, m, max(dof, 1.0)) * diff.sd_one_seed / math.sqrt(n) < gap:
            return n
    return None
