"""Within-episode moment equations of the feed-forward weights (arXiv 2508.13846).

For a synapse class with mean m [theta] and variance V [theta^2], pre rate nu [1/tau_m] and
a post population with rate r0 [1/tau_m] and linear responses alpha, beta (at s = -1/tau_c):

    dm/dt = A(m)
    dV/dt = 2 A'(m) V + (r0 nu/2) (Delta_c^2 tau_c + r_ac^2 tau_ac (V + m^2))

with A'(m) the slope of the drift at fixed r0, alpha, beta (docs/design.md section 5). In the
network, r0, alpha and beta are those of the post population (target or non-target) at its
total input, which contains every feed-forward synapse, so the rates are re-solved as m and
V move: every right-hand-side evaluation solves the three-population rates (warm-started
from the previous solution). The episode is integrated with classical RK4 at a fixed number
of steps (the weight dynamics are slow, rate ~ nu r0 |r_ac| tau_ac ~ 0.04/tau_m, so 16 steps
over 50 tau_m are accurate to < 1e-8 relative; see tests).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .drift import drift_given_response, drift_slope_given_response
from .linear_response import linear_responses
from .network import NetworkRates, solve_rates
from .params import STDPParams, TheoryParams

__all__ = ["moment_derivatives", "EpisodeResult", "integrate_episode", "class_rates"]


def moment_derivatives(m: np.ndarray, v: np.ndarray, nu: np.ndarray, r0: np.ndarray,
                       alpha: np.ndarray, beta: np.ndarray, stdp: STDPParams,
                       cross_correlations: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Return (dm/dt [theta/tau_m], dV/dt [theta^2/tau_m]) of synapse classes with means m
    [theta], variances v [theta^2], pre rates nu and post rates r0 [1/tau_m], responses alpha
    [1/theta], beta [1/theta^2] (elementwise; arXiv 2508.13846, docs/design.md section 5)."""
    dm = drift_given_response(m, nu, r0, alpha, beta, stdp, cross_correlations)
    slope = drift_slope_given_response(m, nu, r0, alpha, beta, stdp, cross_correlations)
    # (r0 nu/2)(Dc^2 tau_c + r_ac^2 tau_ac (V + m^2)) = 2 <B(w)> over the class
    dv = 2.0 * slope * v + 0.5 * r0 * nu * (stdp.delta_c ** 2 * stdp.tau_c
                                            + stdp.r_ac ** 2 * stdp.tau_ac * (v + m * m))
    return dm, dv


def class_rates(net: NetworkRates, p: TheoryParams,
                cross_correlations: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (r0, alpha, beta) as (2, 1) arrays indexed by post class a (1 = target,
    0 = non-target): rates [1/tau_m], alpha [1/theta], beta [1/theta^2] at s = -1/tau_c,
    at the populations' total inputs (arXiv 2508.13846; Lindner & Schimansky-Geier 2001).
    alpha and beta are zero when ``cross_correlations`` is False."""
    idx = [1, 0]  # a = 0 -> non-target (population 1), a = 1 -> target (population 0)
    r0 = net.rates[idx]
    if cross_correlations:
        al, be = linear_responses(p.stdp.s, net.mu[idx], net.d[idx], r0)
    else:
        al = be = np.zeros(2)
    return r0[:, None], np.asarray(al)[:, None], np.asarray(be)[:, None]


@dataclass
class EpisodeResult:
    """Feed-forward class statistics over one training episode (arXiv 2508.13846).

    m, v: (2, 2) [theta], [theta^2] at the end, indexed [a, b]; m_start, v_start the initial
    values; rates_start/end (3,) [1/tau_m] (target, non-target, inhibitory) and rates_mean
    their time average over the episode (Simpson on the RK4 nodes); times [tau_m] and
    rates_path (n_steps+1, 3) along the way."""

    m: np.ndarray
    v: np.ndarray
    m_start: np.ndarray
    v_start: np.ndarray
    rates_start: np.ndarray
    rates_end: np.ndarray
    rates_mean: np.ndarray
    times: np.ndarray = field(repr=False)
    rates_path: np.ndarray = field(repr=False)


def integrate_episode(p: TheoryParams, m_init: np.ndarray, v_init: np.ndarray,
                      cross_correlations: bool = True, n_steps: int = 16,
                      r_init: np.ndarray | None = None) -> EpisodeResult:
    """Return the class means and variances after one training episode of length
    p.t_train [tau_m], integrating the moment equations with RK4 (``n_steps`` fixed steps)
    and re-solving the network rates at every stage (arXiv 2508.13846, docs/design.md
    section 5). m_init [theta] and v_init [theta^2] are (2, 2) arrays [a, b]."""
    nu = np.array([p.nu0, p.nu1])[None, :]  # pre rate by cue index b
    state = {"r": None if r_init is None else np.asarray(r_init, float)}

    def rhs(m: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        net = solve_rates(m, v, p, r_init=state["r"])
        if not net.converged:
            raise RuntimeError(f"network rates did not converge (residual {net.residual:.2e} "
                               f"1/tau_m) at m={m.tolist()}, v={v.tolist()}")
        state["r"] = net.rates
        r0, al, be = class_rates(net, p, cross_correlations)
        dm, dv = moment_derivatives(m, v, nu, r0, al, be, p.stdp, cross_correlations)
        return dm, dv, net.rates

    m = np.array(m_init, dtype=float)
    v = np.array(v_init, dtype=float)
    h = p.t_train / n_steps
    times = np.linspace(0.0, p.t_train, n_steps + 1)
    path = np.empty((n_steps + 1, 3))
    mid_rates = np.empty((n_steps, 3))
    for k in range(n_steps):
        k1m, k1v, r1 = rhs(m, v)
        if k == 0:
            path[0] = r1
        k2m, k2v, r2 = rhs(m + 0.5 * h * k1m, v + 0.5 * h * k1v)
        k3m, k3v, r3 = rhs(m + 0.5 * h * k2m, v + 0.5 * h * k2v)
        k4m, k4v, _ = rhs(m + h * k3m, v + h * k3v)
        mid_rates[k] = 0.5 * (r2 + r3)
        m = m + h / 6.0 * (k1m + 2 * k2m + 2 * k3m + k4m)
        v = v + h / 6.0 * (k1v + 2 * k2v + 2 * k3v + k4v)
        path[k + 1] = solve_rates(m, v, p, r_init=state["r"]).rates
        state["r"] = path[k + 1]
    # Simpson per step: (r_start + 4 r_mid + r_end)/6
    mean = np.sum(path[:-1] + 4 * mid_rates + path[1:], axis=0) / (6.0 * n_steps)
    return EpisodeResult(m=m, v=v, m_start=np.array(m_init, float),
                         v_start=np.array(v_init, float), rates_start=path[0],
                         rates_end=path[-1], rates_mean=mean, times=times, rates_path=path)
