"""Benchmark: where the theory holds in the coding level f_c (issue 25; docs/theory.md).

The default network (config/default.yaml) on NEST, weight readout only
(``readout.spiking: false``), at five coding levels of the cues f_c = 0.05 ... 0.25 (whole
numbers of cue inputs on M = 100: 5, 10, 15, 20, 25), seeds 1-4 each, plus seeds 5-8 at
the default point f_c = 0.1 for the seed-to-seed spread. Per f_c the number of episodes
is about 1.5x the rate-only theory's capacity (at least 40, so that the 20 reference
memories are followed over >= 20 ages; ``EPISODES``), so that both theories and the
simulation cross the threshold. For every f_c: the simulated capacity per seed (the
``capacity`` step, pipeline/capacity.py), both theories (the ``theory`` step,
pipeline.theory.predict) and the corrected theory (pipeline/theory/validity.py), and the
measured moments of the readout's summed cue weights (pipeline/theory/validity.py,
``readout_moments``) against the theory's memory trace.

Resumable: finished runs (provenance.json present) are skipped; the results file is
rewritten atomically after every run. One simulation at a time, 1 thread.

    .venv/bin/python bench/theory_validity.py                # simulate what is missing, summarise
    .venv/bin/python bench/theory_validity.py --summarise    # summarise the finished runs only

Results: bench/results/theory_validity.json and theory_validity.png/.svg.
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from validation_calibration import simulate  # noqa: E402  (one run unless finished)

F_C = [0.05, 0.1, 0.15, 0.2, 0.25]
# episodes per f_c: ~1.5x the rate-only theory's capacity (158, 66, 28, 14, 7 on the
# default network), rounded up to tens, at least 40
EPISODES = {0.05: 240, 0.1: 100, 0.15: 50, 0.2: 40, 0.25: 40}
SEEDS = [1, 2, 3, 4]
EXTRA_SEEDS = {0.1: [5, 6, 7, 8]}       # the seed spread at the default point
DEFAULT_RUNS = ROOT / "results" / "theory-validity"
OUT = ROOT / "bench" / "results" / "theory_validity.json"


def point_config(f_c: float) -> dict:
    """Return the default config at coding level ``f_c``: NEST, 1 thread, weight readout
    only, EPISODES[f_c] episodes, full weights recorded at 8 episodes."""
    from pipeline.config_sources import load_config
    cfg = copy.deepcopy(load_config(ROOT / "config" / "default.yaml"))
    P = EPISODES[f_c]
    cfg["experiment"] = f"theory-validity-fc{f_c}"
    cfg["inputs"]["f_c"] = f_c
    cfg["protocol"]["episodes"] = P
    cfg["readout"]["spiking"] = False
    cfg["simulation"].update(threads=1, backends=["nest"], seeds=SEEDS)
    cfg["recording"]["full_weights_at"] = sorted({int(x) for x in np.linspace(0, P - 1, 8)})
    cfg["validation"]["comparisons"] = []
    cfg["sweep"]["simulation_values"] = []
    return cfg


def jobs() -> list[tuple[float, int]]:
    """Return (f_c, seed) of every run, in the order they are simulated: seed by seed over
    all f_c (a partial result covers the whole map), the extra seeds before the last seed
    (the seed spread at the default point needs them all)."""
    order = (0.1, 0.2, 0.25, 0.15, 0.05)
    out = [(f, s) for s in SEEDS[:-1] for f in order]
    out += [(f, s) for f, ss in EXTRA_SEEDS.items() for s in ss]
    out += [(f, SEEDS[-1]) for f in order]
    return out


def run_dir(runs: Path, f_c: float, seed: int) -> Path:
    return runs / f"fc-{f_c}" / f"seed-{seed}"


def summarise(runs: Path, walls: dict) -> dict:
    """Return the results: per f_c the simulated capacities and both theories (and the
    corrected theory and the readout moments when pipeline.theory.validity has them)."""
    from pipeline.capacity import capacity_step
    from pipeline.io import write_json
    from pipeline.theory import predict

    points = []
    for f_c in F_C:
        seeds = sorted(SEEDS + EXTRA_SEEDS.get(f_c, []))
        done = [run_dir(runs, f_c, s) for s in seeds
                if (run_dir(runs, f_c, s) / "provenance.json").is_file()]
        cfg = point_config(f_c)
        th_path = runs / f"fc-{f_c}" / "theory.json"
        if not th_path.is_file():
            write_json(th_path, predict(cfg))
        th = json.loads(th_path.read_text())
        point = {"f_c": f_c, "n_cue": int(round(f_c * cfg["inputs"]["m"])),
                 "episodes": cfg["protocol"]["episodes"],
                 "theory": {k: th[k] for k in ("capacity_full", "capacity_rate_only",
                                               "crossed_full", "crossed_rate_only",
                                               "rates_full", "rates_rate_only")},
                 "theory_accuracy_full": th["accuracy_full"],
                 "theory_accuracy_rate_only": th["accuracy_rate_only"],
                 "runs": [str(r.relative_to(ROOT)) for r in done],
                 "wall_s": {str(s): walls.get(f"{f_c}/{s}") for s in seeds}}
        if done:
            cap = capacity_step(done, runs / f"fc-{f_c}" / "capacity", theory=str(th_path))
            point["simulation"] = cap["capacity_simulation"]
            point["forgetting_curve"] = cap["forgetting_curve"]
            point["simulated_rates_hz"] = _rates(done)
            point["code_versions"] = sorted({json.dumps(json.loads(
                (r / "provenance.json").read_text()).get("code_version"), sort_keys=True)
                for r in done})
        if done:
            try:      # the analysis of pipeline/theory/validity.py, when it is there
                from pipeline.theory import validity
                point.update(validity.bench_point(cfg, th, done, corrected(runs, f_c, cfg)))
            except Exception as err:      # a summary without it beats a lost run
                print(f"[theory-validity] no validity analysis: {err!r}", flush=True)
        points.append(point)
    return {"points": points}


def corrected(runs: Path, f_c: float | str, cfg: dict, seeds: list[int] | None = None) -> dict:
    """Return the corrected theory of one point (pipeline.theory.validity.
    corrected_prediction; it depends on the config only), cached in fc-<f_c>/corrected.json
    with the config hash and Monte-Carlo seeds it was computed for."""
    from pipeline.config import config_hash
    from pipeline.io import write_json
    from pipeline.theory.validity import CORRECTED_SEEDS, corrected_prediction
    seeds = list(CORRECTED_SEEDS if seeds is None else seeds)
    path = runs / f"fc-{f_c}" / "corrected.json"
    key = {"config_hash": config_hash(cfg), "seeds": seeds}
    if path.is_file():
        cached = json.loads(path.read_text())
        if cached.get("key") == key:
            return cached["corrected"]
    out = corrected_prediction(cfg, seeds=seeds)
    write_json(path, {"key": key, "corrected": out})
    return out


def paper_point(runs: Path) -> dict:
    """Return both theories and the corrected theory (2 Monte-Carlo seeds: the paper-scale
    matrix is 200 x 4000 over ~600 episodes) of config/paper.yaml: no simulation here."""
    from pipeline.config_sources import load_config
    from pipeline.theory import predict
    cfg = load_config([ROOT / "config" / "default.yaml", ROOT / "config" / "paper.yaml"])
    th = predict(cfg)
    c = corrected(runs, "paper", cfg, seeds=[1, 2])
    return {"config": "config/paper.yaml", "capacity_full": th["capacity_full"],
            "capacity_rate_only": th["capacity_rate_only"],
            "accuracy_full_0_30": th["accuracy_full"][:31],
            "corrected": {k: v for k, v in c.items() if not k.startswith("accuracy")},
            "corrected_accuracy_full_0_30": c["accuracy_full"][:31]}


def _rates(done: list[Path]) -> dict:
    """Mean training rates [Hz] over episodes and seeds (episodes.csv of every run)."""
    from pipeline.io import read_csv
    rows = [r for d in done for r in read_csv(d / "episodes.csv")]
    return {k: float(np.mean([float(r[f"rate_{k}_hz"]) for r in rows]))
            for k in ("target", "non_target", "inh")}


def figure(data: dict, path: Path, command: str) -> None:
    """Left: capacity against f_c, simulation (mean, 95% interval, seeds), both theories
    and the corrected ones (log scale). Middle: each theory over the simulated mean, with
    the simulation's 95% interval and the 10% capacity tolerance around 1 (the validity
    rule of pipeline/validity_map.py). Right: the early accuracy (ages 0-30) at f_c = 0.1."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from pipeline.io import save_figure

    fig, (ax, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4.4))
    pts = data["points"]
    lines = [("full", "C3--o", "theory, full (with CCG)"),
             ("rate_only", "C2--s", "theory, rate only"),
             ("corrected_full", "C4-^", "corrected, full (docs/theory.md)"),
             ("corrected_rate_only", "C8:v", "corrected, rate only")]

    def cap(p, key):
        if key.startswith("corrected_"):
            return p["corrected"][f"capacity_{key[10:]}"] if "corrected" in p else None
        return p["theory"][f"capacity_{key}"]

    for key, style, label in lines:
        xy = [(p["f_c"], cap(p, key)) for p in pts if cap(p, key) is not None]
        if xy:
            ax.plot(*zip(*xy), style, ms=4, lw=1.2, label=label)
        r = [(p["f_c"], cap(p, key) / p["simulation"]["mean"]) for p in pts
             if cap(p, key) is not None and "simulation" in p]
        if r:
            ax2.plot(*zip(*r), style, ms=4, lw=1.2, label=label)
    sim = [p for p in pts if "simulation" in p]
    for p in sim:
        s = p["simulation"]
        ax.plot([p["f_c"]] * len(s["per_seed"]), s["per_seed"], ".", color="C0", alpha=0.5)
        if s.get("ci95"):
            ax.errorbar(p["f_c"], s["mean"], yerr=[[s["mean"] - s["ci95"][0]],
                                                  [s["ci95"][1] - s["mean"]]],
                        color="C0", capsize=3, marker="o")
    if sim:
        f = [p["f_c"] for p in sim]
        ax.plot(f, [p["simulation"]["mean"] for p in sim], "C0-", lw=1.5,
                label="NEST (mean, 95% t-interval; dots: seeds)")
        ok = [p for p in sim if p["simulation"].get("ci95")]
        if ok:
            lo = [p["simulation"]["ci95"][0] / p["simulation"]["mean"] - 0.1 for p in ok]
            hi = [p["simulation"]["ci95"][1] / p["simulation"]["mean"] + 0.1 for p in ok]
            ax2.fill_between([p["f_c"] for p in ok], lo, hi, color="C0", alpha=0.2, lw=0,
                             label="valid: simulated 95% interval +- 10%")
    ax2.axhline(1.0, color="C0", lw=1)
    p01 = next((p for p in pts if p["f_c"] == 0.1 and "forgetting_curve" in p), None)
    if p01 is not None:
        from pipeline.validity_map import early_accuracy
        ea = early_accuracy(p01)
        age = np.arange(ea["ages"])
        ax3.plot(age, ea["simulation"], "C0-", lw=1.5, label="NEST (mean over seeds)")
        ax3.fill_between(age, ea["band_low"], ea["band_high"], color="C0", alpha=0.25, lw=0,
                         label="95% interval over seeds")
        ax3.plot(age, ea["full"], "C3--", label="theory, full")
        if "corrected_full" in ea:
            ax3.plot(age, ea["corrected_full"], "C4-", label="corrected, full")
        ax3.set_xlabel("age of the memory [episodes]")
        ax3.set_ylabel("recall accuracy")
        ax3.set_title("Early accuracy, f_c = 0.1", fontsize=10)
        ax3.legend(fontsize=7)
    ax.set_yscale("log")
    for a in (ax, ax2):
        a.set_xlabel("coding level of the cues f_c")
    ax.set_ylabel("capacity [episodes]")
    ax2.set_ylabel("theory / simulated capacity")
    ax.set_title("Capacity against f_c, default network", fontsize=10)
    ax2.set_title("Where each theory holds", fontsize=10)
    ax.legend(fontsize=7)
    ax2.legend(fontsize=7)
    fig.text(0.01, 0.005, command, fontsize=6, color="0.4")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    save_figure(fig, path)
    plt.close(fig)


def write(runs: Path, walls: dict, out: Path, command: str, t0: float) -> dict:
    from bench.results_file import machine, now
    from pipeline.io import write_json
    data = summarise(runs, walls)
    data["paper_scale"] = paper_point(runs)
    data.update({"date": now(), "command": command, "machine": machine(),
                 "model": "config/default.yaml; NEST; readout.spiking false; threads 1",
                 "episodes": {str(k): v for k, v in EPISODES.items()},
                 "seeds": SEEDS, "extra_seeds": {str(k): v for k, v in EXTRA_SEEDS.items()},
                 "wall_s_total": round(time.perf_counter() - t0, 1)})
    write_json(out, data)
    figure(data, out.with_suffix(""), command)
    return data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", default=str(DEFAULT_RUNS))
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--summarise", action="store_true", help="no simulation: summarise only")
    args = ap.parse_args()
    runs, out = Path(args.runs), Path(args.out)
    command = " ".join(["python bench/theory_validity.py", *sys.argv[1:]])
    old = json.loads(out.read_text()) if out.is_file() else {}
    walls = {f"{p['f_c']}/{s}": w for p in old.get("points", [])
             for s, w in p.get("wall_s", {}).items() if w}
    t0 = time.perf_counter()
    cfg_paths = {}
    for f_c in F_C:
        cfg_paths[f_c] = runs / f"fc-{f_c}" / "config.yaml"
        cfg_paths[f_c].parent.mkdir(parents=True, exist_ok=True)
        cfg_paths[f_c].write_text(yaml.safe_dump(point_config(f_c), sort_keys=False))
    if not args.summarise:
        todo = jobs()
        for i, (f_c, seed) in enumerate(todo):
            wall = simulate(cfg_paths[f_c], seed, run_dir(runs, f_c, seed))
            if wall:
                walls[f"{f_c}/{seed}"] = round(wall, 1)
                print(f"[theory-validity] {i + 1}/{len(todo)} f_c {f_c} seed {seed}: "
                      f"{wall:.0f} s", flush=True)
                write(runs, walls, out, command, t0)
    data = write(runs, walls, out, command, t0)
    for p in data["points"]:
        s = p.get("simulation")
        sim = (f"{s['mean']:.1f} {[round(x, 1) for x in s['ci95']] if s.get('ci95') else ''} "
               f"n={s['n_seeds']}") if s else "-"
        print(f"f_c {p['f_c']}: simulated {sim}; full {p['theory']['capacity_full']}, "
              f"rate-only {p['theory']['capacity_rate_only']}"
              + (f"; corrected {p['corrected']['capacity_full']}" if "corrected" in p else ""))


if __name__ == "__main__":
    main()
