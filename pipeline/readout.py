"""Readout of stored memories from feed-forward weights (docs/design.md section 4).

Recall of memory k: s_n = sum over cue inputs m in q_k of w_nm; the f_s*N_E E neurons
with the largest s_n are recalled; accuracy = |recalled AND p_k| / (f_s*N_E). Chance f_s.
"""
from __future__ import annotations

import numpy as np


def recall_accuracy(cue_sum: np.ndarray, target: np.ndarray) -> float:
    """Return the recall accuracy (fraction, 0..1) of one memory.

    ``cue_sum`` (N_E,) is the summed cue weight of every E neuron, ``target`` the indices
    of the memory's target neurons; as many neurons as there are targets are recalled.
    """
    k = len(target)
    recalled = np.argpartition(-cue_sum, k - 1)[:k]
    return float(np.isin(recalled, target).sum()) / k


def summed_cue_weights(w: np.ndarray, cue: np.ndarray) -> np.ndarray:
    """Return s_n = sum_{m in cue} w[m, n] for every E neuron n of a (M, N_E) matrix."""
    return w[cue].sum(axis=0)


def forgetting_curves(cue_sums: np.ndarray, targets: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Return accuracy by age, shape (len(ref), P): entry [r, a] is the accuracy of memory
    ref[r] after a further episodes (NaN where k + a >= P).

    ``cue_sums`` (len(ref), P, N_E) holds s_n for memory ref[r] after episode j.
    """
    n_ref, P, _ = cue_sums.shape
    out = np.full((n_ref, P), np.nan)
    for r, k in enumerate(ref):
        for j in range(int(k), P):
            out[r, j - k] = recall_accuracy(cue_sums[r, j], targets[k])
    return out


def capacity_from_curve(curve: np.ndarray, threshold: float) -> tuple[int, bool]:
    """Return (capacity, crossed) of one forgetting curve (accuracy by age, NaN-padded).

    The capacity is the age k that minimises |a_k - threshold| among ages up to the
    first one at or below the threshold (later noise cannot move it). ``crossed`` is False
    when the curve never reaches the threshold: then the capacity is a lower bound, the
    last age measured (">= P-1"; docs/design.md section 4).
    """
    a = np.asarray(curve, float)
    valid = np.flatnonzero(np.isfinite(a))
    if len(valid) == 0:
        raise ValueError("forgetting curve has no finite point")
    a = a[: valid[-1] + 1]
    below = np.flatnonzero(a <= threshold)
    if len(below) == 0:
        return int(valid[-1]), False
    first = below[0]
    window = np.arange(0, first + 1)
    return int(window[np.nanargmin(np.abs(a[window] - threshold))]), True
