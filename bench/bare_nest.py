"""Benchmark baseline: the episode protocol as a bare NEST script (no PyNN, no pipeline).

The same network as pipeline/model.py (host-drawn connectivity and weights of
``model.draw_connectivity``, the same neuron, noise, supervision and STDP parameters) built
directly with NEST 3 calls the way PyNN lays it out on NEST (spike_generator and
poisson_generator sources through parrot neurons, one noise_generator per population),
and the same protocol per episode: new input trains and supervision rates, warm-up with
lambda = 0 on the cue rows, training with lambda on, spikes read and cleared, and the
cue-weight round trip (the cue rows' weights read after training and written back). No
facilitation correction, no homeostasis, no records: the floor that our episode is
compared with. Prints one JSON object (seconds, the first episode excluded; NEST's own
kernel timers of the Simulate calls as ``nest_simulate_wall_s``/``_cpu_s``).

    .venv/bin/python bench/bare_nest.py config/default.yaml --threads 1 --episodes 4
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import model  # noqa: E402
from worker_record import emit  # noqa: E402  (bench/ is the script's directory)
from pipeline.config_sources import load_config  # noqa: E402
from pipeline.parameters import derive  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    """Build and run; return (and print) the build and per-episode times [s]."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--episodes", type=int, default=4)
    ap.add_argument("--n-exc", type=int, default=None, help="override network.n_exc "
                    "(n_inh = n_exc / 4)")
    ap.add_argument("--supervision", choices=("parrot", "direct"), default="parrot",
                    help="poisson_generator -> parrot -> E (PyNN's layout) or -> E directly")
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    if args.n_exc:
        cfg["network"]["n_exc"], cfg["network"]["n_inh"] = args.n_exc, args.n_exc // 4
    cfg["protocol"]["episodes"] = max(cfg["protocol"]["episodes"], args.episodes)
    p = derive(cfg).simulator
    dt = float(cfg["simulation"]["dt_ms"])
    seed = 1
    conn = model.draw_connectivity(p, seed, 1e-4)
    pat = model.draw_patterns(p, seed)

    import nest
    nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": dt, "local_num_threads": args.threads,
                          "rng_seed": seed, "min_delay": dt, "max_delay": max(10 * dt, 1.0)})
    w0, c0 = time.perf_counter(), time.process_time()
    pops = {}
    for name, n, mu in (("exc", p.n_exc, p.mu_exc), ("inh", p.n_inh, p.mu_inh)):
        pops[name] = nest.Create("iaf_psc_delta", n, params={
            "tau_m": p.tau_m, "C_m": 1000.0 * model.CM_NF, "E_L": 0.0, "V_reset": 0.0,
            "V_th": p.theta, "t_ref": 0.0, "I_e": 1000.0 * mu * model.CM_NF / p.tau_m,
            "tau_minus": p.tau_ac})
        pops[name].V_m = conn.v_init[name]
        d = p.d_exc if name == "exc" else p.d_inh
        noise = nest.Create("noise_generator", params={
            "mean": 0.0, "std": 1000.0 * model.noise_stdev(d, p, dt), "dt": dt})
        nest.Connect(noise, pops[name])
    gen = nest.Create("spike_generator", p.m)
    inputs = nest.Create("parrot_neuron", p.m)
    nest.Connect(gen, inputs, "one_to_one", {"delay": dt})
    sup_gen = nest.Create("poisson_generator", p.n_exc)
    if args.supervision == "parrot":
        sup = nest.Create("parrot_neuron", p.n_exc)
        nest.Connect(sup_gen, sup, "one_to_one", {"delay": dt})
    else:
        sup = sup_gen
    nest.Connect(sup, pops["exc"], "one_to_one",
                 {"weight": p.supervision_jump, "delay": dt})
    first = {"exc": pops["exc"][0].global_id, "inh": pops["inh"][0].global_id}
    jumps = {("exc", "exc"): p.j_ee, ("exc", "inh"): p.j_ie,
             ("inh", "exc"): -p.j_inh, ("inh", "inh"): -p.j_inh}
    for (pre, post), pairs in conn.lists.items():
        nest.Connect(pairs[:, 0] + first[pre], pairs[:, 1] + first[post], "one_to_one",
                     {"synapse_model": "static_synapse",
                      "weight": np.full(len(pairs), jumps[(pre, post)]),
                      "delay": np.full(len(pairs), dt)})
    lam = p.delta_c / p.w_max
    nest.CopyModel("stdp_synapse", "plastic", {
        "tau_plus": p.tau_c, "lambda": lam, "alpha": -p.r_ac / lam, "mu_plus": 0.0,
        "mu_minus": 1.0, "Wmax": p.w_max})
    pre_i, post_i = np.meshgrid(np.arange(p.m), np.arange(p.n_exc), indexing="ij")
    nest.Connect(pre_i.ravel() + inputs[0].global_id, post_i.ravel() + first["exc"],
                 "one_to_one", {"synapse_model": "plastic", "weight": conn.w0.ravel(),
                                "delay": np.full(pre_i.size, dt)})
    rec = {k: nest.Create("spike_recorder") for k in ("exc", "inh", "inputs")}
    nest.Connect(pops["exc"], rec["exc"])
    nest.Connect(pops["inh"], rec["inh"])
    nest.Connect(inputs, rec["inputs"])
    rows = {m: nest.GetConnections(source=inputs[m], synapse_model="plastic")
            for m in range(p.m)}
    build = {"wall_s": time.perf_counter() - w0, "cpu_s": time.process_time() - c0}

    laps = []
    for j in range(args.episodes):
        w, c = time.perf_counter(), time.process_time()
        cue, target = pat.cues[j], pat.targets[j]
        t0 = nest.biological_time
        trains = model.draw_input_spikes(p, seed, j, cue, t0, p.t_warm + p.t_train, dt)
        gen.set([{"spike_times": np.round(t - dt, 6)} for t in trains])
        rates = np.zeros(p.n_exc)
        rates[target] = p.supervision_rate
        sup_gen.rate = rates
        for m in cue:
            rows[m].set({"lambda": 0.0})
        nest.Simulate(p.t_warm)
        kernel = np.array(nest.GetKernelStatus(["time_simulate", "time_simulate_cpu"]))
        for m in cue:
            rows[m].set({"lambda": lam})
        nest.Simulate(p.t_train)
        kernel += nest.GetKernelStatus(["time_simulate", "time_simulate_cpu"])
        n_spikes = {}
        for k, r in rec.items():
            n_spikes[k] = len(r.get("events")["times"])
            r.n_events = 0
        weights = [rows[m].get("weight") for m in cue]
        for m, wm in zip(cue, weights):
            rows[m].set(weight=wm)
        laps.append({"wall_s": time.perf_counter() - w, "cpu_s": time.process_time() - c,
                     "nest_simulate_wall_s": kernel[0], "nest_simulate_cpu_s": kernel[1],
                     "rate_exc_hz": 1e3 * n_spikes["exc"] / (p.n_exc * (p.t_warm + p.t_train))})
    return emit({"config": args.config, "n_exc": p.n_exc, "threads": args.threads,
                 "supervision": args.supervision, "build": build}, laps)


if __name__ == "__main__":
    main()
