"""Benchmark: class CCGs (pipeline.analysis.summed_ccg) against a per-pair elephant loop.

The analysis needs, per training episode, the CCG summed over all pairs of a class
(cue->target, cue->non_target, ...). ``summed_ccg`` bins each group once, sums the
counts and correlates the two sums with one FFT; the baseline is what a user would write
with elephant: ``cross_correlation_histogram`` of every pair (``analysis.pair_ccg_elephant``),
summed. On the spikes of a real NEST run (``--run``, or a short paper-scale run simulated
here first), for every episode and class:

- the class CCG is timed on all pairs (``--reps`` times; median per episode and class);
- elephant is timed on a random sample of ``--sample-pairs`` pairs per episode and class
  (the same pairs for every repetition), the time per pair extrapolated to all pairs;
- equality: ``summed_ccg`` of the sampled pairs against the sum of elephant's CCGs of
  the same pairs (counts, so the difference must be 0), and, for one episode, all pairs.

Writes section ``ccg`` of bench/results.json. Run by hand:

    .venv/bin/python bench/ccg.py                       # simulates 4 paper-scale episodes
    .venv/bin/python bench/ccg.py --run results/paper/nest/seed-1
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_file import ROOT, stats, write_section  # noqa: E402

from pipeline.analysis import (BIN_MS, MAX_LAG_MS, class_pairs,  # noqa: E402
                               pair_ccg_elephant, summed_ccg, training_windows,
                               trains_by_population)
from pipeline.io import read_json, read_npz, read_spikes_nix  # noqa: E402


def simulate(out: Path, config: str, episodes: int) -> None:
    """Run ``python -m pipeline simulate`` (NEST, seed 1, 1 thread) into ``out``."""
    cmd = [sys.executable, "-m", "pipeline", "simulate", "--config", config, "--backend",
           "nest", "--seed", "1", "--out", str(out), "--set", f"protocol.episodes={episodes}",
           "--set", "simulation.threads=1", "--set", "simulation.checkpoint_every=0",
           "--set", f"recording.full_weights_at=[0,{episodes - 1}]",
           "--set", "readout.spiking=false"]
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def class_groups(run: Path) -> tuple[list[dict], dict, list]:
    """Return, per training episode, the classes {name: (pre trains, post trains)} with at
    least one pair, the trains and the windows of the run."""
    prov = read_json(run / "provenance.json", "provenance file")
    w = read_npz(run / "weights.npz", required=("cues", "targets"))
    block = read_spikes_nix(run / "spikes.nix")
    trains, windows = trains_by_population(block), training_windows(block)
    m = prov["config"]["inputs"]["m"]
    silent = prov["config"]["inputs"]["nu0_hz"] == 0
    sample = np.array(sorted(trains["exc"]))
    empty = np.array([])
    episodes = []
    for j in range(len(windows)):
        groups = class_pairs(w["cues"][j], w["targets"][j], sample, m)
        episodes.append({c: ([trains["inputs"].get(int(i), empty) for i in pre],
                             [trains["exc"][int(n)] for n in post])
                         for c, (pre, post) in groups.items()
                         if len(pre) and len(post) and not (silent and c.startswith("non_cue"))})
    return episodes, prov["config"], windows


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", default=None, help="a NEST run directory (default: simulate one)")
    ap.add_argument("--config", default="config/paper.yaml", help="for the run simulated here")
    ap.add_argument("--episodes", type=int, default=4, help="for the run simulated here")
    ap.add_argument("--sample-pairs", type=int, default=40, help="elephant pairs per class "
                    "and episode")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args(argv)
    if args.reps < 3:
        ap.error("--reps must be at least 3 (median and spread)")
    max_lag = int(round(MAX_LAG_MS / BIN_MS))
    with tempfile.TemporaryDirectory(prefix="bench-ccg-") as tmp:
        run = Path(args.run) if args.run else Path(tmp) / "run"
        if not args.run:
            print(f"[ccg] simulating {args.episodes} episodes of {args.config} ...", flush=True)
            simulate(run, args.config, args.episodes)
        episodes, cfg, windows = class_groups(run)

    class_s, pair_s, n_pairs, max_diff = [], [], 0, 0.0
    for rep in range(args.reps):
        t_class, t_pair, n_sampled = 0.0, 0.0, 0
        for (a, b), classes in zip(windows, episodes):
            for c, (pre, post) in classes.items():
                t = time.perf_counter()
                summed_ccg(pre, post, a, b, BIN_MS, max_lag)
                t_class += time.perf_counter() - t
                pairs = [(i, k) for i in range(len(pre)) for k in range(len(post))]
                if rep == 0:
                    n_pairs += len(pairs)
                pick = np.random.default_rng(1000 * rep + len(pairs)).choice(
                    len(pairs), min(args.sample_pairs, len(pairs)), replace=False)
                t = time.perf_counter()
                ref = sum(pair_ccg_elephant(pre[pairs[q][0]], post[pairs[q][1]], a, b, BIN_MS,
                                            max_lag) for q in pick)
                t_pair += time.perf_counter() - t
                n_sampled += len(pick)
                # the same sampled pairs, summed: sum over pairs of CCG(pre_i, post_k)
                got = sum(summed_ccg([pre[pairs[q][0]]], [post[pairs[q][1]]], a, b, BIN_MS,
                                     max_lag) for q in pick)
                max_diff = max(max_diff, float(np.max(np.abs(got - ref))))
        class_s.append(t_class)
        pair_s.append(t_pair / n_sampled)
        print(f"[ccg] rep {rep + 1}: class CCGs {t_class:.3f} s for {n_pairs} pairs; elephant "
              f"{1e3 * t_pair / n_sampled:.2f} ms per pair", flush=True)

    # all pairs of one episode, summed by elephant, against the class CCG: equal counts
    (a, b), classes = windows[0], episodes[0]
    full_diff = 0.0
    for c, (pre, post) in classes.items():
        ref = sum(pair_ccg_elephant(x, y, a, b, BIN_MS, max_lag) for x in pre for y in post)
        full_diff = max(full_diff, float(np.max(np.abs(summed_ccg(pre, post, a, b, BIN_MS,
                                                                     max_lag) - ref))))
    extrapolated = [p * n_pairs for p in pair_s]
    data = {
        "run": str(args.run or f"simulated: {args.config}, {args.episodes} episodes, seed 1"),
        "n_exc": cfg["network"]["n_exc"], "episodes": len(windows), "pairs": n_pairs,
        "sampled_pairs_per_rep": n_sampled, "bin_ms": BIN_MS, "max_lag_ms": MAX_LAG_MS,
        "class_ccg_s": stats(class_s),
        "elephant_per_pair_s": stats(pair_s),
        "elephant_extrapolated_s": stats(extrapolated),
        "speedup": stats([e / c for e, c in zip(extrapolated, class_s)]),
        "max_abs_difference_sampled_counts": max_diff,
        "max_abs_difference_all_pairs_episode_0_counts": full_diff,
        "paper_seed_extrapolation": {
            "episodes": 300, "class_ccg_s": float(np.median(class_s)) / len(windows) * 300,
            "elephant_s": float(np.median(extrapolated)) / len(windows) * 300},
    }
    write_section("ccg", data, ["python", "bench/ccg.py", *(argv or sys.argv[1:])])
    print(f"[ccg] class CCGs {data['speedup']['median']:.0f}x faster than per-pair elephant "
          f"(max |difference| {max(max_diff, full_diff)} counts)")
    return data


if __name__ == "__main__":
    main()
