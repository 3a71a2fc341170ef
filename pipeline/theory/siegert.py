"""Stationary firing rate of the leaky integrate-and-fire neuron driven by white noise.

The membrane potential obeys ``dv = (mu - v) dt + sqrt(2 D) dW`` in units of tau_m (time)
and theta = V_th - V_reset (voltage); a spike resets v to v_r, there is no refractory period.
The stationary rate (Siegert formula) is

    1/r = sqrt(pi) * integral_a^b exp(x^2) erfc(-x) dx,
    a = (v_r - mu)/sqrt(2 D),  b = (v_t - mu)/sqrt(2 D),

as used by the theory of arXiv 2508.13846 (docs/design.md section 5).

Numerics. The naive integrand exp(x^2) erfc(-x) = erfcx(-x) overflows for x > 26. With
G(y) = integral_0^y erfcx(t) dt (y >= 0, smooth and growing like log(y)/sqrt(pi)) and
integral_0^x exp(t^2) dt = exp(x^2) dawsn(x), the integral is exactly

    b <= 0:  I = G(-a) - G(-b)
    b >  0:  I = exp(b^2) * [2 dawsn(b) - 2 [a > 0] exp(a^2 - b^2) dawsn(a)] + G(|a|) - G(b)

which is evaluated as log I, so no term overflows and rates far below the float range
underflow cleanly to 0. G is a fixed 24-point Gauss-Legendre rule on [0, min(y, 2)] plus the
same rule in u = log(t/2) on [2, y] (integrand t*erfcx(t), which tends to 1/sqrt(pi)); this
is accurate to ~1e-15 relative for every y >= 0 and fully vectorised.
"""
from __future__ import annotations

import numpy as np
from scipy.special import dawsn, erfcx, roots_legendre

__all__ = ["lif_rate", "log_siegert_integral", "erfcx_integral"]

_SQRT_PI = float(np.sqrt(np.pi))
_GL_X, _GL_W = roots_legendre(24)
_SPLIT = 2.0  # G is integrated plainly on [0, 2] and in log(t) beyond


def erfcx_integral(y: np.ndarray | float) -> np.ndarray:
    """Return G(y) = integral_0^y erfcx(t) dt for y >= 0 (dimensionless, elementwise).

    Helper of the Siegert formula (arXiv 2508.13846, docs/design.md section 5)."""
    y = np.asarray(y, dtype=float)
    y1 = np.minimum(y, _SPLIT)
    h = 0.5 * y1
    t = h[..., None] * (_GL_X + 1.0)
    g = h * np.sum(_GL_W * erfcx(t), axis=-1)
    # t = 2 exp(u) on [2, y]: dt = t du, integrand t * erfcx(t) is smooth and bounded
    hu = 0.5 * np.log(np.maximum(y, _SPLIT) / _SPLIT)
    t = _SPLIT * np.exp(hu[..., None] * (_GL_X + 1.0))
    g = g + hu * np.sum(_GL_W * erfcx(t) * t, axis=-1)
    return g


def log_siegert_integral(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """Return log of integral_a^b exp(x^2) erfc(-x) dx for a < b (elementwise, dimensionless).

    The Siegert integral of arXiv 2508.13846 (docs/design.md section 5), evaluated without
    overflow (see the module docstring)."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    g = erfcx_integral(np.abs(np.stack([a, b])))
    ga, gb = g[0], g[1]
    # b <= 0: I = G(-a) - G(-b)
    # b > 0:  I = exp(b^2) [2 dawsn(b) - 2 [a>0] exp(a^2 - b^2) dawsn(a)] + G(|a|) - G(b)
    bp = np.maximum(b, 0.0)
    ap = np.maximum(a, 0.0)  # dawsn(0) = 0 drops the a-term when a <= 0
    x = 2.0 * dawsn(bp) - 2.0 * np.exp(ap * ap - bp * bp) * dawsn(ap)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0.0, bp * bp + np.log(x + np.exp(-bp * bp) * (ga - gb)),
                        np.log(ga - gb))


def lif_rate(mu: np.ndarray | float, d: np.ndarray | float, v_t: float = 1.0,
             v_r: float = 0.0) -> np.ndarray | float:
    """Return the stationary firing rate r0 of the white-noise LIF, in 1/tau_m.

    ``mu`` is the mean input and ``d`` the noise intensity D of
    ``dv = (mu - v) dt + sqrt(2 D) dW`` (voltages in theta, time in tau_m), threshold
    ``v_t``, reset ``v_r``, no refractory period (Siegert formula; arXiv 2508.13846,
    docs/design.md section 5). Works elementwise on arrays; returns a float for scalar input.
    Rates below ~1e-300 underflow to 0.
    """
    mu_a = np.asarray(mu, dtype=float)
    d_a = np.asarray(d, dtype=float)
    if np.any(d_a <= 0.0):
        raise ValueError(f"noise intensity D must be > 0, got {d}")
    s = np.sqrt(2.0 * d_a)
    log_i = log_siegert_integral((v_r - mu_a) / s, (v_t - mu_a) / s)
    r = np.exp(-log_i) / _SQRT_PI
    if np.ndim(r) == 0:
        return float(r)
    return r


def lif_cv2(mu: float, d: float, v_t: float = 1.0, v_r: float = 0.0) -> float:
    """Return the squared coefficient of variation CV^2 [1] of the interspike intervals of
    the white-noise LIF of :func:`lif_rate` (no refractory period), which is also the Fano
    factor of its spike count over windows much longer than an interval (renewal process).

    CV^2 = 2 pi r0^2 integral_{y_r}^{y_t} dx e^{x^2} integral_{-inf}^{x} dy e^{y^2} erfc(-y)^2,
    y_t = (v_t - mu)/sqrt(2D), y_r = (v_r - mu)/sqrt(2D) (Brunel, J Comput Neurosci 8, 183,
    2000, appendix A; Tuckwell 1988). The inner integrand is erfcx(-y)^2 e^{-y^2}, computed
    without overflow; scipy.integrate.quad for both integrals (relative accuracy ~1e-8)."""
    from scipy.integrate import quad
    from scipy.special import erfcx

    s = np.sqrt(2.0 * d)
    y_t, y_r = (v_t - mu) / s, (v_r - mu) / s

    def inner(x: float) -> float:
        return quad(lambda y: erfcx(-y) ** 2 * np.exp(-y * y), -np.inf, x, epsabs=0,
                    epsrel=1e-10, limit=200)[0]

    outer = quad(lambda x: np.exp(x * x) * inner(x), y_r, y_t, epsabs=0, epsrel=1e-9,
                 limit=200)[0]
    r0 = lif_rate(mu, d, v_t, v_r)
    return float(2.0 * np.pi * r0 * r0 * outer)


#: -zeta(1/2)/sqrt(2): white noise sampled on a time grid h acts on the LIF like continuous
#: noise with threshold and reset both raised by this factor times sqrt(D h) (paper units;
#: Brunel & Hakim 1999, Fourcaud & Brunel 2002: the shift sigma |zeta(1/2)|/sqrt(2)
#: sqrt(tau_s/tau_m) of noise with correlation time tau_s, here tau_s = h/2 for a noise
#: current held over each step; checked against NEST in tests/test_theory_nest.py)
FINITE_STEP_FACTOR = 1.0326


def finite_step_shift(d: np.ndarray | float, dt: float) -> np.ndarray | float:
    """Return the shift [theta] of threshold and reset that the time step ``dt`` [tau_m]
    of a simulation makes for a LIF with noise intensity ``d`` [theta^2/tau_m]:
    FINITE_STEP_FACTOR sqrt(d dt) (Brunel & Hakim 1999; Fourcaud & Brunel 2002)."""
    return FINITE_STEP_FACTOR * np.sqrt(np.asarray(d, float) * dt)


def lif_rate_finite_step(mu: np.ndarray | float, d: np.ndarray | float, dt: float,
                         v_t: float = 1.0, v_r: float = 0.0) -> np.ndarray | float:
    """Return the stationary rate [1/tau_m] of the white-noise LIF simulated with time step
    ``dt`` [tau_m]: the Siegert rate :func:`lif_rate` with threshold and reset both raised
    by :func:`finite_step_shift` (Brunel & Hakim 1999; Fourcaud & Brunel 2002). dt = 0 is
    the continuous rate. Elementwise."""
    shift = finite_step_shift(d, dt)
    if np.ndim(shift) == 0:
        return lif_rate(mu, d, v_t + float(shift), v_r + float(shift))
    mu_a, d_a = np.broadcast_arrays(np.asarray(mu, float), np.asarray(d, float))
    # lif_rate takes scalar v_t, v_r: shifting both by s equals shifting mu by -s
    return lif_rate(mu_a - shift, d_a, v_t, v_r)
