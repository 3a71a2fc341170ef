"""Benchmark: how the training episode's time grows with N_E (1000, 2000, 4000, 8000).

``config/paper.yaml`` with ``network.n_exc`` = N_E and ``n_inh`` = N_E / 4 (in-degrees,
inputs and coding levels unchanged, so recurrent and plastic synapses grow linearly with
N_E). For every N_E, ``--reps`` fresh processes of ``bench/episode_split.py`` (ours) and
``bench/bare_nest.py`` (the baseline), interleaved; the exponent b of t = a * N_E^b is
fitted by least squares on log t against log N_E over the per-repetition times, with the
spread of b over the repetitions. Writes section ``scaling`` of bench/results.json.

    .venv/bin/python bench/scaling.py --threads 2          # about 15 min on 2 slow cores
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_file import stats, write_section  # noqa: E402
from speed import run_worker  # noqa: E402


def exponent(n: list[int], t: list[float]) -> float:
    """Return b of the least-squares fit log t = log a + b log n."""
    return float(np.polyfit(np.log(n), np.log(t), 1)[0])


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="config/paper.yaml")
    ap.add_argument("--n-exc", default="1000,2000,4000,8000")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--episodes", type=int, default=3, help="per process (first excluded)")
    args = ap.parse_args(argv)
    if args.reps < 3:
        ap.error("--reps must be at least 3 (median and spread)")
    sizes = [int(x) for x in args.n_exc.split(",")]
    ours = {n: [] for n in sizes}
    bare = {n: [] for n in sizes}
    for rep in range(args.reps):
        for n in sizes:
            a = [args.config, "--threads", str(args.threads), "--episodes", str(args.episodes),
                 "--n-exc", str(n)]
            ours[n].append(run_worker("episode_split.py", a))
            bare[n].append(run_worker("bare_nest.py", a))
            print(f"[scaling] rep {rep + 1} N_E {n}: ours "
                  f"{ours[n][-1]['episode']['total_wall_s']:.2f} s, bare "
                  f"{bare[n][-1]['episode']['wall_s']:.2f} s per episode", flush=True)
    per_n = {}
    for n in sizes:
        per_n[str(n)] = {
            "episode_wall_s": stats([o["episode"]["total_wall_s"] for o in ours[n]]),
            "episode_cpu_s": stats([o["episode"]["total_cpu_s"] for o in ours[n]]),
            "simulation_wall_s": stats([o["episode"]["simulation_wall_s"] for o in ours[n]]),
            "weight_io_wall_s": stats([o["episode"]["weight_io_wall_s"] for o in ours[n]]),
            "build_wall_s": stats([o["build"]["wall_s"] for o in ours[n]]),
            "bare_nest_wall_s": stats([b["episode"]["wall_s"] for b in bare[n]]),
            "ratio_to_bare_nest_wall": stats([o["episode"]["total_wall_s"] / b["episode"]["wall_s"]
                                              for o, b in zip(ours[n], bare[n])]),
            "peak_rss_mb": stats([o["peak_rss_bytes"] / 2**20 for o in ours[n]]),
        }
    fit = {}
    for name, runs, part, key in (("ours", ours, "episode", "total_wall_s"),
                                  ("bare_nest", bare, "episode", "wall_s"),
                                  ("build", ours, "build", "wall_s")):
        t = np.array([[r[part][key] for r in runs[n]] for n in sizes])   # (size, rep) [s]
        fit[name] = {"exponent_of_medians": exponent(sizes, np.median(t, axis=1)),
                     "exponent": stats([exponent(sizes, t[:, r]) for r in range(t.shape[1])])}
    data = {"config": args.config, "threads": args.threads, "n_exc": sizes,
            "synapses_note": "in-degrees fixed: 250 recurrent synapses per neuron (1.25 N_E "
                             "neurons), m * N_E plastic synapses",
            "per_n_exc": per_n, "fit_t_proportional_to_n_exc_power_b": fit}
    write_section(f"scaling_threads_{args.threads}", data,
                  ["python", "bench/scaling.py", *(argv or sys.argv[1:])])
    print(f"[scaling] episode time ~ N_E^{fit['ours']['exponent_of_medians']:.2f} (bare NEST "
          f"N_E^{fit['bare_nest']['exponent_of_medians']:.2f})")
    return data


if __name__ == "__main__":
    main()
