"""Why a protocol's spiking recall and weight readout disagree: the same memories read
both ways at the same time, and the storage of the last episodes (docs/recall.md,
'The hardware protocol's recall').

The capacity step's weight readout follows the reference memories (the first half of
the run) from the moment each is stored; the spiking recall tests memories P-1, P-1-s,
... after the last episode. Under the hardware protocol without homeostasis the two
describe different memories stored in different weights (the weights drift over the
run). :func:`explain_run` reads out the memories the spiking recall tested from the full
weights saved after the recall point (``recording.full_weights_at`` holds P-1), beside
their spiking accuracy, and follows what every episode stored: the mean weight change of
cue->target and cue->non-target synapses (episodes.csv) and the mean cue-row weight at
the start of the episode.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .io import ResultFileError
from .readout import recall_accuracy, summed_cue_weights
from .recall import spiking_accuracy
from .run_directory import open_run


def stored_signal(w: np.ndarray, cue: np.ndarray, target: np.ndarray) -> float:
    """Return the memory's signal in the weights [theta]: the mean summed cue weight of
    its targets minus that of the other E neurons (negative: stored inverted). ``w`` is
    the (M, N_E) matrix [theta]."""
    s = summed_cue_weights(w, cue)
    is_t = np.zeros(len(s), bool)
    is_t[target] = True
    return float(s[is_t].mean() - s[~is_t].mean())


def explain_run(run: Path, last: int = 20) -> dict:
    """Return, for one run directory with a spiking recall after its last episode:

    ``tested`` -- per memory the spiking recall tested after episode P-1: its age, the
    spiking accuracy, the weight-readout accuracy from the full weights after P-1 (the
    same memory at the same time; chance f_s), and its signal in those weights [theta];
    ``storage`` -- over the last ``last`` episodes, means of the episode's weight change
    [theta] of cue->target and cue->non-target synapses, their difference (the stored
    signal per synapse; negative: stored inverted), the mean cue-row weight at the start
    of the episode [theta], and the rates [Hz] of targets and non-targets in training;
    ``early`` -- the same over the first ``last`` episodes;
    ``reference_age0`` -- the capacity step's age-0 weight-readout accuracy (mean over
    the reference memories, each at its own storage time);
    ``series`` -- per episode: the stored signal per synapse and the mean cue->non-target
    weight at the episode's start [theta], the training rates [Hz]."""
    rd = open_run(run, "spiking recall to explain")
    run, prov = rd.path, rd.provenance
    w = rd.require_weights("cues", "targets", "cue_sums", "reference")
    P = int(w["cue_sums"].shape[1])
    key = f"w_{P - 1}"
    if "recall_counts" not in w or key not in w:
        raise ResultFileError(f"run '{run}' has no spiking recall or no full weights after "
                              f"episode {P - 1}: run it with readout.spiking: true and "
                              f"recording.full_weights_at containing {P - 1}")
    cues, targets = w["cues"], w["targets"]
    w_last = np.asarray(w[key], float)
    sel = w["recall_after"] == P - 1
    tested = []
    for c, k in zip(w["recall_counts"][sel], w["recall_memory"][sel]):
        k = int(k)
        tested.append({"memory": k, "age": P - 1 - k,
                       "spiking_accuracy": spiking_accuracy(c, targets[k]),
                       "weight_accuracy": recall_accuracy(summed_cue_weights(w_last, cues[k]),
                                                          targets[k]),
                       "signal_theta": stored_signal(w_last, cues[k], targets[k])})
    tested.sort(key=lambda r: r["age"])
    rows = rd.episodes

    def storage(idx: range) -> dict:
        col = {k: np.array([float(rows[j][k]) for j in idx]) for k in
               ("dw_cue_to_target", "dw_cue_to_non_target", "rate_target_hz",
                "rate_non_target_hz")}
        start = np.asarray(w["class_mean_start"])[list(idx)]   # (n, 4) [theta]
        return {"episodes": [idx.start, idx.stop - 1],
                "dw_cue_to_target_theta": float(col["dw_cue_to_target"].mean()),
                "dw_cue_to_non_target_theta": float(col["dw_cue_to_non_target"].mean()),
                "stored_per_synapse_theta": float((col["dw_cue_to_target"]
                                                   - col["dw_cue_to_non_target"]).mean()),
                "inverted_episodes": int(np.sum(col["dw_cue_to_target"]
                                                < col["dw_cue_to_non_target"])),
                "cue_target_weight_at_start_theta": float(start[:, 0].mean()),
                "cue_non_target_weight_at_start_theta": float(start[:, 1].mean()),
                "rate_target_hz": float(col["rate_target_hz"].mean()),
                "rate_non_target_hz": float(col["rate_non_target_hz"].mean())}

    dt = np.array([float(r["dw_cue_to_target"]) for r in rows])
    dn = np.array([float(r["dw_cue_to_non_target"]) for r in rows])
    series = {"stored_per_synapse_theta": (dt - dn).tolist(),
              "cue_weight_at_start_theta": np.asarray(w["class_mean_start"])[:, 1].tolist(),
              "rate_target_hz": [float(r["rate_target_hz"]) for r in rows],
              "rate_non_target_hz": [float(r["rate_non_target_hz"]) for r in rows]}
    from .readout import forgetting_curves
    curves = forgetting_curves(w["cue_sums"], targets, w["reference"])
    age0 = [t for t in tested if t["age"] == 0]
    return {"run": str(run), "backend": prov.get("backend"), "seed": prov.get("seed"),
            "protocol": prov.get("protocol", {}).get("name"),
            "rebuild_every": prov.get("protocol", {}).get("rebuild_every"),
            "tested": tested,
            "age0_spiking_accuracy": age0[0]["spiking_accuracy"] if age0 else None,
            "age0_weight_accuracy_same_memory": age0[0]["weight_accuracy"] if age0 else None,
            "reference_age0": float(np.nanmean(curves[:, 0])),
            "mean_weight_theta_last": float(w_last.mean()),
            "storage": storage(range(P - last, P)), "early": storage(range(0, last)),
            "series": series}
