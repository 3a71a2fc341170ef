"""Where the theory's capacity holds in f_c: the validity map of bench/theory_validity.py
(bench/results/theory_validity.json) read for the report (issue 25; docs/theory.md).

A theory's capacity counts as valid at a coding level when it lies within the simulated
capacity's 95% interval over seeds widened by the validation tolerance of the capacity
(``validation.tolerances.capacity``, 10% of the simulated mean in config/default.yaml):
the size of a difference the project calls "the same" (docs/validation.md). The validity
range of a theory is the run of measured f_c values around the default (0.1) where it is
valid. Every number here is read from the results file; nothing is simulated.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .io import copy_figure

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "theory_validity.json"
#: the theories of the map: key in a point -> name in the report
THEORIES = {"full": "theory with cross-correlations",
            "rate_only": "theory, rate only",
            "corrected_full": "corrected theory with cross-correlations (docs/theory.md)",
            "corrected_rate_only": "corrected theory, rate only (docs/theory.md)"}
TOLERANCE = 0.10      # relative; config/default.yaml validation.tolerances.capacity


def load(path: Path = RESULTS) -> dict | None:
    """Return the validity map's results, or None when the file does not exist."""
    from .io import read_json
    return read_json(path, "validity map") if Path(path).is_file() else None


def theory_capacity(point: dict, name: str) -> float | None:
    """Return a theory's capacity [episodes] at one point of the map (name as THEORIES)."""
    if name.startswith("corrected_"):
        c = point.get("corrected")
        return None if c is None else float(c[f"capacity_{name[len('corrected_'):]}"])
    return float(point["theory"][f"capacity_{name}"])


def is_valid(point: dict, name: str, tolerance: float = TOLERANCE) -> bool | None:
    """Return whether a theory's capacity lies within the simulated 95% interval widened
    by ``tolerance`` x the simulated mean (None without simulation or interval)."""
    sim = point.get("simulation")
    cap = theory_capacity(point, name)
    if not sim or not sim.get("ci95") or cap is None:
        return None
    lo, hi = sim["ci95"]
    slack = tolerance * sim["mean"]
    return bool(lo - slack <= cap <= hi + slack)


def measured(data: dict) -> bool:
    """Return whether any point of the map has a simulated interval (>= 2 seeds)."""
    return any((p.get("simulation") or {}).get("ci95") for p in data["points"])


def validity_range(data: dict, name: str, centre: float = 0.1) -> tuple[float, float] | None:
    """Return (lowest, highest) f_c of the contiguous run of measured points around
    ``centre`` where the theory ``name`` is valid; None if it is not valid at ``centre``."""
    pts = sorted((p for p in data["points"] if is_valid(p, name) is not None),
                 key=lambda p: p["f_c"])
    fs = [p["f_c"] for p in pts]
    if centre not in fs or not is_valid(pts[fs.index(centre)], name):
        return None
    i = j = fs.index(centre)
    while i > 0 and is_valid(pts[i - 1], name):
        i -= 1
    while j < len(pts) - 1 and is_valid(pts[j + 1], name):
        j += 1
    return fs[i], fs[j]


def valid_segments(data: dict, name: str) -> list[tuple[float, float]]:
    """Return the runs of neighbouring measured f_c (lowest, highest) where the theory
    ``name`` is valid, in increasing f_c."""
    pts = sorted((p for p in data["points"] if is_valid(p, name) is not None),
                 key=lambda p: p["f_c"])
    out: list[tuple[float, float]] = []
    run: list[float] = []
    for p in pts + [None]:
        if p is not None and is_valid(p, name):
            run.append(p["f_c"])
            continue
        if run:
            out.append((run[0], run[-1]))
        run = []
    return out


def span(rng: tuple[float, float]) -> str:
    """Return a validity range as text: 'f_c 0.05-0.25', or 'f_c = 0.1 only'."""
    return f"f_c = {rng[0]:g} only" if rng[0] == rng[1] else f"f_c {rng[0]:g}-{rng[1]:g}"


def validity_note(data: dict | None, name: str, f_c: float) -> str:
    """Return the note that goes beside a theory capacity at coding level ``f_c``: its
    measured validity range, and a warning when f_c lies outside it."""
    if data is None or not measured(data):
        return "validity not measured (run bench/theory_validity.py)"
    segs = valid_segments(data, name)
    fs = [p["f_c"] for p in data["points"]]
    if not segs:
        return (f"not valid at any measured f_c ({min(fs):g}-{max(fs):g}, default network): "
                f"OUTSIDE its validity range")
    txt = (f"valid for {' and '.join(span(r) for r in segs)} of the measured "
           f"{min(fs):g}-{max(fs):g} on the default network")
    if not np.isfinite(f_c) or any(lo - 1e-9 <= f_c <= hi + 1e-9 for lo, hi in segs):
        return txt
    return f"OUTSIDE its validity range at f_c = {f_c:g}: {txt}"


def early_accuracy(point: dict, ages: int = 31) -> dict:
    """Return the early accuracy at one point: by age 0..ages-1 the simulated mean and 95%
    band over seeds, the full theory, the corrected full theory and the theory's Gaussian
    readout of the measured summed-weight moments (the semi-analytic readout), and for each
    prediction the number of ages at which it lies inside the band and its largest error."""
    fc = point["forgetting_curve"]
    f = lambda xs: np.array([np.nan if x is None else x for x in xs[:ages]], float)
    lo, hi, mean = f(fc["ci95_low"]), f(fc["ci95_high"]), f(fc["accuracy"])
    out: dict[str, Any] = {"ages": ages, "simulation": mean.tolist(), "band_low": lo.tolist(),
                           "band_high": hi.tolist()}
    preds = {"full": point["theory_accuracy_full"][:ages]}
    if point.get("corrected"):
        preds["corrected_full"] = point["corrected"]["accuracy_full"][:ages]
    if point.get("gaussian_accuracy_from_measured_moments"):
        preds["gaussian_measured"] = point["gaussian_accuracy_from_measured_moments"][:ages]
    for k, v in preds.items():
        a = f(v)
        out[k] = a.tolist()
        out[f"{k}_inside_band"] = int(np.sum((a >= lo) & (a <= hi)))
        out[f"{k}_max_abs_error"] = float(np.nanmax(np.abs(a - mean)))
    return out


def seed_spread(point: dict) -> dict | None:
    """Return the simulated standard deviation of the capacity over seeds (ddof 1) and the
    corrected theory's predicted one (Monte-Carlo seeds), at one point."""
    sim = point.get("simulation")
    if not sim or len(sim["per_seed"]) < 2:
        return None
    out = {"n_seeds": len(sim["per_seed"]), "simulated_sd": float(np.std(sim["per_seed"], ddof=1))}
    if point.get("corrected"):
        out["predicted_sd_full"] = point["corrected"]["capacity_full_sd"]
        out["predicted_sd_rate_only"] = point["corrected"]["capacity_rate_only_sd"]
        out["n_mc_seeds"] = len(point["corrected"]["seeds"])
    return out


def report_section(data: dict | None, base: Path, path: Path = RESULTS) -> list[str]:
    """Return the report's Markdown lines of the validity map: the figure (labelled with
    the command that made it), the table per f_c with every theory's validity, the
    validity ranges, the early accuracy and the seed spread at f_c = 0.1."""
    import os
    if data is None:
        return []
    png = Path(path).with_suffix(".png")
    lines = ["## Where the theory holds: the validity map in f_c", "",
             f"![validity map]({os.path.relpath(copy_figure(png, base / 'figures'), base)})",
             "",
             f"*Capacity against the coding level of the cues on the default network (NEST, "
             f"weight readout), with both theories and the corrected theory of docs/theory.md. "
             f"Made by `{data['command']}` on {data['date'][:10]} "
             f"({os.path.relpath(path, ROOT)}).*", "",
             "| f_c | episodes | simulation (95% interval, seeds) | full | rate only | "
             "corrected full (sd over seeds) | corrected rate only |", "|---|---|---|---|---|---|---|"]
    mark = lambda p, n: "" if is_valid(p, n) in (True, None) else " (outside)"
    for p in data["points"]:
        s = p.get("simulation")
        sim = (f"{s['mean']:.1f} ({s['ci95'][0]:.1f}-{s['ci95'][1]:.1f}, n={s['n_seeds']})"
               if s and s.get("ci95") else "-")
        c = p.get("corrected")
        cf = (f"{c['capacity_full']:.1f} ({c['capacity_full_sd']:.1f}){mark(p, 'corrected_full')}"
              if c else "-")
        cr = f"{c['capacity_rate_only']:.1f}{mark(p, 'corrected_rate_only')}" if c else "-"
        lines.append(f"| {p['f_c']:g} | {p['episodes']} | {sim} | "
                     f"{p['theory']['capacity_full']}{mark(p, 'full')} | "
                     f"{p['theory']['capacity_rate_only']}{mark(p, 'rate_only')} | {cf} | {cr} |")
    lines += ["", "Validity (the theory within the simulated 95% interval widened by 10% of "
                  "the simulated mean, the capacity tolerance of docs/validation.md):"]
    for name, label in THEORIES.items():
        segs = valid_segments(data, name)
        lines.append(f"- {label}: " + (" and ".join(span(r) for r in segs) if segs else
                                       "at no measured f_c" if measured(data) else
                                       "not measured (fewer than 2 seeds)"))
    p01 = next((p for p in data["points"] if p["f_c"] == 0.1 and "forgetting_curve" in p), None)
    if p01 is not None:
        ea = early_accuracy(p01)
        lines += ["", f"Early accuracy at f_c = 0.1 (ages 0-{ea['ages'] - 1}): simulated a(0) = "
                      f"{ea['simulation'][0]:.3f} (band {ea['band_low'][0]:.3f}-"
                      f"{ea['band_high'][0]:.3f}); full theory {ea['full'][0]:.3f}, inside the "
                      f"band at {ea['full_inside_band']} of {ea['ages']} ages"
                  + (f"; corrected {ea['corrected_full'][0]:.3f}, inside at "
                     f"{ea['corrected_full_inside_band']} of {ea['ages']} (largest error "
                     f"{ea['corrected_full_max_abs_error']:.3f})" if "corrected_full"
                     in ea else "")
                  + (f"; the Gaussian readout of the measured moments {ea['gaussian_measured'][0]:.3f}, "
                     f"inside at {ea['gaussian_measured_inside_band']} of {ea['ages']} (largest "
                     f"error {ea['gaussian_measured_max_abs_error']:.3f})" if "gaussian_measured"
                     in ea else "") + "."]
        sp = seed_spread(p01)
        if sp:
            lines.append(f"Seed spread of the capacity at f_c = 0.1: simulated sd "
                         f"{sp['simulated_sd']:.2f} episodes over {sp['n_seeds']} seeds"
                         + (f"; predicted (corrected theory, {sp['n_mc_seeds']} Monte-Carlo "
                            f"seeds) {sp['predicted_sd_full']:.2f} (full), "
                            f"{sp['predicted_sd_rate_only']:.2f} (rate only)"
                            if "predicted_sd_full" in sp else "") + ".")
    lines.append("")
    return lines
