"""Benchmark: the operating characteristic of ``python -m pipeline validate``'s three-way
rule (docs/validation.md, "Calibration").

Every comparison draws its own runs on both sides from fresh seeds (10001 upwards, never
used while the rule was designed), paired as the default comparisons are (the same seeds
on both sides):

- the null: NEST against NEST with ``simulation.replicate: 1`` (only NEST's own noise
  and supervision streams differ);
- graded changes of side B: Delta_c +5%, +10%, +25%; g x0.95, x0.9; time step 1 ms
  instead of 0.1 ms;

each at 2 seeds a side (what ``make run`` uses) and at 4. For every case: the fractions
of "equivalent", "inconclusive" and "different" verdicts, on the memory (forgetting curve
and capacity) and over all statistics, with 95% Clopper-Pearson intervals; a figure of
them against the size of the change (bench/results/validation_calibration.png/.svg).

The model is a REDUCED calibration network (the default's neurons and in-degrees with
N_E = 400, N_I = 100, training phases of 300 ms and STDP steps x4, so that the
forgetting curve crosses the threshold within 50 episodes: capacity ~35), not the
default network: its runs take ~12 s instead of ~100 s, which buys the repetitions. The
tolerances are the default config's. Results, with the code version of every run:
bench/results/validation_calibration.json.

Run by hand (about 50 minutes on 2 idle cores, 292 runs; finished runs are reused):

    .venv/bin/python bench/validation_calibration.py [--runs results/validation-calibration]
"""
from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST_SEED = 10001
EPISODES = 50
# name -> (dotted config key, value of side B, size of the change for the figure's axis)
CASES = {
    "null": ("simulation.replicate", 1, 0.0),
    "delta_c_+5%": ("stdp.delta_c", 1.05, 5.0),
    "delta_c_+10%": ("stdp.delta_c", 1.10, 10.0),
    "delta_c_+25%": ("stdp.delta_c", 1.25, 25.0),
    "g_x0.95": ("network.g", 0.95, 5.0),
    "g_x0.9": ("network.g", 0.90, 10.0),
    "dt_1ms": ("simulation.dt_ms", 1.0, None),
}
# repetitions (comparisons) per case at 2 and 4 seeds a side: most for the two rates the
# rule must hold (false "different" on the null, false "equivalent" on Delta_c +10%)
REPS = {"null": {2: 12, 4: 6}, "delta_c_+10%": {2: 12, 4: 6}}
REPS_OTHER = {2: 3, 4: 1}


def base_config() -> dict:
    """Return the reduced calibration config (module docstring), 1 thread, NEST."""
    with open(ROOT / "config" / "default.yaml") as fh:
        cfg = yaml.safe_load(fh)
    cfg["experiment"] = "validation-calibration"
    cfg["network"].update(n_exc=400, n_inh=100)
    cfg["protocol"].update(episodes=EPISODES, t_train_ms=300.0, t_warm_ms=100.0)
    cfg["stdp"].update(delta_c=4 * cfg["stdp"]["delta_c"], r_ac=4 * cfg["stdp"]["r_ac"])
    cfg["readout"]["spiking"] = False
    cfg["recording"].update(n_exc_sample=100, n_inh_sample=25, full_weights_at=[0, EPISODES - 1])
    cfg["simulation"].update(threads=1, backends=["nest"], seeds=[1])
    cfg["validation"]["comparisons"] = []
    cfg["sweep"]["simulation_values"] = []
    return cfg


def changed_config(case: str) -> dict:
    """Return side B's config of ``case``: the base with one key changed."""
    key, value, _ = CASES[case]
    cfg = copy.deepcopy(base_config())
    section, name = key.split(".")
    if key in ("stdp.delta_c", "network.g"):
        value = round(cfg[section][name] * value, 12)
    cfg[section][name] = value
    return cfg


def plan() -> list[dict]:
    """Return every comparison: case, seeds per side, its index; fresh seeds throughout."""
    seed, out = FIRST_SEED, []
    for case in CASES:
        for n, reps in REPS.get(case, REPS_OTHER).items():
            for r in range(reps):
                out.append({"case": case, "n": n, "rep": r, "seeds": list(range(seed, seed + n))})
                seed += n
    return out


def simulate(cfg_path: Path, seed: int, run: Path) -> float:
    """Simulate one run unless it is finished; return its wall time [s] (0 if reused)."""
    if (run / "provenance.json").is_file():
        return 0.0
    t = time.perf_counter()
    run.parent.mkdir(parents=True, exist_ok=True)
    with open(run.parent / f"{run.name}.log", "w") as fh:
        subprocess.run([sys.executable, "-m", "pipeline", "simulate", "--config", str(cfg_path),
                        "--backend", "nest", "--seed", str(seed), "--out", str(run)],
                       cwd=ROOT, stdout=fh, stderr=fh, check=True)
    return time.perf_counter() - t


def proportion(k: int, n: int) -> dict:
    """Return k/n with its 95% Clopper-Pearson interval."""
    from scipy.stats import binomtest
    ci = binomtest(k, n).proportion_ci(0.95, method="exact") if n else None
    return {"k": k, "n": n, "fraction": k / n if n else None,
            "ci95": [ci.low, ci.high] if ci else None}


def summarise(rows: list[dict]) -> dict:
    """Return, per case and seeds a side, the verdict fractions (memory and overall)."""
    out: dict = {}
    for case in CASES:
        for n in (2, 4):
            sel = [r for r in rows if r["case"] == case and r["n"] == n]
            if not sel:
                continue
            out.setdefault(case, {})[str(n)] = {
                level: {v: proportion(sum(r[level] == v for r in sel), len(sel))
                        for v in ("equivalent", "inconclusive", "different")}
                for level in ("memory", "overall")}
    return out


def figure(summary: dict, path: Path) -> None:
    """Fractions of verdicts against the size of the change (operating characteristic)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from pipeline.io import save_figure

    groups = [("Delta_c change [%]", ["null", "delta_c_+5%", "delta_c_+10%", "delta_c_+25%"]),
              ("g reduced by [%]", ["null", "g_x0.95", "g_x0.9"]),
              ("time step", ["null", "dt_1ms"])]
    colours = {"equivalent": "#1b7837", "inconclusive": "#e08214", "different": "#c51b7d"}
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.4), sharey=True, squeeze=False)
    for row, level in enumerate(("memory", "overall")):
        for ax, (label, cases) in zip(axes[row], groups):
            cases = [c for c in cases if c in summary]
            x = [CASES[c][2] if CASES[c][2] is not None else 1.0 for c in cases]
            if label == "time step":
                x = [0.1 if c == "null" else 1.0 for c in cases]
            for n, style in (("2", "-"), ("4", "--")):
                for v, col in colours.items():
                    pts = [(xi, summary[c][n][level][v]) for xi, c in zip(x, cases) if n in summary[c]]
                    if not pts:
                        continue
                    xs = np.array([p[0] for p in pts]) + (0.15 if n == "4" else 0) * (x[-1] - x[0] or 1) / 10
                    ys = np.array([p[1]["fraction"] for p in pts])
                    lo = ys - np.array([p[1]["ci95"][0] for p in pts])
                    hi = np.array([p[1]["ci95"][1] for p in pts]) - ys
                    ax.errorbar(xs, ys, yerr=[lo, hi], color=col, ls=style, marker="o", ms=4,
                                capsize=2, label=f"{v}, {n} seeds" if ax is axes[0][0] else None)
            ax.axhline(0.05, color="0.6", lw=0.8, ls=":")
            ax.set_xlabel(label)
            ax.set_title(f"{level} verdict", fontsize=9)
    axes[0][0].set_ylabel("fraction of comparisons")
    axes[1][0].set_ylabel("fraction of comparisons")
    axes[0][0].legend(fontsize=6, ncol=2)
    fig.suptitle("validate's operating characteristic (reduced calibration network; bars: 95% "
                 "Clopper-Pearson; dotted: 5%)", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", default=str(ROOT / "results" / "validation-calibration"))
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "validation_calibration.json"))
    args = ap.parse_args()
    from bench.results_file import machine, now
    from pipeline.io import write_json
    from pipeline.validation import validate

    runs = Path(args.runs)
    cfg_paths = {}
    for name in ["base", *CASES]:
        cfg = base_config() if name == "base" else changed_config(name)
        cfg_paths[name] = runs / name / "config.yaml"
        cfg_paths[name].parent.mkdir(parents=True, exist_ok=True)
        cfg_paths[name].write_text(yaml.safe_dump(cfg, sort_keys=False))
    comparisons = plan()
    jobs = [(cfg_paths[side], s, runs / side / f"seed-{s}")
            for c in comparisons for s in c["seeds"] for side in ("base", c["case"])]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:        # two simulations at once: 2 cores, 1 thread each
        for i, wall in enumerate(pool.map(lambda j: simulate(*j), jobs)):
            if wall and (i % 20 == 0):
                print(f"[calibration] {i + 1}/{len(jobs)} runs ({time.perf_counter() - t0:.0f} s)",
                      flush=True)
    tolerances = base_config()["validation"]["tolerances"]
    rows = []
    for c in comparisons:
        key = CASES[c["case"]][0]
        a = [runs / "base" / f"seed-{s}" for s in c["seeds"]]
        b = [runs / c["case"] / f"seed-{s}" for s in c["seeds"]]
        v = validate(a, b, None, quiet=True, networkunit=False, tolerances=tolerances,
                     allowed=() if key == "simulation.replicate" else (key,))
        rows.append({**c, "memory": v["memory_verdict"], "overall": v["verdict"],
                     "counts": v["counts"],
                     "statistics": {e["name"]: e["verdict"] for e in v["statistics"]},
                     "code_versions": sorted({json.dumps(json.loads(
                         (r / "provenance.json").read_text()).get("code_version"),
                         sort_keys=True) for r in a + b})})
    summary = summarise(rows)
    out = Path(args.out)
    figure(summary, out.with_suffix(""))
    write_json(out, {"date": now(), "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
                     "machine": machine(), "model": "reduced calibration network (module "
                     "docstring): N_E 400, N_I 100, 50 episodes of 300 ms, STDP steps x4",
                     "tolerances": tolerances, "cases": {k: list(v) for k, v in CASES.items()},
                     "summary": summary, "comparisons": rows,
                     "wall_s": round(time.perf_counter() - t0, 1)})
    for case, by_n in summary.items():
        for n, lv in by_n.items():
            f = {lvl: "/".join(f"{lv[lvl][v]['k']}" for v in ("equivalent", "inconclusive",
                                                               "different"))
                 for lvl in lv}
            print(f"{case:14s} n={n}: memory eq/inc/diff {f['memory']}, overall {f['overall']} "
                  f"of {lv['memory']['equivalent']['n']}")


if __name__ == "__main__":
    main()
