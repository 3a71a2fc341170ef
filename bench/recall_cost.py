"""Benchmark: the wall time the spiking recall adds to a run, against its training.

Simulates the config on NEST with 1 thread for each seed, one after the other (or reads
finished run directories given with --run), and reports per seed the recall's wall time
(build of its own simulator, weight writes, the sessions) against the training's (builds
plus every episode's wall time), both from each run's provenance.json. Writes
bench/results/recall_cost.json. Run by hand:

    .venv/bin/python bench/recall_cost.py [config/default.yaml] [--seeds 1 2] [--run DIR ...]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config_sources import load_config  # noqa: E402
from pipeline.io import read_json, write_json  # noqa: E402


def main() -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", nargs="?", default=str(ROOT / "config" / "default.yaml"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--run", nargs="*", default=None, help="finished run directories")
    args = ap.parse_args()
    runs = [Path(r) for r in args.run] if args.run else []
    if not runs:
        from pipeline.simulate import simulate
        cfg = load_config(args.config)
        cfg["simulation"]["threads"] = 1
        for s in args.seeds:
            out = ROOT / "bench" / "results" / "recall-runs" / f"seed-{s}"
            simulate(cfg, "nest", s, out)
            runs.append(out)
    rows = []
    for r in runs:
        prov = read_json(r / "provenance.json", "provenance file")
        t = prov["timings"]
        rows.append({"run": str(r), "seed": prov["seed"], "backend": prov["backend"],
                     "threads": prov["config"]["simulation"]["threads"],
                     "recall_s": t["recall_s"], "training_s": t["training_s"],
                     "recall_over_training": t["recall_over_training"],
                     "run_wall_s": prov["wall_time_s"]})
    total = {"recall_s": sum(x["recall_s"] for x in rows),
             "training_s": sum(x["training_s"] for x in rows)}
    total["recall_over_training"] = round(total["recall_s"] / total["training_s"], 4)
    result = {"runs": rows, "total": total, "host": read_json(
        runs[0] / "provenance.json", "provenance file").get("host")}
    write_json(ROOT / "bench" / "results" / "recall_cost.json", result)
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
