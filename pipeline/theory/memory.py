"""Memory trace, predicted recall accuracy and capacity (arXiv 2508.13846, docs/design.md s. 4-5).

A pattern stored at age 0 leaves its cue -> target (a = 1) and cue -> non-target (a = 0)
synapses with mean K_a and variance G_a; every later episode puts each such synapse into a
random class ab with probability P_ab:

    K^0 = gamma_a m_a1,  G^0 = gamma_a^2 V_a1
    K^k = (1 - phi) K^(k-1) + c,   phi = 1 - f_s gamma_1 - (1 - f_s) gamma_0,
                                   c = sum_ab P_ab gamma_a (m_ab - m0)
    G^k = sum_ab P_ab gamma_a^2 (G^(k-1) + V_ab - V* + (K^(k-1) + m_ab - m0)^2) - (K^k)^2

The summed cue weight of a post neuron is Gaussian with mean M_c K and variance M_c G
(M_c = f_c M cues). With s* the threshold that recalls a fraction f_s of all E neurons,
    f_s erfc((s* - M_c K_1)/sqrt(2 M_c G_1))/2 + (1 - f_s) erfc((s* - M_c K_0)/sqrt(2 M_c G_0))/2 = f_s,
the accuracy is a_k = erfc((s* - M_c K_1)/sqrt(2 M_c G_1))/2 (chance level f_s).
Capacity: the age k that minimises |a_k - threshold| over the trained ages 0..P-1; if a_k
stays above the threshold up to P-1 the capacity is only a lower bound (>= P-1).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..readout import capacity_from_curve  # one definition for theory and simulation
from scipy.optimize import brentq
from scipy.special import erfc

__all__ = ["MemoryTrace", "memory_trace", "recall_threshold", "predicted_accuracy",
           "capacity_from_curve"]


@dataclass
class MemoryTrace:
    """Mean K [theta] and variance G [theta^2] of a stored pattern's cue synapses by age
    k = 0..n-1; column 1 = onto its targets (a = 1), column 0 = onto non-targets (a = 0)."""

    k_mean: np.ndarray
    g_var: np.ndarray


def memory_trace(m: np.ndarray, v: np.ndarray, gamma: np.ndarray, v_star: float,
                 p_ab: np.ndarray, m0: float, n_ages: int) -> MemoryTrace:
    """Return the MemoryTrace (K^k [theta], G^k [theta^2], shape (n_ages, 2) by post class a)
    from one stationary episode's class statistics m[a, b] [theta], v[a, b] [theta^2],
    homeostasis factors gamma[a], V* [theta^2] and class probabilities P[a, b]
    (arXiv 2508.13846, docs/design.md section 5)."""
    m = np.asarray(m, float)
    v = np.asarray(v, float)
    gamma = np.asarray(gamma, float)
    g = gamma[:, None]
    f_s = float(p_ab[1].sum())
    phi = 1.0 - f_s * gamma[1] - (1.0 - f_s) * gamma[0]
    c = float(np.sum(p_ab * g * (m - m0)))
    kk = np.empty((n_ages, 2))
    gg = np.empty((n_ages, 2))
    kk[0] = gamma * m[:, 1]
    gg[0] = gamma ** 2 * v[:, 1]
    w = p_ab * g * g  # weights of the second-moment recursion, (2, 2)
    for k in range(1, n_ages):
        for a in (0, 1):
            kp, gp = kk[k - 1, a], gg[k - 1, a]
            kk[k, a] = (1.0 - phi) * kp + c
            gg[k, a] = float(np.sum(w * (gp + v - v_star + (kp + m - m0) ** 2))) - kk[k, a] ** 2
    return MemoryTrace(k_mean=kk, g_var=gg)


def _tail(s: float, mean: float, var: float) -> float:
    return 0.5 * float(erfc((s - mean) / np.sqrt(2.0 * var)))


def recall_threshold(mean_t: float, var_t: float, mean_n: float, var_n: float,
                     f_s: float) -> float:
    """Return s* [theta]: the summed-cue-weight threshold above which a fraction f_s of E
    neurons lies, for Gaussian targets (mean_t, var_t) and non-targets (mean_n, var_n)
    (means in theta, variances in theta^2; arXiv 2508.13846, docs/design.md section 5)."""
    sd = np.sqrt(max(var_t, var_n))

    def f(s: float) -> float:
        return f_s * _tail(s, mean_t, var_t) + (1.0 - f_s) * _tail(s, mean_n, var_n) - f_s

    lo = min(mean_t, mean_n) - 40.0 * sd
    hi = max(mean_t, mean_n) + 40.0 * sd
    return float(brentq(f, lo, hi, xtol=1e-15 * max(1.0, abs(hi)), rtol=1e-13))


def predicted_accuracy(trace: MemoryTrace, n_cue: float, f_s: float) -> np.ndarray:
    """Return the predicted recall accuracy a_k (fraction of targets recalled; chance f_s)
    for every age k of ``trace``, with M_c = ``n_cue`` cue synapses per neuron
    (arXiv 2508.13846, docs/design.md section 5)."""
    out = np.empty(len(trace.k_mean))
    for k, (kk, gg) in enumerate(zip(trace.k_mean, trace.g_var)):
        mt, vt = n_cue * kk[1], n_cue * gg[1]
        mn, vn = n_cue * kk[0], n_cue * gg[0]
        s = recall_threshold(mt, vt, mn, vn, f_s)
        out[k] = _tail(s, mt, vt)
    return out
