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
host from the spikes. Second-order terms are neglected: the later multiplicative
depressions of the spuriously counted amount (relative size about |r_ac| x_post per pre
spike) and the weight bounds.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


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
    sel = (post_t > t_pre - d) & (post_t <= t_end - d)
    return np.bincount(post_idx[sel], weights=np.exp(-(post_t[sel] + d - t_pre) / tau),
                       minlength=n_post)


def facilitation_correction(trace: PreTrace, rows: np.ndarray, trains: list[np.ndarray],
                            post_idx: np.ndarray, post_t: np.ndarray, n_post: int,
                            t_on: float, t_off: float, d: float, tau: float,
                            delta: float) -> np.ndarray:
    """Return the correction [weight units of ``delta``] to add to the read weights of the
    input rows ``rows`` after a phase with plasticity on in [t_on, t_off) [ms].

    ``trains[m]`` are the input spikes [ms] of this episode (all of them, warm-up and
    training), ``post_idx``/``post_t`` all post spikes of the episode, ``trace`` the pre
    traces before the episode (updated in place), ``d`` the plastic delay [ms], ``tau``
    tau_c [ms], ``delta`` the potentiation step (Delta_c in weight units). Shape
    (len(rows), n_post).
    """
    out = np.zeros((len(rows), n_post))
    for i, m in enumerate(rows):
        times = np.asarray(trains[m])
        t_prev, k_prev = trace.advance(m, times[times < t_on], tau)
        t_last, k_last = trace.advance(m, times[times >= t_on], tau)
        if np.isfinite(t_last):
            out[i] += k_last * _window_sum(post_idx, post_t, n_post, t_last, t_off, d, tau)
        if np.isfinite(t_prev):
            out[i] -= k_prev * _window_sum(post_idx, post_t, n_post, t_prev, t_on, d, tau)
    return delta * out
