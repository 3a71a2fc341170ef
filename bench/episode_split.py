"""Benchmark worker: build the model on NEST and time training episodes, split by part.

One process, one fresh NEST kernel. Builds the network of ``pipeline/model.py`` (with the
backend's bulk list connector, or with PyNN's own FromListConnector: ``--connector
pynn``, the build's baseline), trains ``--episodes`` episodes through the pipeline's own
``protocol.run_episodes`` and times every part: the backend's methods and the protocol's
bookkeeping are wrapped with timers (the code that runs is the pipeline's), then writes one
checkpoint. Prints one JSON object: wall and CPU (process) seconds of the build and, per
episode (the first episode excluded, it pays one-off costs), of each part:

- ``simulation``: NEST's Simulate (``backend.run``); ``nest_simulate``: NEST's own kernel
  timers of those calls (``time_simulate``, ``time_simulate_cpu``: all threads' CPU), the
  part of ``simulation`` spent inside NEST's update loop;
- ``spike_retrieval``: reading and clearing the recorded spikes (``backend.spikes``);
- ``drive``: setting the input spike trains and supervision rates (``backend.set_drive``);
- ``plasticity_switch``: lambda off/on on the cue rows (``backend.set_plasticity``);
- ``weight_io``: ``backend.read_weights`` + ``backend.write_weights``;
- ``stdp_bookkeeping``: the deferred-facilitation correction;
- ``homeostasis``: the column rescaling;
- ``other``: the rest of the episode (input drawing, class statistics, cue sums, records);
- ``checkpoint_write``: one ``checkpoint.save`` (per checkpoint, not per episode).

    .venv/bin/python bench/episode_split.py config/paper.yaml --threads 2 --episodes 4

Run by bench/speed.py, which repeats it and writes bench/results.json.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backends.nest import NestBackend  # noqa: E402
from pipeline import checkpoint, model, protocol  # noqa: E402
from pipeline.config_sources import load_config  # noqa: E402
from pipeline.parameters import derive  # noqa: E402
from worker_record import emit  # noqa: E402  (bench/ is the script's directory)

PARTS = ("simulation", "spike_retrieval", "drive", "plasticity_switch", "weight_io",
         "stdp_bookkeeping", "homeostasis")


class Timers:
    """Accumulated wall and CPU seconds per part, per episode."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)

    def wrap_nest_timers(self, nest, f):
        """Return ``f`` (a Simulate call) with NEST's kernel timers of the call added to
        part ``nest_simulate`` (NEST reports them for its last Simulate only)."""
        def timed(*a, **k):
            out = f(*a, **k)
            wall, cpu = nest.GetKernelStatus(["time_simulate", "time_simulate_cpu"])
            self.wall["nest_simulate"] += wall
            self.cpu["nest_simulate"] += cpu
            return out
        return timed

    def wrap(self, part: str, f):
        """Return ``f`` timed into ``part``."""
        def timed(*a, **k):
            w, c = time.perf_counter(), time.process_time()
            try:
                return f(*a, **k)
            finally:
                self.wall[part] += time.perf_counter() - w
                self.cpu[part] += time.process_time() - c
        return timed


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark; return (and print) the measurements as a dict (seconds)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--episodes", type=int, default=4, help="trained episodes (>= 2)")
    ap.add_argument("--connector", choices=("bulk", "pynn"), default="bulk")
    ap.add_argument("--n-exc", type=int, default=None, help="override network.n_exc "
                    "(n_inh = n_exc / 4)")
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    cfg["simulation"]["threads"] = args.threads
    if args.n_exc:
        cfg["network"]["n_exc"], cfg["network"]["n_inh"] = args.n_exc, args.n_exc // 4
    cfg["protocol"]["episodes"] = max(cfg["protocol"]["episodes"], args.episodes)
    p = derive(cfg).simulator
    seed = 1
    conn = model.draw_connectivity(p, seed, 1e-4)   # v0 fixed: the theory is not timed here
    pat = model.draw_patterns(p, seed)
    backend = NestBackend(cfg, seed, None)
    if args.connector == "pynn":
        backend.translation = dataclasses.replace(backend.translation, list_connector=None)
    backend.setup()
    w0, c0 = time.perf_counter(), time.process_time()
    backend.build(p, conn)
    build = {"wall_s": time.perf_counter() - w0, "cpu_s": time.process_time() - c0}

    t = Timers()
    for name, part in (("run", "simulation"), ("spikes", "spike_retrieval"),
                       ("set_drive", "drive"), ("set_plasticity", "plasticity_switch"),
                       ("read_weights", "weight_io"), ("write_weights", "weight_io")):
        setattr(backend, name, t.wrap(part, getattr(backend, name)))
    backend.run = t.wrap_nest_timers(backend.nest, backend.run)
    originals = {"facilitation_correction": protocol.facilitation_correction,
                 "homeostasis": protocol.homeostasis}
    protocol.facilitation_correction = t.wrap("stdp_bookkeeping",
                                              originals["facilitation_correction"])
    protocol.homeostasis = t.wrap("homeostasis", originals["homeostasis"])
    ref = protocol.reference_memories(p.episodes, cfg["readout"]["reference_memories"])
    state = protocol.TrainingState.fresh(p, conn.w0, len(ref))
    sample = {"exc": np.arange(0, p.n_exc, max(1, p.n_exc // 100)),
              "inh": np.arange(0, p.n_inh, max(1, p.n_inh // 25))}
    per_episode: list[dict] = []

    class Lap:
        """run_episodes calls update() at the end of every episode: take a lap there."""

        def __init__(self) -> None:
            self.w, self.c = time.perf_counter(), time.process_time()

        def update(self, done: int, extra: str = "") -> None:
            w, c = time.perf_counter(), time.process_time()
            rec = {f"{k}_{kind}_s": getattr(t, kind).get(k, 0.0)
                   for k in (*PARTS, "nest_simulate") for kind in ("wall", "cpu")}
            for kind, total in (("wall", w - self.w), ("cpu", c - self.c)):
                rec[f"total_{kind}_s"] = total
                rec[f"other_{kind}_s"] = total - sum(getattr(t, kind).get(k, 0.0)
                                                     for k in PARTS)
            per_episode.append(rec)
            t.wall.clear(), t.cpu.clear()
            self.w, self.c = time.perf_counter(), time.process_time()

    try:
        protocol.run_episodes(backend, p, pat, seed, state, args.episodes, True, ref, sample,
                              set(), progress=Lap())
    finally:
        protocol.facilitation_correction = originals["facilitation_correction"]
        protocol.homeostasis = originals["homeostasis"]
    with tempfile.TemporaryDirectory() as d:
        w, c = time.perf_counter(), time.process_time()
        checkpoint.save(Path(d), state, {"bench": True})
        ckpt = {"checkpoint_write_wall_s": time.perf_counter() - w,
                "checkpoint_write_cpu_s": time.process_time() - c}
    backend.end()
    return emit({"config": args.config, "n_exc": p.n_exc, "threads": args.threads,
                 "connector": args.connector, "build": build, **ckpt}, per_episode)


if __name__ == "__main__":
    main()
