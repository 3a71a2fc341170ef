"""The ``validate`` step: is side B the same network and the same memory as side A,
within declared tolerances? (docs/validation.md)

A and B are run directories written by ``simulate``, one per seed, at least 2 a side.
Runs of one seed on two backends share every draw of the host, so sides that hold the
same seeds are compared seed by seed (**paired**), otherwise side by side (**unpaired**).
Every statistic (:mod:`.statistics`) gets the mean difference B - A, a simultaneous
confidence interval (Bonferroni over the comparison's statistics, within-run variance from
a block bootstrap over episodes or memories: :mod:`.equivalence`) and one of three
verdicts against its family's tolerance (``validation.tolerances``): "equivalent",
"different" or "inconclusive" (then with the seeds that would likely decide it).

Parts: :mod:`.runs` reads and pairs the runs, :mod:`.statistics` measures them,
:mod:`.equivalence` and :mod:`.decision` decide, :mod:`.render` writes validation.md and
the figures. NetworkUnit's pooled-sample tests (``pipeline.model_to_model``) are reported
beside the verdict when networkunit is installed; they never decide.
"""
from __future__ import annotations

import sys
from pathlib import Path

from ..io import ResultFileError, write_json, write_text
from ..provenance import Provenance, warn_mixed_code_versions
from .decision import decide, memory_verdict, overall
from .runs import RunData, by_seed, check_comparable, design, load_run, load_side
from .statistics import context, derived, measure_all
from .tolerances import check_tolerances

__all__ = ["validate", "load_run", "RunData", "ResultFileError", "ALPHA"]

ALPHA = 0.05


def validate(a_paths: list[Path], b_paths: list[Path], out: Path | None,
             alpha: float = ALPHA, name: str = "", quiet: bool = False,
             networkunit: bool = True, tolerances: dict | None = None,
             requested_design: str = "auto", allowed: tuple[str, ...] = ()) -> dict:
    """Compare runs A with runs B; write validation.json/.md and figures into ``out`` (if
    given). ``tolerances`` is a config's ``validation.tolerances`` (default: side A's
    config's); ``allowed`` lists config keys B may change on purpose (e.g. a calibration's
    perturbation). Returns the validation.json content."""
    name = name or "A vs B"
    A = by_seed(load_side([Path(p) for p in a_paths], "A", name))
    B = by_seed(load_side([Path(p) for p in b_paths], "B", name))
    diffs = check_comparable(A, B, name, allowed)
    how = design(A, B, name, requested_design)
    tol = check_tolerances(tolerances if tolerances is not None else
                           A[0].cfg.get("validation", {}).get("tolerances"),
                           f"comparison '{name}'")
    mixed_code = warn_mixed_code_versions([(r.path, r.provenance) for r in A + B], "validate")
    prov = Provenance("validate", None, runs_a=[str(r.path) for r in A],
                      runs_b=[str(r.path) for r in B])
    ctx = context(A + B)
    fixed = derived(A + B)
    meas_a, meas_b = measure_all(A, ctx, set(fixed)), measure_all(B, ctx, set(fixed))
    entries = decide(meas_a, meas_b, [r.seed for r in A], [r.seed for r in B], how, tol,
                     alpha, fixed)
    tested = [e for e in entries if "interval" in e]
    counts = {v: sum(e["verdict"] == v for e in tested)
              for v in ("equivalent", "different", "inconclusive")}
    result = {
        "name": name,
        "verdict": overall(entries),
        "memory_verdict": memory_verdict(entries),
        "design": how,
        "alpha": alpha,
        "rule": (f"each statistic's mean difference B - A on a simultaneous "
                 f"{100 * (1 - alpha / max(len(tested), 1)):.2f}% interval (Bonferroni over "
                 f"{len(tested)} statistics: all intervals hold at once with probability >= "
                 f"{1 - alpha:g}); equivalent: inside the tolerance; different: excludes 0 "
                 f"and not inside; else inconclusive"),
        "tolerances": tol,
        "a": _side(A), "b": _side(B),
        "config_differences": diffs,
        "mixed_code_versions": mixed_code,
        "translation_differences": (B[0].provenance.get("translation") or {}).get("changes", []),
        "n_statistics": len(tested),
        "counts": counts,
        "statistics": entries,
    }
    if networkunit:
        result["networkunit"] = _networkunit(A, B, alpha)
    if out is not None:
        from .render import markdown, plot
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        plot(result, meas_a, meas_b, out)
        write_text(out / "validation.md", markdown(result))
        result["provenance"] = prov.finish()
        write_json(out / "validation.json", result)
    if not quiet:
        from .render import summary_line
        print(summary_line(result), file=sys.stderr)
    return result


def _side(runs: list[RunData]) -> dict:
    return {"backend": runs[0].backend, "config_hash": runs[0].provenance.get("config_hash"),
            "replicate": runs[0].replicate, "seeds": [r.seed for r in runs],
            "runs": [str(r.path) for r in runs]}


def _networkunit(A: list[RunData], B: list[RunData], alpha: float) -> dict:
    """NetworkUnit's model-to-model tests, or why they did not run (not installed)."""
    try:
        from ..model_to_model import run_tests
        m2m = run_tests(A, B)
    except ImportError as err:
        return {"what": f"not run: {err} (install the [networkunit] extra to add them)",
                "tests": {}}
    for v in m2m.values():
        v["significant_at_alpha"] = (v["p_value"] <= alpha) if "p_value" in v else None
    return {"what": "NetworkUnit 0.2.2 model-to-model tests (sciunit TestM2M, "
                    "scores.ks_distance) on the neurons (or pairs) of all runs of a side "
                    "pooled; they ignore the seed-to-seed spread and are NOT part of the "
                    "verdict", "tests": m2m}

