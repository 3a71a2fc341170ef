"""Predicted accuracy of the spiking recall (arXiv 2508.13846 for the memory trace;
docs/design.md section 4; the recall protocol is pipeline/recall.py).

The memory trace gives, at every age, the summed cue weight s of a target (a = 1) and a
non-target (a = 0) as Gaussians with mean M_c K_a and variance M_c G_a (memory.py). During
recall (no supervision, plasticity off, cue inputs at nu1, the others at nu0) a neuron with
summed cue weight s has, in paper units,

    mu(s) = mu_E + J C_E r_E - g J C_I r_I + nu1 s + nu0 (M m0 - s)
    D(s)  = D_E + J^2 C_E r_E/2 + (g J)^2 C_I r_I/2 + nu1 (s^2/M_c + (M_c - 1) G_a)/2
            + nu0 (M - M_c)(m0^2 + V*)/2

(homeostasis keeps every row's sum at M m0, so the non-cue inputs carry M m0 - s; given
s, the cue weights' squares sum to s^2/M_c plus (M_c - 1) G_a) and fires at the Siegert
rate phi(mu(s), D(s)). The network's operating point during recall is self-consistent:
r_E = f_s <phi>_target + (1 - f_s) <phi>_non-target (Gauss-Hermite averages over s),
r_I = phi(mu_I, D_I) with the inhibitory input of network.py. Spike counts in the window T
are Poisson with mean phi T. The f_s N_E neurons with the most spikes are recalled, ties
drawn at random: with the count threshold c* where the fraction of neurons above it
crosses f_s, the accuracy is P_T(n > c*) + q p_T(c*), q the fraction of the tied neurons
that is recalled.

Assumptions: (1) Gaussian summed cue weights (as the weight readout's theory); (2) every
neuron gets the population-mean recurrent input (no quenched spread from its particular
presynaptic neurons); (3) Poisson spike counts (LIF counts in this fluctuation-driven
regime have a Fano factor near 1); (4) stationary rates over the whole window (the onset
transient after the pause, a few tau_m, is neglected); (5) the operating point during
recall is that of a network whose only structured input is the tested cue.
"""
from __future__ import annotations

import numpy as np
from scipy.special import roots_hermite
from scipy.stats import poisson

from .memory import MemoryTrace
from .params import TheoryParams
from .siegert import lif_rate

__all__ = ["recall_rates", "count_accuracy", "spiking_recall"]

_GH_X, _GH_W = roots_hermite(48)
_GH_W = _GH_W / np.sqrt(np.pi)


def _inputs(s: np.ndarray, g_a: float, r_e: float, r_i: float, p: TheoryParams,
            v_star: float) -> tuple[np.ndarray, np.ndarray]:
    """Return (mu, D) [theta, theta^2 per tau_m] of E neurons of summed cue weight s."""
    mc = p.n_cue
    mu = (p.mu_exc + p.j * p.c_exc * r_e - p.g * p.j * p.c_inh * r_i
          + p.nu1 * s + p.nu0 * (p.n_in * p.m0 - s))
    d = (p.d_exc + 0.5 * (p.j ** 2 * p.c_exc * r_e + (p.g * p.j) ** 2 * p.c_inh * r_i)
         + 0.5 * p.nu1 * (s ** 2 / mc + (mc - 1.0) * g_a)
         + 0.5 * p.nu0 * (p.n_in - mc) * (p.m0 ** 2 + v_star))
    return mu, d


def recall_rates(mean: np.ndarray, var: np.ndarray, p: TheoryParams, v_star: float,
                 r_init: tuple[float, float] = (0.1, 0.2), tol: float = 1e-10,
                 max_iter: int = 2000) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Return (s nodes (2, n), rates at the nodes (2, n) [1/tau_m], r_E, r_I [1/tau_m]) of
    the self-consistent recall operating point; row 0 = non-targets, row 1 = targets, whose
    summed cue weights are Gaussian with ``mean`` (2,) [theta] and ``var`` (2,) [theta^2]
    (per-synapse variances G_a = var / M_c). Damped fixed-point iteration (eta 0.3)."""
    mean, var = np.asarray(mean, float), np.asarray(var, float)
    s = mean[:, None] + np.sqrt(2.0 * np.maximum(var, 0.0))[:, None] * _GH_X[None, :]
    g = (var / p.n_cue)[:, None]
    frac = np.array([1.0 - p.f_s, p.f_s])
    r_e, r_i = r_init
    hj, gj = p.h * p.j, p.g * p.j
    for _ in range(max_iter):
        mu, d = _inputs(s, g, r_e, r_i, p, v_star)
        phi = lif_rate(mu, d)
        new_e = float(np.sum(frac * (phi @ _GH_W)))
        new_i = float(lif_rate(p.mu_inh + hj * p.c_exc * r_e - gj * p.c_inh * r_i,
                               p.d_inh + 0.5 * (hj ** 2 * p.c_exc * r_e
                                                + gj ** 2 * p.c_inh * r_i)))
        res = max(abs(new_e - r_e), abs(new_i - r_i))
        r_e += 0.3 * (new_e - r_e)
        r_i += 0.3 * (new_i - r_i)
        if res < tol:
            break
    else:
        raise RuntimeError(f"spiking recall: the recall operating point did not converge "
                           f"(residual {res:.3g}/tau_m after {max_iter} iterations)")
    mu, d = _inputs(s, g, r_e, r_i, p, v_star)
    return s, lif_rate(mu, d), r_e, r_i


def count_accuracy(phi: np.ndarray, t_recall: float, f_s: float) -> float:
    """Return the expected accuracy of recalling the fraction f_s of neurons with the most
    spikes (ties at random), for Poisson counts over ``t_recall`` [tau_m] with rates
    ``phi`` (2, n) [1/tau_m] at the Gauss-Hermite nodes (row 0 non-targets, 1 targets)."""
    lam = phi * t_recall
    c_max = int(np.ceil(lam.max() + 12.0 * np.sqrt(lam.max()) + 20.0))
    c = np.arange(c_max + 1)
    pmf = poisson.pmf(c[None, None, :], lam[:, :, None])      # (2, n, c)
    p_a = np.einsum("anc,n->ac", pmf, _GH_W)                  # count distribution by class
    above = np.concatenate([np.cumsum(p_a[:, ::-1], axis=1)[:, ::-1][:, 1:],
                            np.zeros((2, 1))], axis=1)        # P(n > c)
    frac = np.array([1.0 - f_s, f_s])
    s_above = frac @ above                                     # fraction recalled above c
    s_at = frac @ p_a                                           # fraction tied at c
    cs = int(np.flatnonzero(s_above < f_s)[0])                 # threshold count c*
    q = (f_s - s_above[cs]) / s_at[cs] if s_at[cs] > 0 else 0.0
    return float(above[1, cs] + min(q, 1.0) * p_a[1, cs])


def spiking_recall(p: TheoryParams, trace: MemoryTrace, v_star: float,
                   t_recall_ms: float) -> dict:
    """Return the predicted spiking recall by age: ``accuracy`` (list, 0..1), ``rate_target``
    and ``rate_non_target`` [Hz] (the tested memory's targets and the other E neurons, mean
    over the population), ``rate_inhibitory`` [Hz], for a counting window ``t_recall_ms``."""
    t = t_recall_ms / p.tau_m_ms
    acc, rt, rn, ri = [], [], [], []
    r0 = (0.1, 0.2)
    for kk, gg in zip(trace.k_mean, trace.g_var):
        s, phi, r_e, r_i = recall_rates(p.n_cue * kk, p.n_cue * gg, p, v_star, r_init=r0)
        r0 = (r_e, r_i)
        acc.append(count_accuracy(phi, t, p.f_s))
        mean_phi = phi @ _GH_W
        rn.append(p.rate_hz(mean_phi[0]))
        rt.append(p.rate_hz(mean_phi[1]))
        ri.append(p.rate_hz(r_i))
    return {"accuracy": acc, "rate_target": rt, "rate_non_target": rn, "rate_inhibitory": ri}
