"""Linear response of the white-noise LIF to modulations of its mean input and noise intensity.

Lindner & Schimansky-Geier, PRL 86, 2934 (2001), as used by arXiv 2508.13846 (docs/design.md
section 5). Units: time in tau_m, voltage in theta; rates in 1/tau_m. With parabolic-cylinder
functions D_a, y_t = (mu - v_t)/sqrt(D), y_r = (mu - v_r)/sqrt(D) and
Delta = (v_r^2 - v_t^2 + 2 mu (v_t - v_r))/(4 D):

    alpha(s) = r0 s/(sqrt(D)(s-1)) [D_{s-1}(y_t) - e^Delta D_{s-1}(y_r)] / [D_s(y_t) - e^Delta D_s(y_r)]
    beta(s)  = r0 s(s-1)/(D(2-s))  [D_{s-2}(y_t) - e^Delta D_{s-2}(y_r)] / [D_s(y_t) - e^Delta D_s(y_r)]

Convention: s is minus the Laplace variable p of the rate's response kernel chi(t),
alpha(s) = integral_0^inf chi_mu(t) e^{s t} dt, so the STDP drift (a causal kernel weighted
by e^{-t/tau_c}) needs s = -1/tau_c < 0. This was checked against a Monte-Carlo simulation of
the kicked LIF (mu = 0.8, D = 0.1, kick 0.1: simulated 0.0814 vs. w alpha + w^2 beta/2 = 0.0822
at s = -1/tau_c, against 0.1017 for s = +1/tau_c). On s < 0 every D_a with a in
{s, s-1, s-2} is positive (a < 0), the ratios have no poles, and alpha, beta > 0.
s -> 0- gives dr0/dmu and dr0/dD (tested).

Numerics. Delta = (y_r^2 - y_t^2)/4 exactly, so with the scaled function
E_a(y) = exp(y^2/4) D_a(y) every bracket is exp(-y_t^2/4) [E_a(y_t) - E_a(y_r)] and the common
factor cancels in the ratios: nothing with e^Delta is ever formed. log E_a is taken from
scipy.special.pbdv for |y| <= 30 and from the large-|y| asymptotic series beyond (where
pbdv over/underflows); E_a is strictly decreasing in y for a < 0 and y_t < y_r, so both
brackets are positive and are formed as log E_a(y_t) + log(-expm1(log E_a(y_r) - log E_a(y_t))).
"""
from __future__ import annotations

import numpy as np
from scipy.special import gammaln, pbdv

from .siegert import lif_rate

__all__ = ["log_scaled_pbdv", "alpha", "beta", "linear_responses"]

_Y_SWITCH = 30.0  # |y| beyond which the asymptotic series replaces pbdv (checked to ~1e-14)
_N_TERMS = 8


def _log_e_pos(a: float, y: np.ndarray) -> np.ndarray:
    """log E_a(y) for y -> +inf: y^a [1 - a(a-1)/(2y^2) + ...]."""
    s = np.ones_like(y)
    term = np.ones_like(y)
    for k in range(1, _N_TERMS):
        term = term * (-(a - 2 * k + 2) * (a - 2 * k + 1) / (2 * k * y * y))
        s = s + term
    return a * np.log(y) + np.log(s)


def _log_e_neg(a: float, x: np.ndarray) -> np.ndarray:
    """log E_a(-x) for x -> +inf and a < 0:
    sqrt(2 pi)/Gamma(-a) x^{-a-1} e^{x^2/2} [1 + (a+1)(a+2)/(2x^2) + ...]."""
    s = np.ones_like(x)
    term = np.ones_like(x)
    for k in range(1, _N_TERMS):
        term = term * ((a + 2 * k - 1) * (a + 2 * k) / (2 * k * x * x))
        s = s + term
    return (0.5 * np.log(2 * np.pi) - gammaln(-a) + 0.5 * x * x + (-a - 1) * np.log(x)
            + np.log(s))


def log_scaled_pbdv(a: float, y: np.ndarray | float) -> np.ndarray:
    """Return log(exp(y^2/4) D_a(y)) for order a < 0 (elementwise in y; dimensionless).

    D_a is the parabolic-cylinder function (scipy.special.pbdv), positive for a < 0. Used by
    the linear response of Lindner & Schimansky-Geier 2001 (arXiv 2508.13846, section 5)."""
    if not a < 0:
        raise ValueError(f"log_scaled_pbdv needs order a < 0, got {a}")
    y = np.asarray(y, dtype=float)
    out = np.empty(y.shape, dtype=float)
    mid = np.abs(y) <= _Y_SWITCH
    if np.any(mid):
        ym = y[mid]
        out[mid] = 0.25 * ym * ym + np.log(pbdv(a, ym)[0])
    hi = y > _Y_SWITCH
    if np.any(hi):
        out[hi] = _log_e_pos(a, y[hi])
    lo = y < -_Y_SWITCH
    if np.any(lo):
        out[lo] = _log_e_neg(a, -y[lo])
    return out


def _log_bracket(a: float, y_t: np.ndarray, y_r: np.ndarray) -> np.ndarray:
    """log[E_a(y_t) - E_a(y_r)] (> 0 difference for a < 0, y_t < y_r)."""
    lt = log_scaled_pbdv(a, y_t)
    lr = log_scaled_pbdv(a, y_r)
    return lt + np.log(-np.expm1(lr - lt))


def _prepare(s: float, mu, d, r0, v_t: float, v_r: float):
    s = float(s)
    if not s < 0:
        raise ValueError(f"the linear response is implemented for s < 0 (s = -1/tau_c); got "
                         f"s = {s}. For s -> 0 use the derivatives of lif_rate.")
    if not v_t > v_r:
        raise ValueError(f"need v_t > v_r, got v_t={v_t}, v_r={v_r}")
    mu = np.asarray(mu, dtype=float)
    d = np.asarray(d, dtype=float)
    if np.any(d <= 0):
        raise ValueError(f"noise intensity D must be > 0, got {d}")
    if r0 is None:
        r0 = lif_rate(mu, d, v_t, v_r)
    r0 = np.asarray(r0, dtype=float)
    sd = np.sqrt(d)
    y_t = np.asarray((mu - v_t) / sd)
    y_r = np.asarray((mu - v_r) / sd)
    return s, mu, d, r0, sd, y_t, y_r


def _out(x: np.ndarray):
    x = np.asarray(x, dtype=float)
    if not np.all(np.isfinite(x)):
        raise FloatingPointError(f"linear response not finite: {x}")
    return float(x) if x.ndim == 0 else x


def linear_responses(s: float, mu: np.ndarray | float, d: np.ndarray | float,
                     r0: np.ndarray | float | None = None, v_t: float = 1.0,
                     v_r: float = 0.0) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Return (alpha(s), beta(s)) of the white-noise LIF at mean input ``mu`` and noise ``d``.

    alpha is the Laplace-transformed response of the rate (1/tau_m) to an impulse of the
    mean input (theta), in 1/theta; beta the same for the noise intensity D, in 1/theta^2. ``r0`` is the stationary
    rate in 1/tau_m (computed when None). ``s`` < 0 in 1/tau_m; the STDP drift uses
    s = -1/tau_c. Lindner & Schimansky-Geier, PRL 86, 2934 (2001); arXiv 2508.13846
    (docs/design.md section 5). Elementwise over mu, d, r0.
    """
    s, mu, d, r0, sd, y_t, y_r = _prepare(s, mu, d, r0, v_t, v_r)
    l0 = _log_bracket(s, y_t, y_r)
    l1 = _log_bracket(s - 1.0, y_t, y_r)
    l2 = _log_bracket(s - 2.0, y_t, y_r)
    a = r0 * s / (sd * (s - 1.0)) * np.exp(l1 - l0)
    b = r0 * s * (s - 1.0) / (d * (2.0 - s)) * np.exp(l2 - l0)
    return _out(a), _out(b)


def alpha(s: float, mu: np.ndarray | float, d: np.ndarray | float,
          r0: np.ndarray | float | None = None, v_t: float = 1.0,
          v_r: float = 0.0) -> np.ndarray | float:
    """Return alpha(s) [1/theta]: the LIF rate's linear response to its mean input mu,
    for s < 0 in 1/tau_m (s = -1/tau_c for the STDP drift).

    alpha(s) = r0 s/(sqrt(D)(s-1)) [D_{s-1}(y_t) - e^Delta D_{s-1}(y_r)]/[D_s(y_t) - e^Delta D_s(y_r)]
    (Lindner & Schimansky-Geier, PRL 86, 2934, 2001; arXiv 2508.13846, docs/design.md section 5).
    ``r0`` is the stationary rate in 1/tau_m (computed when None). alpha(0-) = dr0/dmu.
    """
    s, mu, d, r0, sd, y_t, y_r = _prepare(s, mu, d, r0, v_t, v_r)
    l0 = _log_bracket(s, y_t, y_r)
    l1 = _log_bracket(s - 1.0, y_t, y_r)
    return _out(r0 * s / (sd * (s - 1.0)) * np.exp(l1 - l0))


def beta(s: float, mu: np.ndarray | float, d: np.ndarray | float,
         r0: np.ndarray | float | None = None, v_t: float = 1.0,
         v_r: float = 0.0) -> np.ndarray | float:
    """Return beta(s) [1/theta^2]: the LIF rate's linear response to its noise intensity D,
    for s < 0 in 1/tau_m (s = -1/tau_c for the STDP drift).

    beta(s) = r0 s(s-1)/(D(2-s)) [D_{s-2}(y_t) - e^Delta D_{s-2}(y_r)]/[D_s(y_t) - e^Delta D_s(y_r)]
    (Lindner & Schimansky-Geier, PRL 86, 2934, 2001; arXiv 2508.13846, docs/design.md section 5).
    ``r0`` is the stationary rate in 1/tau_m (computed when None). beta(0-) = dr0/dD.
    """
    s, mu, d, r0, sd, y_t, y_r = _prepare(s, mu, d, r0, v_t, v_r)
    l0 = _log_bracket(s, y_t, y_r)
    l2 = _log_bracket(s - 2.0, y_t, y_r)
    return _out(r0 * s * (s - 1.0) / (d * (2.0 - s)) * np.exp(l2 - l0))
