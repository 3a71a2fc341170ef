"""The ``simulate`` step: one experiment, one backend, one seed -> a run directory.

Writes ``spikes.nix`` (neo), ``weights.npz``, ``episodes.csv``, ``translation.json`` and
``provenance.json`` into the run directory, each atomically; ``provenance.json`` last, so
its presence marks a finished run. Before any of them, the trained state is saved as the
run's final checkpoint, removed only once they are all written: a failure while writing
them keeps the simulation, and the same command run again writes them from it. With ``readout.spiking`` the recall sessions of each
training segment run after it on a simulator of their own (pipeline/recall.py); their
counts go to weights.npz and their spikes to a 'recall' Segment of spikes.nix.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from . import model, protocol, recall
from .parameters import derive
from .io import (CHECKSUMS_KEY, DiskFullError, sha256_file, write_csv, write_json, write_npz,
                 write_spikes_nix)
from .provenance import Provenance, granted_cores, slurm_job
from .stdp_bookkeeping import PreTrace

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
                 backend: str, pat: model.Patterns, recall_pop: dict | None = None,
                 recall_epochs: list = (), recall_t_end: float = 0.0):
    """Return a neo Block: one Segment spanning the run, one SpikeTrain per recorded
    neuron (annotated with population and index), and an Epoch per phase. With a spiking
    recall, a second Segment 'recall' on the recall clock (its sessions run on simulators
    of their own) holds the recall spikes of the same neurons and an Epoch 'recall' with
    one counting window per presented cue."""
    import neo
    import quantities as pq

    def segment(name, description, pops, eps, epoch_name, t_stop):
        seg = neo.Segment(name=name, description=description)
        for pop, (keep, idx, t) in pops.items():
            for n in keep:
                st = np.sort(t[idx == n])
                seg.spiketrains.append(neo.SpikeTrain(
                    st * pq.ms, t_start=0 * pq.ms, t_stop=t_stop * pq.ms,
                    name=f"{pop}-{n}", population=pop, index=int(n)))
        seg.epochs.append(neo.Epoch(
            times=np.array([e[1] for e in eps]) * pq.ms,
            durations=np.array([e[2] for e in eps]) * pq.ms,
            labels=np.array([e[0] for e in eps]), name=epoch_name))
        return seg

    t_stop = max(e[1] + e[2] for e in epochs) if epochs else 0.0
    block = neo.Block(name=f"stdp-capacity {backend} seed {seed}", config_hash=cfg_hash,
                      seed=seed, backend=backend)
    block.segments.append(segment("run", "all episodes; see the 'phases' epoch", per_pop,
                                  epochs, "phases", t_stop))
    if recall_epochs:
        block.segments.append(segment(
            "recall", "spiking recall sessions (no supervision, plasticity off), each on a "
            "simulator of its own built from the weights after an episode; times on the "
            "recall clock; see the 'recall' epoch", recall_pop, list(recall_epochs), "recall",
            recall_t_end))
    return block


MAP_FILES = ("translation.json", "resources.json", "provenance.json")


def map_only(backend, cfg: dict, p: model.Params, conn, pat, seed: int, out: Path, prov,
             stream) -> dict:
    """Build the model on a backend that cannot run the protocol here (sPyNNaker on a
    virtual board), load episode 0's drive, map it, and write the translation and
    resource reports. Returns the provenance."""
    t = time.perf_counter()
    backend.setup()
    backend.build(p, conn, input_trains=model.draw_input_spikes(
        p, seed, 0, pat.cues[0], 0.0, p.t_warm + p.t_train, backend.dt))
    backend.set_supervision(protocol.supervision_rates(p, pat.targets[0]))
    try:
        resources = backend.map(p.t_warm + p.t_train)
        translation = backend.translation_report()
    finally:
        backend.end()
    note = ("NOT EXECUTED: no SpiNNaker hardware was used; sPyNNaker's virtual board did the "
            "full mapping (partitioning, placement, routing, data generation) but produces no "
            "spikes and no weight dynamics")
    record = prov.finish(translation=translation, resources=resources, produces_spikes=False,
                         not_executed=note, files=list(MAP_FILES),
                         timings={"build_and_map_s": round(time.perf_counter() - t, 2)})
    _write_outputs([(out / name, lambda name=name, data=data: write_json(out / name, data))
                    for name, data in (("translation.json", translation),
                                       ("resources.json", resources),
                                       ("provenance.json", record))])
    print(f"[simulate] {note}.", file=stream)
    print(f"[simulate] mapped in {resources['mapping_wall_s']:.1f} s: {resources['app_cores']} "
          f"application cores on {resources['chips_used']} chips (of "
          f"{resources['machine_chips']}), {resources['sdram_planned_bytes'] / 2**20:.1f} MiB "
          f"SDRAM planned, {resources['routing_entries_max']} routing entries on the fullest "
          f"chip; fits one {resources['board_chips']}-chip board: "
          f"{'yes' if resources['fits_one_board'] else 'NO'}; weight quantum "
          f"{translation['weights']['quantum_mv']:.4g} mV", file=stream, flush=True)
    return record


def segments(episodes: int, every: int, rebuild_every: int = 0) -> list[tuple[int, int]]:
    """Return the [start, stop) episode ranges between checkpoints (``every``) and
    rebuilds (``rebuild_every``); one range if both are 0."""
    cuts = {0, episodes}
    for n in (every, rebuild_every):
        if n > 0:
            cuts.update(range(0, episodes, n))
    cuts = sorted(cuts)
    return list(zip(cuts[:-1], cuts[1:]))


def check_granted_cores(cfg: dict, environ: dict[str, str] | None = None,
                        stream=None) -> int:
    """Return the NEST threads of this run (``simulation.threads`` of the config to run
    with, already capped to the usable cores by ``resolve_threads``), warning under SLURM
    when the job was granted more cores than that: they stay idle, since results depend
    on the thread count and the step never changes it upwards. The Snakefile's simulate
    rule requests cpus_per_task = simulation.threads, so the two agree."""
    threads = int(cfg["simulation"]["threads"])
    granted = granted_cores(environ)
    if granted is not None and granted > threads:
        job = (slurm_job(environ) or {}).get("job_id")
        print(f"[simulate] warning: SLURM job {job} was granted {granted} cores "
              f"(SLURM_CPUS_PER_TASK={granted}) but simulation.threads is {threads}: NEST "
              f"runs {threads} thread{'s' if threads > 1 else ''} (the results depend on "
              f"that number) and {granted - threads} core(s) stay idle; set "
              f"simulation.threads: {granted} to use them", file=stream or sys.stderr,
              flush=True)
    return threads


def check_seed(seed: int) -> int:
    """Return ``seed`` if it is a valid experiment seed, else raise ConfigError with the
    allowed range (every seed in it is valid for NEST, numpy and sPyNNaker)."""
    from .config import SEED_MAX, SEED_MIN, ConfigError

    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) \
            or not SEED_MIN <= seed <= SEED_MAX:
        raise ConfigError(f"seed {seed!r} is out of range: a seed must be an integer from "
                          f"{SEED_MIN} to {SEED_MAX}")
    return int(seed)


def resolve_threads(cfg: dict, stream=sys.stderr) -> tuple[dict, dict]:
    """Return (config to run with, thread record). The config's ``simulation.threads`` is
    lowered to the cores this process may use (affinity, SLURM, cgroup quota) with a
    warning; the record holds requested, used and available numbers for provenance."""
    import copy

    from .machine import usable_cores

    requested = int(cfg["simulation"]["threads"])
    cores, limits = usable_cores()
    used = min(requested, cores)
    record = {"requested": requested, "used": used, "cores_available": cores,
              "core_limits": limits}
    if used < requested:
        print(f"[simulate] warning: simulation.threads = {requested} but this process may use "
              f"only {cores} core{'s' if cores > 1 else ''} ("
              f"{', '.join(f'{k} {v}' for k, v in limits.items())}); running on {used} "
              f"thread{'s' if used > 1 else ''}. Results are those of "
              f"simulation.threads = {used}.", file=stream, flush=True)
        cfg = copy.deepcopy(cfg)
        cfg["simulation"]["threads"] = used
    return cfg, record


def check_cost(cfg: dict, backend_cls, threads: int, check_memory: bool = True,
               stream=sys.stderr) -> "cost.CostEstimate":
    """Estimate the run's memory and wall time (pipeline.cost), print the estimate, refuse
    (InsufficientMemoryError) when the memory exceeds what the machine has unless
    ``check_memory`` is False, and warn when the run would take more than a day. Returns
    the estimate."""
    from . import cost
    from .machine import available_memory_bytes

    est = cost.estimate(cfg, backend_cls.time_step(cfg), threads,
                        runs_episodes=not backend_cls.map_only)
    avail, source = available_memory_bytes()
    have = f"{avail / 2**30:.3g} GiB available ({source})" if avail is not None else source
    print(f"[simulate] {est.summary()}; {have}", file=stream, flush=True)
    if avail is not None and est.memory_total > avail:
        msg = (f"this run needs about {est.memory_total / 2**30:.3g} GiB of memory but "
               f"{have}: shrink the network (network.n_exc, network.n_inh, inputs.m), "
               f"protocol.episodes or readout.reference_memories, or run on a bigger machine"
               f"{'' if est.wall_s is None else f' (it would also take about {cost.duration(est.wall_s)})'}"
               f". To try anyway, pass --no-memory-check")
        if check_memory:
            raise cost.InsufficientMemoryError(msg)
        print(f"[simulate] warning (--no-memory-check): {msg}", file=stream, flush=True)
    if est.wall_s is not None and est.wall_s > cost.DAY_S:
        print(f"[simulate] warning: this run would take about {cost.duration(est.wall_s)} "
              f"({est.episodes} episodes x {est.per_episode_s:.3g} s); consider fewer "
              f"protocol.episodes, a smaller network, checkpoints "
              f"(simulation.checkpoint_every) or a cluster", file=stream, flush=True)
    return est


def _write_outputs(writes: list[tuple[Path, Callable[[], None]]]) -> None:
    """Run the writes [(final path, thunk that writes it)] in order; if one fails for lack
    of space, remove the files the earlier ones wrote, so no final name is left."""
    from .io import DiskFullError

    done: list[Path] = []
    try:
        for path, write in writes:
            write()
            done.append(path)
    except DiskFullError:
        for path in done:
            path.unlink(missing_ok=True)
        raise


def simulate(cfg: dict, backend_name: str, seed: int, out: Path, stream=sys.stderr,
             check_memory: bool = True) -> dict:
    """Run one experiment and write the run directory ``out``. Returns the provenance.

    Before anything is drawn or built, the seed is checked, ``simulation.threads`` is
    lowered to the usable cores (with a warning), and the memory and wall time are
    estimated (refused if the memory exceeds the machine's, unless ``check_memory`` is
    False). The run directory is locked for the run (a second simulate into it stops at
    once). With ``simulation.checkpoint_every`` > 0 the run is checkpointed every that
    many episodes and resumes from its last checkpoint when restarted.
    """
    from backends import get_backend

    from .runlock import RunLock

    seed = check_seed(seed)
    backend_cls = get_backend(backend_name)
    run_cfg, threads = (cfg, None) if backend_cls.map_only else resolve_threads(cfg, stream)
    est = check_cost(cfg, backend_cls, threads["used"] if threads else 1, check_memory, stream)
    out = Path(out).resolve()
    with RunLock(out):
        return _simulate_locked(cfg, run_cfg, backend_name, seed, out, stream, threads, est)


@dataclass
class HostDraws:
    """Everything a run draws on the host from its config and seed (docs/design.md
    section 11): parameters (simulator view), initial variance v0 [theta^2], connectivity,
    patterns, the recorded sample {exc, inh} of neuron indices, the reference memories."""

    p: model.Params
    v0: float
    conn: model.Connectivity
    pat: model.Patterns
    sample: dict
    ref: np.ndarray


def draw_host(cfg: dict, seed: int) -> HostDraws:
    """Return the host's draws of one run of ``cfg`` and ``seed`` (shared by every backend)."""
    p = derive(cfg).simulator
    v0 = initial_variance(cfg)
    rec = cfg["recording"]
    return HostDraws(
        p=p, v0=v0, conn=model.draw_connectivity(p, seed, v0),
        pat=model.draw_patterns(p, seed),
        sample={"exc": sample_indices(p.n_exc, rec["n_exc_sample"]),
                "inh": sample_indices(p.n_inh, rec["n_inh_sample"])},
        ref=protocol.reference_memories(p.episodes, cfg["readout"]["reference_memories"]))


def _start_provenance(cfg: dict, backend_name: str, seed: int, threads: dict | None,
                      est) -> Provenance:
    prov = Provenance("simulate", cfg, seed=seed, backend=backend_name, config=cfg)
    if threads is not None:
        prov.record["threads"] = threads
    prov.record["cost_estimate"] = {"memory_bytes": round(est.memory_total),
                                    "memory_parts_bytes": {k: round(v) for k, v in
                                                           est.memory.items()},
                                    "wall_s": est.wall_s}
    return prov


def _resume_or_start(out: Path, identity: dict, every: int, host: HostDraws, prov,
                     stream) -> "protocol.TrainingState":
    """Return the training state to continue from: the last checkpoint's (without
    checkpoints only the final one, kept when writing the outputs failed), else a fresh
    one."""
    from . import checkpoint

    p = host.p
    state = checkpoint.load(out, identity, final_only=every == 0, episodes=p.episodes)
    if state is None:
        return protocol.TrainingState.fresh(p, host.conn.w0, len(host.ref))
    if state.next_episode >= p.episodes:
        print(f"[simulate] all {p.episodes} episodes were trained before the outputs failed "
              f"to be written: writing them from the final checkpoint",
              file=stream, flush=True)
    else:
        print(f"[simulate] resuming from the checkpoint after episode {state.next_episode}",
              file=stream, flush=True)
    prov.record["resumed_from_episode"] = state.next_episode
    return state


def _rebuild_every(cfg: dict, rules: "protocol.ProtocolRules") -> int:
    """Return the episodes between rebuilds of this protocol (0: none)."""
    return int(cfg["spinnaker"]["rebuild_every"]) if rules.homeostasis_at == "rebuild" else 0


def _build_segment(backend, cfg: dict, host: HostDraws, seed: int, k: int, stop: int,
                   state, timings: dict, stream) -> None:
    """Start segment ``k`` (episodes state.next_episode .. stop): a fresh simulator seeded
    for the segment and replicate, built from the host's current weights."""
    p = host.p
    backend.setup(rng_seed=model.simulator_seed(seed, k, int(cfg["simulation"]["replicate"])))
    t = time.perf_counter()
    seg_conn = model.Connectivity(lists=host.conn.lists, w0=state.w,
                                  v_init=model.draw_initial_state(p, seed, k))
    backend.schedule(p, host.pat, state.next_episode, stop)  # sPyNNaker: cues load with it
    backend.build(p, seg_conn)
    timings["build_s"] = round(timings["build_s"] + time.perf_counter() - t, 3)
    print(f"[simulate] built in {time.perf_counter() - t:.1f} s", file=stream, flush=True)
    state.trace = PreTrace.empty(p.m)            # a fresh simulator: traces start at 0
    state.t_offset = state.t_end


def _recall_snapshots(backend, cfg: dict, host: HostDraws, seed: int, snapshots: dict,
                      spiking, state, stream) -> None:
    """Run the spiking recall sessions of ``snapshots`` {episode: weights} and add their
    counts, spikes and epochs to ``state``."""
    batch = recall.run_sessions(backend, host.p, host.conn, host.pat, seed, snapshots,
                                spiking, host.sample, state.recall_t_end,
                                int(cfg["simulation"]["replicate"]))
    recall.append_batch(state.results, batch)
    for pop, chunk in batch.spikes.items():
        state.recall_spikes[pop] += chunk
    state.recall_epochs += batch.epochs
    state.recall_t_end = batch.t_end
    state.recall_wall_s += batch.wall_s
    state.recall_max_weight_change = max(state.recall_max_weight_change,
                                         batch.max_weight_change)
    print(f"[simulate] spiking recall after episodes {sorted(snapshots)}: "
          f"{len(batch.memory)} cues in {batch.wall_s:.1f} s", file=stream, flush=True)


def _train(backend, cfg: dict, host: HostDraws, seed: int, state, out: Path, identity: dict,
           spiking, points: set, timings: dict, stream) -> None:
    """Train every episode not in ``state`` yet, segment by segment (checkpoints and the
    protocol's rebuilds), with the spiking recall after its points; checkpoint after each
    segment when checkpointing and after the last one always."""
    from . import checkpoint

    p = host.p
    every = cfg["simulation"]["checkpoint_every"]
    rules = backend.protocol
    rebuild = _rebuild_every(cfg, rules)
    homeostasis = cfg["protocol"]["homeostasis"]
    progress = protocol.Progress(p.episodes, stream, f"[simulate seed {seed}] ")
    for k, (a, b) in enumerate(segments(p.episodes, every, rebuild)):
        if b <= state.next_episode:
            continue
        if homeostasis and rebuild > 0 and a > 0 and a % rebuild == 0:
            # the hardware protocol's homeostasis: on the host, loaded with the rebuild
            state.w = protocol.homeostasis(state.w, p.m0)
        _build_segment(backend, cfg, host, seed, k, b, state, timings, stream)
        progress.restart(state.next_episode)
        snapshots: dict[int, np.ndarray] = {}
        protocol.run_episodes(backend, p, host.pat, seed, state, b, homeostasis, host.ref,
                              host.sample, set(cfg["recording"]["full_weights_at"]),
                              progress=progress, snapshot_at=points, snapshots=snapshots,
                              rules=rules)
        state.translation = backend.translation_report()
        backend.end()
        if snapshots:
            _recall_snapshots(backend, cfg, host, seed, snapshots, spiking, state, stream)
        if b == p.episodes or every > 0:
            # after the last episode always: the outputs are made from this state, and a
            # failure while they are written must not lose the simulation
            checkpoint.save(out, state, identity)
            print(f"[simulate] checkpoint saved after episode {b}", file=stream, flush=True)


def _simulate_locked(cfg: dict, run_cfg: dict, backend_name: str, seed: int, out: Path,
                     stream, threads: dict | None, est) -> dict:
    """The run in named stages: provenance, host draws, backend, resume, train, write."""
    from backends import get_backend

    from . import checkpoint
    from .config import config_hash

    out.mkdir(parents=True, exist_ok=True)
    # a rerun: the directory no longer holds a finished run (provenance.json marks one)
    (out / "provenance.json").unlink(missing_ok=True)
    h = config_hash(cfg)
    prov = _start_provenance(cfg, backend_name, seed, threads, est)
    host = draw_host(cfg, seed)
    p = host.p
    spiking = recall.RecallSettings.from_config(cfg)
    points = set(recall.recall_points(p.episodes, spiking.every)) if spiking else set()
    identity = {"config_hash": h, "seed": seed, "backend": backend_name}

    backend = get_backend(backend_name)(run_cfg, seed, out)
    print(f"[simulate] {backend.label}: seed {seed}, {p.n_exc}+{p.n_inh} neurons, "
          f"{p.m} inputs, {p.episodes} episodes -> {out}", file=stream, flush=True)
    if backend.map_only:
        return map_only(backend, cfg, p, host.conn, host.pat, seed, out, prov, stream)
    prov.record["nest_threads"] = check_granted_cores(run_cfg, stream=stream)
    if backend.execution:
        prov.record["execution"] = backend.execution      # e.g. "virtual: no dynamics"
    rules = backend.protocol
    prov.record["protocol"] = {"name": rules.name, "description": rules.description,
                               "rebuild_every": _rebuild_every(cfg, rules),
                               "deviations": protocol.protocol_deviations(rules, cfg)}
    every = cfg["simulation"]["checkpoint_every"]
    state = _resume_or_start(out, identity, every, host, prov, stream)
    timings = prov.record.setdefault("timings", {"build_s": 0.0})
    _train(backend, cfg, host, seed, state, out, identity, spiking, points, timings, stream)

    try:
        record = _write_run(out, p, state, host.pat, host.ref, host.conn, host.sample,
                            host.v0, h, seed, backend_name, spiking, points, timings, prov,
                            state.translation, backend.produces_spikes)
    except Exception as err:
        print(f"[simulate] writing the outputs failed ({type(err).__name__}); the trained "
              f"state is kept in '{out / checkpoint.NAME}': after fixing the cause, rerun the "
              f"same command to write them without simulating again", file=stream, flush=True)
        if isinstance(err, DiskFullError):
            raise DiskFullError(err.errno, f"{err.strerror}. The {p.episodes} trained episodes "
                                f"are kept in '{out / checkpoint.NAME}': rerun the same "
                                f"command to write the outputs without simulating again") \
                from None
        raise
    checkpoint.remove(out)
    summary = record["summary"]
    print(f"[simulate] done in {record['wall_time_s']:.1f} s: mean rates target "
          f"{summary['rate_target_hz']:.2f} Hz, non-target {summary['rate_non_target_hz']:.2f} Hz, "
          f"inhibitory {summary['rate_inh_hz']:.2f} Hz", file=stream, flush=True)
    return record


def _write_run(out: Path, p: model.Params, state, pat, ref, conn, sample: dict, v0: float,
               h: str, seed: int, backend_name: str, spiking, points: set, timings: dict,
               prov, translation: dict, produces_spikes: bool) -> dict:
    """Write the run directory's files from the trained ``state`` (``sample``: the recorded
    E and I indices), provenance.json last; return the provenance record."""

    def populations(spikes: dict) -> dict:
        per_pop = {}
        for k, chunks in spikes.items():
            idx = np.concatenate([c[0] for c in chunks]) if chunks else np.array([], int)
            t = np.concatenate([c[1] for c in chunks]) if chunks else np.array([])
            per_pop[k] = (np.arange(p.m) if k == "inputs" else sample[k], idx, t)
        return per_pop

    block = spikes_block(
        p, populations(state.spikes), state.epochs, h, seed, backend_name, pat,
        recall_pop=populations(state.recall_spikes), recall_epochs=state.recall_epochs,
        recall_t_end=state.recall_t_end)
    extra = {}
    if spiking:
        extra = {"recall_t_ms": np.array(spiking.t_recall),
                 "recall_points": np.array(sorted(points))}
    rows = state.rows
    summary = {k: float(np.nanmean([r[k] for r in rows])) for k in
               ("rate_target_hz", "rate_non_target_hz", "rate_inh_hz", "wall_sim_s", "wall_io_s")}
    if spiking:
        train_s = sum(r["wall_total_s"] for r in rows) + timings["build_s"]
        timings.update(recall_s=round(state.recall_wall_s, 3), training_s=round(train_s, 3),
                       recall_over_training=round(state.recall_wall_s / train_s, 4))
        summary["recall_max_weight_change_mv"] = state.recall_max_weight_change
    record: dict = {}

    def finish() -> None:
        # the readers check these before parsing (pipeline/io.py, check_recorded_checksum)
        sums = {name: sha256_file(out / name) for name in RUN_FILES if name != "provenance.json"}
        record.update(prov.finish(translation=translation, initial_variance_theta2=v0,
                                  produces_spikes=produces_spikes, summary=summary,
                                  files=list(RUN_FILES), **{CHECKSUMS_KEY: sums}))
        write_json(out / "provenance.json", record)

    _write_outputs([
        (out / "spikes.nix", lambda: write_spikes_nix(out / "spikes.nix", block)),
        (out / "weights.npz", lambda: write_npz(
            out / "weights.npz", **state.results, cues=pat.cues, targets=pat.targets,
            reference=ref, classes=np.array(protocol.CLASSES),
            w_initial=(conn.w0 / p.theta).astype(np.float32),
            v0=np.array(v0), theta_mv=np.array(p.theta), **extra)),
        (out / "episodes.csv", lambda: write_csv(out / "episodes.csv", rows)),
        (out / "translation.json", lambda: write_json(out / "translation.json", translation)),
        (out / "provenance.json", finish),
    ])
    return record
