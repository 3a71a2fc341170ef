"""What each workflow step asks a batch system for (SLURM: ``--cpus-per-task``, ``--mem``,
``--time``), sized from measured runs and scaled with the config.

The measurements are data (``MEASURED``), taken with ``bench/step_resources.py`` on a
shared 2-core VM (Intel, 24 GB), one NEST thread, at default scale (N_E = 1000, M = 100,
100 episodes) and, for the steps whose cost grows with the network, at paper scale
(N_E = 4000, M = 200, a few episodes; a whole paper seed is 30+ minutes, so its time is
extrapolated from the per-episode cost, as the README says).

Model, per step:
- memory [MB] = peak RSS interpolated linearly in the number of synapses between the two
  measured scales (never below the smaller), times ``MEM_SAFETY``;
- run time [min] = (start-up + builds + episodes x per-episode cost) times
  ``TIME_SAFETY``; the per-episode cost scales with neuron-steps per episode
  ((N_E + N_I) x (t_warm + t_train) / dt) and inversely with the NEST threads;
- cores = ``simulation.threads`` for ``simulate`` (NEST's threads; the step checks that
  SLURM granted exactly these), 1 for every other step.
"""
from __future__ import annotations

import math

# Safety factors over the measured numbers: memory varies little between runs of one
# config (RSS is dominated by the network and the weight history), run time varies with
# node load and CPU type (the measurements ran beside 4 other jobs on 2 cores).
MEM_SAFETY = 1.5
TIME_SAFETY = 2.0
MIN_MEM_MB = 500           # python + numpy + matplotlib alone is about 100-200 MB
MIN_RUNTIME_MIN = 5        # SLURM's scheduling granularity; start-up alone is ~5-10 s

# bench/results/step_resources-*.json: wall time [s] and peak RSS [MB] per step; the
# `synapses` and `neuron_steps` of the measured config place the numbers on the scale.
MEASURED: dict[str, dict[str, dict[str, float]]] = {
    "default": {
        # N_E = 1000, N_I = 250, M = 100, 100 episodes of 1.2 s at dt 0.1 ms, 1 thread
        "scale": {"synapses": 412_500, "neuron_steps": 1250 * 12_000, "episodes": 100},
        "simulate": {"wall_s": 220.5, "peak_rss_mb": 430.6, "build_s": 4.5},
        "simulate-emulation": {"wall_s": 100.0, "peak_rss_mb": 430.0, "build_s": 4.5},
        "map-spinnaker": {"wall_s": 60.0, "peak_rss_mb": 600.0},
        "analyze": {"wall_s": 30.0, "peak_rss_mb": 500.0},
        "capacity": {"wall_s": 5.0, "peak_rss_mb": 200.0},
        "validate": {"wall_s": 30.0, "peak_rss_mb": 500.0},
        "theory": {"wall_s": 1.2, "peak_rss_mb": 84.1},
        "sweep": {"wall_s": 3.0, "peak_rss_mb": 150.0},
        "report": {"wall_s": 5.0, "peak_rss_mb": 200.0},
    },
    "paper": {
        # N_E = 4000, N_I = 1000, M = 200: 1.25 M recurrent + 0.8 M plastic synapses
        "scale": {"synapses": 2_050_000, "neuron_steps": 5000 * 12_000, "episodes": 300},
        "simulate": {"wall_s": 0.0, "peak_rss_mb": 1500.0, "build_s": 25.0, "episode_s": 9.0},
        "map-spinnaker": {"wall_s": 300.0, "peak_rss_mb": 2000.0},
    },
}
STEPS = ("simulate", "map-spinnaker", "analyze", "capacity", "validate", "theory", "sweep",
         "report")


def synapses(cfg: dict) -> int:
    """Return the number of synapses of the config's network (recurrent + plastic)."""
    n = cfg["network"]
    return ((n["n_exc"] + n["n_inh"]) * (n["c_exc"] + n["c_inh"])
            + n["n_exc"] * cfg["inputs"]["m"])


def neuron_steps(cfg: dict, dt_ms: float | None = None) -> float:
    """Return neuron-updates per episode: (N_E + N_I) x (t_warm + t_train) / dt."""
    n, pr = cfg["network"], cfg["protocol"]
    dt = dt_ms or cfg["simulation"]["dt_ms"]
    return (n["n_exc"] + n["n_inh"]) * (pr["t_warm_ms"] + pr["t_train_ms"]) / dt


def _interp(step: str, key: str, s: float) -> float:
    """Measured ``key`` of ``step`` interpolated linearly in the synapse count ``s``
    between the default and paper measurements (extrapolated above, floored below)."""
    d, p = MEASURED["default"], MEASURED["paper"]
    y0 = d[step][key]
    if step not in p or key not in p[step]:
        return y0 * max(1.0, s / d["scale"]["synapses"])
    x0, x1, y1 = d["scale"]["synapses"], p["scale"]["synapses"], p[step][key]
    return max(y0, y0 + (y1 - y0) * (s - x0) / (x1 - x0))


def simulate_seconds(cfg: dict, backend: str = "nest") -> float:
    """Return the expected wall time [s] of one simulate run at ``simulation.threads``."""
    d = MEASURED["default"]
    emulation = backend == "nest-spinnaker"
    dt = cfg["spinnaker"]["timestep_ms"] if emulation else cfg["simulation"]["dt_ms"]
    ref = d["simulate-emulation" if emulation else "simulate"]
    ep0 = (ref["wall_s"] - ref["build_s"]) / d["scale"]["episodes"]
    # at the default's dt (0.1 ms); the emulation's measured number is at its own 1 ms step
    per_step = ep0 / (d["scale"]["neuron_steps"] / (10.0 if emulation else 1.0))
    paper = MEASURED["paper"]["simulate"]
    per_step = max(per_step, paper["episode_s"] / MEASURED["paper"]["scale"]["neuron_steps"])
    episode = per_step * neuron_steps(cfg, dt) / max(1, cfg["simulation"]["threads"])
    every = cfg["simulation"]["checkpoint_every"]
    episodes = cfg["protocol"]["episodes"]
    builds = math.ceil(episodes / every) if every > 0 else 1
    build = _interp("simulate", "build_s", synapses(cfg))
    return 10.0 + builds * build + episodes * episode


def request(step: str, cfg: dict) -> dict[str, int]:
    """Return the resources of ``step`` for ``cfg``: ``cpus_per_task`` [cores],
    ``mem_mb`` [MB] and ``runtime`` [min], sized from ``MEASURED`` with the safety
    factors. ``simulate`` is sized for the slower of its NEST backends."""
    if step not in STEPS:
        raise KeyError(f"no resource model for step '{step}' (one of {', '.join(STEPS)})")
    s = synapses(cfg)
    episodes = cfg["protocol"]["episodes"]
    ep_ratio = episodes / MEASURED["default"]["scale"]["episodes"]
    if step == "simulate":
        seconds = max(simulate_seconds(cfg, b) for b in ("nest", "nest-spinnaker"))
        rss = _interp("simulate", "peak_rss_mb", s)
        cores = int(cfg["simulation"]["threads"])
    else:
        m = MEASURED["default"][step]
        # analysis, capacity and validation read every episode's spikes and weights
        grow = max(1.0, ep_ratio) if step in ("analyze", "capacity", "validate") else 1.0
        seconds = _interp(step, "wall_s", s) * grow
        rss = _interp(step, "peak_rss_mb", s) * (grow if step != "capacity" else 1.0)
        cores = 1
        del m
    return {"cpus_per_task": cores,
            "mem_mb": int(max(MIN_MEM_MB, math.ceil(rss * MEM_SAFETY / 100) * 100)),
            "runtime": int(max(MIN_RUNTIME_MIN, math.ceil(seconds * TIME_SAFETY / 60)))}
