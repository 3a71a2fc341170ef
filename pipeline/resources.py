"""What each workflow step asks a batch system for (SLURM: ``--cpus-per-task``, ``--mem``,
``--time``), sized from measured runs and scaled with the config.

The measurements are data (``MEASURED``), taken with ``bench/step_resources.py`` (GNU
time: wall time, peak RSS) on a 2-core VM shared with other jobs (load average about 6,
so times are about 3x those of an idle machine: docs/performance.md has 25 s builds and 5.1 s
per paper episode at 2 threads, here 49 s and 19.5 s at 1 thread), one NEST thread:
- default scale (``config/default.yaml``: N_E = 1000, N_I = 250, M = 100, 100 episodes),
  every step (``bench/results/step_resources-default-100ep.json``);
- paper scale (``config/paper.yaml``: N_E = 4000, N_I = 1000, M = 200) for 3 episodes
  (``bench/results/step_resources-paper-3ep.json``). A whole paper seed (300 episodes) is
  30+ minutes and was not run for this table: its time is extrapolated from the build and
  per-episode cost.

Model, per step:
- ``simulate``: time = start-up + builds x build time + episodes x per-episode time, the
  per-episode time proportional to neuron updates per episode ((N_E + N_I) x
  (t_warm + t_train) / dt, the larger of the two measured constants) and divided by the
  NEST threads with a parallel efficiency of ``THREAD_EFFICIENCY``; memory interpolated
  linearly in the number of synapses between the two measured scales;
- ``analyze``, ``capacity``, ``validate``: time and memory above the interpreter's grow
  with the recorded data (episodes x recorded neurons);
- the others: as measured (theory, sweep, report and the SpiNNaker mapping scale little);
- then times ``TIME_SAFETY`` and ``MEM_SAFETY``, rounded up, and at least
  ``MIN_RUNTIME_MIN`` minutes and ``MIN_MEM_MB``.
Cores: ``simulation.threads`` for ``simulate`` (NEST's threads; the step checks that SLURM
granted exactly these), 1 for every other step (they are single-threaded).
"""
from __future__ import annotations

import math

# Safety factors over the measured numbers. Memory: RSS differs little between runs of one
# config (two seeds: 431 and 438 MB). Time: the same default simulate run took 221 s and
# 387 s on the shared VM depending on the other jobs' load, hence 2x.
MEM_SAFETY = 1.5
TIME_SAFETY = 2.0
MIN_MEM_MB = 500          # interpreter + numpy + matplotlib alone: 80-120 MB measured
MIN_RUNTIME_MIN = 5       # start-up alone is 5-10 s; SLURM time limits are in minutes
START_UP_S = 10.0         # python + NEST/PyNN import before the build
THREAD_EFFICIENCY = 0.8   # NEST's speed-up with threads t is taken as 1 + 0.8 (t - 1)
INTERPRETER_MB = 80.0     # the smallest measured RSS (report step): not data-dependent

# Wall time [s] and peak RSS [MB] per step; `scale` places each column on the model's axes.
MEASURED: dict[str, dict[str, dict[str, float]]] = {
    "default": {
        "scale": {"synapses": 1250 * 250 + 1000 * 100, "neuron_steps": 1250 * 12_000,
                  "episodes": 100, "recorded": 100 + 100 + 25},
        "simulate": {"wall_s": 220.5, "peak_rss_mb": 437.7, "build_s": 4.9},
        "simulate-emulation": {"wall_s": 126.3, "peak_rss_mb": 443.5, "build_s": 8.2},
        "map-spinnaker": {"wall_s": 14.0, "peak_rss_mb": 247.6},
        "analyze": {"wall_s": 10.2, "peak_rss_mb": 211.2},
        "capacity": {"wall_s": 3.3, "peak_rss_mb": 141.2},
        "validate": {"wall_s": 82.7, "peak_rss_mb": 323.8},
        "theory": {"wall_s": 1.2, "peak_rss_mb": 84.1},
        "sweep": {"wall_s": 2.1, "peak_rss_mb": 116.4},
        "report": {"wall_s": 1.0, "peak_rss_mb": 81.2},
    },
    "paper": {
        "scale": {"synapses": 5000 * 250 + 4000 * 200, "neuron_steps": 5000 * 12_000,
                  "episodes": 3, "recorded": 200 + 100 + 25},
        # episode_s: mean simulation + weight I/O per episode from episodes.csv
        "simulate": {"wall_s": 120.4, "peak_rss_mb": 880.0, "build_s": 49.1, "episode_s": 19.5},
        "map-spinnaker": {"wall_s": 29.3, "peak_rss_mb": 600.1},
        "theory": {"wall_s": 4.2, "peak_rss_mb": 83.8},
    },
}
STEPS = ("simulate", "map-spinnaker", "analyze", "capacity", "validate", "theory", "sweep",
         "report")
DATA_STEPS = ("analyze", "capacity", "validate")


def synapses(cfg: dict) -> int:
    """Return the number of synapses of the config's network (recurrent + plastic)."""
    n = cfg["network"]
    return ((n["n_exc"] + n["n_inh"]) * (n["c_exc"] + n["c_inh"])
            + n["n_exc"] * cfg["inputs"]["m"])


def neuron_steps(cfg: dict, dt_ms: float | None = None) -> float:
    """Return neuron updates per episode: (N_E + N_I) x (t_warm + t_train) / dt."""
    n, pr = cfg["network"], cfg["protocol"]
    dt = dt_ms or cfg["simulation"]["dt_ms"]
    return (n["n_exc"] + n["n_inh"]) * (pr["t_warm_ms"] + pr["t_train_ms"]) / dt


def _by_synapses(step: str, key: str, s: float) -> float:
    """Measured ``key`` of ``step`` interpolated linearly in the synapse count ``s``
    between the default and paper measurements (extrapolated above; the default's below)."""
    d, p = MEASURED["default"], MEASURED["paper"]
    y0 = d[step][key]
    if key not in p.get(step, {}):
        return y0
    x0, x1, y1 = d["scale"]["synapses"], p["scale"]["synapses"], p[step][key]
    return max(y0, y0 + (y1 - y0) * (s - x0) / (x1 - x0))


def simulate_seconds(cfg: dict, backend: str = "nest") -> float:
    """Return the expected wall time [s] of one simulate run of ``backend`` at
    ``simulation.threads`` NEST threads (before the safety factor)."""
    d, p = MEASURED["default"], MEASURED["paper"]
    emulation = backend.startswith("nest-spinnaker")   # either protocol: the 1 ms step
    dt = cfg["spinnaker"]["timestep_ms"] if emulation else cfg["simulation"]["dt_ms"]
    ref = d["simulate-emulation" if emulation else "simulate"]
    per_episode = (ref["wall_s"] - ref["build_s"] - START_UP_S) / d["scale"]["episodes"]
    # the default's emulation ran at its 1 ms board step, the reference at 0.1 ms
    per_update = per_episode / (d["scale"]["neuron_steps"] * (0.1 if emulation else 1.0))
    if p["simulate"]["episode_s"] > 0:
        per_update = max(per_update, p["simulate"]["episode_s"] / p["scale"]["neuron_steps"])
    threads = max(1, int(cfg["simulation"]["threads"]))
    episode = per_update * neuron_steps(cfg, dt) / (1 + THREAD_EFFICIENCY * (threads - 1))
    every = cfg["simulation"]["checkpoint_every"]
    episodes = cfg["protocol"]["episodes"]
    builds = math.ceil(episodes / every) if every > 0 else 1
    return START_UP_S + builds * _by_synapses("simulate", "build_s", synapses(cfg)) \
        + episodes * episode


def request(step: str, cfg: dict) -> dict[str, int]:
    """Return the resources of ``step`` for ``cfg``: ``cpus_per_task`` [cores],
    ``mem_mb`` [MB] and ``runtime`` [min], sized from ``MEASURED`` with the safety
    factors. ``simulate`` is sized for the slower of its NEST backends."""
    if step not in STEPS:
        raise KeyError(f"no resource model for step '{step}' (one of {', '.join(STEPS)})")
    d = MEASURED["default"]
    if step == "simulate":
        seconds = max(simulate_seconds(cfg, b) for b in ("nest", "nest-spinnaker"))
        rss = _by_synapses("simulate", "peak_rss_mb", synapses(cfg))
        cores = int(cfg["simulation"]["threads"])
    else:
        seconds = _by_synapses(step, "wall_s", synapses(cfg))
        rss = _by_synapses(step, "peak_rss_mb", synapses(cfg))
        if step in DATA_STEPS:
            rec = cfg["recording"]
            recorded = cfg["inputs"]["m"] + rec["n_exc_sample"] + rec["n_inh_sample"]
            grow = max(1.0, cfg["protocol"]["episodes"] * recorded
                       / (d["scale"]["episodes"] * d["scale"]["recorded"]))
            seconds *= grow
            rss = INTERPRETER_MB + (rss - INTERPRETER_MB) * grow
        cores = 1
    return {"cpus_per_task": cores,
            "mem_mb": int(max(MIN_MEM_MB, math.ceil(rss * MEM_SAFETY / 100) * 100)),
            "runtime": int(max(MIN_RUNTIME_MIN, math.ceil(seconds * TIME_SAFETY / 60)))}
