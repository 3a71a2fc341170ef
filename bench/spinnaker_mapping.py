"""Benchmark: sPyNNaker's full mapping on a virtual board, at the default and paper scale.

Each repetition runs the workflow's own step, ``python -m pipeline simulate --backend
spinnaker`` (build through PyNN, episode 0's drive, partitioning, placement, routing and
data generation on a virtual SpiNN-5 board; nothing executes: there is no board here),
in a fresh process under GNU time. Records the step's wall time, CPU time and peak RSS,
sPyNNaker's own mapping time (``resources.json``: ``mapping_wall_s``) and the machine
it mapped onto (cores, chips). Writes section ``spinnaker_mapping`` of
bench/results.json.

    .venv/bin/python bench/spinnaker_mapping.py                    # both scales, 3 each
    .venv/bin/python bench/spinnaker_mapping.py --scales default --reps 3
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_file import ROOT, stats, write_section  # noqa: E402
from step_resources import timed  # noqa: E402

SCALES = {"default": "config/default.yaml", "paper": "config/paper.yaml"}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="default,paper")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args(argv)
    if args.reps < 3:
        ap.error("--reps must be at least 3 (median and spread)")
    data: dict = {"scales": {}}
    for scale in args.scales.split(","):
        cfg = SCALES[scale]
        reps = []
        for rep in range(args.reps):
            with tempfile.TemporaryDirectory(prefix="bench-map-") as tmp:
                out = Path(tmp) / "run"
                cmd = [sys.executable, "-m", "pipeline", "simulate", "--config",
                       str(ROOT / cfg), "--backend", "spinnaker", "--seed", "1", "--out",
                       str(out)]
                m = timed(cmd, Path(tmp) / "map.log")
                res = json.loads((out / "resources.json").read_text())
            m.update({k: res[k] for k in ("mapping_wall_s", "app_cores", "chips_used",
                                          "fits_one_board") if k in res})
            reps.append(m)
            print(f"[map] {scale} rep {rep + 1}: step {m['wall_s']:.1f} s, sPyNNaker mapping "
                  f"{m.get('mapping_wall_s', float('nan')):.1f} s, peak RSS "
                  f"{m['peak_rss_mb']:.0f} MB", flush=True)
        data["scales"][scale] = {
            "config": cfg,
            "step_wall_s": stats([r["wall_s"] for r in reps]),
            "step_cpu_s": stats([r["cpu_s"] for r in reps]),
            "mapping_wall_s": stats([r["mapping_wall_s"] for r in reps]),
            "peak_rss_mb": stats([r["peak_rss_mb"] for r in reps]),
            "app_cores": reps[0].get("app_cores"), "chips_used": reps[0].get("chips_used"),
            "fits_one_board": reps[0].get("fits_one_board"),
            "executed": False,
        }
    data["note"] = ("virtual board: mapping and data generation only; nothing was executed on "
                    "SpiNNaker hardware")
    write_section("spinnaker_mapping", data,
                  ["python", "bench/spinnaker_mapping.py", *(argv or sys.argv[1:])])
    return data


if __name__ == "__main__":
    main()
