"""What a SpiNNaker board holds, as numbers: the substituted STDP rule's amplitudes and the
fixed-point representation of weights and amplitudes (docs/backends.md, 'Fixed-point
weights' and 'The derived depression').

Read from sPyNNaker 1!7.4.1's source (the installed package is the truth):

- plastic weights are 16-bit half-words in the synaptic row, ``numpy.rint(|w| * scale)``
  (``SynapseDynamicsSTDP.get_plastic_synaptic_data``) with the scale
  2**(16 - (shift + 1)) (``PopulationVertex.__get_weight_scale``), ``shift`` from
  ``PopulationVertex.get_ring_buffer_shifts``; read back as the same half-words
  (``SynapseDynamicsSTDP.read_plastic_synaptic_data``) divided by the scale: every weight
  on the board, loaded, learnt or read back, is a multiple of the quantum 2**(shift - 15)
  mV (``backends.spinnaker.weight_quantum``);
- the multiplicative rule's A_plus and A_minus are written as S16.15
  (``WeightDependenceMultiplicative.write_parameters``: ``DataType.S1615``, which encodes
  ``round(value * 32768)``): the board's amplitudes are multiples of 2**-15.

``nest-spinnaker`` and ``nest-spinnaker-hw`` apply these representations at every load
and read-back when ``spinnaker.fixed_point_weights`` is true (default). That is AN
APPROXIMATION of the board: the plastic updates between a load and a read-back are
computed in floating point by NEST, not in the board's fixed-point arithmetic.

The derived depression (``spinnaker.stdp_depression: holds_m0``): sPyNNaker's pair rule
with the multiplicative weight dependence drifts, for uncorrelated pre and post spikes at
rates nu_pre, nu_post, as dw/dt = nu_pre nu_post [A_plus (w_max' - w) tau_plus -
A_minus w tau_minus], to the fixed point w* = A_plus w_max' tau_plus / (A_plus tau_plus +
A_minus tau_minus), whatever the rates. With A_plus exact at m0 (A_plus (w_max' - m0) =
Delta_c) the model's own depression (A_minus = -r_ac) puts w* near 0.12 theta at the
default; w* = m0 needs A_minus = A_plus (w_max' - m0) tau_plus / (m0 tau_minus) =
Delta_c tau_c / (m0 tau_ac). That choice exists for any m0 > 0, but it changes the model:
at w = m0 the rate-driven drift vanishes (docs/backends.md explains what that costs).
"""
from __future__ import annotations

import numpy as np

from pipeline.model import Params

S1615_ONE = 32768          # DataType.S1615's scale: 15 fractional bits


def s1615(x: float) -> float:
    """Return ``x`` as sPyNNaker writes it in S16.15 (round(x * 2**15) / 2**15)."""
    return float(np.rint(x * S1615_ONE) / S1615_ONE)


def w_max_substitute(p: Params, cfg: dict) -> float:
    """Return the substituted rule's upper weight bound w_max' [mV]."""
    return float(cfg["spinnaker"]["w_max_factor"]) * p.theta


def a_plus_model(p: Params, cfg: dict) -> float:
    """Return A_plus of the multiplicative rule that is exact at w = m0 (dimensionless)."""
    return p.delta_c / (w_max_substitute(p, cfg) - p.m0)


# spinnaker.stdp_depression -> A_minus of the substituted rule (a table, not branches)
A_MINUS_RULES = {
    "exact": lambda p, cfg, a_plus: -p.r_ac,
    "holds_m0": lambda p, cfg, a_plus: a_plus * (w_max_substitute(p, cfg) - p.m0) * p.tau_c
    / (p.m0 * p.tau_ac),
}


def fixed_point_on(cfg: dict) -> bool:
    """Return whether the emulation applies the board's fixed-point representation."""
    return bool(cfg["spinnaker"].get("fixed_point_weights", True))


def stdp_amplitudes(p: Params, cfg: dict, board: bool | None = None) -> dict[str, float]:
    """Return {'A_plus', 'A_minus'} (dimensionless) of the substituted rule: as the config
    asks (``spinnaker.stdp_depression``), and in S16.15 when ``board`` (default: when
    ``spinnaker.fixed_point_weights``). A_minus is derived from the A_plus the board holds,
    so the derived fixed point stays m0 up to A_minus's own rounding."""
    board = fixed_point_on(cfg) if board is None else board
    rnd = s1615 if board else float
    a_plus = rnd(a_plus_model(p, cfg))
    rule = cfg["spinnaker"].get("stdp_depression", "exact")
    return {"A_plus": a_plus, "A_minus": rnd(A_MINUS_RULES[rule](p, cfg, a_plus))}


def drift_fixed_point(p: Params, cfg: dict, a_plus: float, a_minus: float) -> float:
    """Return the weight [mV] at which the substituted rule's drift for uncorrelated pre
    and post spikes vanishes: A_plus w_max' tau_c / (A_plus tau_c + A_minus tau_ac)."""
    w = w_max_substitute(p, cfg)
    return a_plus * w * p.tau_c / (a_plus * p.tau_c + a_minus * p.tau_ac)


def deviation_decay_rate(p: Params, cfg: dict, a_plus: float, a_minus: float) -> float:
    """Return the relaxation rate of a weight's deviation from the fixed point per unit
    nu_pre nu_post [ms]: A_plus tau_c + A_minus tau_ac (the forgetting rate of the
    rate-driven drift)."""
    return a_plus * p.tau_c + a_minus * p.tau_ac


def homeostatic_decay_rate(p: Params) -> float:
    """Return the same rate [ms] under the NEST protocol at the model's rule with
    homeostasis after every episode, to first order in one episode's drift: the rule's
    own -r_ac tau_ac plus the rescaling of the column mean back to m0,
    -r_ac tau_ac (w* - m0) / m0, which sum to Delta_c tau_c / m0."""
    return p.delta_c * p.tau_c / p.m0


def report(p: Params, cfg: dict, quantum_mv: float) -> dict:
    """Return the numerics of the substituted rule for translation.json: the amplitudes
    as the model asks and as the board holds them, the drift's fixed point, and what the
    emulation quantises (labelled an approximation)."""
    model = stdp_amplitudes(p, cfg, board=False)
    board = stdp_amplitudes(p, cfg, board=True)
    used = board if fixed_point_on(cfg) else model
    return {
        "stdp_depression": cfg["spinnaker"].get("stdp_depression", "exact"),
        "a_plus": {"model": model["A_plus"], "board_s1615": board["A_plus"],
                   "rel_error": board["A_plus"] / model["A_plus"] - 1},
        "a_minus": {"model": model["A_minus"], "board_s1615": board["A_minus"],
                    "rel_error": board["A_minus"] / model["A_minus"] - 1,
                    "model_rule_r_ac": -p.r_ac},
        "drift_fixed_point_theta": drift_fixed_point(p, cfg, used["A_plus"],
                                                     used["A_minus"]) / p.theta,
        "m0_theta": p.m0 / p.theta,
        "deviation_decay_rate_ms": deviation_decay_rate(p, cfg, used["A_plus"],
                                                        used["A_minus"]),
        "homeostatic_decay_rate_ms": homeostatic_decay_rate(p),
        "fixed_point_weights": fixed_point_on(cfg),
        "emulated": ("AN APPROXIMATION: weights on the board's 16-bit grid (quantum "
                     f"{quantum_mv:.4g} mV) at every load and read-back, A_plus and A_minus "
                     "in S16.15; the plastic updates between them are NEST's floating point"
                     if fixed_point_on(cfg) else
                     "weights quantised at loads only; read-back and amplitudes in floating "
                     "point (spinnaker.fixed_point_weights: false)"),
    }
