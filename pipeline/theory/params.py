"""Theory parameters in paper units, converted once from an experiment config.

Units (arXiv 2508.13846, docs/design.md section 3): time in tau_m, voltage and weights in
theta = V_th - V_reset, rates in 1/tau_m. This module is the only place where config units
(``_ms``, ``_hz``) are converted: rate_hz -> rate_hz * tau_m_ms / 1000, t_ms -> t_ms / tau_m_ms.
Jumps and weights in the config are already in theta.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

__all__ = ["STDPParams", "TheoryParams", "as_stdp", "PAPER_STDP"]


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

    @classmethod
    def from_config(cls, stdp: Mapping[str, Any], tau_m_ms: float) -> "STDPParams":
        """Return the STDP parameters from a config's ``stdp`` section (times in ms) and
        tau_m [ms] (arXiv 2508.13846)."""
        return cls(delta_c=float(stdp["delta_c"]), r_ac=float(stdp["r_ac"]),
                   tau_c=float(stdp["tau_c_ms"]) / tau_m_ms,
                   tau_ac=float(stdp["tau_ac_ms"]) / tau_m_ms)


#: The paper's STDP rule (docs/design.md section 3): tau_c = 16.8/20, tau_ac = 33.7/20 tau_m.
PAPER_STDP = STDPParams(delta_c=0.002, r_ac=-0.008, tau_c=16.8 / 20.0, tau_ac=33.7 / 20.0)


def as_stdp(stdp: "STDPParams | Mapping[str, float]") -> STDPParams:
    """Return ``stdp`` as STDPParams; a mapping must hold delta_c, r_ac, tau_c, tau_ac in
    paper units (tau in tau_m), as in arXiv 2508.13846."""
    if isinstance(stdp, STDPParams):
        return stdp
    return STDPParams(delta_c=float(stdp["delta_c"]), r_ac=float(stdp["r_ac"]),
                      tau_c=float(stdp["tau_c"]), tau_ac=float(stdp["tau_ac"]))


@dataclass(frozen=True)
class TheoryParams:
    """Everything the mean-field theory of arXiv 2508.13846 needs, in paper units.

    Rates in 1/tau_m, times in tau_m, weights/jumps in theta, variances in theta^2."""

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
        """Return the number of cue inputs M_c = f_c * M (a float; arXiv 2508.13846)."""
        return self.f_c * self.n_in

    def rate_hz(self, r: float) -> float:
        """Return a rate given in 1/tau_m in Hz (arXiv 2508.13846 units -> config units)."""
        return float(r) * 1000.0 / self.tau_m_ms

    def as_dict(self) -> dict:
        """Return the parameters as a JSON-serialisable dict (paper units of arXiv
        2508.13846)."""
        d = asdict(self)
        d["stdp"] = asdict(self.stdp)
        return d

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> "TheoryParams":
        """Return the theory parameters of a full experiment config (the YAML's sections
        network, noise, inputs, targets, stdp, weights, protocol, readout), converting
        rates Hz -> 1/tau_m and ms -> tau_m (arXiv 2508.13846, docs/design.md section 5)."""
        net, noise, inp = cfg["network"], cfg["noise"], cfg["inputs"]
        tgt, w, prot = cfg["targets"], cfg["weights"], cfg["protocol"]
        tau_m = float(net["tau_m_ms"])
        hz = tau_m / 1000.0
        readout = cfg.get("readout", {}) or {}
        return cls(
            c_exc=float(net["c_exc"]), c_inh=float(net["c_inh"]), j=float(net["j"]),
            g=float(net["g"]), h=float(net["h"]),
            mu_exc=float(noise["mu_exc"]), d_exc=float(noise["d_exc"]),
            mu_inh=float(noise["mu_inh"]), d_inh=float(noise["d_inh"]),
            n_in=float(inp["m"]), f_c=float(inp["f_c"]),
            nu1=float(inp["nu1_hz"]) * hz, nu0=float(inp["nu0_hz"]) * hz,
            f_s=float(tgt["f_s"]), nu_s=float(tgt["supervision_hz"]) * hz,
            j_s=float(tgt["supervision_jump"]),
            stdp=STDPParams.from_config(cfg["stdp"], tau_m),
            m0=float(w["m0"]), t_train=float(prot["t_train_ms"]) / tau_m,
            episodes=int(prot["episodes"]),
            threshold=float(readout.get("threshold", 0.5)),
            homeostasis=bool(prot.get("homeostasis", True)),
            tau_m_ms=tau_m, v0_config=w.get("v0", "stationary"))
