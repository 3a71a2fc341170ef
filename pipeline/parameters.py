"""The experiment's parameters, derived once from a validated config (docs/design.md
section 3, 'Units').

:func:`derive` is the only place where config units are converted and population sizes
counted. It returns one :class:`Parameters` with two views of the same numbers:

* ``simulator`` (:class:`Params`): PyNN's units, ms, mV, Hz (what ``pipeline.model`` builds);
* ``theory`` (:class:`TheoryParams`): the paper's units (arXiv 2508.13846), time in tau_m,
  voltage and weights in theta = V_th - V_reset, rates in 1/tau_m.

The cue has f_c * M input neurons and the target f_s * N_E E neurons. Both must be whole
numbers (``pipeline/config.py`` refuses a config where they are not), so the simulation
and the theory count the same neurons.

This module is the bottom of the package: it imports nothing from ``pipeline``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

__all__ = ["Params", "STDPParams", "TheoryParams", "Parameters", "derive", "whole_count",
           "WHOLE_TOLERANCE"]

#: |x - round(x)| below which a count x = fraction * total is a whole number: f_c = 0.07
#: times M = 100 is 7.000000000000001 in float64, a rounding error of ~1e-15 relative.
WHOLE_TOLERANCE = 1e-9


def whole_count(fraction: float, total: int) -> int | None:
    """Return fraction * total as an int when it is a whole number (to WHOLE_TOLERANCE
    relative), else None."""
    x = float(fraction) * int(total)
    k = round(x)
    return int(k) if abs(x - k) <= WHOLE_TOLERANCE * max(1.0, abs(x)) else None


@dataclass(frozen=True)
class Params:
    """The simulator view: the model's parameters in simulator units (ms, mV, nA, Hz)."""

    n_exc: int
    n_inh: int
    c_exc: int
    c_inh: int
    tau_m: float          # ms
    theta: float          # mV (threshold - reset)
    j_ee: float           # mV, E -> E jump
    j_ie: float           # mV, E -> I jump (h * J)
    j_inh: float          # mV, magnitude of I -> any jump (g * J)
    mu_exc: float         # mV, mean free membrane potential of E
    mu_inh: float         # mV
    d_exc: float          # theta^2 / tau_m (paper units, used by the noise calibration)
    d_inh: float
    m: int
    n_cue: int
    nu1: float            # Hz
    nu0: float            # Hz
    n_target: int
    supervision_rate: float   # Hz
    supervision_jump: float   # mV
    delta_c: float        # mV, potentiation step
    r_ac: float           # dimensionless, depression factor (negative)
    tau_c: float          # ms
    tau_ac: float         # ms
    w_max: float          # mV
    m0: float             # mV
    t_warm: float         # ms
    t_train: float        # ms
    episodes: int


@dataclass(frozen=True)
class STDPParams:
    """STDP rule of arXiv 2508.13846 in paper units.

    delta_c: additive potentiation step [theta]; r_ac: multiplicative depression factor [1];
    tau_c, tau_ac: causal and acausal trace time constants [tau_m]."""

    delta_c: float
    r_ac: float
    tau_c: float
    tau_ac: float

    @property
    def s(self) -> float:
        """Return the index s = -1/tau_c [1/tau_m] at which alpha and beta enter the drift
        (arXiv 2508.13846)."""
        return -1.0 / self.tau_c


@dataclass(frozen=True)
class TheoryParams:
    """The theory view: everything the mean-field theory of arXiv 2508.13846 needs, in
    paper units. Rates in 1/tau_m, times in tau_m, weights/jumps in theta, variances in
    theta^2."""

    # recurrent network
    c_exc: float
    c_inh: float
    j: float
    g: float
    h: float
    # background white noise
    mu_exc: float
    d_exc: float
    mu_inh: float
    d_inh: float
    # feed-forward input layer
    n_in: float          # M
    f_c: float
    nu1: float           # cue rate [1/tau_m]
    nu0: float           # other inputs' rate [1/tau_m]
    # targets and supervision
    f_s: float
    nu_s: float          # supervision rate per target neuron [1/tau_m]
    j_s: float           # supervision jump [theta]
    # plasticity, weights, protocol, readout
    stdp: STDPParams
    m0: float
    t_train: float       # [tau_m]
    episodes: int
    threshold: float
    homeostasis: bool
    tau_m_ms: float
    v0_config: Any = field(default="stationary")  # the config's weights.v0 (not used here)

    @property
    def n_cue(self) -> float:
        """Return the number of cue inputs M_c = f_c * M (arXiv 2508.13846): the whole
        number it is for a validated config, as a float (f_c * M itself otherwise)."""
        whole = whole_count(self.f_c, int(self.n_in)) if float(self.n_in).is_integer() else None
        return float(whole) if whole is not None else self.f_c * self.n_in

    def rate_hz(self, r: float) -> float:
        """Return a rate given in 1/tau_m in Hz (arXiv 2508.13846 units -> config units)."""
        return float(r) * 1000.0 / self.tau_m_ms

    def as_dict(self) -> dict:
        """Return the parameters as a JSON-serialisable dict (paper units of arXiv
        2508.13846)."""
        d = asdict(self)
        d["stdp"] = asdict(self.stdp)
        return d


@dataclass(frozen=True)
class Parameters:
    """One experiment's parameters: the same numbers in the simulator's units
    (``simulator``) and in the paper's (``theory``)."""

    simulator: Params
    theory: TheoryParams


def stdp_from_config(stdp: Mapping[str, Any], tau_m_ms: float) -> STDPParams:
    """Return a config's ``stdp`` section (times in ms) in paper units, times in tau_m
    (tau_m_ms [ms])."""
    return STDPParams(delta_c=float(stdp["delta_c"]), r_ac=float(stdp["r_ac"]),
                      tau_c=float(stdp["tau_c_ms"]) / tau_m_ms,
                      tau_ac=float(stdp["tau_ac_ms"]) / tau_m_ms)


def _count(fraction: float, total: int, key: str, of: str) -> int:
    n = whole_count(fraction, total)
    if n is None:
        raise ValueError(f"config key '{key}' = {fraction:g} gives {fraction * total:g} {of}, "
                         f"not a whole number (docs/design.md section 3)")
    return n


def derive(cfg: Mapping[str, Any]) -> Parameters:
    """Return the parameters of a validated experiment config (``pipeline.config.
    validate_config``), in both views. Raises ValueError naming the key if the cue or the
    target is not a whole number of neurons."""
    net, noise, inp, tgt = cfg["network"], cfg["noise"], cfg["inputs"], cfg["targets"]
    stdp, w, proto, readout = cfg["stdp"], cfg["weights"], cfg["protocol"], cfg["readout"]
    theta = float(net["theta_mv"])
    tau_m = float(net["tau_m_ms"])
    per_tau_m = tau_m / 1000.0          # Hz -> 1/tau_m
    n_cue = _count(inp["f_c"], inp["m"], "inputs.f_c", f"of the inputs.m = {inp['m']} inputs")
    n_target = _count(tgt["f_s"], net["n_exc"], "targets.f_s",
                      f"of the network.n_exc = {net['n_exc']} E neurons")
    sim = Params(
        n_exc=int(net["n_exc"]), n_inh=int(net["n_inh"]),
        c_exc=int(net["c_exc"]), c_inh=int(net["c_inh"]),
        tau_m=tau_m, theta=theta,
        j_ee=net["j"] * theta, j_ie=net["h"] * net["j"] * theta,
        j_inh=net["g"] * net["j"] * theta,
        mu_exc=noise["mu_exc"] * theta, mu_inh=noise["mu_inh"] * theta,
        d_exc=float(noise["d_exc"]), d_inh=float(noise["d_inh"]),
        m=int(inp["m"]), n_cue=n_cue,
        nu1=float(inp["nu1_hz"]), nu0=float(inp["nu0_hz"]),
        n_target=n_target,
        supervision_rate=float(tgt["supervision_hz"]),
        supervision_jump=tgt["supervision_jump"] * theta,
        delta_c=stdp["delta_c"] * theta, r_ac=float(stdp["r_ac"]),
        tau_c=float(stdp["tau_c_ms"]), tau_ac=float(stdp["tau_ac_ms"]),
        w_max=stdp["w_max"] * theta, m0=w["m0"] * theta,
        t_warm=float(proto["t_warm_ms"]), t_train=float(proto["t_train_ms"]),
        episodes=int(proto["episodes"]))
    theory = TheoryParams(
        c_exc=float(net["c_exc"]), c_inh=float(net["c_inh"]), j=float(net["j"]),
        g=float(net["g"]), h=float(net["h"]),
        mu_exc=float(noise["mu_exc"]), d_exc=float(noise["d_exc"]),
        mu_inh=float(noise["mu_inh"]), d_inh=float(noise["d_inh"]),
        n_in=float(inp["m"]), f_c=n_cue / int(inp["m"]),
        nu1=float(inp["nu1_hz"]) * per_tau_m, nu0=float(inp["nu0_hz"]) * per_tau_m,
        f_s=n_target / int(net["n_exc"]), nu_s=float(tgt["supervision_hz"]) * per_tau_m,
        j_s=float(tgt["supervision_jump"]),
        stdp=stdp_from_config(stdp, tau_m),
        m0=float(w["m0"]), t_train=float(proto["t_train_ms"]) / tau_m,
        episodes=int(proto["episodes"]),
        threshold=float(readout["threshold"]),
        homeostasis=bool(proto["homeostasis"]),
        tau_m_ms=tau_m, v0_config=w["v0"])
    return Parameters(simulator=sim, theory=theory)
