"""The arithmetic of the equivalence verdicts (pipeline/validation/equivalence.py), on
hand-made numbers and synthetic series: no simulator."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from pipeline.validation import equivalence as eq


def test_paired_interval_equals_scipy_t_interval():
    # five per-seed differences whose spread dominates their (tiny) within-run variances:
    # the interval must be scipy's one-sample t interval at the Bonferroni level
    d = [0.9, 1.4, 0.7, 1.1, 1.6]
    diff = eq.paired(d, [1e-6] * 5, [20] * 5)
    assert diff.source.startswith("between seeds") and diff.dof == 4
    m, alpha = 7, 0.05
    lo, hi = eq.interval(diff, alpha, m)
    ref = sps.t.interval(1 - alpha / m, 4, loc=np.mean(d), scale=sps.sem(d))
    assert (lo, hi) == pytest.approx(ref, rel=1e-12)
    # the same interval from scipy's one-sample t test: both ends are where p = alpha / m
    for end in (lo, hi):
        assert sps.ttest_1samp(d, end).pvalue == pytest.approx(alpha / m, rel=1e-9)


def test_paired_pools_seeds_and_runs_when_they_agree():
    # two seeds with identical differences (between-seed variance 0) and within-run
    # variances 0.04 each from bootstraps of 10 and 12 blocks: Cochran's Q = 0, so both
    # estimates are pooled by their dof: (1 * 0 + 20 * 0.08 / 4) / 21
    diff = eq.paired([0.5, 0.5], [0.04, 0.04], [10, 12])
    assert diff.source.startswith("pooled")
    assert diff.dof == 1 + 9 + 11
    assert diff.se == pytest.approx(math.sqrt(20 * 0.02 / 21))


def test_paired_uses_the_seed_spread_when_the_difference_varies_with_the_network():
    # seeds disagree far beyond their within-run noise (Q = 800, p ~ 0): a random-effects
    # SE from the seeds, with n - 1 dof
    diff = eq.paired([0.0, 2.0], [0.005, 0.005], [20, 20])
    assert diff.source.startswith("between") and diff.dof == 1
    assert diff.se == pytest.approx(1.0)


def test_unpaired_equals_welch():
    a, b = [10.0, 12.0, 11.0, 13.5], [14.0, 15.5, 13.0]
    diff = eq.unpaired(a, b, [1e-9] * 4, [1e-9] * 3)
    w = sps.ttest_ind(b, a, equal_var=False)
    assert diff.estimate / diff.se == pytest.approx(w.statistic, rel=1e-12)
    assert diff.dof == pytest.approx(w.df, rel=1e-12)


@pytest.mark.parametrize("lo, hi, tol, want", [
    (-0.5, 0.8, 1.0, "equivalent"),      # inside the band, containing 0
    (0.2, 0.8, 1.0, "equivalent"),       # a real but small difference: still inside
    (0.5, 1.5, 1.0, "different"),        # excludes 0 and pokes out of the band
    (1.2, 2.0, 1.0, "different"),        # wholly outside
    (-0.5, 1.5, 1.0, "inconclusive"),    # contains 0 and leaves the band
    (-1.0, 0.5, 1.0, "inconclusive"),    # touches the band's edge: not strictly inside
])
def test_verdict_of_an_interval(lo, hi, tol, want):
    assert eq.verdict(lo, hi, tol) == want


def test_tost_agreement():
    # "equivalent" at simultaneous level 1 - alpha/m is two one-sided tests at alpha/(2m):
    # both one-sided p-values (scipy) lie below alpha / (2 m) exactly when the interval
    # lies inside the band
    rng = np.random.default_rng(3)
    alpha, m, tol = 0.05, 4, 0.5
    for _ in range(200):
        d = rng.normal(rng.uniform(-0.6, 0.6), rng.uniform(0.05, 0.4), size=6)
        diff = eq.paired(list(d), [0.0] * 6, [1] * 6)
        lo, hi = eq.interval(diff, alpha, m)
        p_low = sps.ttest_1samp(d, -tol, alternative="greater").pvalue
        p_high = sps.ttest_1samp(d, tol, alternative="less").pvalue
        tost = max(p_low, p_high) < alpha / (2 * m)
        assert (eq.verdict(lo, hi, tol) == "equivalent") == tost


def test_seeds_to_decide_decides_at_that_number_and_not_before():
    alpha, m, tol = 0.05, 10, 1.0
    d = [0.3, -0.4, 0.9, 0.1]                  # mean 0.225, inside the tolerance
    diff = eq.paired(d, [0.0] * 4, [1] * 4)
    assert eq.verdict(*eq.interval(diff, alpha, m), tol) == "inconclusive"
    n = eq.seeds_to_decide(diff, alpha, m, tol)
    sd = np.std(d, ddof=1)

    def verdict_with(k):        # the same mean and SD with k seeds
        more = eq.Difference("paired", diff.estimate, sd / math.sqrt(k), k - 1, 0, 0,
                             "between seeds", k, sd)
        return eq.verdict(*eq.interval(more, alpha, m), tol)
    assert verdict_with(n) == "equivalent" and verdict_with(n - 1) == "inconclusive"


def _ar1(rho: float, n: int, rng: np.random.Generator) -> np.ndarray:
    x = np.empty(n)
    x[0] = rng.normal() / math.sqrt(1 - rho ** 2)
    for i in range(1, n):
        x[i] = rho * x[i - 1] + rng.normal()
    return x


def _true_var_of_mean(rho: float, n: int) -> float:
    k = np.arange(1, n)
    return 1 / (1 - rho ** 2) / n * (1 + 2 * np.sum((1 - k / n) * rho ** k))


def test_block_bootstrap_follows_a_known_autocorrelation():
    # AR(1) with rho = 0.5 over 100 episodes: the variance of the mean is 3x the iid value.
    # Averaged over 100 series the block bootstrap must recover most of it; the
    # block bootstrap's known small-sample bias is downward (about 30% at n = 100 here,
    # measured), so the band is [0.55, 1.1]. An iid bootstrap (blocks of 1) gets about a
    # third, which this band excludes: the blocks are what carry the autocorrelation.
    n, rho = 100, 0.5
    true = _true_var_of_mean(rho, n)
    ratios, iid, lengths = [], [], []
    for r in range(100):
        x = _ar1(rho, n, np.random.default_rng([7, r]))
        w = eq.bootstrap(x, None, eq.nanmean_rows, np.random.default_rng([8, r]), 300)
        ratios.append(w.variance / true)
        lengths.append(w.block_length)
        idx = eq.circular_blocks(n, 1, np.random.default_rng([9, r]), 300)
        iid.append(np.var(x[idx].mean(axis=1), ddof=1) / true)
    assert 0.55 < np.mean(ratios) < 1.1
    assert np.mean(iid) < 0.45
    assert 3 <= np.mean(lengths) <= 10      # Politis-White for rho = 0.5, n = 100: ~5


def test_block_bootstrap_on_independent_units_is_the_plain_bootstrap():
    # white noise: block length 1-3 and the variance of the mean ~ 1/n (within 15%: the
    # bootstrap variance's own noise averaged over 100 series)
    n = 100
    v = [eq.bootstrap(np.random.default_rng([5, r]).normal(size=n), None, eq.nanmean_rows,
                      np.random.default_rng([6, r]), 300).variance for r in range(100)]
    assert abs(np.mean(v) * n - 1) < 0.15


def test_paired_bootstrap_cancels_what_both_sides_share():
    # B = A + small noise: the paired bootstrap's variance is that of the noise's mean,
    # far below either side's own
    rng = np.random.default_rng(11)
    a = rng.normal(0, 1, size=80)
    b = a + rng.normal(0.1, 0.05, size=80)
    w = eq.bootstrap(a, b, eq.nanmean_rows, np.random.default_rng(12), 400)
    assert w.estimate == pytest.approx(np.mean(b - a))
    assert w.variance < 0.01 * eq.bootstrap(a, None, eq.nanmean_rows,
                                            np.random.default_rng(12), 400).variance
