"""Theory of arXiv 2508.13846 (pipeline/theory/): pure math, fast, no simulator.

Every tolerance carries a comment with its reason.
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.integrate import quad
from scipy.special import erfc, pbdv

from pipeline.theory import PAPER_STDP, predict, stationary_variance
from pipeline.theory import cli as theory_cli
from pipeline.theory.drift import diffusion, drift, drift_rate_only, single_synapse_drift
from pipeline.theory.linear_response import alpha, beta, linear_responses, log_scaled_pbdv
from pipeline.theory.memory import capacity_from_curve, memory_trace, predicted_accuracy
from pipeline.theory.moments import integrate_episode
from pipeline.theory.network import solve_rates
from pipeline.config_sources import load_config
from pipeline.parameters import TheoryParams, derive
from pipeline.theory.populations import class_probabilities, episode_map, stationary_state
from pipeline.theory.siegert import lif_rate

ROOT = Path(__file__).resolve().parent.parent


def _config(name: str = "default", **overrides) -> dict:
    """The checked config of config/<name>.yaml with overrides {section.key: value}."""
    files = [] if name == "default" else [ROOT / "config" / f"{name}.yaml"]
    return load_config(files, overrides=[f"{k}={v}" for k, v in overrides.items()])


# --------------------------------------------------------------------------- Siegert

def _siegert_reference(mu: float, d: float) -> float:
    """Independent evaluation: adaptive quadrature of the NAIVE integrand exp(x^2) erfc(-x)
    (no erfcx, no Dawson), valid while both limits stay inside |x| < 25 (no overflow)."""
    a = (0.0 - mu) / math.sqrt(2 * d)
    b = (1.0 - mu) / math.sqrt(2 * d)
    assert -25 < a < b < 25
    pts = [p for p in (-5.0, -1.0, 0.0, 1.0, 5.0) if a < p < b] or None
    val = quad(lambda x: math.exp(x * x) * erfc(-x), a, b, epsabs=0, epsrel=1e-12,
               limit=1000, points=pts)[0]
    return 1.0 / (math.sqrt(math.pi) * val)


@pytest.mark.parametrize("mu,d", [
    (0.0, 0.1), (0.5, 0.1), (1.0, 0.1), (0.3, 5.0), (0.9, 1e-3), (1.0, 0.002), (1.05, 0.005),
    (2.0, 0.01), (3.0, 0.5),                       # suprathreshold
    (-2.0, 0.05), (-1.0, 0.01), (-0.5, 0.02),      # strongly subthreshold: 1e-39 .. 1e-86
])
def test_siegert_matches_naive_quadrature(mu, d):
    # 1e-10 relative: the reference quadrature is asked for 1e-12, and exp(x^2) amplifies the
    # rounding of x^2 (~1e-16 * x^2 <= 1e-13 at |x| = 25) in the naive integrand.
    assert lif_rate(mu, d) == pytest.approx(_siegert_reference(mu, d), rel=1e-10, abs=0)


def test_siegert_extreme_subthreshold_no_overflow():
    # b = (1 - mu)/sqrt(2D) = 42.4: the naive integrand overflows here. For large b,
    # 1/r = sqrt(pi) e^{b^2}/(2b) (1 + 1/(2b^2) + 3/(4b^4) + ...) up to e^{a^2 - b^2} terms.
    mu, d = -5.0, 0.01
    b = (1 - mu) / math.sqrt(2 * d)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        r = lif_rate(mu, d)
    assert r == 0.0  # e^{-1800} underflows cleanly: no overflow, no NaN
    log_r = -b * b + math.log(b) - 0.5 * math.log(math.pi) \
        - math.log1p(1 / (2 * b * b) + 3 / (4 * b ** 4))
    # r = e^{-1800} underflows to 0 in floats: compare the log-integral instead
    from pipeline.theory.siegert import log_siegert_integral
    log_i = float(log_siegert_integral(-mu / math.sqrt(2 * d), b))
    # 1e-12 relative on a number ~1800: the next series term is 15/(8 b^6) ~ 3e-10 of 1.
    assert -log_i - 0.5 * math.log(math.pi) == pytest.approx(log_r, rel=1e-12)
    assert lif_rate(-100.0, 0.001) == 0.0


def test_siegert_strongly_suprathreshold_matches_expansion():
    # 1/r = ln(mu/(mu-1)) + (D/2)(1/mu^2 - 1/(mu-1)^2) + O(D^2/mu^4): at mu = 50, D = 0.1 the
    # neglected term is ~ 3 D^2 (1/(mu-1)^4) ~ 5e-9 relative to 1/r ~ 0.02; 1e-6 is safe.
    mu, d = 50.0, 0.1
    inv = math.log(mu / (mu - 1)) + 0.5 * d * (1 / mu ** 2 - 1 / (mu - 1) ** 2)
    assert lif_rate(mu, d) == pytest.approx(1 / inv, rel=1e-6)


def test_siegert_vectorised_equals_scalar():
    mu = np.array([[-1.0, 0.2, 0.9], [1.5, 3.0, -0.3]])
    d = np.array([[0.02, 0.1, 0.05], [0.2, 1.0, 0.5]])
    vec = lif_rate(mu, d)
    loop = np.array([[lif_rate(m, s) for m, s in zip(rm, rd)] for rm, rd in zip(mu, d)])
    # 1e-14 relative: same operations, only the array layout differs.
    np.testing.assert_allclose(vec, loop, rtol=1e-14, atol=0)


# --------------------------------------------------------------------- linear response

@pytest.mark.parametrize("mu,d", [
    (0.5, 0.1), (1.2, 0.1), (0.0, 0.1), (-1.0, 0.05), (2.0, 0.01), (0.8, 0.3), (1.13, 0.13),
])
def test_linear_response_zero_frequency_limit(mu, d):
    """alpha(s -> 0) = dr0/dmu and beta(s -> 0) = dr0/dD: a strong check of the pbdv
    formulas (Lindner & Schimansky-Geier 2001) against the independent Siegert rate."""
    s = -1e-6
    h_mu = 1e-5
    h_d = 1e-5 * d
    dr_dmu = (lif_rate(mu + h_mu, d) - lif_rate(mu - h_mu, d)) / (2 * h_mu)
    dr_dd = (lif_rate(mu, d + h_d) - lif_rate(mu, d - h_d)) / (2 * h_d)
    a0, b0 = linear_responses(s, mu, d)
    # 2e-5 relative: alpha(s) - alpha(0) = O(s) ~ 1e-6 relative; the central difference
    # has O(h^2) ~ 1e-9 truncation and ~1e-16/1e-5 ~ 1e-11 rounding error.
    assert a0 == pytest.approx(dr_dmu, rel=2e-5)
    assert b0 == pytest.approx(dr_dd, rel=2e-5)
    # the separate functions agree with the pair to rounding (same formula)
    assert alpha(s, mu, d) == pytest.approx(a0, rel=1e-13)
    assert beta(s, mu, d) == pytest.approx(b0, rel=1e-13)


def test_linear_response_at_stdp_index_is_finite_and_positive():
    # s = -1/tau_c < 0: every D_a has a < 0 and is positive, so alpha, beta > 0 everywhere,
    # including where the asymptotic branch (|y| > 30) and e^Delta ~ e^{+-1000} are involved.
    s = PAPER_STDP.s
    mus = np.array([-3.0, -0.5, 0.3, 1.0, 2.0, 8.0])
    for d in (1e-3, 0.01, 0.1, 1.0):
        with np.errstate(over="raise", invalid="raise"):
            r0 = lif_rate(mus, d)
            ok = r0 > 0
            a, b = linear_responses(s, mus[ok], d, r0[ok])
        assert np.all(np.isfinite(a)) and np.all(a > 0)
        assert np.all(np.isfinite(b)) and np.all(b > 0)


@pytest.mark.parametrize("a", [-1.19, -2.19, -3.19, -1.00001])
@pytest.mark.parametrize("y", [-36.0, -31.0, 31.0, 36.0])
def test_scaled_pbdv_asymptotic_branch_matches_pbdv(a, y):
    # beyond |y| = 30 the asymptotic series replaces pbdv; pbdv itself is still finite up to
    # |y| ~ 38, so compare there. 1e-12 relative: the 8-term series is exact to ~(a^2/y^2)^8,
    # and y^2/4 ~ 300 carries ~1e-14 relative rounding.
    ref = 0.25 * y * y + math.log(pbdv(a, y)[0])
    assert float(log_scaled_pbdv(a, np.array([y]))[0]) == pytest.approx(ref, rel=1e-12)


# -------------------------------------------------------------------------- drift

@pytest.mark.parametrize("mu,d,nu,w", [(0.3, 0.1, 1.0, 0.05), (0.9, 0.12, 1.0, 0.1),
                                       (1.2, 0.2, 0.25, 0.3), (-0.2, 0.1, 2.0, 0.05)])
def test_drift_full_minus_rate_only_is_correlation_term(mu, d, nu, w):
    p = PAPER_STDP
    out = single_synapse_drift(mu, d, nu, w, p)
    mu_t, d_t = mu + w * nu, d + w * w * nu / 2
    assert out["mu_tot"] == pytest.approx(mu_t, rel=1e-15)  # same arithmetic
    assert out["d_tot"] == pytest.approx(d_t, rel=1e-15)
    a, b = alpha(-1 / p.tau_c, mu_t, d_t), beta(-1 / p.tau_c, mu_t, d_t)
    expected = p.delta_c * nu * (w * a + w * w * b / 2)
    # 1e-9 relative: a difference of two drifts ~1e-4 whose rounding (~1e-20) is far below.
    assert out["drift_full"] - out["drift_rate_only"] == pytest.approx(expected, rel=1e-9)
    r0 = lif_rate(mu_t, d_t)
    # formulas of docs/design.md section 5, 1e-12 relative: identical arithmetic up to ordering
    assert out["drift_rate_only"] == pytest.approx(
        nu * r0 * (p.delta_c * p.tau_c + p.r_ac * w * p.tau_ac), rel=1e-12)
    assert out["diffusion"] == pytest.approx(
        r0 * nu * (p.delta_c ** 2 * p.tau_c + p.r_ac ** 2 * w * w * p.tau_ac) / 4, rel=1e-12)
    # the functions taking the total input give the same numbers (1e-12: same arithmetic)
    stdp_dict = {"delta_c": p.delta_c, "r_ac": p.r_ac, "tau_c": p.tau_c, "tau_ac": p.tau_ac}
    assert drift(w, nu, mu_t, d_t, stdp_dict) == pytest.approx(out["drift_full"], rel=1e-12)
    assert drift_rate_only(w, nu, mu_t, d_t, p) == pytest.approx(out["drift_rate_only"],
                                                                 rel=1e-12)
    assert diffusion(w, nu, mu_t, d_t, p) == pytest.approx(out["diffusion"], rel=1e-12)


# ------------------------------------------------------------ network, episode, V*

@pytest.fixture(scope="module")
def default_params() -> TheoryParams:
    return derive(_config("default")).theory


def test_params_unit_conversion(default_params):
    p = default_params
    # exact conversions: Hz * tau_m_ms/1000 and ms / tau_m_ms (1e-15: float rounding only)
    assert p.nu1 == pytest.approx(50.0 * 20.0 / 1000.0, rel=1e-15)
    assert p.nu_s == pytest.approx(3200.0 * 0.02, rel=1e-15)
    assert p.stdp.tau_c == pytest.approx(0.84, rel=1e-15)
    assert p.stdp.tau_ac == pytest.approx(1.685, rel=1e-15)
    assert p.t_train == pytest.approx(50.0, rel=1e-15)
    assert p.rate_hz(1.0) == pytest.approx(50.0, rel=1e-15)


def test_network_rates_are_self_consistent(default_params):
    p = default_params
    m = np.full((2, 2), p.m0)
    v = np.full((2, 2), 3e-4)
    net = solve_rates(m, v, p)
    assert net.converged
    # 1e-10 /tau_m: the solver's tolerance is 1e-12 on max |Siegert(r) - r|
    np.testing.assert_allclose(lif_rate(net.mu, net.d), net.rates, rtol=0, atol=1e-10)
    # targets get supervision, so they fire most; all rates positive
    assert net.rates[0] > net.rates[1] > 0 and net.rates[2] > 0
    # warm start from the solution needs (almost) no work
    assert solve_rates(m, v, p, r_init=net.rates).iterations <= 2


def test_episode_integration_converged_in_steps(default_params):
    p = default_params
    m = np.full((2, 2), p.m0)
    v = np.full((2, 2), 3e-4)
    coarse = integrate_episode(p, m, v, True, n_steps=16)
    fine = integrate_episode(p, m, v, True, n_steps=64)
    # 1e-6 relative: RK4 error ~h^4; 16 steps over 50 tau_m measured at ~1e-8 relative.
    np.testing.assert_allclose(coarse.m, fine.m, rtol=1e-6)
    np.testing.assert_allclose(coarse.v, fine.v, rtol=1e-6)
    # nu0 = 0: the non-cue classes cannot change (exactly)
    assert np.all(coarse.m[:, 0] == p.m0) and np.all(coarse.v[:, 0] == 3e-4)
    # cue -> target potentiates more than cue -> non-target (the memory signal)
    assert coarse.m[1, 1] > coarse.m[0, 1] > p.m0


@pytest.mark.parametrize("cross", [True, False])
def test_stationary_variance_is_fixed_point(default_params, cross):
    st = stationary_state(default_params, cross)
    again = episode_map(st.v_star, default_params, cross)
    # 1e-8 relative: brentq is run to 1e-10 relative in V and the map's slope is < 1.
    assert again.v_out == pytest.approx(st.v_star, rel=1e-8)
    assert 0 < st.v_star < default_params.m0 ** 2
    # homeostasis restores the mean: sum_ab P_ab gamma_a m_ab = m0 (1e-12: exact algebra)
    p_ab = class_probabilities(default_params.f_s, default_params.f_c)
    mean = float(np.sum(p_ab * st.at.gamma[:, None] * st.at.episode.m))
    assert mean == pytest.approx(default_params.m0, rel=1e-12)


@pytest.mark.parametrize("cross", [True, False])
def test_stationary_variance_entry_point_equals_an_uncached_solution(cross):
    """stationary_variance() caches V* per parameters with the episodes, the readout
    threshold and v0 left out of the key, on the claim that they do not enter V*: an
    uncached solve for a config that changes exactly those three gives the same V*, and
    the cross-correlation flag reaches the solver (the two versions differ)."""
    cfg = _config("default")
    cached = stationary_variance(cfg, cross)
    other = _config("default", **{"protocol.episodes": 7, "recording.full_weights_at": [0],
                                  "readout.threshold": 0.3,
                                  "weights.v0": 1e-4})
    direct = stationary_state(derive(other).theory, cross).v_star
    # the same arithmetic if the three keys do not enter V*; 1e-12 relative is far below
    # brentq's 1e-10 convergence, so a V* that depended on them would show
    assert direct == pytest.approx(cached, rel=1e-12)
    assert stationary_variance(other, cross) == pytest.approx(cached, rel=1e-12)
    # full and rate-only V* differ by far more than the solver's 1e-10 (by a third here)
    assert stationary_variance(cfg, not cross) != pytest.approx(cached, rel=1e-6)


# ---------------------------------------------------------------- memory, capacity

def test_memory_trace_relaxes_to_stationary_state(default_params):
    p = default_params
    st = stationary_state(p, True)
    ep = st.at.episode
    p_ab = class_probabilities(p.f_s, p.f_c)
    tr = memory_trace(ep.m, ep.v, st.at.gamma, st.v_star, p_ab, p.m0, 3000)
    # after 3000 episodes the trace is gone: K -> m0, G -> V*. The decay factor per episode
    # is 1 - phi ~ 0.99, 0.99^3000 ~ 1e-13, so 1e-6 relative is ample.
    np.testing.assert_allclose(tr.k_mean[-1], p.m0, rtol=1e-6)
    np.testing.assert_allclose(tr.g_var[-1], st.v_star, rtol=1e-6)
    acc = predicted_accuracy(tr, p.n_cue, p.f_s)
    # accuracy falls from near 1 to chance f_s (1e-4: Gaussian tails of identical classes)
    assert acc[0] > 0.9
    assert acc[-1] == pytest.approx(p.f_s, abs=1e-4)
    assert np.all(np.diff(acc[:200]) < 0)


def test_capacity_from_curve_lower_bound_flag():
    assert capacity_from_curve(np.array([0.9, 0.7, 0.54, 0.45, 0.3]), 0.5) == (2, True)
    assert capacity_from_curve(np.array([0.9, 0.8, 0.7]), 0.5) == (2, False)


def test_capacity_falls_with_coding_level_and_rate_only_is_larger():
    caps = []
    for f_c in (0.05, 0.1, 0.2):
        # enough episodes that both curves cross (the default's 60 do not for rate-only)
        pred = predict(_config("default", **{"inputs.f_c": f_c, "protocol.episodes": 400,
                                             "readout.spiking": False}))
        assert pred["crossed_full"] and pred["crossed_rate_only"]
        assert pred["capacity_rate_only"] >= pred["capacity_full"]
        caps.append((pred["capacity_full"], pred["capacity_rate_only"]))
    full, rate_only = zip(*caps)
    assert full[0] > full[1] > full[2]
    assert rate_only[0] > rate_only[1] > rate_only[2]


def test_predict_output_is_complete_and_serialisable():
    cfg = _config("default")
    pred = predict(cfg)
    json.loads(json.dumps(pred))  # JSON-serialisable, no numpy scalars
    n = cfg["protocol"]["episodes"]
    for name in ("full", "rate_only"):
        assert isinstance(pred[f"capacity_{name}"], int)
        assert isinstance(pred[f"crossed_{name}"], bool)
        assert len(pred[f"accuracy_{name}"]) == n
        assert set(pred[f"rates_{name}"]) == {"target", "non_target", "inhibitory"}
        assert set(pred[f"m_{name}"]) == set(pred[f"v_{name}"]) == {"11", "10", "01", "00"}
        assert pred[f"stationary_variance_{name}"] > 0
        if not pred[f"crossed_{name}"]:
            assert pred[f"capacity_{name}"] == n - 1
            assert pred[f"capacity_{name}_label"] == f">= {n - 1}"
    assert pred["units"]["rates"] == "Hz"
    # a numeric v0 changes nothing in the prediction, it only adds a note
    cfg_v = _config("default", **{"weights.v0": 1e-4})
    pred_v = predict(cfg_v)
    assert pred_v["accuracy_full"] == pred["accuracy_full"]
    assert any("weights.v0" in note for note in pred_v["notes"])


# ------------------------------------------------------------------------------ CLI

def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser()
    theory_cli.add_parsers(ap.add_subparsers(dest="step", required=True))
    return ap


def test_cli_theory_writes_json(tmp_path, capsys):
    cfg_path = tmp_path / "cfg.yaml"
    cfg_path.write_text(yaml.safe_dump(_config("default")))
    out = tmp_path / "sub" / "theory.json"
    args = _parser().parse_args(["theory", "--config", str(cfg_path), "--out", str(out)])
    assert args.func(args) == 0
    data = json.loads(out.read_text())
    assert data["capacity_full"] == predict(_config("default"))["capacity_full"]
    assert [p.name for p in out.parent.iterdir()] == ["theory.json"]  # no temp file left
    text = capsys.readouterr().out
    assert "capacity" in text and "rate only" in text


def test_cli_drift_json(capsys):
    args = _parser().parse_args(["drift", "--mu", "0.3", "--d", "0.1", "--nu", "1",
                                 "--w", "0.05", "--json"])
    assert args.func(args) == 0
    data = json.loads(capsys.readouterr().out)
    ref = single_synapse_drift(0.3, 0.1, 1.0, 0.05, PAPER_STDP)
    # same computation; 1e-15 relative only for float identity through JSON
    assert data["drift_full"] == pytest.approx(ref["drift_full"], rel=1e-15)
    assert data["drift_rate_only"] == pytest.approx(ref["drift_rate_only"], rel=1e-15)
    assert data["diffusion"] == pytest.approx(ref["diffusion"], rel=1e-15)
