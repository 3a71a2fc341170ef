"""The ``analyze`` step: spike-train statistics and cross-correlograms of one run
(docs/design.md section 6).

- Class-averaged pre-post cross-correlograms (input -> E, per synapse class) over the
  training phases. elephant's ``cross_correlation_histogram`` is the reference; the class
  sum uses that a class is, in each episode, the full product (pre set) x (post set), so
  the sum over its pairs is ONE correlation of the summed binned trains.
- The STDP drift measured from the CCG (the window integrated against the
  cross-correlation), beside the weight change measured in the same episodes and the
  rate-only prediction from the measured rates.
- Rates, CV of ISIs, Fano factors and pairwise correlation coefficients (elephant), and
  the weight distributions per class.

Writes ``analysis.json``, ``ccg.csv``, ``drift.csv`` and ``ccg``/``drift``/``weights``
figures (PNG and SVG).
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from scipy import signal

from .io import save_figure
from .io import write_csv, write_json
from .parameters import stdp_from_config
from .protocol import CLASSES, class_masks
from .provenance import Provenance
from .run_directory import open_run
from .run_directory import trains_by_population, training_windows  # noqa: F401 (bench/ccg.py)
from .theory.drift import drift_given_response

BIN_MS = 1.0
MAX_LAG_MS = 250.0   # the depression kernel has decayed to exp(-250/33.7) = 6e-4 there


# ------------------------------------------------------------------------ CCG core
def bin_counts(times: np.ndarray, t_start: float, t_stop: float, bin_ms: float) -> np.ndarray:
    """Return spike counts per bin of [t_start, t_stop) (times and bin in ms), binned as
    elephant's BinnedSpikeTrain does (spikes outside the interval are dropped)."""
    n = int(np.floor((t_stop - t_start) / bin_ms + 1e-9))
    idx = np.floor((np.asarray(times) - t_start) / bin_ms + 1e-9).astype(np.int64)
    idx = idx[(idx >= 0) & (idx < n)]
    return np.bincount(idx, minlength=n).astype(float)


def summed_ccg(pre: list[np.ndarray], post: list[np.ndarray], t_start: float, t_stop: float,
               bin_ms: float, max_lag: int) -> np.ndarray:
    """Return the CCG summed over all pairs pre x post: counts of post spikes at lag
    k bins after a pre spike, for k = -max_lag..max_lag (elephant's convention)."""
    x = sum((bin_counts(t, t_start, t_stop, bin_ms) for t in pre),
            np.zeros(int(np.floor((t_stop - t_start) / bin_ms + 1e-9))))
    y = sum((bin_counts(t, t_start, t_stop, bin_ms) for t in post), np.zeros_like(x))
    full = signal.correlate(y, x, mode="full", method="fft")     # lag -(n-1) .. n-1
    mid = len(x) - 1
    return np.round(full[mid - max_lag: mid + max_lag + 1], 6)


def class_pairs(cue: np.ndarray, target: np.ndarray, sample: np.ndarray,
                m: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Return, for one episode, {class: (pre input indices, post E indices)} of the four
    classes of CLASSES: cue or other inputs onto the recorded E neurons ``sample`` that
    are targets or not (either side may be empty)."""
    non_cue = np.setdiff1d(np.arange(m), cue)
    tgt, non = np.intersect1d(sample, target), np.setdiff1d(sample, target)
    return {"cue->target": (cue, tgt), "cue->non_target": (cue, non),
            "non_cue->target": (non_cue, tgt), "non_cue->non_target": (non_cue, non)}


def pair_ccg_elephant(pre: np.ndarray, post: np.ndarray, t_start: float, t_stop: float,
                      bin_ms: float, max_lag: int) -> np.ndarray:
    """Return elephant's cross_correlation_histogram of one pair (the reference)."""
    import neo
    import quantities as pq
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from elephant.conversion import BinnedSpikeTrain
        from elephant.spike_train_correlation import cross_correlation_histogram

        def binned(t):
            t = np.asarray(t)
            t = t[(t >= t_start) & (t < t_stop)]
            st = neo.SpikeTrain(t * pq.ms, t_start=t_start * pq.ms,
                                t_stop=t_stop * pq.ms)
            return BinnedSpikeTrain(st, bin_size=bin_ms * pq.ms)

        cch, _ = cross_correlation_histogram(binned(pre), binned(post),
                                             window=[-max_lag, max_lag])
    return np.asarray(cch.magnitude).ravel()


def stdp_drift_from_ccg(density: np.ndarray, lags_ms: np.ndarray, w: float, delta_c: float,
                        r_ac: float, tau_c: float, tau_ac: float, d: float = 0.0) -> float:
    """Return the STDP drift dw/dt [weight units of delta_c per s] of a synapse of weight
    ``w`` given the pair cross-correlation ``density`` [Hz^2] at lags [ms] (post - pre).

    The window, in the pairing lag s = lag + d: Delta_c exp(-s/tau_c) for s > 0 and
    r_ac w exp(s/tau_ac) for s < 0, integrated exactly over each bin (the density is taken
    constant within a bin).
    """
    b = lags_ms[1] - lags_ms[0]
    lo, hi = lags_ms + d - b / 2, lags_ms + d + b / 2
    plo, phi = np.clip(lo, 0, None), np.clip(hi, 0, None)
    nlo, nhi = np.clip(lo, None, 0), np.clip(hi, None, 0)
    kernel_ms = (delta_c * tau_c * (np.exp(-plo / tau_c) - np.exp(-phi / tau_c))
                 + r_ac * w * tau_ac * (np.exp(nhi / tau_ac) - np.exp(nlo / tau_ac)))
    return float(np.sum(density * kernel_ms) * 1e-3)


# ------------------------------------------------------------------------ the step
def analyze_run(run_dir: Path, out: Path, bin_ms: float = BIN_MS,
                max_lag_ms: float = MAX_LAG_MS) -> dict:
    """Analyse one run directory; write the files listed in the module docstring.

    Returns the analysis.json content (rates in Hz, weights in theta, drifts in theta/s).
    """
    run_dir, out = Path(run_dir), Path(out)
    run = open_run(run_dir, "spike trains to analyse")
    prov_in, cfg = run.provenance, run.cfg
    w = run.require_weights("cues", "targets", "class_mean_start")
    rows = run.episodes
    prov = Provenance("analyze", cfg, seed=prov_in.get("seed"), backend=prov_in.get("backend"),
                      run=str(run_dir))
    trains, windows = run.trains, run.windows
    st = cfg["stdp"]
    window_ms = stdp_from_config(st, 1.0)      # time constants in ms (tau_m -> 1 ms)
    d = float(prov_in.get("translation", {}).get("delay_ms", {}).get("used", 0.0) or 0.0)
    max_lag = int(round(max_lag_ms / bin_ms))
    lags = np.arange(-max_lag, max_lag + 1) * bin_ms
    sample = np.array(sorted(trains["exc"]))
    m = cfg["inputs"]["m"]
    nu0 = cfg["inputs"]["nu0_hz"]

    # class CCGs, per episode, and the drift they imply
    counts = {c: np.zeros(len(lags)) for c in CLASSES}
    pair_s = {c: np.zeros(len(lags)) for c in CLASSES}
    drift_rows = []
    for j, (a, b) in enumerate(windows):
        groups = class_pairs(w["cues"][j], w["targets"][j], sample, m)
        row = {"episode": j}
        for ci, (c, (pre, post)) in enumerate(groups.items()):
            if len(pre) == 0 or len(post) == 0 or (c.startswith("non_cue") and nu0 == 0):
                continue
            cc = summed_ccg([trains["inputs"].get(int(i), np.array([])) for i in pre],
                            [trains["exc"][int(n)] for n in post], a, b, bin_ms, max_lag)
            npairs = len(pre) * len(post)
            overlap_s = (b - a - np.abs(lags)) * 1e-3     # time a pair can show lag tau
            counts[c] += cc
            pair_s[c] += npairs * overlap_s
            dens = cc / (npairs * overlap_s * bin_ms * 1e-3)          # Hz^2
            # the depression is proportional to w, which moves during the episode: the
            # class mean halfway (start and end of the episode) makes both estimates
            # exact for a drift linear in w
            w_mid = float(w["class_mean_start"][j, ci] + w["class_mean_before"][j, ci]) / 2
            rate_pre = np.mean([np.sum((trains["inputs"].get(int(i), np.array([])) >= a) &
                                       (trains["inputs"].get(int(i), np.array([])) < b))
                                for i in pre]) / ((b - a) * 1e-3)
            rate_post = np.mean([np.sum((trains["exc"][int(n)] >= a) & (trains["exc"][int(n)] < b))
                                 for n in post]) / ((b - a) * 1e-3)
            t_s = (b - a) * 1e-3
            key = c.replace("->", "_to_")
            row[f"dw_ccg_{key}"] = t_s * stdp_drift_from_ccg(
                dens, lags, w_mid, st["delta_c"], st["r_ac"], st["tau_c_ms"], st["tau_ac_ms"], d)
            # the theory's rate-only drift nu r0 (Delta_c tau_c + r_ac w tau_ac), in ms:
            # rates in 1/ms, the window's time constants in ms -> theta/ms
            row[f"dw_rate_only_{key}"] = (b - a) * float(drift_given_response(
                w_mid, rate_pre * 1e-3, rate_post * 1e-3, 0.0, 0.0, window_ms,
                cross_correlations=False))
            row[f"dw_measured_{key}"] = float(rows[j][f"dw_{key}"])
        drift_rows.append(row)

    ccg_rows = []
    result = {"bin_ms": bin_ms, "max_lag_ms": max_lag_ms, "classes": {}}
    for c in CLASSES:
        if not pair_s[c].any():
            continue
        dens = counts[c] / (pair_s[c] * bin_ms * 1e-3)
        key = c.replace("->", "_to_")
        vals = {k: np.array([r[f"{k}_{key}"] for r in drift_rows if f"{k}_{key}" in r])
                for k in ("dw_ccg", "dw_rate_only", "dw_measured")}
        result["classes"][c] = {
            "pair_seconds": float(pair_s[c][max_lag]),
            "ccg_peak_lag_ms": float(lags[np.argmax(dens)]),
            **{f"{k}_mean": float(v.mean()) for k, v in vals.items()},
            **{f"{k}_sem": float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else None
               for k, v in vals.items()},
            "unit_dw": "theta per episode",
        }
        for lag, x in zip(lags, dens):
            ccg_rows.append({"class": c, "lag_ms": lag, "density_hz2": x})
    result["statistics"] = spike_statistics(trains, windows)
    result["provenance"] = prov.finish()
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "ccg.csv", ccg_rows, ["class", "lag_ms", "density_hz2"])
    write_csv(out / "drift.csv", drift_rows,
              sorted({k for r in drift_rows for k in r}, key=lambda k: (k != "episode", k)))
    _plot(result, ccg_rows, w, cfg, out)
    write_json(out / "analysis.json", result)
    for c, v in result["classes"].items():
        print(f"[analyze] {c}: dw per episode measured {v['dw_measured_mean']:+.5f}, from CCG "
              f"{v['dw_ccg_mean']:+.5f}, rate-only {v['dw_rate_only_mean']:+.5f} theta")
    return result


def spike_statistics(trains: dict, windows: list[tuple[float, float]]) -> dict:
    """Return per population (exc sample, inh sample): mean rate [Hz], mean CV of ISIs,
    mean Fano factor of counts in 100 ms windows, and the mean pairwise correlation
    coefficient of 10 ms binned trains (elephant), all over the training phases."""
    import neo
    import quantities as pq
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from elephant.conversion import BinnedSpikeTrain
        from elephant.spike_train_correlation import correlation_coefficient
        from elephant.statistics import cv, isi

    total = sum(b - a for a, b in windows)
    stats = {}
    for pop in ("exc", "inh"):
        if not trains[pop]:
            continue
        rates, cvs, fanos = [], [], []
        concat = []
        for n, t in trains[pop].items():
            parts = [t[(t >= a) & (t < b)] for a, b in windows]
            rates.append(sum(len(x) for x in parts) / (total * 1e-3))
            isis = np.concatenate([isi(x) for x in parts if len(x) > 1] or [np.array([])])
            if len(isis) > 2:
                cvs.append(cv(isis))
            counts = np.concatenate([np.histogram(x, bins=np.arange(a, b + 1e-9, 100.0))[0]
                                     for x, (a, b) in zip(parts, windows)])
            if counts.mean() > 0:
                fanos.append(counts.var() / counts.mean())
            # the training phases laid end to end, for the correlation coefficient
            off, acc = 0.0, []
            for x, (a, b) in zip(parts, windows):
                acc.append(x - a + off)
                off += b - a
            concat.append(np.concatenate(acc))
        active = [c for c in concat if len(c) > 0]
        cc = np.nan
        if len(active) > 1:
            sts = [neo.SpikeTrain(c * pq.ms, t_stop=total * pq.ms) for c in active]
            m = correlation_coefficient(BinnedSpikeTrain(sts, bin_size=10 * pq.ms))
            cc = float(np.nanmean(m[np.triu_indices_from(m, 1)]))
        stats[pop] = {"n": len(trains[pop]), "rate_hz": float(np.mean(rates)),
                      "cv_isi": float(np.mean(cvs)) if cvs else None,
                      "fano_100ms": float(np.mean(fanos)) if fanos else None,
                      "corrcoef_10ms": cc}
    return stats


def _plot(result: dict, ccg_rows: list, w: dict, cfg: dict, out: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for i, c in enumerate(result["classes"]):
        lag = np.array([r["lag_ms"] for r in ccg_rows if r["class"] == c])
        dens = np.array([r["density_hz2"] for r in ccg_rows if r["class"] == c])
        ax.plot(lag, dens, color=f"C{i}", lw=1.2, label=c)
    ax.axvline(0, color="k", lw=0.6)
    ax.set_xlabel("lag t_post - t_pre [ms]")
    ax.set_ylabel("pair cross-correlation [Hz$^2$]")
    ax.set_title("Class-averaged input -> E cross-correlograms (training)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, out / "ccg")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    names = list(result["classes"])
    x = np.arange(len(names))
    for k, (key, label) in enumerate((("dw_measured", "measured weight change"),
                                      ("dw_ccg", "STDP window x measured CCG"),
                                      ("dw_rate_only", "rate-only, measured rates"))):
        vals = [result["classes"][c][f"{key}_mean"] for c in names]
        errs = [result["classes"][c][f"{key}_sem"] or 0 for c in names]
        ax.bar(x + (k - 1) * 0.27, vals, 0.27, yerr=errs, label=label, color=f"C{k}")
    ax.set_xticks(x, names)
    ax.axhline(0, color="k", lw=0.6)
    ax.set_ylabel("weight change per episode [theta]")
    ax.set_title("Drift per synapse class")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, out / "drift")
    plt.close(fig)

    keys = sorted((k for k in w if k.startswith("w_") and k[2:].isdigit()), key=lambda k: int(k[2:]))
    if keys:
        fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 3.0), squeeze=False)
        for ax, k in zip(axes[0], keys):
            j = int(k[2:])
            mat = w[k]
            masks = class_masks(mat.shape[0], mat.shape[1], w["cues"][j], w["targets"][j])
            for i, (c, mk) in enumerate(zip(CLASSES, masks)):
                ax.hist(mat[mk], bins=40, density=True, histtype="step", color=f"C{i}", label=c)
            ax.set_title(f"after episode {j}", fontsize=9)
            ax.set_xlabel("weight [theta]")
        axes[0][0].legend(fontsize=6)
        fig.tight_layout()
        save_figure(fig, out / "weights")
        plt.close(fig)
