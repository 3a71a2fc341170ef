"""Benchmark: two seeds on 2 cores, at 1 thread each side by side, or one after the other
at 2 threads each?

Each arm runs the workflow's own step, ``python -m pipeline simulate`` (NEST), for seeds
1 and 2 of ``--config`` with ``protocol.episodes`` = ``--episodes``:

- ``serial_2_threads``: seed 1, then seed 2, each with ``simulation.threads=2``;
- ``parallel_1_thread``: seeds 1 and 2 started together, each with ``simulation.threads=1``
  (what ``snakemake -c2`` does with ``threads: 1``).

The figure is the makespan (first start to last end, wall seconds) of each arm, repeated
``--reps`` times with the arms alternating. Writes section ``seeds_on_cores_<experiment>``
of bench/results.json. The faster arm decides ``simulation.threads`` in the configs.

    .venv/bin/python bench/seeds_on_cores.py --config config/paper.yaml --episodes 15
    .venv/bin/python bench/seeds_on_cores.py --config config/default.yaml --episodes 30
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_file import ROOT, stats, write_section  # noqa: E402

from pipeline.config_sources import load_config  # noqa: E402


def command(config: str, seed: int, threads: int, episodes: int, out: Path) -> list[str]:
    """Return the simulate command line of one seed."""
    return [sys.executable, "-m", "pipeline", "simulate", "--config", config, "--backend",
            "nest", "--seed", str(seed), "--out", str(out),
            "--set", f"simulation.threads={threads}", "--set", f"protocol.episodes={episodes}",
            "--set", f"recording.full_weights_at=[0,{episodes - 1}]"]


def arm(config: str, threads: int, parallel: bool, episodes: int) -> dict:
    """Run seeds 1 and 2; return the makespan and each process's wall time [s]."""
    with tempfile.TemporaryDirectory(prefix="bench-seeds-") as tmp:
        cmds = [command(config, s, threads, episodes, Path(tmp) / f"seed-{s}") for s in (1, 2)]
        t0 = time.perf_counter()
        walls = []
        if parallel:
            procs = [(subprocess.Popen(c, cwd=ROOT, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, text=True), time.perf_counter())
                     for c in cmds]
            for p, start in procs:
                _, err = p.communicate()
                walls.append(time.perf_counter() - start)
                if p.returncode:
                    raise SystemExit(f"simulate failed:\n{err[-2000:]}")
        else:
            for c in cmds:
                start = time.perf_counter()
                r = subprocess.run(c, cwd=ROOT, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
                walls.append(time.perf_counter() - start)
                if r.returncode:
                    raise SystemExit(f"simulate failed:\n{r.stderr[-2000:]}")
        return {"makespan_s": time.perf_counter() - t0, "process_wall_s": walls}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="config/paper.yaml")
    ap.add_argument("--episodes", type=int, default=25)
    ap.add_argument("--reps", type=int, default=1)
    args = ap.parse_args(argv)
    exp = load_config(args.config)["experiment"]
    arms = {"serial_2_threads": (2, False), "parallel_1_thread": (1, True)}
    runs: dict[str, list[dict]] = {k: [] for k in arms}
    for rep in range(args.reps):
        order = list(arms) if rep % 2 == 0 else list(arms)[::-1]
        for name in order:
            runs[name].append(arm(args.config, *arms[name], args.episodes))
            print(f"[seeds] rep {rep + 1} {name}: {runs[name][-1]['makespan_s']:.1f} s for two "
                  f"{args.episodes}-episode seeds", flush=True)
    data = {"config": args.config, "episodes": args.episodes, "seeds": [1, 2],
            **{name: {"makespan_s": stats([r["makespan_s"] for r in rs]),
                      "process_wall_s": [r["process_wall_s"] for r in rs]}
               for name, rs in runs.items()},
            "ratio_parallel_to_serial": stats(
                [p["makespan_s"] / s["makespan_s"]
                 for p, s in zip(runs["parallel_1_thread"], runs["serial_2_threads"])])}
    data["faster"] = ("parallel_1_thread" if data["ratio_parallel_to_serial"]["median"] < 1
                      else "serial_2_threads")
    write_section(f"seeds_on_cores_{exp}", data,
                  ["python", "bench/seeds_on_cores.py", *(argv or sys.argv[1:])])
    print(f"[seeds] parallel at 1 thread / serial at 2 threads: "
          f"{data['ratio_parallel_to_serial']['median']:.2f} -> {data['faster']}")
    return data


if __name__ == "__main__":
    main()
