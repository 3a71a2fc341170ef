"""The theory's per-synapse episode map applied to the whole weight matrix (issue 25;
docs/theory.md): the corrected memory trace.

The memory trace of arXiv 2508.13846 (pipeline/theory/memory.py) follows the class
statistics (K, G) of a stored pattern's cue synapses as if every synapse drew its class
ab independently in every later episode, and as if the readout's M_c summed synapses were
independent. In the network neither holds: an input neuron is a cue (b = 1) for ALL its
outgoing synapses at once, and a post neuron is a target (a = 1) for all its incoming ones.
The first makes a large part of the weight variance input-specific (the same for every post
neuron), which cancels when targets are compared with non-targets; the second correlates
the readout's summands. The trace also moves every synapse of class ab by the same mean
m_ab - m0, although the multiplicative depression pulls a synapse that starts above m0
down more (the drift's slope A'(w) < 0), which shortens the memory.

The correction keeps the theory's per-synapse dynamics and drops those two assumptions:

1. **Linearised episode map** (:func:`episode_map_linear`): over the stationary episode of
   class ab a synapse that starts at w goes to
       w' = m_ab + l_ab (w - m0) + sqrt(n_ab) xi,    l_ab = exp(integral_0^T A'_ab(t) dt),
   with A' the slope of the drift at the class's operating point (drift.py,
   drift_slope_given_response; the linearisation of dm/dt = A(m) around the class mean),
   n_ab = V_ab - l_ab^2 V* the variance the episode adds (so that a class started at
   (m0, V*) ends at (m_ab, V_ab), the theory's values) and xi a standard normal.
2. **The protocol's matrix** (:func:`matrix_trace`): the map applied synapse by synapse to
   an M x N_E matrix with the protocol's draws (M_c cues of M, f_s N_E targets of N_E per
   episode), homeostasis per post neuron (pipeline.protocol.homeostasis), and the weight
   readout of the simulation (pipeline.readout: top-f_s N_E summed cue weights,
   forgetting curves over the reference memories, the capacity). It is a Monte-Carlo over
   the protocol's combinatorics, not over spikes: every number in it comes from the
   theory's drift and diffusion.
3. Optionally, the **within-episode correlation** of one post neuron's synapses
   (``shared_post``): all cue synapses of a post neuron change with its spike count over
   the episode, whose relative fluctuation is CV_N^2 = F/(r T) (F the Fano factor of the
   LIF's count, the CV^2 of its intervals: siegert.lif_cv2) plus the rate change that the neuron's own summed cue
   weight causes, dr/dmu nu1 (s_n - <s>) (the Siegert rate's slope at the class's
   operating point). The increment of every cue synapse of that neuron is scaled by
   1 + eta_n.

Seeds of the Monte-Carlo give the spread of the capacity over seeds of a finite network
with finitely many reference memories (:func:`capacity_spread`).
Units: weights in theta, variances in theta^2, time in tau_m, rates in 1/tau_m.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .drift import drift_given_response, drift_slope_given_response
from .moments import class_rates
from .network import solve_rates
from .params import TheoryParams
from .siegert import lif_cv2, lif_rate

__all__ = ["LinearEpisode", "episode_map_linear", "matrix_trace", "MatrixResult",
           "capacity_spread"]


@dataclass
class LinearEpisode:
    """The stationary episode, linearised per synapse (module docstring): class means
    m[a, b] [theta] and variances v[a, b] [theta^2] at its end, slopes l[a, b] [1], added
    variances n[a, b] [theta^2], homeostasis factors gamma[a], V* [theta^2], post rates
    r[a] [1/tau_m], their slopes dr/dmu[a] [1/theta] and the Fano factors of their spike
    counts fano[a] [1] (the ISI's CV^2, siegert.lif_cv2), their mean inputs mu[a]
    [theta/tau_m] and noise intensities d[a] [theta^2/tau_m], all over the episode
    (a = 1 target, 0 non-target)."""

    m: np.ndarray
    v: np.ndarray
    ell: np.ndarray
    noise: np.ndarray
    gamma: np.ndarray
    v_star: float
    rate: np.ndarray
    rate_slope: np.ndarray
    fano: np.ndarray
    mu: np.ndarray
    d: np.ndarray


def episode_map_linear(p: TheoryParams, cross_correlations: bool = True,
                       n_steps: int = 16) -> LinearEpisode:
    """Return the LinearEpisode of the stationary state of ``p``: the theory's stationary
    episode (pipeline.theory.populations.stationary_state) with l_ab = exp(int A'_ab dt)
    integrated alongside dm/dt = A(m), dV/dt of pipeline/theory/moments.py by RK4 with the
    network rates re-solved at every stage (arXiv 2508.13846; docs/theory.md)."""
    from . import _stationary
    from .moments import moment_derivatives
    st = _stationary(p, cross_correlations)
    nu = np.array([p.nu0, p.nu1])[None, :]
    r_state = {"r": st.at.episode.rates_start}

    def rhs(m, v):
        net = solve_rates(m, v, p, r_init=r_state["r"])
        r_state["r"] = net.rates
        r0, al, be = class_rates(net, p, cross_correlations)
        dm, dv = moment_derivatives(m, v, nu, r0, al, be, p.stdp, cross_correlations)
        dl = drift_slope_given_response(m, nu, r0, al, be, p.stdp, cross_correlations)
        return dm, dv, dl

    m = np.full((2, 2), p.m0)
    v = np.full((2, 2), st.v_star)
    log_l = np.zeros((2, 2))
    h = p.t_train / n_steps
    mid_r, mid_slope, mid_cv2, mid_mu, mid_d = [], [], [], [], []
    for _ in range(n_steps):
        k1 = rhs(m, v)
        k2 = rhs(m + 0.5 * h * k1[0], v + 0.5 * h * k1[1])
        r_mid = r_state["r"]
        k3 = rhs(m + 0.5 * h * k2[0], v + 0.5 * h * k2[1])
        k4 = rhs(m + h * k3[0], v + h * k3[1])
        m = m + h / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
        v = v + h / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
        log_l = log_l + h / 6 * (k1[2] + 2 * k2[2] + 2 * k3[2] + k4[2])
        mid_r.append(r_mid)
        net = solve_rates(m, v, p, r_init=r_mid)
        # slope of the Siegert rate in the mean input at the population's operating point
        eps = 1e-6
        mid_slope.append((lif_rate(net.mu + eps, net.d) - lif_rate(net.mu - eps, net.d))
                         / (2 * eps))
        mid_mu.append(net.mu)
        mid_d.append(net.d)
        if _ in (0, n_steps // 2, n_steps - 1):     # the Fano factor varies slowly: 3 points
            mid_cv2.append([lif_cv2(float(net.mu[i]), float(net.d[i])) for i in (0, 1)])
    ell = np.exp(log_l)
    noise = np.maximum(v - ell ** 2 * st.v_star, 0.0)
    rates = np.mean(mid_r, axis=0)           # target, non-target, inhibitory
    slope = np.mean(mid_slope, axis=0)
    cv2 = np.mean(mid_cv2, axis=0)
    mu, d = np.mean(mid_mu, axis=0), np.mean(mid_d, axis=0)
    return LinearEpisode(m=m, v=v, ell=ell, noise=noise, gamma=np.asarray(st.at.gamma),
                         v_star=float(st.v_star), rate=np.array([rates[1], rates[0]]),
                         rate_slope=np.array([slope[1], slope[0]]),
                         fano=np.array([cv2[1], cv2[0]]), mu=np.array([mu[1], mu[0]]),
                         d=np.array([d[1], d[0]]))


@dataclass
class MatrixResult:
    """One Monte-Carlo run of :func:`matrix_trace`: accuracy by age (mean over the
    reference memories; NaN-padded), the capacity [episodes] and whether it was crossed,
    and the summed cue weights (len(ref), P, N_E) [theta] as the simulation records them."""

    curve: np.ndarray
    capacity: int
    crossed: bool
    cue_sums: np.ndarray
    targets: np.ndarray
    reference: np.ndarray


def matrix_trace(p: TheoryParams, lin: LinearEpisode, n_exc: int, seed: int,
                 n_ref: int, burn_in: int | None = None, shared_post: bool = False,
                 w_max: float = 1.0) -> MatrixResult:
    """Return the MatrixResult of the linearised episode map ``lin`` applied to an
    M x n_exc weight matrix over p.episodes episodes of the protocol (module docstring),
    after ``burn_in`` episodes from iid (m0, V*) weights (default 3/(1 - lambda) with
    lambda the homeostatic decay f_s gamma_1 + (1 - f_s) gamma_0, so that the
    input-specific structure is stationary). ``shared_post`` adds the within-episode
    correlation of a post neuron's synapses. Weights are kept in [0, w_max] [theta] as the
    simulated synapse keeps them. Random numbers from numpy's default_rng([seed, 25])."""
    from ..protocol import homeostasis, reference_memories
    from ..readout import capacity_from_curve, forgetting_curves

    rng = np.random.default_rng([seed, 25])
    m_in = int(round(p.n_in))
    n_cue = int(round(p.n_cue))
    n_tgt = int(round(p.f_s * n_exc))
    P = int(p.episodes)
    lam = p.f_s * lin.gamma[1] + (1 - p.f_s) * lin.gamma[0]
    if burn_in is None:
        burn_in = int(np.ceil(3.0 / max(1.0 - lam, 1e-3)))
    w = p.m0 + np.sqrt(lin.v_star) * rng.standard_normal((m_in, n_exc))
    w = homeostasis(np.clip(w, 0.0, w_max), p.m0)
    ref = reference_memories(P, n_ref)
    ref_pos = {int(k): i for i, k in enumerate(ref)}
    cue_sums = np.full((len(ref), P, n_exc), np.nan, dtype=np.float32)
    cues = np.empty((P, n_cue), int)
    targets = np.empty((P, n_tgt), int)
    sd = np.sqrt(lin.noise)
    for j in range(-burn_in, P):
        cue = rng.choice(m_in, n_cue, replace=False)
        tgt = rng.choice(n_exc, n_tgt, replace=False)
        a = np.zeros(n_exc, int)
        a[tgt] = 1
        b = np.zeros(m_in, int)
        b[cue] = 1
        rows = cue if p.nu0 == 0 else np.arange(m_in)
        aa = a[None, :]
        bb = b[rows][:, None]
        wr = w[rows]
        inc = lin.m[aa, bb] - p.m0 + (lin.ell[aa, bb] - 1.0) * (wr - p.m0)
        if shared_post:
            inc = inc * (1.0 + post_fluctuation(p, lin, wr, a, rng))[None, :]
        w[rows] = np.clip(wr + inc + sd[aa, bb] * rng.standard_normal(wr.shape), 0.0, w_max)
        if p.homeostasis:
            w = homeostasis(w, p.m0)
        if j < 0:
            continue
        cues[j], targets[j] = np.sort(cue), np.sort(tgt)
        for k, i in ref_pos.items():
            if k <= j:
                cue_sums[i, j] = w[cues[k]].sum(axis=0)
    curves = forgetting_curves(cue_sums, targets, ref)
    curve = np.nanmean(curves, axis=0)
    cap, crossed = capacity_from_curve(curve, p.threshold)
    return MatrixResult(curve=curve, capacity=cap, crossed=crossed, cue_sums=cue_sums,
                        targets=targets, reference=ref)


def post_fluctuation(p: TheoryParams, lin: LinearEpisode, w_cue: np.ndarray, a: np.ndarray,
                     rng: np.random.Generator) -> np.ndarray:
    """Return eta_n (n_exc,) [1], the relative fluctuation of post neuron n's spike count in
    one episode: count noise of variance F_a/(r_a T) (F_a the Fano factor of a renewal
    LIF, lin.fano; Gaussian) plus the rate change dr/dmu_a nu1 (s_n - <s>_a) / r_a caused by the
    neuron's own summed cue weight s_n [theta] (``w_cue``: the episode's cue rows before
    it), where <s>_a is the mean over its class a (docs/theory.md)."""
    s = w_cue.sum(axis=0) if p.nu0 == 0 else None
    if s is None:        # every input fires: the cue rows are not the whole drive
        raise NotImplementedError("shared_post needs inputs.nu0_hz = 0")
    s2 = (w_cue ** 2).sum(axis=0)
    # recurrent drive: the number k_n of this episode's targets among the C_E excitatory
    # inputs (binomial), each firing r_T - r_N more than a non-target
    k = rng.binomial(int(round(p.c_exc)), p.f_s, len(a)) - p.c_exc * p.f_s
    dr = lin.rate[1] - lin.rate[0]
    eta = np.empty(len(a))
    for cls in (0, 1):
        sel = a == cls
        r = lif_rate(lin.mu[cls], lin.d[cls])
        r_n = lif_rate(lin.mu[cls] + p.nu1 * (s[sel] - s[sel].mean()) + p.j * dr * k[sel],
                       lin.d[cls] + 0.5 * p.nu1 * (s2[sel] - s2[sel].mean())
                       + 0.5 * p.j ** 2 * dr * k[sel])
        eta[sel] = (rng.standard_normal(sel.sum()) * np.sqrt(lin.fano[cls] / (r * p.t_train))
                    + r_n / r - 1.0)
    return eta


def capacity_spread(p: TheoryParams, lin: LinearEpisode, n_exc: int, n_ref: int,
                    seeds: list[int], shared_post: bool = False) -> dict:
    """Return the Monte-Carlo capacities of :func:`matrix_trace` over ``seeds``: per
    seed, mean, standard deviation over seeds (ddof 1) [episodes], the mean forgetting
    curve, and whether every seed crossed the threshold."""
    res = [matrix_trace(p, lin, n_exc, s, n_ref, shared_post=shared_post) for s in seeds]
    caps = np.array([r.capacity for r in res], float)
    return {"per_seed": [int(c) for c in caps], "mean": float(caps.mean()),
            "sd": float(caps.std(ddof=1)) if len(caps) > 1 else None,
            "crossed": all(r.crossed for r in res),
            "curve": np.nanmean([r.curve for r in res], axis=0)}
