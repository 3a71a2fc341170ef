"""Benchmark driver: episode and build times on NEST against baselines from the same run.

For every scale (config) and thread count, repeats (``--reps``, >= 3) in fresh processes,
interleaved so that both sides of a ratio see the same machine load:

- ``bench/episode_split.py``: our build (bulk list connector) and training episode split
  into its parts (simulation, spike retrieval, drive, plasticity switch, weight I/O, STDP
  bookkeeping, homeostasis, other; checkpoint write);
- ``bench/bare_nest.py``: the bare NEST script of the protocol, the episode's baseline, in
  PyNN's layout (supervision through relay parrots, as the issue's baseline) and with the
  supervision generators connected directly (``--supervision direct``, our NEST layout);
- ``bench/episode_split.py --connector pynn`` (1 thread): the build through PyNN's own
  FromListConnector, the build's baseline.

Each figure is given as median, min and max over the repetitions, for wall and CPU
(process) time, and as ratios to its baseline (median of the per-repetition ratios).
Peak RSS of each process is recorded. The machine is shared, so the wall times are noisy:
the CPU times and the same-run ratios are the figures to compare. Writes
``bench/results.json`` (atomically). Run by hand:

    .venv/bin/python bench/speed.py                          # default and paper scale
    .venv/bin/python bench/speed.py --scales default --reps 3
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.io import write_json  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from results_file import machine, now, stats  # noqa: E402

SCALES = {"default": "config/default.yaml", "paper": "config/paper.yaml"}


def run_worker(script: str, args: list[str]) -> dict:
    """Run ``bench/<script>`` with ``args`` in a fresh process; return its JSON line (the
    worker reports its own peak RSS) with the command added."""
    cmd = [sys.executable, str(ROOT / "bench" / script), *args]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{err[-3000:]}")
    res = json.loads(out.strip().splitlines()[-1])
    res["command"] = " ".join(["python", f"bench/{script}", *args])
    return res


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark and write bench/results.json; return the results."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="default,paper")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--episodes", type=int, default=4, help="per process (first excluded)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results.json"))
    args = ap.parse_args(argv)
    if args.reps < 3:
        ap.error("--reps must be at least 3 (median and spread)")
    out_path = Path(args.out)
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    results.update({"machine": machine(),
                    "date": now(),
                    "command": "python bench/speed.py " + " ".join(argv or sys.argv[1:]),
                    "load_average_start": list(os.getloadavg())})
    results.setdefault("scales", {})
    t_start = time.perf_counter()
    for scale in args.scales.split(","):
        cfg = SCALES[scale]
        # a run of some thread counts keeps the others' figures from earlier runs
        entry: dict = results["scales"].get(scale, {"config": cfg, "episode": {}, "build": {}})
        entry.setdefault("runs", []).append({
            "date": now(),
            "load_average_start": list(os.getloadavg()), "threads": args.threads,
            "command": "python bench/speed.py " + " ".join(argv or sys.argv[1:])})
        for threads in (int(t) for t in args.threads.split(",")):
            ours, bare, direct, pynn = [], [], [], []
            for rep in range(args.reps):
                a = ["--threads", str(threads), "--episodes", str(args.episodes)]
                ours.append(run_worker("episode_split.py", [cfg, *a]))
                bare.append(run_worker("bare_nest.py", [cfg, *a]))
                direct.append(run_worker("bare_nest.py", [cfg, *a, "--supervision", "direct"]))
                if threads == 1:
                    pynn.append(run_worker("episode_split.py",
                                                [cfg, "--threads", "1", "--episodes", "2",
                                                 "--connector", "pynn"]))
                print(f"[bench] {scale} {threads} thread(s) rep {rep + 1}: ours "
                      f"{ours[-1]['episode']['total_wall_s']:.2f} s, bare "
                      f"{bare[-1]['episode']['wall_s']:.2f} s (direct supervision "
                      f"{direct[-1]['episode']['wall_s']:.2f} s) per episode", flush=True)
            keys = ours[0]["episode"].keys()
            ep = {k: stats([o["episode"][k] for o in ours]) for k in keys}
            ep["checkpoint_write_wall_s"] = stats([o["checkpoint_write_wall_s"] for o in ours])
            ep["checkpoint_write_cpu_s"] = stats([o["checkpoint_write_cpu_s"] for o in ours])
            ep["bare_nest_wall_s"] = stats([b["episode"]["wall_s"] for b in bare])
            ep["bare_nest_cpu_s"] = stats([b["episode"]["cpu_s"] for b in bare])
            for kind in ("wall", "cpu"):   # NEST's kernel timers of the baseline's Simulate
                ep[f"bare_nest_nest_simulate_{kind}_s"] = stats(
                    [b["episode"][f"nest_simulate_{kind}_s"] for b in bare])
            ep["bare_nest_rate_exc_hz"] = stats([b["episode"]["rate_exc_hz"] for b in bare])
            ep["ratio_to_bare_nest_wall"] = stats(
                [o["episode"]["total_wall_s"] / b["episode"]["wall_s"] for o, b in zip(ours, bare)])
            ep["ratio_to_bare_nest_cpu"] = stats(
                [o["episode"]["total_cpu_s"] / b["episode"]["cpu_s"] for o, b in zip(ours, bare)])
            ep["bare_nest_direct_wall_s"] = stats([b["episode"]["wall_s"] for b in direct])
            ep["bare_nest_direct_cpu_s"] = stats([b["episode"]["cpu_s"] for b in direct])
            ep["ratio_to_bare_nest_direct_wall"] = stats(
                [o["episode"]["total_wall_s"] / b["episode"]["wall_s"]
                 for o, b in zip(ours, direct)])
            ep["peak_rss_bytes"] = stats([o["peak_rss_bytes"] for o in ours])
            ep["bare_nest_peak_rss_bytes"] = stats([b["peak_rss_bytes"] for b in bare])
            ep["commands"] = [ours[0]["command"], bare[0]["command"], direct[0]["command"]]
            entry["episode"][f"threads_{threads}"] = ep
            if pynn:
                entry["build"] = {
                    "bulk_wall_s": stats([o["build"]["wall_s"] for o in ours]),
                    "bulk_cpu_s": stats([o["build"]["cpu_s"] for o in ours]),
                    "pynn_from_list_wall_s": stats([q["build"]["wall_s"] for q in pynn]),
                    "pynn_from_list_cpu_s": stats([q["build"]["cpu_s"] for q in pynn]),
                    "bare_nest_wall_s": stats([b["build"]["wall_s"] for b in bare]),
                    "bare_nest_cpu_s": stats([b["build"]["cpu_s"] for b in bare]),
                    "ratio_bulk_to_pynn_cpu": stats([o["build"]["cpu_s"] / q["build"]["cpu_s"]
                                                     for o, q in zip(ours, pynn)]),
                    "ratio_bulk_to_bare_nest_cpu": stats(
                        [o["build"]["cpu_s"] / b["build"]["cpu_s"] for o, b in zip(ours, bare)]),
                    "threads": 1,
                }
        results["scales"][scale] = entry
        results["load_average_end"] = list(os.getloadavg())
        results["bench_wall_s"] = round(time.perf_counter() - t_start, 1)
        write_json(out_path, results)       # after every scale: a partial run keeps its part
    print(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
