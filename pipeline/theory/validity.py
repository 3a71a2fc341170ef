"""Where the theory holds, and its corrections (issue 25; docs/theory.md).

The mean-field theory (arXiv 2508.13846, docs/design.md section 5) predicts the readout's
summed cue weight s_n = sum_{m in q_k} w_mn of memory k as Gaussian, with mean M_c K_a and
variance M_c G_a per post class a (1 = target of k, 0 = not): the M_c cue synapses of a row
are treated as independent. This module measures those moments in simulated runs, and
gives the quantities that check or correct the theory:

* :func:`readout_moments`: the measured mean and variance of s_n by age over targets and
  non-targets (weights.npz ``cue_sums``), the quantity the theory's M_c K, M_c G predict;
* :func:`gaussian_accuracy`: the accuracy the theory's Gaussian readout gives for given
  moments (the semi-analytic readout, applied to the measured moments);
* :func:`row_covariance_trace`: the covariance C_a^k [theta^2] of two cue synapses of the
  same memory onto the same post neuron by age (the correction: Var s = M_c G + M_c (M_c - 1) C);
* :func:`capacity_spread`: the predicted seed-to-seed standard deviation of the simulated
  capacity (finite targets, finite reference memories).

Units as in the theory: weights in theta, variances in theta^2, ages in episodes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from .memory import MemoryTrace, _tail, recall_threshold

__all__ = ["readout_moments", "gaussian_accuracy", "run_readout_moments", "theory_moments",
           "pooled_readout_moments", "bench_point"]


def readout_moments(cue_sums: np.ndarray, targets: np.ndarray, ref: np.ndarray) -> dict:
    """Return the measured moments of the summed cue weight s_n [theta] of the reference
    memories by age: ``mean_t``, ``var_t`` over each memory's targets, ``mean_n``,
    ``var_n`` over its non-targets (variances [theta^2] across neurons, ddof 0), each
    averaged over the memories with data at that age (shape (P,), NaN where none), and
    ``n_memories`` (P,) per age. ``cue_sums`` (len(ref), P, N_E) is weights.npz's array
    (memory ref[r] after episode j), ``targets`` (P, n_target) the target indices."""
    n_ref, P, n_exc = cue_sums.shape
    acc = {k: np.zeros(P) for k in ("mean_t", "var_t", "mean_n", "var_n")}
    count = np.zeros(P, int)
    for r, k in enumerate(ref):
        is_t = np.zeros(n_exc, bool)
        is_t[targets[int(k)]] = True
        s = np.asarray(cue_sums[r, int(k):], float)         # (P - k, N_E), age 0 first
        ages = np.arange(s.shape[0])
        acc["mean_t"][ages] += s[:, is_t].mean(axis=1)
        acc["var_t"][ages] += s[:, is_t].var(axis=1)
        acc["mean_n"][ages] += s[:, ~is_t].mean(axis=1)
        acc["var_n"][ages] += s[:, ~is_t].var(axis=1)
        count[ages] += 1
    with np.errstate(invalid="ignore"):
        out = {k: np.where(count > 0, v / np.maximum(count, 1), np.nan) for k, v in acc.items()}
    out["n_memories"] = count
    return out


def gaussian_accuracy(mean_t: np.ndarray, var_t: np.ndarray, mean_n: np.ndarray,
                      var_n: np.ndarray, f_s: float) -> np.ndarray:
    """Return the recall accuracy (fraction; chance f_s) of the theory's Gaussian readout
    for summed-cue-weight moments by age: target mean/variance ``mean_t`` [theta],
    ``var_t`` [theta^2], non-target ``mean_n``, ``var_n``; the threshold s* recalls a
    fraction f_s of all neurons (docs/design.md section 5). NaN where a moment is NaN."""
    out = np.full(len(mean_t), np.nan)
    for k, (mt, vt, mn, vn) in enumerate(zip(mean_t, var_t, mean_n, var_n)):
        if np.all(np.isfinite([mt, vt, mn, vn])) and vt > 0 and vn > 0:
            out[k] = _tail(recall_threshold(mt, vt, mn, vn, f_s), mt, vt)
    return out


def run_readout_moments(run: Path) -> dict:
    """Return :func:`readout_moments` of one run directory (its weights.npz)."""
    from ..io import read_npz
    w = read_npz(Path(run) / "weights.npz", required=("cue_sums", "targets", "reference"))
    return readout_moments(w["cue_sums"], w["targets"], w["reference"])


def pooled_readout_moments(runs: Sequence[Path]) -> dict:
    """Return the readout moments averaged over runs (seeds), weighted by the number of
    memories per age; keys as :func:`readout_moments`."""
    per = [run_readout_moments(r) for r in runs]
    n = np.array([p["n_memories"] for p in per], float)
    tot = n.sum(axis=0)
    out = {}
    for k in ("mean_t", "var_t", "mean_n", "var_n"):
        x = np.array([np.nan_to_num(p[k]) for p in per])
        with np.errstate(invalid="ignore"):
            out[k] = np.where(tot > 0, (x * n).sum(axis=0) / np.maximum(tot, 1), np.nan)
    out["n_memories"] = tot.astype(int)
    return out


def theory_moments(trace: Mapping[str, Sequence[float]], n_cue: float) -> dict:
    """Return the theory's summed-cue-weight moments by age from a predict() trace dict
    (k_target, g_target, k_non_target, g_non_target): mean M_c K [theta], variance
    M_c G [theta^2] (independent synapses; arXiv 2508.13846)."""
    return {"mean_t": n_cue * np.asarray(trace["k_target"]),
            "var_t": n_cue * np.asarray(trace["g_target"]),
            "mean_n": n_cue * np.asarray(trace["k_non_target"]),
            "var_n": n_cue * np.asarray(trace["g_non_target"])}


def _lst(x: np.ndarray, nd: int = 6) -> list:
    return [None if not np.isfinite(v) else round(float(v), nd) for v in np.asarray(x, float)]


def bench_point(cfg: Mapping[str, Any], th: Mapping[str, Any], runs: Sequence[Path],
                corrected: dict | None = None) -> dict:
    """Return the readout diagnostics of one f_c point of bench/theory_validity.py: the
    measured summed-cue-weight moments by age (pooled over ``runs``), both theories'
    moments, the Gaussian readout's accuracy from the measured moments, the per-class
    increments, and the corrected theory (``corrected``: a :func:`corrected_prediction`
    of ``cfg`` computed before, else computed here)."""
    f_s = float(cfg["targets"]["f_s"])
    n_cue = float(th["n_cue"])
    meas = pooled_readout_moments(runs)
    out: dict[str, Any] = {"measured_moments": {k: _lst(v, 8) for k, v in meas.items()
                                                if k != "n_memories"}}
    out["measured_moments"]["n_memories"] = [int(x) for x in meas["n_memories"]]
    out["gaussian_accuracy_from_measured_moments"] = _lst(gaussian_accuracy(
        meas["mean_t"], meas["var_t"], meas["mean_n"], meas["var_n"], f_s))
    for name in ("full", "rate_only"):
        out[f"theory_moments_{name}"] = {k: _lst(v, 8) for k, v in
                                         theory_moments(th[f"trace_{name}"], n_cue).items()}
    out["class_increments"] = class_increments(th, runs)
    out["corrected"] = corrected if corrected is not None else corrected_prediction(cfg)
    return out


def measured_increments(runs: Sequence[Path], skip: float = 0.25) -> dict:
    """Return the measured mean change [theta] of the cue synapses during one training
    episode, per class (cue->target "11", cue->non-target "01"), and their mean at the
    episode's start, averaged over episodes after the first ``skip`` fraction and over
    runs (weights.npz class_mean_before - class_mean_start: before homeostasis)."""
    from ..io import read_npz
    inc, start = [], []
    for r in runs:
        w = read_npz(Path(r) / "weights.npz", required=("class_mean_before", "class_mean_start"))
        n = len(w["class_mean_start"])
        sel = slice(int(skip * n), None)
        inc.append((w["class_mean_before"][sel] - w["class_mean_start"][sel]).mean(axis=0))
        start.append(w["class_mean_start"][sel].mean(axis=0))
    inc, start = np.mean(inc, axis=0), np.mean(start, axis=0)
    # weights.npz classes: cue->target, cue->non_target, non_cue->target, non_cue->non_target
    return {"11": float(inc[0]), "01": float(inc[1]), "start_11": float(start[0]),
            "start_01": float(start[1])}


def class_increments(th: Mapping[str, Any], runs: Sequence[Path]) -> dict:
    """Return the per-class change of the cue synapses over one episode [theta]: measured
    (:func:`measured_increments`), predicted by both theories (m_ab - m0 of the stationary
    episode), and the fraction of the theory's cross-correlation term that the runs show,
    (measured - rate only)/(full - rate only), also with both theories' increments
    rescaled to the simulated post rate (episodes.csv)."""
    from ..io import read_csv
    meas = measured_increments(runs)
    m0 = float(th["params"]["m0"])
    rows = [r for d in runs for r in read_csv(Path(d) / "episodes.csv")]
    sim_hz = {k: float(np.mean([float(r[f"rate_{k}_hz"]) for r in rows]))
              for k in ("target", "non_target")}
    out: dict[str, Any] = {"measured": meas, "simulated_rates_hz": sim_hz}
    for cls, post in (("11", "target"), ("01", "non_target")):
        full = float(th["m_full"][cls]) - m0
        ro = float(th["m_rate_only"][cls]) - m0
        # both drift terms are proportional to the post rate (r0, and alpha ~ r0): the
        # theory's increments rescaled to the simulated rate (an approximation)
        s_full = sim_hz[post] / float(th["rates_full"][post])
        s_ro = sim_hz[post] / float(th["rates_rate_only"][post])
        out[cls] = {"measured": meas[cls], "full": full, "rate_only": ro,
                    "ccg_fraction": (meas[cls] - ro) / (full - ro) if full != ro else None,
                    "full_at_simulated_rate": full * s_full,
                    "rate_only_at_simulated_rate": ro * s_ro,
                    "ccg_fraction_at_simulated_rate":
                        (meas[cls] - ro * s_ro) / (full * s_full - ro * s_ro)
                        if full * s_full != ro * s_ro else None}
    return out


#: Monte-Carlo seeds of the corrected theory (its mean capacity and its spread over seeds)
CORRECTED_SEEDS = list(range(1, 9))


def corrected_prediction(cfg: Mapping[str, Any], seeds: Sequence[int] | None = None,
                         shared_post: bool = True) -> dict:
    """Return the corrected theory (pipeline/theory/matrix.py) of a config, both versions
    X in {full, rate_only}, over the Monte-Carlo ``seeds`` (default CORRECTED_SEEDS): capacity_X (mean over the Monte-Carlo seeds [episodes]),
    capacity_X_sd (standard deviation over seeds: the predicted seed spread),
    capacity_X_per_seed, crossed_X, accuracy_X (mean forgetting curve by age), and the
    linearised episode (slopes l_ab, added variances, Fano factors)."""
    from .matrix import capacity_spread, episode_map_linear
    from ..parameters import derive
    seeds = list(CORRECTED_SEEDS if seeds is None else seeds)
    p = derive(cfg).theory
    n_exc = int(cfg["network"]["n_exc"])
    n_ref = int(cfg["readout"]["reference_memories"])
    out: dict[str, Any] = {"seeds": seeds, "shared_post": shared_post,
                           "method": "the theory's per-synapse episode map (drift, slope, "
                                     "diffusion) on the protocol's weight matrix, homeostasis "
                                     "per neuron, the simulation's readout (docs/theory.md)"}
    for name, cross in (("full", True), ("rate_only", False)):
        lin = episode_map_linear(p, cross)
        cs = capacity_spread(p, lin, n_exc, n_ref, seeds, shared_post=shared_post)
        out[f"capacity_{name}"] = cs["mean"]
        out[f"capacity_{name}_sd"] = cs["sd"]
        out[f"capacity_{name}_per_seed"] = cs["per_seed"]
        out[f"crossed_{name}"] = cs["crossed"]
        out[f"accuracy_{name}"] = _lst(cs["curve"])
        out[f"episode_{name}"] = {"ell": lin.ell.tolist(), "noise": lin.noise.tolist(),
                                  "fano": lin.fano.tolist(), "rate_hz": [
                                      p.rate_hz(x) for x in lin.rate]}
    return out
