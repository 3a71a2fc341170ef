"""Benchmark: the theory's 16-point f_c sweep at paper scale (pipeline.theory.predict).

Each repetition is a fresh process (the theory caches stationary states) that predicts
both versions (full and rate-only) of the capacity for 16 coding levels of the cues, with
``config/paper.yaml`` otherwise. Records the wall and CPU time of the 16 predictions (the
imports excluded, timed apart) and the capacities, so a change that speeds the theory up
is seen to leave its results alone. Writes section ``theory_sweep`` of bench/results.json.

    .venv/bin/python bench/theory_sweep.py            # 3 repetitions
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_file import ROOT, stats, write_section  # noqa: E402

F_C = [round(float(x), 4) for x in np.linspace(0.0125, 0.2, 16)]


def worker(config: str) -> dict:
    """Predict every f_c of F_C in this process; return times [s] and capacities."""
    w, c = time.perf_counter(), time.process_time()
    from pipeline.config_sources import load_config
    from pipeline.theory import predict
    imports = {"wall_s": time.perf_counter() - w, "cpu_s": time.process_time() - c}
    cfg = load_config(config)
    w, c = time.perf_counter(), time.process_time()
    caps = []
    for f_c in F_C:
        cfg["inputs"]["f_c"] = f_c
        pred = predict(cfg)
        caps.append({"f_c": f_c, "full": pred["capacity_full_label"],
                     "rate_only": pred["capacity_rate_only_label"]})
    return {"imports": imports, "wall_s": time.perf_counter() - w,
            "cpu_s": time.process_time() - c, "capacities": caps}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="config/paper.yaml")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.config)))
        return {}
    if args.reps < 3:
        ap.error("--reps must be at least 3 (median and spread)")
    runs = []
    for rep in range(args.reps):
        out = subprocess.run([sys.executable, __file__, "--worker", "--config", args.config],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
        print(f"[theory sweep] rep {rep + 1}: {runs[-1]['wall_s']:.1f} s wall for "
              f"{len(F_C)} points", flush=True)
    if any(r["capacities"] != runs[0]["capacities"] for r in runs):
        raise SystemExit("the theory gave different capacities in different repetitions")
    data = {"config": args.config, "parameter": "inputs.f_c", "values": F_C,
            "wall_s": stats([r["wall_s"] for r in runs]),
            "cpu_s": stats([r["cpu_s"] for r in runs]),
            "per_point_wall_s": stats([r["wall_s"] / len(F_C) for r in runs]),
            "imports_wall_s": stats([r["imports"]["wall_s"] for r in runs]),
            "target_s": 60.0, "capacities": runs[0]["capacities"]}
    write_section("theory_sweep", data, ["python", "bench/theory_sweep.py",
                                         *(argv or sys.argv[1:])])
    print(f"[theory sweep] {len(F_C)} points: {data['wall_s']['median']:.1f} s wall "
          f"(target 60 s)")
    return data


if __name__ == "__main__":
    main()
