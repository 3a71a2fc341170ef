"""Theory parameters in paper units (arXiv 2508.13846, docs/design.md section 3).

The parameter classes and their one derivation from a config live in
:mod:`pipeline.parameters` (``derive(cfg).theory``); this module re-exports them for the
theory's modules and holds the paper's STDP rule. Units: time in tau_m, voltage and
weights in theta = V_th - V_reset, rates in 1/tau_m.
"""
from __future__ import annotations

from typing import Mapping

from ..parameters import STDPParams, TheoryParams

__all__ = ["STDPParams", "TheoryParams", "as_stdp", "PAPER_STDP"]

#: The paper's STDP rule (docs/design.md section 3): tau_c = 16.8/20, tau_ac = 33.7/20 tau_m.
PAPER_STDP = STDPParams(delta_c=0.002, r_ac=-0.008, tau_c=16.8 / 20.0, tau_ac=33.7 / 20.0)


def as_stdp(stdp: "STDPParams | Mapping[str, float]") -> STDPParams:
    """Return ``stdp`` as STDPParams; a mapping must hold delta_c, r_ac, tau_c, tau_ac in
    paper units (tau in tau_m), as in arXiv 2508.13846."""
    if isinstance(stdp, STDPParams):
        return stdp
    return STDPParams(delta_c=float(stdp["delta_c"]), r_ac=float(stdp["r_ac"]),
                      tau_c=float(stdp["tau_c"]), tau_ac=float(stdp["tau_ac"]))
