"""Benchmark: seconds per episode of the neuron backend against NEST at a config's scale.

Runs ``python -m pipeline simulate`` for each backend in its own process on the config
(default: config/default.yaml) with ``protocol.episodes`` = N (default 5) and one thread,
and reads the per-episode wall times from each run's episodes.csv and the build time from
its provenance. Writes bench/results/neuron_speed.json. Run by hand:

    .venv/bin/python bench/neuron_speed.py [config/default.yaml] [episodes]
"""
from __future__ import annotations

import csv
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config_sources import load_config  # noqa: E402

BACKENDS = ("nest", "neuron")


def run(cfg_path: Path, backend: str, out: Path) -> dict:
    """Simulate one seed on ``backend``; return its timings [s] and mean rates [Hz]."""
    t = time.perf_counter()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "pipeline", "simulate", "--config", str(cfg_path),
                    "--backend", backend, "--seed", "1", "--out", str(out)],
                   check=True, cwd=ROOT, capture_output=True)
    wall = time.perf_counter() - t
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    rows = list(csv.DictReader(open(out / "episodes.csv")))
    prov = json.loads((out / "provenance.json").read_text())
    per = np.array([float(r["wall_total_s"]) for r in rows])
    sim = np.array([float(r["wall_sim_s"]) for r in rows])
    return {
        "episodes": len(rows),
        "s_per_episode_mean": float(per.mean()),
        "s_per_episode_median": float(np.median(per)),
        "s_per_episode_all": per.round(3).tolist(),
        "simulation_s_per_episode_mean": float(sim.mean()),
        "build_s": prov["timings"]["build_s"],
        "process_wall_s": round(wall, 1),
        "process_cpu_s": round(cpu, 1),      # less sensitive to other load than wall time
        "rate_target_hz": float(np.mean([float(r["rate_target_hz"]) for r in rows])),
        "rate_non_target_hz": float(np.mean([float(r["rate_non_target_hz"]) for r in rows])),
        "rate_inh_hz": float(np.mean([float(r["rate_inh_hz"]) for r in rows])),
    }


def main(cfg_path: str, episodes: int) -> dict:
    cfg = load_config(cfg_path)
    cfg["protocol"]["episodes"] = episodes
    cfg["simulation"]["threads"] = 1
    cfg["simulation"]["checkpoint_every"] = 0
    cfg["recording"]["full_weights_at"] = [0, episodes - 1]
    cfg["validation"]["comparisons"] = []
    out = {"config": cfg_path, "episodes": episodes, "threads": 1,
           "host": platform.node(),
           "note": "wall times on a 2-core machine shared with other jobs: compare the "
                   "backends within one run; process_cpu_s is less sensitive to the load",
           "load_average_at_start": list(os.getloadavg()),
           "network": {k: cfg["network"][k] for k in ("n_exc", "n_inh")},
           "inputs": cfg["inputs"]["m"], "dt_ms": cfg["simulation"]["dt_ms"],
           "episode_ms": cfg["protocol"]["t_warm_ms"] + cfg["protocol"]["t_train_ms"]}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cfg.yaml"
        path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        for b in BACKENDS:
            out[b] = run(path, b, Path(tmp) / b)
            print(f"{b}: {out[b]['s_per_episode_mean']:.2f} s/episode "
                  f"(build {out[b]['build_s']:.1f} s)", flush=True)
    out["neuron_over_nest"] = (out["neuron"]["s_per_episode_mean"]
                               / out["nest"]["s_per_episode_mean"])
    res = ROOT / "bench" / "results" / "neuron_speed.json"
    res.parent.mkdir(exist_ok=True)
    tmp_res = res.with_suffix(".json.partial")
    tmp_res.write_text(json.dumps(out, indent=2))
    tmp_res.replace(res)
    return out


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0] if args else "config/default.yaml", int(args[1]) if len(args) > 1 else 5)
