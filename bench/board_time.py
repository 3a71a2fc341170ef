"""Benchmark: the wall time of a whole seed on a SpiNNaker board, estimated from measured
parts, beside NEST's.

For each config, runs the ``spinnaker-hw`` backend (the hardware protocol) on sPyNNaker's
virtual board for a few episodes, takes the median of each measured part (build; first
run = mapping + data generation + load; a continuation run's host overhead; the
supervision reload; the weight read-back) and adds the real-time run (t_warm + t_train
per episode at 1 ms). Extrapolated to the config's episodes and rebuilds. NEST's time per
seed is read from finished NEST run directories (--nest-run) or from
bench/results/step_resources-<experiment>-*.json. Writes bench/results/board_time.json.
Run by hand (about 1 min for default, 3 min for paper):

    .venv/bin/python bench/board_time.py [--configs config/default.yaml config/paper.yaml]
        [--episodes 4] [--nest-run results/default/nest/seed-1 ...]

On a virtual board the load and the read-back touch no board: their transfer over the
network is not in these numbers (see the note in the output).
"""
from __future__ import annotations

import argparse
import glob
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config_sources import load_config  # noqa: E402
from pipeline.io import read_json, write_json  # noqa: E402


def board_parts(config: str, episodes: int) -> dict:
    """Run spinnaker-hw for ``episodes`` episodes of ``config`` in a subprocess (HOME in
    a temporary directory) and return its translation.json's board_time_estimate."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        env = {**os.environ, "HOME": tmp, "XDG_CONFIG_HOME": tmp}
        cmd = [sys.executable, "-m", "pipeline", "simulate", "--backend", "spinnaker-hw",
               "--config", config, "--seed", "1", "--out", str(out),
               "--set", "readout.spiking=false", "--set", f"protocol.episodes={episodes}",
               "--set", "recording.full_weights_at=[0]",
               "--set", "simulation.checkpoint_every=0"]
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
        if r.returncode:
            raise SystemExit(f"spinnaker-hw failed on {config}:\n{r.stderr[-3000:]}")
        tr = read_json(out / "translation.json", "translation file")
        return {"estimate": tr["board_time_estimate"], "resources": {
            k: tr["resources"][k] for k in ("chips_used", "app_cores", "fits_one_board")}}


def nest_seed_s(cfg: dict, runs: list[str]) -> dict:
    """Return NEST's measured wall time of one seed [s] of ``cfg``: from the provenance of
    finished runs when given, else extrapolated from step_resources (build + episodes)."""
    if runs:
        walls = [read_json(Path(r) / "provenance.json", "provenance")["wall_time_s"]
                 for r in runs]
        return {"source": runs, "per_seed_s": walls, "threads": 1}
    exp = cfg["experiment"]
    files = sorted(glob.glob(str(ROOT / "bench" / "results" / f"step_resources-{exp}-*.json")))
    if not files:
        return {"source": None}
    sr = read_json(Path(files[-1]), "step resources")
    s = sr["steps"]["simulate-nest"][0]
    P = cfg["protocol"]["episodes"]
    every = cfg["simulation"]["checkpoint_every"]
    builds = math.ceil(P / every) if every else 1
    return {"source": files[-1], "threads": sr["threads"],
            "per_seed_s": [builds * s["build_s"] + P * s["episode_s"]],
            "parts": {"build_s": s["build_s"], "episode_s": s["episode_s"], "builds": builds,
                      "episodes": P}}


def main() -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", nargs="+",
                    default=[str(ROOT / "config" / "default.yaml"),
                             str(ROOT / "config" / "paper.yaml")])
    ap.add_argument("--episodes", type=int, default=4)
    ap.add_argument("--nest-run", nargs="*", default=[],
                    help="finished NEST runs of the FIRST config (1 thread)")
    args = ap.parse_args()
    out = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "episodes_measured": args.episodes, "configs": {}}
    for i, c in enumerate(args.configs):
        cfg = load_config(c)
        parts = board_parts(c, args.episodes)
        est = parts["estimate"]
        med = est["measured_median_s"]
        P = cfg["protocol"]["episodes"]
        every = int(cfg["spinnaker"].get("rebuild_every", 0))
        builds = math.ceil(P / every) if every else 1
        per_build = med["first_run_s"] + med["build_s"]
        total = builds * per_build + P * est["per_episode_s"]
        nest = nest_seed_s(cfg, args.nest_run if i == 0 else [])
        out["configs"][cfg["experiment"]] = {
            "config": c, "episodes": P, "builds": builds, "measured_median_s": med,
            "per_build_s": per_build, "per_episode_s": est["per_episode_s"],
            "real_time_per_episode_s": est["real_time_per_episode_s"],
            "board_seed_s": total, "board_seed_h": total / 3600,
            "nest_seed": nest, "resources": parts["resources"], "note": est["note"]}
        n = nest.get("per_seed_s")
        print(f"{cfg['experiment']}: board ~{total / 3600:.2f} h per seed ({builds} build(s) x "
              f"{per_build:.1f} s + {P} episodes x {est['per_episode_s']:.2f} s, of which "
              f"{est['real_time_per_episode_s']:.1f} s real time); NEST "
              + (", ".join(f"{x / 3600:.2f} h" for x in n) + f" ({nest['threads']} thread)"
                 if n else "not measured"))
    write_json(ROOT / "bench" / "results" / "board_time.json", out)
    return out


if __name__ == "__main__":
    main()
