"""Synapse classes, homeostasis and the stationary weight variance (arXiv 2508.13846).

Four feed-forward synapse classes ab: a = 1 if the post neuron is a target of the current
episode, b = 1 if the input neuron is a cue; P_ab = (f_s or 1-f_s) * (f_c or 1-f_c).
Arrays are indexed [a, b]; the JSON keys are "11", "10", "01", "00" (= f"{a}{b}").

Homeostasis scales each post neuron's row to mean m0: gamma_a = m0/(f_c m_a1 + (1-f_c) m_a0).
The stationary variance V* reproduces itself after one episode started at (m0, V*) in every
class, plus homeostasis:  V' = sum_ab P_ab [gamma_a^2 V_ab + (gamma_a m_ab - m0)^2] = V*
(docs/design.md section 5). It is found with brentq on V' - V, bracketed from V = 0 (where
V' > 0) by doubling.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from .moments import EpisodeResult, integrate_episode
from .params import TheoryParams

__all__ = ["CLASS_KEYS", "class_probabilities", "homeostasis_factors", "variance_after_episode",
           "EpisodeMap", "episode_map", "StationaryState", "stationary_state", "by_class"]

CLASS_KEYS = ("11", "10", "01", "00")


def by_class(x: np.ndarray) -> dict[str, float]:
    """Return a (2, 2) [a, b] array as a dict {"11": x[1,1], "10": x[1,0], "01": .., "00": ..}
    (a = target post neuron, b = cue input; arXiv 2508.13846)."""
    return {k: float(x[int(k[0]), int(k[1])]) for k in CLASS_KEYS}


def class_probabilities(f_s: float, f_c: float) -> np.ndarray:
    """Return P[a, b] (2, 2), the fraction of feed-forward synapses in class ab during one
    episode: P_ab = (f_s if a else 1-f_s) * (f_c if b else 1-f_c) (arXiv 2508.13846)."""
    ps = np.array([1.0 - f_s, f_s])
    pc = np.array([1.0 - f_c, f_c])
    return ps[:, None] * pc[None, :]


def homeostasis_factors(m: np.ndarray, f_c: float, m0: float) -> np.ndarray:
    """Return gamma[a] (2,) = m0/(f_c m_a1 + (1-f_c) m_a0), the row-scaling factor of
    homeostasis for post class a (dimensionless; arXiv 2508.13846, docs/design.md section 5)."""
    m = np.asarray(m, dtype=float)
    return m0 / (f_c * m[:, 1] + (1.0 - f_c) * m[:, 0])


def variance_after_episode(m: np.ndarray, v: np.ndarray, gamma: np.ndarray, p_ab: np.ndarray,
                           m0: float) -> float:
    """Return V' = sum_ab P_ab [gamma_a^2 V_ab + (gamma_a m_ab - m0)^2] [theta^2], the
    variance of all feed-forward weights after an episode plus homeostasis
    (arXiv 2508.13846, docs/design.md section 5)."""
    g = np.asarray(gamma)[:, None]
    return float(np.sum(p_ab * (g * g * v + (g * m - m0) ** 2)))


@dataclass
class EpisodeMap:
    """One episode started at (m0, V) in every class (arXiv 2508.13846): the episode result,
    homeostasis factors gamma (2,), and V' [theta^2] after homeostasis."""

    v_in: float
    episode: EpisodeResult
    gamma: np.ndarray
    v_out: float


def episode_map(v: float, p: TheoryParams, cross_correlations: bool = True,
                n_steps: int = 16, r_init: np.ndarray | None = None) -> EpisodeMap:
    """Return the EpisodeMap of an episode started at mean m0 and variance ``v`` [theta^2]
    in all four classes: m_ab, V_ab at its end, gamma_a and V' [theta^2]
    (arXiv 2508.13846, docs/design.md section 5)."""
    m_init = np.full((2, 2), p.m0)
    v_init = np.full((2, 2), float(v))
    ep = integrate_episode(p, m_init, v_init, cross_correlations, n_steps, r_init)
    gamma = homeostasis_factors(ep.m, p.f_c, p.m0)
    v_out = variance_after_episode(ep.m, ep.v, gamma, class_probabilities(p.f_s, p.f_c), p.m0)
    return EpisodeMap(v_in=float(v), episode=ep, gamma=gamma, v_out=v_out)


@dataclass
class StationaryState:
    """The stationary episode of arXiv 2508.13846: V* [theta^2] with V'(V*) = V*, the episode
    map there (class m_ab, V_ab, gamma_a, rates), and the number of episode evaluations."""

    v_star: float
    at: EpisodeMap
    evaluations: int


def stationary_state(p: TheoryParams, cross_correlations: bool = True, n_steps: int = 16,
                     rtol: float = 1e-10) -> StationaryState:
    """Return the StationaryState: the weight variance V* [theta^2] that reproduces itself
    after one episode plus homeostasis, found by brentq on V'(V) - V (relative tolerance
    ``rtol``), with the episode statistics at V* (arXiv 2508.13846, docs/design.md section 5)."""
    cache: dict[float, EpisodeMap] = {}
    warm = {"r": None}

    def evaluate(v: float) -> EpisodeMap:
        if v not in cache:
            em = episode_map(v, p, cross_correlations, n_steps, warm["r"])
            warm["r"] = em.episode.rates_start
            cache[v] = em
        return cache[v]

    def f(v: float) -> float:
        return evaluate(v).v_out - v

    lo = 0.0
    f_lo = f(lo)
    if f_lo <= 0.0:  # no spread at all: the weights stay at m0 (degenerate config)
        return StationaryState(v_star=0.0, at=evaluate(0.0), evaluations=len(cache))
    # first guess: the spread V'(0), then double until V' < V
    hi = max(f_lo, 1e-12)
    for _ in range(80):
        if f(hi) < 0.0:
            break
        lo, hi = hi, 2.0 * hi
    else:
        raise RuntimeError("stationary variance: V' stays above V up to "
                           f"{hi:.3g} theta^2; the weights do not settle (check the STDP and "
                           "homeostasis parameters)")
    v_star = brentq(f, lo, hi, xtol=1e-18, rtol=rtol)
    return StationaryState(v_star=float(v_star), at=evaluate(v_star), evaluations=len(cache))
