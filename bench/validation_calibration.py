"""Benchmark: false-alarm rate and power of ``python -m pipeline validate``.

docs/design.md section 8: a verdict is only worth its measured false-alarm rate (the same
model, other seeds) and its power (deliberately changed models). This script

1. simulates NEST runs of one short calibration config (the default network with
   f_c = 0.2, so that the forgetting curve crosses the threshold within 40 episodes):
   seeds 1..8 of the unchanged model, and seeds 11, 12 of each of three changed models
   (inhibition g halved; potentiation step Delta_c +25%; time step 1 ms instead of 0.1 ms);
2. decides many splits (each run's statistics computed once, then
   ``pipeline.validation.decide``): unchanged vs unchanged (disjoint seed sets, 2 vs 2 and
   4 vs 4) for the false-alarm rate, unchanged (2 or 4 seeds) vs each changed model for
   the power; NetworkUnit's pooled tests on the false-alarm splits (``--no-networkunit``
   carries their previous record over);
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


def _verdict(entries: list[dict]) -> dict:
    """The verdict of decided statistics, the names that differ and the largest effects."""
    tested = [e for e in entries if e.get("effect_size") is not None]
    top = sorted(tested, key=lambda e: -abs(e["effect_size"]))[:3]
    different = [e["name"] for e in entries if e["verdict"] == "different"]
    return {"verdict": "different" if different else "consistent", "different": different,
            "n_different": len(different),
            "largest_effects": {e["name"]: round(e["effect_size"], 2) for e in top}}


def evaluate(runs: dict[str, list[Path]], networkunit: bool) -> dict:
    """Decide the splits with ``pipeline.validation.decide`` (each run's statistics are
    computed once); with ``networkunit``, also run NetworkUnit's pooled tests on the
    false-alarm splits. Returns the calibration record."""
    from pipeline.validation import (ALPHA, context, decide, holm_rejected, load_run,
                                     run_measures, validate)

    rng = np.random.default_rng(2025)
    loaded = {name: [load_run(p) for p in paths] for name, paths in runs.items()}
    ctx = context([r for rs in loaded.values() for r in rs])
    meas = {name: [run_measures([r], ctx) for r in rs] for name, rs in loaded.items()}

    def side(name: str, idx: list[int]) -> dict:
        return {k: [meas[name][i][k][0] for i in idx] for k in meas[name][0]}

    base = {s: i for i, s in enumerate(BASE_SEEDS)}
    result = {"false_alarm": {}, "false_alarm_networkunit": {}, "power": {}}
    for k, n in ((2, 20), (4, 10)):
        verdicts, nu = [], []
        for a, b in splits(BASE_SEEDS, k, n, rng):
            entries, _, _ = decide(side("unchanged", [base[s] for s in a]),
                                   side("unchanged", [base[s] for s in b]), ALPHA)
            verdicts.append({"a": list(a), "b": list(b), **_verdict(entries)})
            if not networkunit:
                continue
            # NetworkUnit's pooled-sample tests on the same split, used as a verdict:
            # "different" if any test's p <= alpha (uncorrected) / after Holm
            v = validate([runs["unchanged"][base[s]] for s in a],
                         [runs["unchanged"][base[s]] for s in b], None, quiet=True)
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
        if networkunit:
            result["false_alarm_networkunit"][f"{k}_vs_{k}"] = {
                "splits": len(nu),
                "rate_uncorrected": float(np.mean([bool(x["significant"]) for x in nu])),
                "rate_holm": float(np.mean([bool(x["significant_holm"]) for x in nu])),
                "splits_detail": nu}
    changed = list(range(len(CHANGED_SEEDS)))
    for k in (2, 4):
        a_sets = [tuple(int(s) for s in x) for x in
                  rng.permutation(list(itertools.combinations(BASE_SEEDS, k)))[:10]]
        for name in CHANGES:
            verdicts = []
            for a in a_sets:
                entries, _, _ = decide(side("unchanged", [base[s] for s in a]),
                                       side(name, changed), ALPHA)
                verdicts.append({"a": list(a), **_verdict(entries)})
            result["power"].setdefault(name, {"change": f"{CHANGES[name][0]} = "
                                                        f"{CHANGES[name][1]}"})
            result["power"][name][f"{k}_vs_{len(changed)}"] = {
                "comparisons": len(verdicts),
                "rate": float(np.mean([x["verdict"] == "different" for x in verdicts])),
                "verdicts": verdicts}
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", default=str(ROOT / "results" / "validation-calibration"))
    ap.add_argument("--simulate-only", action="store_true")
    ap.add_argument("--no-networkunit", action="store_true",
                    help="do not rerun NetworkUnit's pooled tests (about 30 s a split); "
                         "their false-alarm record is carried over from the previous "
                         "results file, and marked so")
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
        **evaluate(runs, networkunit=not args.no_networkunit),
        "wall_simulate_s": round(t1 - t0, 1),
        "wall_validate_s": round(time.perf_counter() - t1, 1),
    }
    out = ROOT / "bench" / "results" / "validation_calibration.json"
    if args.no_networkunit:
        old = json.loads(out.read_text()) if out.is_file() else {}
        carried = old.get("false_alarm_networkunit") or {}
        record["false_alarm_networkunit"] = dict(
            carried, carried_over_from=old.get("networkunit_date", old.get("date")))
        record["networkunit_date"] = old.get("networkunit_date", old.get("date"))
    else:
        record["networkunit_date"] = record["date"]
    out.write_text(json.dumps(record, indent=2) + "\n")
    fa = record["false_alarm"]
    print("false-alarm rate: " + ", ".join(f"{k}: {v['rate']:.2f} over {v['splits']} splits"
                                          for k, v in fa.items()))
    print("NetworkUnit's pooled tests as a verdict, false-alarm rate: " + ", ".join(
        f"{k}: {v['rate_uncorrected']:.2f} (Holm {v['rate_holm']:.2f})"
        for k, v in record["false_alarm_networkunit"].items() if isinstance(v, dict)))
    print("power: " + "; ".join(
        f"{name}: " + ", ".join(f"{k} {v['rate']:.2f}" for k, v in rec.items()
                                if isinstance(v, dict))
        for name, rec in record["power"].items()))
    print(f"-> {out}")


if __name__ == "__main__":
    main()
