"""The ``capacity`` step: forgetting curves and memory capacity from run directories,
beside the theory when a theory JSON is given (docs/design.md section 4).

Writes ``capacity.json``, ``forgetting_curve.csv`` and ``forgetting_curve.png/.svg``.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from .io import ResultFileError, read_json, save_figure, write_csv, write_json
from .provenance import Provenance, warn_mixed_code_versions
from .readout import capacity_from_curve, forgetting_curves
from .recall import recall_rates, samples_per_age, spiking_curve
from .run_directory import open_run


@dataclass
class Run:
    """One finished run directory: its provenance and forgetting curves by age."""

    path: Path
    provenance: dict
    curves: np.ndarray       # (n_ref, P), accuracy by age
    threshold: float
    f_s: float
    spiking: dict | None = None   # spiking recall: curve, rates by age, samples per age

    @property
    def seed(self) -> int:
        return int(self.provenance["seed"])

    @property
    def mean_curve(self) -> np.ndarray:
        """Accuracy by age averaged over this run's reference memories."""
        return np.nanmean(self.curves, axis=0)


def load_run(path: Path) -> Run:
    """Return the forgetting curves of a run directory written by ``simulate``
    (pipeline/run_directory.py reads it); ResultFileError if incomplete."""
    run = open_run(path, "forgetting curve")
    path, prov = run.path, run.provenance
    w = run.require_weights("cue_sums", "targets", "reference")
    cfg = prov.get("config") or {}
    curves = forgetting_curves(w["cue_sums"], w["targets"], w["reference"])
    spiking = None
    if "recall_counts" in w:
        P = curves.shape[1]
        args = (w["recall_counts"], w["recall_after"], w["recall_memory"], w["targets"], P)
        pts = [int(x) for x in w["recall_points"]]
        step = int(cfg.get("readout", {}).get("recall_age_step", 1))
        spiking = {"curve": spiking_curve(*args),
                   "rates": recall_rates(*args, float(w["recall_t_ms"])),
                   "samples_per_age": samples_per_age(pts, P, step),
                   "t_recall_ms": float(w["recall_t_ms"]), "points": pts,
                   "timings": prov.get("timings", {})}
    return Run(path=path, provenance=prov, curves=curves,
               threshold=float(cfg["readout"]["threshold"]),
               f_s=float(cfg.get("targets", {}).get("f_s", np.nan)), spiking=spiking)


def check_same_config(runs: list[Run], allow_mixed: bool) -> str:
    """Return the common config hash; raise ResultFileError if runs differ (unless allowed)."""
    hashes = {r.provenance.get("config_hash") for r in runs}
    if len(hashes) > 1 and not allow_mixed:
        listing = "; ".join(f"{r.path}: {r.provenance.get('config_hash')}" for r in runs)
        raise ResultFileError(f"run directories come from different configs ({listing}); "
                              f"combine only runs of one config, or pass "
                              f"--allow-mixed-configs if you mean it")
    return ",".join(sorted(h or "?" for h in hashes))


def mean_and_band(curves: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (mean, lower, upper) of a 95% t-interval over the rows of ``curves``
    (NaN-aware per column; the band is NaN where fewer than 2 rows have data)."""
    n = np.sum(np.isfinite(curves), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nanmean(curves, axis=0)
        sd = np.nanstd(curves, axis=0, ddof=1)
        half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    half[n < 2] = np.nan
    return mean, mean - half, mean + half


def summarise_capacity(values: list[int], crossed: list[bool]) -> dict:
    """Return mean capacity [episodes] over seeds with a 95% t-interval (None for 1 seed)."""
    v = np.asarray(values, float)
    out = {"mean": float(v.mean()), "per_seed": [int(x) for x in values],
           "n_seeds": len(values), "lower_bound": not all(crossed), "unit": "episodes"}
    if len(v) >= 2:
        half = float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
        out["ci95"] = [out["mean"] - half, out["mean"] + half]
    else:
        out["ci95"] = None
    return out


def capacity_step(run_dirs: list[Path], out: Path, theory: str | None = None,
                  allow_mixed: bool = False) -> dict:
    """Compute forgetting curves and capacities; write capacity.json, a CSV and a figure.

    Returns the capacity.json content.
    """
    runs = [load_run(p) for p in run_dirs]
    cfg_hash = check_same_config(runs, allow_mixed)
    mixed_code = warn_mixed_code_versions([(r.path, r.provenance) for r in runs], "capacity")
    threshold = runs[0].threshold
    prov = Provenance("capacity", None, config_hash=cfg_hash,
                      runs=[str(r.path) for r in runs],
                      backend=sorted({r.provenance.get("backend") for r in runs}))
    per_seed = np.array([r.mean_curve for r in runs])
    if len(runs) >= 2:
        mean, lo, hi = mean_and_band(per_seed)
        band_over = "seeds"
    else:
        mean, lo, hi = mean_and_band(runs[0].curves)
        band_over = "reference memories of one seed"
    caps = [capacity_from_curve(c, threshold) for c in per_seed]
    result = {
        "capacity_simulation": summarise_capacity([c for c, _ in caps], [x for _, x in caps]),
        "forgetting_curve": {"age": list(range(len(mean))), "accuracy": _list(mean),
                             "ci95_low": _list(lo), "ci95_high": _list(hi),
                             "band_over": band_over,
                             "per_seed": {str(r.seed): _list(r.mean_curve) for r in runs}},
        "threshold": threshold,
        "chance": runs[0].f_s,
        "backend": prov.record["backend"],
        # the episode protocol the runs followed (pipeline.protocol; 'nest' before it was recorded)
        "protocol": sorted({r.provenance.get("protocol", {}).get("name", "nest") for r in runs}),
        "mixed_code_versions": mixed_code,
    }
    th = None
    if theory:
        th = read_json(theory, "theory file")
        for key in ("capacity_full", "capacity_rate_only", "accuracy_full", "accuracy_rate_only"):
            if key not in th:
                raise ResultFileError(f"theory file '{theory}' lacks '{key}': rerun "
                                      f"`python -m pipeline theory`")
        result["capacity_theory_full"] = th["capacity_full"]
        result["capacity_theory_rate_only"] = th["capacity_rate_only"]
        result["theory"] = {k: th[k] for k in ("accuracy_full", "accuracy_rate_only")}
    if all(r.spiking is not None for r in runs):
        result["spiking"] = spiking_summary(runs, threshold, th)
    result["provenance"] = prov.finish()
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "forgetting_curve.csv",
              [{"age": a, "accuracy": mean[a], "ci95_low": lo[a], "ci95_high": hi[a]}
               for a in range(len(mean))])
    plot_forgetting_curve(result, out / "forgetting_curve")
    if "spiking" in result:
        sp = result["spiking"]
        write_csv(out / "spiking_recall.csv",
                  [{"age": a, "samples_per_seed": sp["samples_per_age"][a],
                    "accuracy": sp["forgetting_curve"]["accuracy"][a],
                    "ci95_low": sp["forgetting_curve"]["ci95_low"][a],
                    "ci95_high": sp["forgetting_curve"]["ci95_high"][a],
                    "rate_target_hz": sp["rates_hz"]["target"][a],
                    "rate_non_target_hz": sp["rates_hz"]["non_target"][a]}
                   for a in range(len(mean))])
        plot_recall_rates(result, out / "recall_rates")
    write_json(out / "capacity.json", result)
    cs = result["capacity_simulation"]
    ge = ">= " if cs["lower_bound"] else ""
    print(f"[capacity] {', '.join(result['backend'])}: capacity {ge}{cs['mean']:.1f} episodes "
          f"(seeds {cs['per_seed']})" + (f"; theory full {th['capacity_full']}, rate-only "
                                          f"{th['capacity_rate_only']}" if th else ""))
    if "spiking" in result:
        sp = result["spiking"]
        ss = sp["capacity_simulation"]
        print(f"[capacity] spiking recall ({sp['t_recall_ms']:g} ms per cue): capacity "
              f"{'>= ' if ss['lower_bound'] else ''}{ss['mean']:.1f} episodes (seeds "
              f"{ss['per_seed']})" + (f"; predicted {sp['capacity_theory_full']}"
                                      if "capacity_theory_full" in sp else "")
              + f"; recall took {sp['wall_recall_over_training']} of the training's wall time")
    return result


def spiking_summary(runs: list[Run], threshold: float, th: dict | None) -> dict:
    """Return the spiking-recall part of capacity.json: forgetting curve by age (mean and
    95% band over seeds), capacity over seeds, samples per age and seed, rates [Hz] of the
    tested memory's targets and non-targets by age, wall times, and the theory's prediction
    when ``th`` (a theory JSON with the spiking keys) is given."""
    curves = np.array([r.spiking["curve"] for r in runs])
    if len(runs) >= 2:
        with warnings.catch_warnings():  # untested ages are NaN in every seed
            warnings.simplefilter("ignore", RuntimeWarning)
            mean, lo, hi = mean_and_band(curves)
    else:
        mean, lo, hi = curves[0], np.full(curves.shape[1], np.nan), np.full(curves.shape[1], np.nan)
    caps = [capacity_from_curve(c, threshold) for c in curves]
    with warnings.catch_warnings():      # ages without a sample stay NaN, silently
        warnings.simplefilter("ignore", RuntimeWarning)
        rates = {k: np.nanmean([r.spiking["rates"][k] for r in runs], axis=0)
                 for k in ("target", "non_target")}
    rec = [r.spiking["timings"].get("recall_s", np.nan) for r in runs]
    trn = [r.spiking["timings"].get("training_s", np.nan) for r in runs]
    out = {
        "capacity_simulation": summarise_capacity([c for c, _ in caps], [x for _, x in caps]),
        "forgetting_curve": {"age": list(range(len(mean))), "accuracy": _list(mean),
                             "ci95_low": _list(lo), "ci95_high": _list(hi),
                             "band_over": "seeds" if len(runs) >= 2 else "none (one seed)",
                             "per_seed": {str(r.seed): _list(r.spiking["curve"]) for r in runs}},
        "samples_per_age": [int(x) for x in runs[0].spiking["samples_per_age"]],
        "sessions_after_episodes": runs[0].spiking["points"],
        "t_recall_ms": runs[0].spiking["t_recall_ms"],
        "rates_hz": {k: _list(v) for k, v in rates.items()},
        "wall_recall_s": [float(x) for x in rec],
        "wall_training_s": [float(x) for x in trn],
        "wall_recall_over_training": round(float(np.nansum(rec) / np.nansum(trn)), 4),
    }
    if th and "accuracy_spiking_full" in th:
        for name in ("full", "rate_only"):
            out[f"capacity_theory_{name}"] = th[f"capacity_spiking_{name}"]
            out[f"capacity_theory_{name}_label"] = th[f"capacity_spiking_{name}_label"]
            out[f"theory_accuracy_{name}"] = th[f"accuracy_spiking_{name}"]
            out[f"theory_rates_hz_{name}"] = th[f"recall_rates_{name}"]
    return out


def _list(a: np.ndarray) -> list:
    return [None if not np.isfinite(x) else float(x) for x in a]


def plot_forgetting_curve(result: dict, stem: Path) -> None:
    """Draw accuracy against age with its band, chance, threshold and capacity markers
    (and both theories if present); save PNG and SVG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fc = result["forgetting_curve"]
    age = np.array(fc["age"])
    acc = np.array(fc["accuracy"], float)
    lo = np.array([np.nan if x is None else x for x in fc["ci95_low"]], float)
    hi = np.array([np.nan if x is None else x for x in fc["ci95_high"]], float)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    label = "simulation (" + ", ".join(result["backend"]) + ")"
    if "nest-spinnaker" in label:
        label = label[:-1] + ": NEST emulating SpiNNaker, an approximation)"
    ax.plot(age, acc, color="C0", lw=1.8, label=label)
    ax.fill_between(age, lo, hi, color="C0", alpha=0.25, lw=0,
                    label=f"95% interval over {fc['band_over']}")
    if "theory" in result:
        for key, color, name in (("accuracy_full", "C3", "theory, with cross-correlations"),
                                 ("accuracy_rate_only", "C2", "theory, rate only")):
            a = np.asarray(result["theory"][key], float)
            ax.plot(np.arange(len(a)), a, color=color, ls="--", lw=1.5, label=name)
    if "spiking" in result:
        sp = result["spiking"]
        f = lambda xs: np.array([np.nan if x is None else x for x in xs], float)
        sa, slo, shi = f(sp["forgetting_curve"]["accuracy"]), f(sp["forgetting_curve"]["ci95_low"]), \
            f(sp["forgetting_curve"]["ci95_high"])
        ok = np.isfinite(sa)
        ax.plot(age[ok], sa[ok], "o-", ms=3, color="C1", lw=1.5,
                label=f"spiking recall ({sp['t_recall_ms']:g} ms per cue)")
        if np.any(np.isfinite(slo)):
            ax.fill_between(age[ok], slo[ok], shi[ok], color="C1", alpha=0.2, lw=0)
        sc = sp["capacity_simulation"]
        ax.axvline(sc["mean"], color="C1", lw=0.8)
        ax.text(sc["mean"], 0.90, f" spiking: {'>= ' if sc['lower_bound'] else ''}"
                f"{sc['mean']:.1f}", va="top", fontsize=8, color="C1",
                transform=ax.get_xaxis_transform())
        if "theory_accuracy_full" in sp:
            a = np.asarray(sp["theory_accuracy_full"], float)
            ax.plot(np.arange(len(a)), a, color="C1", ls="--", lw=1.2,
                    label="spiking recall, predicted (full theory + Siegert)")
    ax.axhline(result["threshold"], color="k", lw=0.8, ls=":", label="threshold")
    if np.isfinite(result.get("chance", np.nan)):
        ax.axhline(result["chance"], color="grey", lw=0.8, ls="-.", label="chance (f_s)")
    cs = result["capacity_simulation"]
    ax.axvline(cs["mean"], color="C0", lw=0.8)
    txt = (f"capacity >= {cs['mean']:.0f} (curve does not cross)" if cs["lower_bound"]
           else f"capacity {cs['mean']:.1f}")
    ax.text(cs["mean"], 0.98, " " + txt, va="top", fontsize=8, color="C0",
            transform=ax.get_xaxis_transform())
    ax.set_xlabel("age of the memory [episodes]")
    ax.set_ylabel("recall accuracy")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7, loc="upper right", bbox_to_anchor=(1, 0.9))
    ax.set_title("Forgetting curve")
    fig.tight_layout()
    save_figure(fig, stem)
    plt.close(fig)


def plot_recall_rates(result: dict, stem: Path) -> None:
    """Draw the rates [Hz] of the tested memory's targets and non-targets during spiking
    recall against the memory's age, simulated (markers) and predicted (lines); save PNG
    and SVG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sp = result["spiking"]
    f = lambda xs: np.array([np.nan if x is None else x for x in xs], float)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for key, color, name in (("target", "C3", "targets"), ("non_target", "C0", "non-targets")):
        r = f(sp["rates_hz"][key])
        ok = np.isfinite(r)
        ax.plot(np.flatnonzero(ok), r[ok], "o", ms=4, color=color,
                label=f"{name}, simulation (mean over seeds)")
        if "theory_rates_hz_full" in sp:
            t = np.asarray(sp["theory_rates_hz_full"][key], float)
            ax.plot(np.arange(len(t)), t, "-", color=color, lw=1.2,
                    label=f"{name}, Siegert at the recall operating point")
    ax.set_xlabel("age of the memory [episodes]")
    ax.set_ylabel("rate during recall [Hz]")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7)
    ax.set_title(f"Spiking recall: the signal ({sp['t_recall_ms']:g} ms per cue)")
    fig.tight_layout()
    save_figure(fig, stem)
    plt.close(fig)
