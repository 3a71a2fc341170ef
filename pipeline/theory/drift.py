"""Drift A(w) and diffusion B(w) of one plastic feed-forward synapse (arXiv 2508.13846).

Paper units (docs/design.md sections 3 and 5): weights in theta, rates in 1/tau_m, time in tau_m;
A in theta/tau_m, B in theta^2/tau_m. The pre neuron is Poisson with rate nu; the post
neuron is a white-noise LIF whose TOTAL input (this synapse included) has mean mu and noise
intensity D; r0, alpha, beta are taken there.

    rate-only:            A(w) = nu r0 (Delta_c tau_c + r_ac w tau_ac)
    with correlations:    A(w) = rate-only + Delta_c nu [w alpha(s) + w^2 beta(s)/2], s = -1/tau_c
    diffusion:            B(w) = r0 nu (Delta_c^2 tau_c + r_ac^2 w^2 tau_ac)/4
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from .linear_response import linear_responses
from .params import STDPParams, as_stdp
from .siegert import lif_rate

__all__ = ["drift", "drift_rate_only", "diffusion", "drift_given_response",
           "drift_slope_given_response", "diffusion_given_rate", "single_synapse_drift"]

Stdp = STDPParams | Mapping[str, float]
Arr = float | np.ndarray


def drift_given_response(w: Arr, nu: Arr, r0: Arr, alpha: Arr, beta: Arr, stdp: Stdp,
                         cross_correlations: bool = True) -> Arr:
    """Return A(w) [theta/tau_m] from given r0 [1/tau_m], alpha [1/theta], beta [1/theta^2]
    at s = -1/tau_c; rate-only when ``cross_correlations`` is False (arXiv 2508.13846,
    docs/design.md section 5). Elementwise on arrays."""
    p = as_stdp(stdp)
    a = nu * r0 * (p.delta_c * p.tau_c + p.r_ac * w * p.tau_ac)
    if cross_correlations:
        a = a + p.delta_c * nu * (w * alpha + 0.5 * w * w * beta)
    return a


def drift_slope_given_response(w: Arr, nu: Arr, r0: Arr, alpha: Arr, beta: Arr, stdp: Stdp,
                               cross_correlations: bool = True) -> Arr:
    """Return A'(w) = dA/dw [1/tau_m] at fixed r0, alpha, beta (the slope that enters the
    variance equation of arXiv 2508.13846, docs/design.md section 5). Elementwise."""
    p = as_stdp(stdp)
    a = nu * r0 * p.r_ac * p.tau_ac
    if cross_correlations:
        a = a + p.delta_c * nu * (alpha + w * beta)
    return a


def diffusion_given_rate(w: Arr, nu: Arr, r0: Arr, stdp: Stdp) -> Arr:
    """Return B(w) = r0 nu (Delta_c^2 tau_c + r_ac^2 w^2 tau_ac)/4 [theta^2/tau_m], the
    pair shot-noise diffusion of one synapse (arXiv 2508.13846, docs/design.md section 5)."""
    p = as_stdp(stdp)
    return 0.25 * r0 * nu * (p.delta_c ** 2 * p.tau_c + p.r_ac ** 2 * w * w * p.tau_ac)


def drift(w: float, nu: float, mu: float, d: float, stdp: Stdp,
          cross_correlations: bool = True) -> float:
    """Return the drift A(w) [theta/tau_m] of a synapse of weight w [theta] from a Poisson
    neuron of rate nu [1/tau_m] onto a LIF whose total input has mean ``mu`` [theta/tau_m]
    and noise ``d`` [theta^2/tau_m] (this synapse included). With ``cross_correlations``
    the spike-time correlation term Delta_c nu [w alpha + w^2 beta/2] at s = -1/tau_c is
    added (arXiv 2508.13846; Lindner & Schimansky-Geier 2001)."""
    p = as_stdp(stdp)
    r0 = lif_rate(mu, d)
    if cross_correlations:
        al, be = linear_responses(p.s, mu, d, r0)
    else:
        al = be = 0.0
    return float(drift_given_response(w, nu, r0, al, be, p, cross_correlations))


def drift_rate_only(w: float, nu: float, mu: float, d: float, stdp: Stdp) -> float:
    """Return the rate-only drift A(w) = nu r0 (Delta_c tau_c + r_ac w tau_ac) [theta/tau_m]
    at the total input (mu, d) (arXiv 2508.13846, docs/design.md section 5)."""
    return drift(w, nu, mu, d, stdp, cross_correlations=False)


def diffusion(w: float, nu: float, mu: float, d: float, stdp: Stdp) -> float:
    """Return B(w) = r0 nu (Delta_c^2 tau_c + r_ac^2 w^2 tau_ac)/4 [theta^2/tau_m] with r0
    the LIF rate at the total input (mu, d) (arXiv 2508.13846, docs/design.md section 5)."""
    return float(diffusion_given_rate(w, nu, lif_rate(mu, d), stdp))


def single_synapse_drift(mu: float, d: float, nu: float, w: float, stdp: Stdp) -> dict:
    """Return drift and diffusion of one synapse of weight w [theta] from a Poisson neuron of
    rate nu [1/tau_m] onto a LIF with background input (mu, d) WITHOUT that synapse.

    The synapse adds mu_tot = mu + w nu and d_tot = d + w^2 nu/2, where r0, alpha and beta
    are evaluated (arXiv 2508.13846; Lindner & Schimansky-Geier 2001). Returns a dict of
    floats: drift_full, drift_rate_only [theta/tau_m], diffusion [theta^2/tau_m],
    r0 [1/tau_m], alpha [1/theta], beta [1/theta^2] (at s = -1/tau_c), mu_tot, d_tot, s.
    """
    p = as_stdp(stdp)
    mu_tot = float(mu + w * nu)
    d_tot = float(d + 0.5 * w * w * nu)
    r0 = lif_rate(mu_tot, d_tot)
    al, be = linear_responses(p.s, mu_tot, d_tot, r0)
    return {
        "drift_full": float(drift_given_response(w, nu, r0, al, be, p, True)),
        "drift_rate_only": float(drift_given_response(w, nu, r0, al, be, p, False)),
        "diffusion": float(diffusion_given_rate(w, nu, r0, p)),
        "r0": float(r0), "alpha": float(al), "beta": float(be),
        "mu_tot": mu_tot, "d_tot": d_tot, "s": p.s,
    }
