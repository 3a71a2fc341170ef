"""The ``sweep`` step: the aggregate of a sweep. Capacity against one config parameter
(e.g. the coding level f_c) for both theories on every value and, on the simulated values,
for every spiking backend with its 95% interval over seeds.

Writes ``sweep.csv`` (one row per value; per backend the columns
``capacity_simulation_<backend>``, ``ci95_low_<backend>``, ``ci95_high_<backend>``,
``n_seeds_<backend>``, ``simulation_lower_bound_<backend>``) and ``sweep.png/.svg``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .io import read_json, save_figure, write_csv, write_json
from .provenance import Provenance


def sweep_step(points: list[tuple[float, Path, list[Path]]], key: str, out: Path) -> list[dict]:
    """``points``: (parameter value, theory JSON, capacity JSONs of simulations, maybe
    none). Returns the table rows (capacities in episodes) and writes CSV and figure."""
    rows = []
    for value, theory, caps in sorted(points, key=lambda x: x[0]):
        th = read_json(theory, "theory file")
        row = {key: value,
               "capacity_theory_full": th["capacity_full"],
               "theory_full_crossed": th.get("crossed_full", True),
               "capacity_theory_rate_only": th["capacity_rate_only"],
               "theory_rate_only_crossed": th.get("crossed_rate_only", True)}
        for cap in caps:
            c = read_json(cap, "capacity file")
            cs = c["capacity_simulation"]
            backend = ",".join(c["backend"])
            row[f"capacity_simulation_{backend}"] = cs["mean"]
            lo, hi = cs["ci95"] or (None, None)
            row[f"ci95_low_{backend}"], row[f"ci95_high_{backend}"] = lo, hi
            row[f"simulation_lower_bound_{backend}"] = cs["lower_bound"]
            row[f"n_seeds_{backend}"] = cs["n_seeds"]
        rows.append(row)
    fields = sorted({k for r in rows for k in r}, key=lambda k: (k != key, k))
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "sweep.csv", rows, fields)
    _plot(rows, key, out / "sweep")
    write_json(out / "provenance.json",
               Provenance("sweep", None, parameter=key,
                          inputs=[str(t) for _, t, _ in points]).finish())
    return rows


def _plot(rows: list[dict], key: str, stem: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.array([r[key] for r in rows])
    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    for name, color, label in (("full", "C3", "theory, with cross-correlations"),
                               ("rate_only", "C2", "theory, rate only")):
        y = np.array([r[f"capacity_theory_{name}"] for r in rows], float)
        crossed = np.array([r[f"theory_{name}_crossed"] for r in rows], bool)
        ax.plot(x, y, "--o", color=color, label=label, ms=4)
        ax.plot(x[~crossed], y[~crossed], "^", color=color, ms=8, mfc="none")
    sims = sorted({k[len("capacity_simulation_"):] for r in rows for k in r
                   if k.startswith("capacity_simulation_")})
    span = float(np.ptp(x)) if len(x) > 1 else 1.0
    for i, b in enumerate(sims):
        pts = [r for r in rows if f"capacity_simulation_{b}" in r]
        # backends side by side around each value (0.8% of the axis apart), not on top
        xs = np.array([r[key] for r in pts], float) + (i - (len(sims) - 1) / 2) * 0.008 * span
        ys = np.array([r[f"capacity_simulation_{b}"] for r in pts], float)
        lo = np.array([r[f"ci95_low_{b}"] if r[f"ci95_low_{b}"] is not None else y
                       for r, y in zip(pts, ys)], float)
        hi = np.array([r[f"ci95_high_{b}"] if r[f"ci95_high_{b}"] is not None else y
                       for r, y in zip(pts, ys)], float)
        ax.errorbar(xs, ys, yerr=[ys - lo, hi - ys], fmt="s", color=f"C{i}", capsize=3,
                    label=f"simulation ({b})")
    ax.set_xlabel(key)
    ax.set_ylabel("memory capacity [episodes]")
    ax.set_title("Capacity against " + key + " (open triangle: lower bound)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, stem)
    plt.close(fig)
