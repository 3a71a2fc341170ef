"""Exact episode boundaries for event-driven STDP that applies facilitation late.

NEST (like sPyNNaker) applies the potentiation owed to post spikes only when the next
pre spike arrives: at pre spike t_i it processes the post spikes in
(t_{i-1} - d, t_i - d] with the trace x_pre(t_{i-1}), d the (dendritic) delay. With
plasticity switched off and on between runs this leaves two boundary errors per episode:

- post spikes after the last pre spike of the training phase are potentiated only at the
  next pre spike, which falls in the next warm-up where plasticity is off: lost;
- post spikes of the warm-up after its last pre spike are potentiated by the first pre
  spike of the training phase: counted although plasticity was off.

:func:`facilitation_correction` returns the weight change that fixes both, computed on the
host from the spikes. The spuriously counted amount enters before the first training
depression, so it is removed together with the product of all the training phase's
multiplicative depressions of that synapse. Neglected: the weight bounds, the post trace
carried over from before the episode (it has decayed over the warm-up), and ties of
spike times on the time grid.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Spike times sit on the time grid; comparisons between a post spike shifted by the delay
# and a pre spike use this tolerance [ms], as NEST does (its stdp_eps), so that a tie
# t_post + d == t_pre is decided as in NEST: the pair counts neither way.
EPS = 1e-6


@dataclass
class PreTrace:
    """The pre-synaptic trace of every input: last spike time [ms] and trace value just
    after it (x_pre, dimensionless, +1 per spike, decay tau_c). NaN time = no spike yet."""

    t_last: np.ndarray
    k_last: np.ndarray

    @classmethod
    def empty(cls, n: int) -> "PreTrace":
        return cls(t_last=np.full(n, np.nan), k_last=np.zeros(n))

    def advance(self, m: int, times: np.ndarray, tau: float) -> tuple[float, float]:
        """Add the spikes ``times`` [ms, sorted] of input m; return its new (t_last, k_last)."""
        t, k = self.t_last[m], self.k_last[m]
        for s in times:
            k = (k * np.exp(-(s - t) / tau) if np.isfinite(t) else 0.0) + 1.0
            t = s
        self.t_last[m], self.k_last[m] = t, k
        return t, k


def _window_sum(post_idx: np.ndarray, post_t: np.ndarray, n_post: int, t_pre: float,
                t_end: float, d: float, tau: float) -> np.ndarray:
    """Return sum over post spikes t in (t_pre - d, t_end - d] of exp(-(t + d - t_pre)/tau),
    per post neuron (length n_post)."""
    sel = (post_t > t_pre - d + EPS) & (post_t <= t_end - d + EPS)
    return np.bincount(post_idx[sel], weights=np.exp(-(post_t[sel] + d - t_pre) / tau),
                       minlength=n_post)


def depression_product(pre: np.ndarray, post_idx: np.ndarray, post_t: np.ndarray,
                       n_post: int, d: float, tau_ac: float, r_ac: float) -> np.ndarray:
    """Return prod over pre spikes s of (1 + r_ac x_post(s - d)) for every post neuron,
    x_post the post trace (+1 per spike, decay tau_ac [ms]) from the given post spikes."""
    order = np.argsort(post_t, kind="stable")
    pt, pi = post_t[order], post_idx[order]
    ref = pt[0] if len(pt) else 0.0          # times relative to ref keep exp() in range
    acc = np.zeros(n_post)
    prod = np.ones(n_post)
    k = 0
    for s in np.sort(pre):
        upto = np.searchsorted(pt, s - d - EPS, side="left")  # post spikes before s - d
        if upto > k:
            np.add.at(acc, pi[k:upto], np.exp((pt[k:upto] - ref) / tau_ac))
            k = upto
        prod *= 1.0 + r_ac * acc * np.exp(-(s - d - ref) / tau_ac)
    return prod


def facilitation_correction(trace: PreTrace, rows: np.ndarray, trains: list[np.ndarray],
                            post_idx: np.ndarray, post_t: np.ndarray, n_post: int,
                            t_on: float, t_off: float, d: float, p,
                            step: np.ndarray | float | None = None) -> np.ndarray:
    """Return the correction [mV] to add to the read weights of the input rows ``rows``
    after a phase with plasticity on in [t_on, t_off) [ms].

    ``trains[m]`` are the input spikes [ms] of this episode (all of them, warm-up and
    training), ``post_idx``/``post_t`` all post spikes of the episode, ``trace`` the pre
    traces before the episode (updated in place), ``d`` the plastic delay [ms], ``p`` the
    model Params (delta_c [mV], r_ac, tau_c and tau_ac [ms]), ``step`` the potentiation
    step [mV] per pair at unit trace (default Delta_c; an array (len(rows), n_post) for a
    weight-dependent potentiation). Shape (len(rows), n_post).
    """
    out = np.zeros((len(rows), n_post))
    for i, m in enumerate(rows):
        times = np.asarray(trains[m])
        training = times[times >= t_on - EPS]
        t_prev, k_prev = trace.advance(m, times[times < t_on - EPS], p.tau_c)
        t_last, k_last = trace.advance(m, training, p.tau_c)
        if np.isfinite(t_last):
            out[i] += k_last * _window_sum(post_idx, post_t, n_post, t_last, t_off, d, p.tau_c)
        if np.isfinite(t_prev):
            spurious = k_prev * _window_sum(post_idx, post_t, n_post, t_prev, t_on, d, p.tau_c)
            if len(training):
                spurious *= depression_product(training, post_idx, post_t, n_post, d,
                                               p.tau_ac, p.r_ac)
            out[i] -= spurious
    return (p.delta_c if step is None else step) * out
