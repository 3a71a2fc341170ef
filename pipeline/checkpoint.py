"""Checkpoints of a training run at episode boundaries (``simulation.checkpoint_every``).

A checkpoint holds the host state of a run (:class:`pipeline.protocol.TrainingState`):
weights, pre traces, per-episode results, episodes.csv rows, recorded spikes and phases.
With checkpointing on, the simulator is rebuilt from this state at every checkpoint
boundary, in an uninterrupted run as in a resumed one, so both give identical results.

Every run, with checkpointing on or off, saves a final checkpoint after its last episode
and removes it only once all its outputs are written: if writing them fails, a rerun of
the same command writes them from it without simulating again.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .io import ResultFileError, json_default, read_npz, write_npz
from .protocol import TrainingState
from .stdp_bookkeeping import PreTrace

NAME = "checkpoint.npz"


def save(run_dir: Path, state: TrainingState, identity: dict) -> Path:
    """Write the checkpoint of ``state`` atomically; ``identity`` (config hash, seed,
    backend) is stored to refuse resuming another run. Returns the path."""
    arrays = {f"results.{k}": v for k, v in state.results.items()}
    for pop, chunks in (list(state.spikes.items())
                        + [(f"recall_{k}", v) for k, v in state.recall_spikes.items()]):
        arrays[f"spikes.{pop}.idx"] = (np.concatenate([c[0] for c in chunks])
                                      if chunks else np.array([], np.int64))
        arrays[f"spikes.{pop}.t"] = (np.concatenate([c[1] for c in chunks])
                                    if chunks else np.array([]))
    meta = {"identity": identity, "rows": state.rows, "epochs": state.epochs,
            "next_episode": state.next_episode, "t_end": state.t_end,
            "recall_epochs": state.recall_epochs, "recall_t_end": state.recall_t_end,
            "recall_wall_s": state.recall_wall_s,
            "recall_max_weight_change": state.recall_max_weight_change,
            "translation": state.translation}
    path = Path(run_dir) / NAME
    write_npz(path, w=state.w, trace_t=state.trace.t_last, trace_k=state.trace.k_last,
              meta=np.array(json.dumps(meta, default=json_default)), **arrays)
    return path


def load(run_dir: Path, identity: dict, final_only: bool = False,
         episodes: int | None = None) -> TrainingState | None:
    """Return the saved state of ``run_dir`` if there is a checkpoint of the same run
    (same identity), else None. A corrupt checkpoint raises ResultFileError.

    With ``final_only`` (a run without checkpoints) only the run's final checkpoint, the
    one after all ``episodes``, is taken; any other checkpoint is ignored."""
    path = Path(run_dir) / NAME
    if not path.exists():
        return None
    z = read_npz(path, required=("w", "meta"))
    meta = json.loads(str(z["meta"]))
    if final_only and (meta["identity"] != identity or meta["next_episode"] != episodes):
        return None
    if meta["identity"] != identity:
        raise ResultFileError(f"checkpoint '{path}' belongs to another run "
                              f"({meta['identity']}, this is {identity}); delete it to start "
                              f"afresh")
    results = {k.split(".", 1)[1]: v for k, v in z.items() if k.startswith("results.")}
    spikes = {pop: [(z[f"spikes.{pop}.idx"], z[f"spikes.{pop}.t"])]
              for pop in ("inputs", "exc", "inh")}
    recall_spikes = {pop: [(z[f"spikes.recall_{pop}.idx"], z[f"spikes.recall_{pop}.t"])]
                     for pop in ("inputs", "exc", "inh") if f"spikes.recall_{pop}.idx" in z}
    return TrainingState(w=z["w"], trace=PreTrace(z["trace_t"], z["trace_k"]),
                         results=results, rows=meta["rows"],
                         spikes=spikes, epochs=[tuple(e) for e in meta["epochs"]],
                         next_episode=meta["next_episode"], t_offset=meta["t_end"],
                         t_end=meta["t_end"],
                         recall_spikes=recall_spikes or {"inputs": [], "exc": [], "inh": []},
                         recall_epochs=[tuple(e) for e in meta.get("recall_epochs", [])],
                         recall_t_end=meta.get("recall_t_end", 0.0),
                         recall_wall_s=meta.get("recall_wall_s", 0.0),
                         recall_max_weight_change=meta.get("recall_max_weight_change", 0.0),
                         translation=meta.get("translation"))


def remove(run_dir: Path) -> None:
    """Delete the checkpoint of a finished run."""
    (Path(run_dir) / NAME).unlink(missing_ok=True)
