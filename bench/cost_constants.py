"""Measure the cost constants of ``pipeline/cost.py``: NEST memory per synapse and per
neuron, and wall time per neuron-step and per synapse-second, from small real NEST runs.

Run by hand (about 2 minutes on 2 cores; 1 NEST thread):

    .venv/bin/python bench/cost_constants.py            # -> bench/results/cost_constants.json

Each configuration runs in its own process: it draws the host state, notes the resident
memory, builds the network on NEST through the project's backend (PyNN's list connector
included, as in a real run) and notes the peak resident memory (``ru_maxrss``); then it
trains a few episodes and takes their CPU time (robust to other jobs on a shared machine;
with 1 thread it is the wall time of an unloaded core). Non-negative least squares over the configurations give
- memory:  peak - before = a_neuron * neurons + a_static * static synapses
                          + a_plastic * plastic synapses                       [bytes]
- time:    s/episode = b_neuron * neurons * steps + b_static * static synapses * T_episode[s]
                      + b_plastic * plastic synapses (NEST's STDP and the host's per-episode
                        work on the M x N_E matrix: homeostasis, class statistics)
                      + b_episode (drive set-up, spike read-out, PyNN calls)
The constants are copied into ``pipeline/cost.py`` (MEASURED) by hand, with the date.
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import nnls

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# (n_exc, n_inh, c_exc, c_inh, m): vary neurons, recurrent and plastic synapses separately
CONFIGS = [
    (400, 100, 40, 10, 40),
    (400, 100, 200, 50, 40),
    (400, 100, 40, 10, 400),
    (1600, 400, 40, 10, 40),
    (1600, 400, 100, 25, 200),
    (1000, 250, 200, 50, 100),     # the default config's network
]
EPISODES = 3          # the first is not timed (it includes the first weight writes)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()


def measure_one(n_exc: int, n_inh: int, c_exc: int, c_inh: int, m: int) -> dict:
    """Build and run one configuration in this process; return its measurements."""
    from backends.nest import NestBackend
    from pipeline import model, protocol
    from pipeline.config import validate_config
    from pipeline.parameters import derive
    from tests.conftest import tiny_config_dict

    cfg = validate_config(tiny_config_dict(**{
        "network.n_exc": n_exc, "network.n_inh": n_inh, "network.c_exc": c_exc,
        "network.c_inh": c_inh, "inputs.m": m, "protocol.episodes": EPISODES,
        "protocol.t_warm_ms": 100.0, "protocol.t_train_ms": 400.0,
        "recording.full_weights_at": [], "simulation.threads": 1}))
    p = derive(cfg).simulator
    conn = model.draw_connectivity(p, 1, 1e-4)
    pat = model.draw_patterns(p, 1)
    backend = NestBackend(cfg, 1, None)
    backend.setup()
    before = _rss_bytes()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    backend.build(p, conn)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    after = _rss_bytes()
    ref = protocol.reference_memories(p.episodes, 2)
    state = protocol.TrainingState.fresh(p, conn.w0, len(ref))
    sample = {"exc": np.arange(10), "inh": np.arange(5)}
    walls, cpus = [], []
    for j in range(EPISODES):
        t, c = time.perf_counter(), time.process_time()
        protocol.run_episodes(backend, p, pat, 1, state, j + 1, True, ref, sample, set())
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    backend.end()
    n_static = (n_exc + n_inh) * (c_exc + c_inh)
    return {"n_exc": n_exc, "n_inh": n_inh, "c_exc": c_exc, "c_inh": c_inh, "m": m,
            "neurons": n_exc + n_inh, "static_synapses": n_static,
            "plastic_synapses": m * n_exc,
            # the build's own peak, unless an earlier peak (the imports) was higher
            "build_peak_bytes": max((peak - before) if peak > peak_before else 0, after - before),
            "build_resident_bytes": after - before,
            "steps_per_episode": round((p.t_warm + p.t_train) / backend.dt),
            "episode_s": (p.t_warm + p.t_train) / 1000.0,
            "wall_per_episode_s": float(np.median(walls[1:])), "walls_s": walls,
            "cpu_per_episode_s": float(np.median(cpus[1:])), "cpus_s": cpus}


def main() -> None:
    rows = []
    for c in CONFIGS:
        r = subprocess.run([sys.executable, __file__, "--one", *map(str, c)],
                           capture_output=True, text=True, cwd=ROOT)
        if r.returncode != 0:
            raise SystemExit(f"configuration {c} failed:\n{r.stderr[-3000:]}")
        rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
        print(f"{c}: build peak {rows[-1]['build_peak_bytes'] / 2**20:.1f} MiB, "
              f"{rows[-1]['cpu_per_episode_s']:.3f} CPU s/episode "
              f"({rows[-1]['wall_per_episode_s']:.3f} s wall)", flush=True)
    X = np.array([[r["neurons"], r["static_synapses"], r["plastic_synapses"]] for r in rows],
                 float)
    y = np.array([r["build_peak_bytes"] for r in rows], float)
    mem, _ = nnls(X, y)          # costs are not negative
    T = np.array([[r["neurons"] * r["steps_per_episode"],
                   r["static_synapses"] * r["episode_s"], r["plastic_synapses"], 1.0]
                  for r in rows], float)
    # CPU time of the (1-thread) process: what the episode costs when it has its core to
    # itself; wall time on a shared machine is longer by the load
    t = np.array([r["cpu_per_episode_s"] for r in rows])
    tim, _ = nnls(T, t)
    fit_mem, fit_t = X @ mem, T @ tim
    out = {
        "what": "NEST 1 thread cost constants for pipeline/cost.py (bench/cost_constants.py)",
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "host_cores": len(__import__("os").sched_getaffinity(0)),
        "bytes_per_neuron": float(mem[0]), "bytes_per_static_synapse": float(mem[1]),
        "bytes_per_plastic_synapse": float(mem[2]),
        "seconds_per_neuron_step": float(tim[0]),
        "seconds_per_static_synapse_second": float(tim[1]),
        "seconds_per_plastic_synapse_episode": float(tim[2]),
        "seconds_per_episode": float(tim[3]),
        "max_relative_error_memory": float(np.max(np.abs(fit_mem - y) / y)),
        "max_relative_error_time": float(np.max(np.abs(fit_t - t) / t)),
        "runs": rows,
    }
    path = ROOT / "bench" / "results" / "cost_constants.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "runs"}, indent=1))
    print(f"-> {path}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        import warnings
        warnings.filterwarnings("ignore")
        print(json.dumps(measure_one(*map(int, sys.argv[2:7]))))
    else:
        main()
