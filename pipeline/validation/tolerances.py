"""Tolerances of the equivalence verdicts: how large a difference B - A may be and still
count as "the same", per statistic family (``validation.tolerances``; the defaults and
their reasons are in config/default.yaml; docs/validation.md, "Tolerances").

A tolerance is ``{relative: r}`` (a fraction of side A's mean, 0 < r <= 1) or
``{absolute: x}`` (x > 0 in the family's unit, optionally confirmed by ``unit:``).
"""
from __future__ import annotations

import math

from ..io import ResultFileError
from .statistics import FAMILIES

# the unit of every family's statistics (an absolute tolerance is in it)
UNITS = {"rates": "Hz", "irregularity": "1", "correlations": "1", "ccg": "ms",
         "weight_change": "theta/episode", "weights": "theta", "forgetting_curve": "accuracy",
         "capacity": "episodes"}
assert set(UNITS) == set(FAMILIES)


def check_tolerances(raw: object, where: str) -> dict[str, dict]:
    """Return the tolerances {family: {"relative" or "absolute": value}} of a config's
    ``validation.tolerances``, or raise ResultFileError naming ``where`` (the comparison)
    and the key: every family once, one positive finite value each, relative ones a
    fraction, units as the family's."""
    key = "validation.tolerances"
    if not isinstance(raw, dict):
        raise ResultFileError(f"{where}: config key '{key}' is missing or not a mapping; "
                              f"give one tolerance per family ({', '.join(FAMILIES)}), as "
                              f"config/default.yaml does")
    unknown = sorted(set(raw) - set(FAMILIES))
    if unknown:
        raise ResultFileError(f"{where}: config key '{key}.{unknown[0]}' is not a statistic "
                              f"family; the families are {', '.join(FAMILIES)}")
    missing = [f for f in FAMILIES if f not in raw]
    if missing:
        raise ResultFileError(f"{where}: config key '{key}.{missing[0]}' is missing: every "
                              f"family needs a tolerance (config/default.yaml lists them "
                              f"with their reasons)")
    out = {}
    for fam in FAMILIES:
        t, k = raw[fam], f"{key}.{fam}"
        if not isinstance(t, dict):
            raise ResultFileError(f"{where}: config key '{k}' = {t!r} must be {{relative: r}} "
                                  f"or {{absolute: x}} (in {UNITS[fam]})")
        unit = t.get("unit")
        kinds = [x for x in ("relative", "absolute") if t.get(x) is not None]
        extra = sorted(set(t) - {"relative", "absolute", "unit"})
        if extra or len(kinds) != 1:
            hint = (f"; unknown key '{extra[0]}'" if extra else
                    f" (an overlay merges into config/default.yaml's tolerance: set "
                    f"'{'relative' if 'relative' in kinds else 'absolute'}: null' to drop the "
                    f"default's)" if len(kinds) == 2 else "")
            raise ResultFileError(f"{where}: config key '{k}' = {t!r} must hold exactly one "
                                  f"of 'relative' (a fraction of A's mean) or 'absolute' (in "
                                  f"{UNITS[fam]}){hint}")
        kind = kinds[0]
        v = t[kind]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                or v <= 0:
            raise ResultFileError(f"{where}: config key '{k}.{kind}' = {v!r}: a tolerance "
                                  f"must be a finite number > 0")
        if kind == "relative" and v > 1:
            raise ResultFileError(f"{where}: config key '{k}.relative' = {v!r} is a fraction "
                                  f"of A's mean (0.1 = 10%); give a value in (0, 1]")
        if unit is not None and (kind == "relative" or str(unit) != UNITS[fam]):
            want = "no unit (a fraction)" if kind == "relative" else f"'{UNITS[fam]}'"
            raise ResultFileError(f"{where}: config key '{k}.unit' = {unit!r}: this tolerance "
                                  f"takes {want}")
        out[fam] = {kind: float(v)}
    return out


def absolute(tol: dict, mean_a: float) -> float:
    """Return a tolerance in the statistic's own unit: absolute as given, relative times
    |mean of side A|."""
    if "absolute" in tol:
        return tol["absolute"]
    return tol["relative"] * abs(mean_a)


def describe(tol: dict, unit: str) -> str:
    """Return a tolerance as text: '±10%' or '±0.03 accuracy'."""
    if "relative" in tol:
        return f"±{100 * tol['relative']:g}%"
    return f"±{tol['absolute']:g}" + (f" {unit}" if unit != "1" else "")
