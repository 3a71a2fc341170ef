"""The ``simulate`` step: one experiment, one backend, one seed -> a run directory.

Writes ``spikes.nix`` (neo), ``weights.npz``, ``episodes.csv``, ``translation.json`` and
``provenance.json`` into the run directory, each atomically; ``provenance.json`` last, so
its presence marks a finished run.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from . import model, protocol
from .io import write_csv, write_json, write_npz, write_spikes_nix
from .provenance import Provenance

RUN_FILES = ("spikes.nix", "weights.npz", "episodes.csv", "translation.json", "provenance.json")


def initial_variance(cfg: dict) -> float:
    """Return the initial weight variance [theta^2]: the config's number, or the full
    theory's stationary variance when ``weights.v0`` is 'stationary'."""
    v0 = cfg["weights"]["v0"]
    if v0 == "stationary":
        from .theory import stationary_variance
        return float(stationary_variance(cfg, cross_correlations=True))
    return float(v0)


def sample_indices(n: int, k: int) -> np.ndarray:
    """Return k evenly spaced neuron indices out of n (the recorded sample)."""
    return np.unique(np.linspace(0, n - 1, k).round().astype(int)) if k > 0 else np.array([], int)


def spikes_block(p: model.Params, per_pop: dict, epochs: list, cfg_hash: str, seed: int,
                 backend: str, pat: model.Patterns):
    """Return a neo Block: one Segment spanning the run, one SpikeTrain per recorded
    neuron (annotated with population and index), and an Epoch per phase."""
    import neo
    import quantities as pq

    t_stop = max(e[1] + e[2] for e in epochs) if epochs else 0.0
    seg = neo.Segment(name="run", description="all episodes; see the 'phases' epoch")
    for pop, (keep, idx, t) in per_pop.items():
        for n in keep:
            st = np.sort(t[idx == n])
            seg.spiketrains.append(neo.SpikeTrain(
                st * pq.ms, t_start=0 * pq.ms, t_stop=t_stop * pq.ms,
                name=f"{pop}-{n}", population=pop, index=int(n)))
    seg.epochs.append(neo.Epoch(
        times=np.array([e[1] for e in epochs]) * pq.ms,
        durations=np.array([e[2] for e in epochs]) * pq.ms,
        labels=np.array([e[0] for e in epochs]), name="phases"))
    block = neo.Block(name=f"stdp-capacity {backend} seed {seed}", config_hash=cfg_hash,
                      seed=seed, backend=backend)
    block.segments.append(seg)
    return block


def simulate(cfg: dict, backend_name: str, seed: int, out: Path, stream=sys.stderr) -> dict:
    """Run one experiment and write the run directory ``out``. Returns the provenance."""
    from backends import get_backend

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    prov = Provenance("simulate", cfg, seed=seed, backend=backend_name, config=cfg)
    p = model.params_from_config(cfg)
    v0 = initial_variance(cfg)
    conn = model.draw_connectivity(p, seed, v0)
    pat = model.draw_patterns(p, seed)
    rec = cfg["recording"]
    sample = {"exc": sample_indices(p.n_exc, rec["n_exc_sample"]),
              "inh": sample_indices(p.n_inh, rec["n_inh_sample"])}
    ref = protocol.reference_memories(p.episodes, cfg["readout"]["reference_memories"])

    backend = get_backend(backend_name)(cfg, seed, out)
    print(f"[simulate] {backend.label}: seed {seed}, {p.n_exc}+{p.n_inh} neurons, "
          f"{p.m} inputs, {p.episodes} episodes -> {out}", file=stream, flush=True)
    backend.setup()
    t_build = prov.record.setdefault("timings", {})
    import time
    t = time.perf_counter()
    backend.build(p, conn)
    t_build["build_s"] = round(time.perf_counter() - t, 3)
    print(f"[simulate] built in {t_build['build_s']:.1f} s", file=stream, flush=True)

    spikes = {"inputs": [], "exc": [], "inh": []}
    epochs = []

    def keep(j, r):
        for k in spikes:
            spikes[k].append(r.spikes[k])
        t0, t1 = r.spikes["t_start"], r.spikes["t_stop"]
        epochs.append((f"warm-up {j}", t0, p.t_warm))
        epochs.append((f"training {j}", t0 + p.t_warm, p.t_train))

    res = protocol.run_episodes(
        backend, p, conn, pat, seed, cfg["protocol"]["homeostasis"], ref, sample,
        set(rec["full_weights_at"]), on_episode=keep,
        progress=protocol.Progress(p.episodes, stream, f"[simulate seed {seed}] "))
    translation = backend.translation_report()
    backend.end()

    from .config import config_hash
    h = config_hash(cfg)
    per_pop = {}
    for k, chunks in spikes.items():
        idx = np.concatenate([c[0] for c in chunks]) if chunks else np.array([], int)
        t = np.concatenate([c[1] for c in chunks]) if chunks else np.array([])
        per_pop[k] = (np.arange(p.m) if k == "inputs" else sample[k], idx, t)
    write_spikes_nix(out / "spikes.nix", spikes_block(p, per_pop, epochs, h, seed,
                                                      backend_name, pat))
    arrays = {k: v for k, v in res.items() if k != "rows"}
    write_npz(out / "weights.npz", **arrays, cues=pat.cues, targets=pat.targets,
              reference=ref, classes=np.array(protocol.CLASSES),
              w_initial=(conn.w0 / p.theta).astype(np.float32),
              v0=np.array(v0), theta_mv=np.array(p.theta))
    write_csv(out / "episodes.csv", res["rows"])
    write_json(out / "translation.json", translation)
    rows = res["rows"]
    summary = {k: float(np.nanmean([r[k] for r in rows])) for k in
               ("rate_target_hz", "rate_non_target_hz", "rate_inh_hz", "wall_sim_s", "wall_io_s")}
    record = prov.finish(translation=translation, initial_variance_theta2=v0,
                         produces_spikes=backend.produces_spikes, summary=summary,
                         files=list(RUN_FILES))
    write_json(out / "provenance.json", record)
    print(f"[simulate] done in {record['wall_time_s']:.1f} s: mean rates target "
          f"{summary['rate_target_hz']:.2f} Hz, non-target {summary['rate_non_target_hz']:.2f} Hz, "
          f"inhibitory {summary['rate_inh_hz']:.2f} Hz", file=stream, flush=True)
    return record
