"""Runs of a comparison: read the run directories of sides A and B, check that they may
be compared, and pair them by seed (docs/validation.md, "Pairing").

Two runs of one seed share every draw of the host (connectivity, initial weights,
patterns, input spikes, initial potentials; pipeline/model.py), on any backend and any
``simulation.replicate``: when both sides hold the same seeds they are compared seed by
seed (paired); when their seeds are disjoint, side by side (unpaired).
"""
from __future__ import annotations

from pathlib import Path

from ..io import ResultFileError
from ..run_directory import RunDirectory, open_run

# Config keys that do not change what a run trains (its episodes' weights and spikes): the
# simulator's own random streams, parallelism, recording and the spiking recall (which
# never touches training: tests/test_recall.py). Runs may differ in these and still be
# compared as one model; every other difference must be declared (``allowed``).
EXECUTION_KEYS = ("simulation.replicate", "simulation.threads", "simulation.checkpoint_every",
                  "simulation.seeds", "simulation.backends", "experiment")
EXECUTION_PREFIXES = ("recording.", "readout.spiking", "readout.t_recall", "readout.recall_",
                      "sweep.", "validation.")


#: One run of a comparison: the run directory, read by pipeline/run_directory.py.
RunData = RunDirectory

#: The weights.npz arrays the statistics read.
REQUIRED_WEIGHTS = ("cue_sums", "targets", "cues", "reference", "class_mean", "class_var")


def load_run(path: Path) -> RunData:
    """Read one run directory (its weights, spikes and episodes now, so that a damaged
    file stops the comparison before any statistic); ResultFileError names the run and
    what is wrong."""
    run = open_run(path, "statistics to validate")
    run.require_weights(*REQUIRED_WEIGHTS)
    run.trains, run.windows, run.episodes    # read now: every damaged file is named at once
    return run


def load_side(paths: list[Path], side: str, name: str = "") -> list[RunData]:
    """Load the runs of one side; they must be >= 2, of one config and backend, and
    distinct seeds."""
    where = f"comparison '{name}': " if name else ""
    if len(paths) < 2:
        raise ResultFileError(f"{where}side {side} has {len(paths)} run(s) "
                              f"({', '.join(map(str, paths)) or 'none'}): validation needs at "
                              f"least 2 seeds per side (add seeds to the comparison)")
    runs = [load_run(p) for p in paths]
    hashes = {r.provenance.get("config_hash") for r in runs}
    if len(hashes) > 1:
        listing = "; ".join(f"{r.path}: {r.provenance.get('config_hash')}" for r in runs)
        raise ResultFileError(f"{where}the runs of side {side} come from different configs "
                              f"({listing}); a side must be seeds of one config")
    backends = {r.backend for r in runs}
    if len(backends) > 1:
        raise ResultFileError(f"{where}the runs of side {side} come from different backends "
                              f"({', '.join(sorted(backends))}); a side is one backend")
    seen: dict[int, Path] = {}
    for r in runs:
        if r.seed in seen:
            raise ResultFileError(f"{where}side {side} holds seed {r.seed} twice "
                                  f"({seen[r.seed]} and {r.path}); give each seed once")
        seen[r.seed] = r.path
    return runs


def flat(d: dict, prefix: str = "") -> dict:
    """Return a nested dict flattened to dotted keys."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flat(v, key + "."))
        else:
            out[key] = v
    return out


def config_differences(a: dict, b: dict) -> dict:
    """Return {dotted key: [value in a, value in b]} for every key whose values differ,
    the validation section left out (it says what to compare, not how a run was made)."""
    fa, fb = flat(a), flat(b)
    return {k: [fa.get(k), fb.get(k)] for k in sorted(set(fa) | set(fb))
            if fa.get(k) != fb.get(k) and not k.startswith("validation.")}


def is_execution_key(key: str) -> bool:
    """True for a config key that does not change what a run trains (EXECUTION_KEYS)."""
    return key in EXECUTION_KEYS or key.startswith(EXECUTION_PREFIXES)


def check_comparable(A: list[RunData], B: list[RunData], name: str,
                     allowed: tuple[str, ...] = ()) -> dict:
    """Refuse sides whose configs differ in a key that changes the model, other than the
    ``allowed`` ones (a declared change, e.g. for the calibration). Returns the config
    differences."""
    diffs = config_differences(A[0].cfg, B[0].cfg)
    bad = [k for k in diffs if not is_execution_key(k) and k not in allowed]
    if bad:
        shown = ", ".join(f"{k} {diffs[k][0]!r} -> {diffs[k][1]!r}" for k in bad[:4])
        raise ResultFileError(
            f"comparison '{name}': the runs of A and B come from different configs beyond "
            f"the backend ({shown}); compare runs of one config, or declare the change "
            f"(`validate --allow KEY`)")
    for p in (r.path for r in A):
        if p.resolve() in {r.path.resolve() for r in B}:
            raise ResultFileError(f"comparison '{name}': run '{p}' is on both sides; A and B "
                                  f"must be different runs")
    ident = {(r.provenance.get("config_hash"), r.backend, r.seed, r.replicate) for r in A}
    same = [r for r in B if (r.provenance.get("config_hash"), r.backend, r.seed,
                             r.replicate) in ident]
    if same:
        raise ResultFileError(f"comparison '{name}': run '{same[0].path}' of B repeats a run "
                              f"of A (same config, backend, seed {same[0].seed} and replicate "
                              f"{same[0].replicate}): use another simulation.replicate or seed")
    return diffs


def design(A: list[RunData], B: list[RunData], name: str, requested: str = "auto") -> str:
    """Return "paired" when both sides hold the same seeds, "unpaired" when their seeds are
    disjoint; ``requested`` "paired" or "unpaired" insists on one. ResultFileError for a
    paired comparison whose sides hold different seeds, or sides that share some seeds."""
    sa, sb = sorted(r.seed for r in A), sorted(r.seed for r in B)
    if requested == "paired" and sa != sb:
        raise ResultFileError(f"comparison '{name}': a paired comparison needs the same seeds "
                              f"on both sides, got A {sa} and B {sb}; give both sides the "
                              f"same seeds or ask for --design unpaired")
    if sa == sb:
        return "unpaired" if requested == "unpaired" else "paired"
    if set(sa) & set(sb) and requested != "unpaired":
        raise ResultFileError(f"comparison '{name}': the sides share seeds "
                              f"{sorted(set(sa) & set(sb))} but not all (A {sa}, B {sb}): give "
                              f"both sides the same seeds (paired) or disjoint seeds (unpaired)")
    return "unpaired"


def by_seed(runs: list[RunData]) -> list[RunData]:
    """Return the runs sorted by seed (paired sides line up seed by seed)."""
    return sorted(runs, key=lambda r: r.seed)
