"""Self-consistent rates of the three populations during training (arXiv 2508.13846).

Populations, in this order: 0 = target E neurons (T), 1 = non-target E neurons (N),
2 = inhibitory neurons (I). Paper units: rates in 1/tau_m, mean input mu in theta (per
tau_m), noise intensity D in theta^2 (per tau_m), weights in theta. Feed-forward class
statistics are arrays m[a, b], v[a, b] with a = 1 for target post neurons and b = 1 for cue
inputs (docs/design.md section 5):

  E (a = T, N): mu_a = mu_exc + J C_E rE - g J C_I r_I + M (f_c nu1 m_a1 + (1-f_c) nu0 m_a0)
                       [+ nu_s J_s for targets]
                D_a  = d_exc + J^2 C_E rE/2 + (gJ)^2 C_I r_I/2
                       + M (f_c nu1 (m_a1^2 + V_a1) + (1-f_c) nu0 (m_a0^2 + V_a0))/2
                       [+ nu_s J_s^2/2 for targets]
  I:            mu_I = mu_inh + hJ C_E rE - g J C_I r_I,   D_I = d_inh + (hJ)^2 C_E rE/2 + (gJ)^2 C_I r_I/2
  with rE = f_s r_T + (1 - f_s) r_N.

The rates solve r = Siegert(mu(r), D(r)), found by damped fixed-point iteration
r <- r + eta (Siegert(r) - r) (eta = 0.3, halved if the residual grows over 20 iterations).
Once the residual is below 1e-2/tau_m, Newton steps with a finite-difference 3x3 Jacobian
(one vectorised Siegert call) and backtracking finish the solve; this is a pure speed-up,
a step is accepted only when it lowers the residual, else the damped step is taken.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import TheoryParams
from .siegert import lif_rate, lif_rate_finite_step

__all__ = ["NetworkRates", "population_inputs", "solve_rates", "POPULATIONS"]

POPULATIONS = ("target", "non_target", "inhibitory")


@dataclass
class NetworkRates:
    """Solution of the three-population rate equations (arXiv 2508.13846).

    rates: (3,) [1/tau_m] for target, non-target, inhibitory; mu (3,) [theta/tau_m] and
    d (3,) [theta^2/tau_m] their total inputs; iterations used; converged; residual
    (max |Siegert(r) - r| in 1/tau_m)."""

    rates: np.ndarray
    mu: np.ndarray
    d: np.ndarray
    iterations: int
    converged: bool
    residual: float


def population_inputs(rates: np.ndarray, m: np.ndarray, v: np.ndarray,
                      p: TheoryParams) -> tuple[np.ndarray, np.ndarray]:
    """Return (mu, d): total mean input [theta/tau_m] and noise intensity [theta^2/tau_m] of
    the target, non-target and inhibitory populations given rates (..., 3) [1/tau_m] and the
    feed-forward class means m[a, b] [theta] and variances v[a, b] [theta^2]
    (arXiv 2508.13846, docs/design.md section 5). Broadcasts over leading axes of ``rates``."""
    rates = np.asarray(rates, dtype=float)
    r_t, r_n, r_i = rates[..., 0], rates[..., 1], rates[..., 2]
    r_e = p.f_s * r_t + (1.0 - p.f_s) * r_n
    jj, gj, hj = p.j, p.g * p.j, p.h * p.j
    rec_mu_e = jj * p.c_exc * r_e - gj * p.c_inh * r_i
    rec_d_e = 0.5 * (jj * jj * p.c_exc * r_e + gj * gj * p.c_inh * r_i)
    # feed-forward per post class a (index 1 = target, 0 = non-target)
    ff_mu = p.n_in * (p.f_c * p.nu1 * m[:, 1] + (1.0 - p.f_c) * p.nu0 * m[:, 0])
    ff_d = 0.5 * p.n_in * (p.f_c * p.nu1 * (m[:, 1] ** 2 + v[:, 1])
                           + (1.0 - p.f_c) * p.nu0 * (m[:, 0] ** 2 + v[:, 0]))
    mu = np.stack([
        p.mu_exc + rec_mu_e + ff_mu[1] + p.nu_s * p.j_s,
        p.mu_exc + rec_mu_e + ff_mu[0],
        p.mu_inh + hj * p.c_exc * r_e - gj * p.c_inh * r_i,
    ], axis=-1)
    d = np.stack([
        p.d_exc + rec_d_e + ff_d[1] + 0.5 * p.nu_s * p.j_s ** 2,
        p.d_exc + rec_d_e + ff_d[0],
        p.d_inh + 0.5 * (hj * hj * p.c_exc * r_e + gj * gj * p.c_inh * r_i),
    ], axis=-1)
    return mu, d


def _siegert_map(rates: np.ndarray, m, v, p, dt: float = 0.0) -> np.ndarray:
    mu, d = population_inputs(rates, m, v, p)
    return lif_rate(mu, d) if dt == 0.0 else lif_rate_finite_step(mu, d, dt)


def _newton_step(r, f, res, m, v, p, dt=0.0):
    """One Newton step on F(r) = Siegert(r) - r with a finite-difference Jacobian (one
    vectorised Siegert call) and backtracking; returns (r, f, res) or None if no gain."""
    hstep = 1e-7 * np.maximum(r, 1e-3)
    fp = _siegert_map(r[None, :] + np.diag(hstep), m, v, p, dt)
    jac = ((fp - f[None, :]) / hstep[:, None]).T - np.eye(3)
    try:
        step = np.linalg.solve(jac, -(f - r))
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(step)):
        return None
    for lam in (1.0, 0.5, 0.25):
        r_new = np.maximum(r + lam * step, 0.0)
        f_new = _siegert_map(r_new, m, v, p, dt)
        res_new = float(np.max(np.abs(f_new - r_new)))
        if res_new < res:
            return r_new, f_new, res_new
    return None


def solve_rates(m: np.ndarray, v: np.ndarray, p: TheoryParams,
                r_init: np.ndarray | None = None, tol: float = 1e-12,
                max_iter: int = 5000, damping: float = 0.3,
                newton: bool = True, newton_below: float = 1e-2,
                dt: float = 0.0) -> NetworkRates:
    """Return the self-consistent rates [1/tau_m] of target, non-target and inhibitory
    neurons for feed-forward class means m[a, b] [theta] and variances v[a, b] [theta^2].

    Damped fixed-point iteration r <- r + eta (Siegert(r) - r) from ``r_init`` (warm start;
    default 0.02/tau_m = 1 Hz), eta = ``damping``, halved when the residual has grown over
    20 iterations. When ``newton`` and the residual is below ``newton_below`` [1/tau_m],
    guarded Newton steps (accepted only if they lower the residual) finish the solve.
    Stops when max |Siegert(r) - r| < ``tol`` [1/tau_m] (arXiv 2508.13846, docs/design.md
    section 5). A solve that does not converge within ``max_iter`` is returned with
    converged=False (callers check it). ``dt`` [tau_m] > 0 uses the finite-step rate
    (siegert.lif_rate_finite_step: the rate of a simulation with that time step).
    """
    m = np.asarray(m, dtype=float)
    v = np.asarray(v, dtype=float)
    r = np.full(3, 0.02) if r_init is None else np.array(r_init, dtype=float)
    f = _siegert_map(r, m, v, p, dt)
    res = float(np.max(np.abs(f - r)))
    eta = damping
    it = 0
    window_start = res
    while res > tol and it < max_iter:
        it += 1
        if newton and res < newton_below:
            nxt = _newton_step(r, f, res, m, v, p, dt)
            if nxt is not None:
                r, f, res = nxt
                continue
        r = np.maximum(r + eta * (f - r), 0.0)
        f = _siegert_map(r, m, v, p, dt)
        res = float(np.max(np.abs(f - r)))
        if it % 20 == 0:
            if res > window_start and eta > 1e-3:
                eta *= 0.5
            window_start = res
    mu, d = population_inputs(r, m, v, p)
    return NetworkRates(rates=r, mu=mu, d=d, iterations=it, converged=res <= tol,
                        residual=res)
