"""The verdict of a comparison: every statistic's difference, interval and verdict, and
the verdicts on the memory and overall (docs/validation.md, "The rule").

Per statistic: per-seed values and within-run variances from block bootstraps
(:func:`equivalence.bootstrap`), combined paired or unpaired, tested on a simultaneous
(1 - alpha / m) interval against the family's tolerance. Overall: "different" if any
statistic is, "equivalent" if every one is, else "inconclusive". The memory verdict is
the same rule over the forgetting curve and the capacity alone.
"""
from __future__ import annotations

import numpy as np

from . import equivalence as eq
from .statistics import MEMORY, Statistic, Units, statistics
from .tolerances import UNITS, absolute, describe


def _rng(name: str, seed: int) -> np.random.Generator:
    """A fixed bootstrap stream per statistic and seed: the same runs give the same
    verdict."""
    return np.random.default_rng([sum(map(ord, name)), seed])


def per_seed(st: Statistic, ua: list[Units], ub: list[Units], seeds_a: list[int],
             seeds_b: list[int], design: str) -> dict:
    """Return the per-seed values and within-run bootstraps of one statistic."""
    if design == "paired":
        boots = [eq.bootstrap(a.values, b.values, a.estimator, _rng(st.name, s))
                 for a, b, s in zip(ua, ub, seeds_a)]
        return {"d": [w.estimate for w in boots], "v": [w.variance for w in boots],
                "blocks": [w.blocks for w in boots],
                "block_length": [w.block_length for w in boots]}
    ba = [eq.bootstrap(a.values, None, a.estimator, _rng(st.name, s)) for a, s in zip(ua, seeds_a)]
    bb = [eq.bootstrap(b.values, None, b.estimator, _rng(st.name, s)) for b, s in zip(ub, seeds_b)]
    return {"va": [w.variance for w in ba], "vb": [w.variance for w in bb],
            "block_length": [w.block_length for w in ba + bb]}


def decide(meas_a: dict[str, list], meas_b: dict[str, list], seeds_a: list[int],
           seeds_b: list[int], design: str, tolerances: dict, alpha: float,
           derived: dict[str, str]) -> list[dict]:
    """Return one entry per statistic (validation.json's ``statistics``): values of A and
    B per seed, the difference with its SE and simultaneous interval, the tolerance in the
    statistic's unit, the verdict, the smallest detectable difference, and for an
    inconclusive verdict the seeds that would likely decide it."""
    entries, tested = [], []
    for st in statistics():
        ua, ub = meas_a.get(st.name), meas_b.get(st.name)
        e = {"name": st.name, "family": st.family, "unit": st.unit,
             "description": st.description}
        if st.name in derived:
            entries.append(dict(e, verdict="derived", reason=derived[st.name]))
            continue
        if ua is None or ub is None or any(x is None for x in ua + ub):
            continue                         # not measurable on these runs (e.g. silent inputs)
        va, vb = [x.value() for x in ua], [x.value() for x in ub]
        e["a"] = {"per_seed": va, "mean": float(np.mean(va))}
        e["b"] = {"per_seed": vb, "mean": float(np.mean(vb))}
        if any(x.lower_bound for x in ua + ub):
            entries.append(dict(e, verdict="not tested", reason=(
                "a forgetting curve does not cross the threshold within the trained "
                "episodes: the capacity is a lower bound")))
            continue
        ps = per_seed(st, ua, ub, seeds_a, seeds_b, design)
        if design == "paired":
            diff = eq.paired(ps["d"], ps["v"], ps["blocks"])
            e["per_seed_difference"] = ps["d"]
        else:
            diff = eq.unpaired(va, vb, ps["va"], ps["vb"])
        e["bootstrap_block_length"] = ps["block_length"]
        e["_diff"] = diff
        entries.append(e)
        tested.append(e)
    m = len(tested)
    for e in tested:
        diff: eq.Difference = e.pop("_diff")
        tol_spec = tolerances[e["family"]]
        tol = absolute(tol_spec, e["a"]["mean"])
        lo, hi = eq.interval(diff, alpha, m)
        v = eq.verdict(lo, hi, tol)
        e.update({
            "design": diff.design,
            "difference": diff.estimate,
            "relative_difference": diff.estimate / abs(e["a"]["mean"]) if e["a"]["mean"] else None,
            "se": diff.se, "dof": diff.dof, "se_source": diff.source,
            "se_between_seeds": diff.se_between, "se_within_runs": diff.se_within,
            "interval": [lo, hi],
            "confidence": 1.0 - alpha / m,
            "tolerance": tol, "tolerance_spec": tol_spec,
            "tolerance_text": describe(tol_spec, UNITS[e["family"]]),
            "detectable": eq.detectable(diff, alpha, m, tol),
            "verdict": v,
        })
        if v == eq.INCONCLUSIVE:
            e["seeds_to_decide"] = eq.seeds_to_decide(diff, alpha, m, tol)
    return entries


def overall(entries: list[dict], families: tuple[str, ...] | None = None) -> str:
    """Return the verdict over the tested statistics (of ``families`` if given):
    "different" if any is, "equivalent" if all are, else "inconclusive"."""
    vs = [e["verdict"] for e in entries if e["verdict"] in
          (eq.EQUIVALENT, eq.DIFFERENT, eq.INCONCLUSIVE)
          and (families is None or e["family"] in families)]
    if not vs:
        return eq.INCONCLUSIVE
    if eq.DIFFERENT in vs:
        return eq.DIFFERENT
    return eq.EQUIVALENT if all(v == eq.EQUIVALENT for v in vs) else eq.INCONCLUSIVE


def memory_verdict(entries: list[dict]) -> str:
    """Return the verdict on the memory: forgetting curve and capacity (MEMORY)."""
    return overall(entries, MEMORY)
