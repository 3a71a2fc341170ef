"""Mean-field theory of STDP memory capacity in LIF networks (arXiv 2508.13846).

Public entry points:

* :func:`predict` (full config dict -> JSON-serialisable dict): forgetting curves and
  capacities with and without spike-time cross-correlations, stationary variances, rates
  and class statistics, side by side (docs/design.md section 5).
* :func:`stationary_variance` (config -> V* [theta^2]): what the simulation uses as initial
  weight variance when ``weights.v0 == 'stationary'``.

Units inside the theory: time in tau_m, voltage and weights in theta, rates in 1/tau_m;
config units (Hz, ms) are converted once, by ``pipeline.parameters.derive``; rates are
reported back in Hz.
If ``weights.v0`` is a number, the simulation starts from that variance, but the theory's
prediction still uses its own stationary variance V*: the forgetting curve it predicts is
that of the stationary (steady) regime, which the simulation reaches after a few episodes.
The theory always applies homeostasis (gamma_a); with ``protocol.homeostasis: false`` there is
no stationary regime and the prediction describes the homeostatic model (a note says so).

Modules: siegert (rate), linear_response (alpha, beta), drift (A, B of one synapse),
moments (episode integration), network (self-consistent rates), populations (classes,
homeostasis, V*), memory (trace, accuracy, capacity), params (the parameter classes), cli.
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any, Mapping

import numpy as np

from .failures import TheoryError, failures_in_words
from .memory import capacity_from_curve, memory_trace, predicted_accuracy
from ..parameters import derive
from .params import PAPER_STDP, STDPParams, TheoryParams
from .populations import StationaryState, by_class, class_probabilities, stationary_state

__all__ = ["predict", "predict_params", "stationary_variance", "TheoryParams", "STDPParams",
           "PAPER_STDP", "REFERENCE", "UNITS", "TheoryError"]

REFERENCE = "arXiv 2508.13846"
UNITS = {
    "rates": "Hz",
    "m": "theta (= V_th - V_reset)",
    "v": "theta^2",
    "stationary_variance": "theta^2",
    "capacity": "episodes (age)",
    "accuracy": "fraction of the pattern's targets recalled (chance = f_s)",
    "trace_k": "theta", "trace_g": "theta^2",
}
_N_STEPS = 16  # RK4 steps per episode (accurate to ~1e-8 relative, see moments.py)


@lru_cache(maxsize=32)
def _stationary_cached(p: TheoryParams, cross_correlations: bool) -> StationaryState:
    return stationary_state(p, cross_correlations, n_steps=_N_STEPS)


def _stationary(p: TheoryParams, cross_correlations: bool) -> StationaryState:
    # episodes, readout threshold and the config's v0 do not enter the stationary state
    key = replace(p, episodes=1, threshold=0.5, v0_config="stationary")
    return _stationary_cached(key, bool(cross_correlations))


def stationary_variance(config: Mapping[str, Any], cross_correlations: bool = True) -> float:
    """Return the stationary variance V* [theta^2] of the feed-forward weights: the variance
    that reproduces itself after one training episode plus homeostasis, for the full theory
    (``cross_correlations`` True) or the rate-only one (arXiv 2508.13846, docs/design.md s. 5).
    ``config`` is the full experiment config dict."""
    with failures_in_words(config, "the theory's stationary variance (weights.v0: stationary)"):
        return float(_stationary(derive(config).theory,
                                 bool(cross_correlations)).v_star)


def _hz(p: TheoryParams, r: np.ndarray) -> dict[str, float]:
    return {"target": p.rate_hz(r[0]), "non_target": p.rate_hz(r[1]),
            "inhibitory": p.rate_hz(r[2])}


def _version(p: TheoryParams, cross: bool) -> dict[str, Any]:
    st = _stationary(p, cross)
    ep = st.at.episode
    p_ab = class_probabilities(p.f_s, p.f_c)
    trace = memory_trace(ep.m, ep.v, st.at.gamma, st.v_star, p_ab, p.m0, p.episodes)
    acc = predicted_accuracy(trace, p.n_cue, p.f_s)
    cap, crossed = capacity_from_curve(acc, p.threshold)
    return {
        "capacity": cap, "crossed": crossed,
        "capacity_label": str(cap) if crossed else f">= {cap}",
        "accuracy": [float(x) for x in acc],
        "stationary_variance": st.v_star,
        "rates": _hz(p, ep.rates_mean),
        "rates_start": _hz(p, ep.rates_start),
        "rates_end": _hz(p, ep.rates_end),
        "m": by_class(ep.m), "v": by_class(ep.v),
        "gamma": {"target": float(st.at.gamma[1]), "non_target": float(st.at.gamma[0])},
        "trace": {"k_target": trace.k_mean[:, 1].tolist(), "g_target": trace.g_var[:, 1].tolist(),
                  "k_non_target": trace.k_mean[:, 0].tolist(),
                  "g_non_target": trace.g_var[:, 0].tolist()},
        "episode_evaluations": st.evaluations,
    }


def predict_params(p: TheoryParams) -> dict[str, Any]:
    """Return the theory's prediction for parameters ``p`` (paper units) as a
    JSON-serialisable dict; see :func:`predict` for the keys (arXiv 2508.13846)."""
    out: dict[str, Any] = {"reference": REFERENCE, "units": UNITS, "episodes": p.episodes,
                           "threshold": p.threshold, "n_cue": p.n_cue, "chance": p.f_s}
    for name, cross in (("full", True), ("rate_only", False)):
        ver = _version(p, cross)
        out[f"capacity_{name}"] = ver["capacity"]
        out[f"crossed_{name}"] = ver["crossed"]
        out[f"capacity_{name}_label"] = ver["capacity_label"]
        out[f"accuracy_{name}"] = ver["accuracy"]
        out[f"stationary_variance_{name}"] = ver["stationary_variance"]
        out[f"rates_{name}"] = ver["rates"]
        out[f"rates_start_{name}"] = ver["rates_start"]
        out[f"rates_end_{name}"] = ver["rates_end"]
        out[f"m_{name}"] = ver["m"]
        out[f"v_{name}"] = ver["v"]
        out[f"gamma_{name}"] = ver["gamma"]
        out[f"trace_{name}"] = ver["trace"]
    notes = [
        "rates_* are averages over one training episode started in the stationary state "
        "(rates_start_*/rates_end_* at its ends); m_*/v_* are the class means/variances at the "
        "end of that episode, before homeostasis; keys 'ab': a=1 target post neuron, b=1 cue input",
        "capacity_* is the age minimising |a_k - threshold| over ages 0..episodes-1; when "
        "crossed_* is false it is a lower bound (label '>= P-1')",
    ]
    if p.v0_config != "stationary":
        notes.append(f"weights.v0 = {p.v0_config} sets the simulation's initial variance only; "
                     "the theory uses its own stationary variance")
    if not p.homeostasis:
        notes.append("protocol.homeostasis is false, but the theory assumes homeostasis: "
                     "without it there is no stationary regime")
    out["notes"] = notes
    out["params"] = p.as_dict()
    out["params"]["v0_config"] = (p.v0_config if isinstance(p.v0_config, str)
                                  else float(p.v0_config))
    return out


def predict(config: Mapping[str, Any]) -> dict[str, Any]:
    """Return the theory's prediction for a full experiment config as a JSON-serialisable
    dict (arXiv 2508.13846, docs/design.md sections 4-5).

    Keys, for X in {full, rate_only} (with / without spike-time cross-correlations):
    capacity_X (int, episodes), crossed_X (bool; False = lower bound), capacity_X_label,
    accuracy_X (list by age 0..episodes-1), stationary_variance_X [theta^2], rates_X
    {target, non_target, inhibitory} [Hz] (episode mean; rates_start_X, rates_end_X),
    m_X [theta] and v_X [theta^2] per class {"11","10","01","00"}, gamma_X, trace_X
    (K, G of a stored pattern by age), plus units, params (paper units), notes.
    """
    with failures_in_words(config):
        p = derive(config).theory
        out = predict_params(p)
        readout = config.get("readout", {}) or {}
        if readout.get("spiking"):
            out.update(predict_spiking(p, out, float(readout["t_recall_ms"])))
        if (config.get("theory", {}) or {}).get("finite_step"):
            out.update(predict_finite_step(p, float(config["simulation"]["dt_ms"])))
    return out


def predict_finite_step(p: TheoryParams, dt_ms: float) -> dict[str, Any]:
    """Return the network rates [Hz] at the simulation's time step ``dt_ms`` beside the
    continuous ones, for both versions X (config key theory.finite_step; docs/theory.md):
    rates_finite_step_start_X / rates_continuous_start_X, the self-consistent rates of the
    target, non-target and inhibitory populations at the start of the stationary episode
    (every class at m0 and V*), with the Siegert rate replaced by its finite-step version
    (threshold and reset raised by siegert.finite_step_shift; Brunel & Hakim 1999,
    Fourcaud & Brunel 2002). Only the rates: the drift and the capacity keep the
    continuous rates."""
    from .network import solve_rates
    dt = dt_ms / p.tau_m_ms
    out: dict[str, Any] = {"finite_step_dt_ms": dt_ms}
    for name, cross in (("full", True), ("rate_only", False)):
        st = _stationary(p, cross)
        m, v = np.full((2, 2), p.m0), np.full((2, 2), st.v_star)
        for key, step in (("continuous", 0.0), ("finite_step", dt)):
            net = solve_rates(m, v, p, r_init=st.at.episode.rates_start, dt=step)
            out[f"rates_{key}_start_{name}"] = _hz(p, net.rates)
    return out


def predict_spiking(p: TheoryParams, pred: dict[str, Any], t_recall_ms: float) -> dict[str, Any]:
    """Return the predicted spiking recall (pipeline/theory/recall.py) for both versions X
    of ``pred`` (a :func:`predict_params` result): accuracy_spiking_X (list by age),
    capacity_spiking_X, crossed_spiking_X, capacity_spiking_X_label, recall_rates_X
    {target, non_target, inhibitory} by age [Hz], for a counting window t_recall_ms [ms]."""
    from .memory import MemoryTrace
    from .recall import spiking_recall

    out: dict[str, Any] = {"t_recall_ms": t_recall_ms}
    for name in ("full", "rate_only"):
        tr = pred[f"trace_{name}"]
        trace = MemoryTrace(k_mean=np.column_stack([tr["k_non_target"], tr["k_target"]]),
                            g_var=np.column_stack([tr["g_non_target"], tr["g_target"]]))
        sp = spiking_recall(p, trace, pred[f"stationary_variance_{name}"], t_recall_ms)
        cap, crossed = capacity_from_curve(np.array(sp["accuracy"]), p.threshold)
        out[f"accuracy_spiking_{name}"] = sp["accuracy"]
        out[f"capacity_spiking_{name}"] = cap
        out[f"crossed_spiking_{name}"] = crossed
        out[f"capacity_spiking_{name}_label"] = str(cap) if crossed else f">= {cap}"
        out[f"recall_rates_{name}"] = {"target": sp["rate_target"],
                                       "non_target": sp["rate_non_target"],
                                       "inhibitory": sp["rate_inhibitory"]}
    out["spiking_assumptions"] = (
        "spiking recall predicted from the memory trace's summed-cue-weight moments through "
        "the Siegert rate at the self-consistent recall operating point (no supervision, "
        "plasticity off); assumes Gaussian summed cue weights, population-mean recurrent "
        "input, Poisson spike counts over t_recall_ms, stationary rates in the window")
    return out
