"""Benchmark: wall time, CPU time and peak memory of every workflow step, the numbers
behind the Snakefile's SLURM resource requests (`runtime`, `mem_mb`, `cpus_per_task`),
and, with the paper's config unchanged, the time of a whole paper-scale seed.

Runs each step as its own process under GNU time (``/usr/bin/time -f '%e %M %U %S'``:
elapsed wall time [s], maximum resident set size [kB], user and system CPU [s]) in a
temporary directory, on the given config with an optional episode-count override, and
writes ``bench/results/step_resources-<experiment>-<episodes>ep.json`` and the section
``step_resources_<experiment>_<episodes>ep_<threads>threads`` of bench/results.json. Run
by hand (it uses ``--threads`` NEST threads, default 1):

    .venv/bin/python bench/step_resources.py config/default.yaml
    .venv/bin/python bench/step_resources.py config/paper.yaml --episodes 3 \
        --steps theory simulate-nest map-spinnaker
    # a whole paper-scale seed: theory, 300 episodes, analysis and capacity
    .venv/bin/python bench/step_resources.py config/paper.yaml --threads 2 --seeds 1 \
        --steps theory simulate-nest analyze capacity

With ``--episodes`` below the config's, per-episode cost is the simulate time minus the
build, over the episodes (the step logs its build time); scale from that.
"""
from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config_sources import load_config  # noqa: E402
from pipeline.io import write_json  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from results_file import add_repetition  # noqa: E402

STEPS = ("theory", "simulate-nest", "simulate-nest-spinnaker", "map-spinnaker", "analyze",
         "capacity", "validate", "sweep", "report")


def commands(py: list[str], d: Path, cfg_path: Path, seeds: list[int]) -> dict[str, list[list[str]]]:
    """Return the command lines of every step, run in ``d`` (per step: one per seed)."""
    sim = {b: [[*py, "simulate", "--config", str(cfg_path), "--backend", b, "--seed", str(s),
                "--out", str(d / b / f"seed-{s}")] for s in seeds]
           for b in ("nest", "nest-spinnaker", "spinnaker")}
    runs = " ".join(str(d / "nest" / f"seed-{s}") for s in seeds).split()
    emu = " ".join(str(d / "nest-spinnaker" / f"seed-{s}") for s in seeds).split()
    return {
        "theory": [[*py, "theory", "--config", str(cfg_path), "--out", str(d / "theory.json")]],
        "simulate-nest": sim["nest"],
        "simulate-nest-spinnaker": sim["nest-spinnaker"],
        "map-spinnaker": sim["spinnaker"][:1],
        "analyze": [[*py, "analyze", "--run", r, "--out", f"{r}/analysis"] for r in runs],
        "capacity": [[*py, "capacity", *sum((["--run", r] for r in runs), []),
                      "--theory", str(d / "theory.json"), "--out", str(d / "nest" / "capacity")]],
        "validate": [[*py, "validate", "--a", *runs, "--b", *emu, "--out", str(d / "validation")]],
        "sweep": [[*py, "sweep", "--parameter", "inputs.f_c",
                   "--theory", f"0.1={d / 'theory.json'}",
                   "--capacity", f"0.1={d / 'nest' / 'capacity' / 'capacity.json'}",
                   "--out", str(d / "sweep")]],
        "report": [[*py, "report", "--experiment", "bench", "--theory", str(d / "theory.json"),
                    "--capacity", str(d / "nest" / "capacity" / "capacity.json"),
                    *sum((["--analysis", f"{r}/analysis/analysis.json"] for r in runs), []),
                    "--sweep", str(d / "sweep" / "sweep.csv"), "--out", str(d / "report.md")]],
    }


def timed(cmd: list[str], log: Path) -> dict:
    """Run ``cmd`` under GNU time; return wall time [s], CPU time (user + system) [s] and
    peak RSS [MB]; raise on failure."""
    tfile = log.with_suffix(".time")
    with open(log, "w") as fh:
        r = subprocess.run(["/usr/bin/time", "-f", "%e %M %U %S", "-o", str(tfile), *cmd],
                           stdout=fh, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise SystemExit(f"step failed (exit {r.returncode}): {' '.join(cmd)}\n"
                         + log.read_text()[-2000:])
    wall, rss_kb, user, system = tfile.read_text().split()[-4:]
    return {"wall_s": float(wall), "cpu_s": round(float(user) + float(system), 2),
            "peak_rss_mb": round(int(rss_kb) / 1024, 1)}


def main() -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("config")
    ap.add_argument("--episodes", type=int, default=None, help="override protocol.episodes")
    ap.add_argument("--threads", type=int, default=1, help="NEST threads (simulation.threads)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--steps", nargs="+", default=list(STEPS), choices=STEPS)
    args = ap.parse_args()
    cfg = load_config(args.config)
    if args.episodes:
        cfg["protocol"]["episodes"] = args.episodes
        cfg["recording"]["full_weights_at"] = [0, args.episodes - 1]
        cfg["simulation"]["checkpoint_every"] = 0
    cfg["simulation"]["threads"] = args.threads
    episodes = cfg["protocol"]["episodes"]
    out: dict = {"config": args.config, "experiment": cfg["experiment"], "episodes": episodes,
                 "n_exc": cfg["network"]["n_exc"], "m": cfg["inputs"]["m"],
                 "threads": args.threads, "seeds": args.seeds,
                 "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "steps": {}}
    with tempfile.TemporaryDirectory(prefix="step-resources-") as tmp:
        d = Path(tmp)
        cfg_path = d / "config.yaml"
        cfg_path.write_text(yaml.safe_dump(cfg))
        py = [sys.executable, "-m", "pipeline"]
        cmds = commands(py, d, cfg_path, args.seeds)
        for step in args.steps:
            for i, cmd in enumerate(cmds[step]):
                m = timed(cmd, d / f"{step}-{i}.log")
                if step.startswith("simulate"):
                    prov = Path(cmd[-1]) / "provenance.json"
                    if prov.exists():
                        m["build_s"] = json.loads(prov.read_text()).get("timings", {}).get("build_s")
                        with open(Path(cmd[-1]) / "episodes.csv") as fh:
                            eps = list(csv.DictReader(fh))
                        # per-episode cost as the step logs it: simulation + weight I/O [s]
                        per = [float(e["wall_sim_s"]) + float(e["wall_io_s"]) for e in eps]
                        m["episode_s"] = round(sum(per) / len(per), 3)
                        # the trend over the run: mean per block of 25 episodes [s]
                        m["episode_s_per_25"] = [round(sum(per[i:i + 25]) / len(per[i:i + 25]), 3)
                                                 for i in range(0, len(per), 25)]
                out["steps"].setdefault(step, []).append(m)
                print(f"{step} [{i}]: {m}", flush=True)
    out["total_wall_s"] = round(sum(m["wall_s"] for ms in out["steps"].values() for m in ms), 2)
    out["total_cpu_s"] = round(sum(m["cpu_s"] for ms in out["steps"].values() for m in ms), 2)
    out["peak_rss_mb"] = max(m["peak_rss_mb"] for ms in out["steps"].values() for m in ms)
    out["total_wall_min"] = round(out["total_wall_s"] / 60, 2)
    for step, ms in out["steps"].items():
        out[f"{step}_wall_s"] = round(sum(m["wall_s"] for m in ms), 2)
    name = f"step_resources-{cfg['experiment']}-{episodes}ep"
    write_json(ROOT / "bench" / "results" / f"{name}.json", out)
    # also a section of bench/results.json (one per experiment, episodes and threads); a
    # whole seed is too long to repeat in one invocation, so each invocation adds one
    # repetition (kept while the code is the same)
    add_repetition(f"{name}-{args.threads}threads".replace("-", "_"), out,
                   ["total_wall_s", "total_wall_min", "total_cpu_s", "peak_rss_mb",
                    *[f"{step}_wall_s" for step in out["steps"]]],
                   ["python", "bench/step_resources.py", *sys.argv[1:]])
    return out


if __name__ == "__main__":
    main()
