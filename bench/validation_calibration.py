"""Benchmark: false-alarm rate and power of ``python -m pipeline validate``.

DESIGN.md section 8: a verdict is only worth its measured false-alarm rate (the same
model, other seeds) and its power (deliberately changed models). This script

1. simulates NEST runs of one short calibration config (the default network with
   f_c = 0.2, so that the forgetting curve crosses the threshold within 40 episodes):
   seeds 1..8 of the unchanged model, and seeds 11, 12 of each of three changed models
   (inhibition g halved; potentiation step Delta_c +25%; time step 1 ms instead of 0.1 ms);
2. validates many splits: unchanged vs unchanged (disjoint seed sets, 2 vs 2 and 4 vs 4)
   for the false-alarm rate, unchanged vs each changed model for the power;
3. writes bench/results/validation_calibration.json.

Run by hand (about 15 minutes on 2 cores; finished runs are reused):

    .venv/bin/python bench/validation_calibration.py [--runs results/validation-calibration]
"""
from __future__ import annotations

import argparse
import copy
import datetime
import itertools
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASE_SEEDS = list(range(1, 9))
CHANGED_SEEDS = [11, 12]
EPISODES = 40
# name -> (dotted config key, value): the deliberate model changes
CHANGES = {
    "g_halved": ("network.g", 2.5),
    "delta_c_plus_25pc": ("stdp.delta_c", 0.0025),
    "dt_1ms": ("simulation.dt_ms", 1.0),
}


def calibration_config(change: tuple[str, float] | None = None) -> dict:
    """Return the calibration config (default network, f_c = 0.2, 40 episodes, 1 thread),
    with one dotted key changed if ``change`` is given."""
    with open(ROOT / "config" / "default.yaml") as fh:
        cfg = yaml.safe_load(fh)
    cfg["experiment"] = "validation-calibration"
    cfg["inputs"]["f_c"] = 0.2
    cfg["protocol"]["episodes"] = EPISODES
    cfg["recording"]["full_weights_at"] = [0, EPISODES - 1]
    cfg["simulation"].update(threads=1, backends=["nest"])
    cfg["validation"]["comparisons"] = []
    if change:
        section, key = change[0].split(".")
        cfg[section][key] = change[1]
    return cfg


def simulate_all(runs: Path) -> dict[str, list[Path]]:
    """Simulate every run that has no provenance.json yet; return run dirs per model."""
    models = {"unchanged": (None, BASE_SEEDS)}
    models.update({k: (v, CHANGED_SEEDS) for k, v in CHANGES.items()})
    out: dict[str, list[Path]] = {}
    for name, (change, seeds) in models.items():
        cfg_path = runs / name / "config.yaml"
        cfg_path.parent.mkdir(parents=True, exist_ok=True)
        cfg_path.write_text(yaml.safe_dump(calibration_config(change), sort_keys=False))
        out[name] = []
        for s in seeds:
            run = runs / name / f"seed-{s}"
            out[name].append(run)
            if (run / "provenance.json").is_file():
                continue
            t = time.perf_counter()
            log = runs / name / f"simulate-seed-{s}.log"
            with open(log, "w") as fh:
                subprocess.run([sys.executable, "-m", "pipeline", "simulate", "--config",
                                str(cfg_path), "--backend", "nest", "--seed", str(s),
                                "--out", str(run)], cwd=ROOT, stdout=fh, stderr=fh, check=True)
            print(f"simulated {name} seed {s} in {time.perf_counter() - t:.0f} s", flush=True)
    return out


def splits(seeds: list, k: int, n: int, rng: np.random.Generator) -> list[tuple]:
    """Return up to n distinct splits (A, B) of ``seeds`` into two disjoint sets of k."""
    all_pairs = [(a, b) for a in itertools.combinations(seeds, k)
                 for b in itertools.combinations([s for s in seeds if s not in a], k)
                 if a < b]
    idx = rng.permutation(len(all_pairs))[:n]
    return [all_pairs[i] for i in sorted(idx)]


def evaluate(runs: dict[str, list[Path]], work: Path) -> dict:
    """Validate the splits; return the calibration record."""
    from pipeline.validation import ALPHA, holm_rejected, validate

    rng = np.random.default_rng(2025)
    base = dict(zip(BASE_SEEDS, runs["unchanged"]))
    result = {"false_alarm": {}, "false_alarm_networkunit": {}, "power": {}}
    for k, n in ((2, 20), (4, 10)):
        verdicts, nu = [], []
        for a, b in splits(BASE_SEEDS, k, n, rng):
            v = validate([base[s] for s in a], [base[s] for s in b], None, quiet=True)
            verdicts.append({"a": list(a), "b": list(b), "verdict": v["verdict"],
                             "different": [s["name"] for s in v["statistics"]
                                           if s["verdict"] == "different"]})
            # NetworkUnit's pooled-sample tests on the same split, used as a verdict:
            # "different" if any test's p <= alpha (uncorrected) / after Holm
            tests = {t: x for t, x in v["networkunit"]["tests"].items() if "p_value" in x}
            p = [x["p_value"] for x in tests.values()]
            rejected = holm_rejected(p, ALPHA)
            nu.append({"a": list(a), "b": list(b),
                       "significant": [t for t, x in tests.items() if x["p_value"] <= ALPHA],
                       "significant_holm": [t for i, t in enumerate(tests) if i in rejected]})
        result["false_alarm"][f"{k}_vs_{k}"] = {
            "splits": len(verdicts),
            "rate": float(np.mean([x["verdict"] == "different" for x in verdicts])),
            "verdicts": verdicts}
        result["false_alarm_networkunit"][f"{k}_vs_{k}"] = {
            "splits": len(nu),
            "rate_uncorrected": float(np.mean([bool(x["significant"]) for x in nu])),
            "rate_holm": float(np.mean([bool(x["significant_holm"]) for x in nu])),
            "splits_detail": nu}
    a_sets = [tuple(x) for x in rng.permutation(list(itertools.combinations(BASE_SEEDS, 2)))[:10]]
    for name in CHANGES:
        verdicts = []
        for a in a_sets:
            v = validate([base[int(s)] for s in a], runs[name], None, quiet=True,
                         networkunit=False)
            top = sorted((s for s in v["statistics"] if s.get("effect_size") is not None),
                         key=lambda s: -abs(s["effect_size"]))[:3]
            verdicts.append({"a": [int(s) for s in a], "verdict": v["verdict"],
                             "n_different": sum(s["verdict"] == "different"
                                                for s in v["statistics"]),
                             "largest_effects": {s["name"]: round(s["effect_size"], 2)
                                                 for s in top}})
        result["power"][name] = {
            "change": f"{CHANGES[name][0]} = {CHANGES[name][1]}",
            "comparisons": len(verdicts),
            "rate": float(np.mean([x["verdict"] == "different" for x in verdicts])),
            "verdicts": verdicts}
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", default=str(ROOT / "results" / "validation-calibration"))
    ap.add_argument("--simulate-only", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    runs = simulate_all(Path(args.runs))
    if args.simulate_only:
        return
    t1 = time.perf_counter()
    record = {
        "what": "false-alarm rate and power of `python -m pipeline validate`",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(), "python": platform.python_version(),
        "config": "config/default.yaml with inputs.f_c = 0.2, protocol.episodes = 40, "
                  "simulation.threads = 1",
        "seeds_unchanged": BASE_SEEDS, "seeds_changed": CHANGED_SEEDS,
        **evaluate(runs, Path(args.runs)),
        "wall_simulate_s": round(t1 - t0, 1),
        "wall_validate_s": round(time.perf_counter() - t1, 1),
    }
    out = ROOT / "bench" / "results" / "validation_calibration.json"
    out.write_text(json.dumps(record, indent=2) + "\n")
    fa = record["false_alarm"]
    print("false-alarm rate: " + ", ".join(f"{k}: {v['rate']:.2f} over {v['splits']} splits"
                                          for k, v in fa.items()))
    print("NetworkUnit's pooled tests as a verdict, false-alarm rate: " + ", ".join(
        f"{k}: {v['rate_uncorrected']:.2f} (Holm {v['rate_holm']:.2f})"
        for k, v in record["false_alarm_networkunit"].items()))
    print("power: " + ", ".join(f"{k}: {v['rate']:.2f}" for k, v in record["power"].items()))
    print(f"-> {out}")


if __name__ == "__main__":
    main()
