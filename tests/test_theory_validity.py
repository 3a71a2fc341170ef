"""The theory's validity tools (issue 25; docs/theory.md): the LIF's count Fano factor,
the finite-step rate, the linearised episode map and the corrected trace on the protocol's
matrix, the measured readout moments, and the validity map's rules. No simulator."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from pipeline.config import config_hash
from pipeline.config_sources import load_config
from pipeline.parameters import derive
from pipeline.theory import predict
from pipeline.theory.matrix import episode_map_linear, matrix_trace
from pipeline.theory.memory import MemoryTrace, predicted_accuracy
from pipeline.theory.network import solve_rates
from pipeline.theory.siegert import lif_cv2, lif_rate, lif_rate_finite_step
from pipeline.theory.validity import gaussian_accuracy, readout_moments, theory_moments
from pipeline import validity_map


def _default(**changes) -> dict:
    cfg = copy.deepcopy(load_config("config/default.yaml"))
    cfg["readout"]["spiking"] = False
    for dotted, value in changes.items():
        section, key = dotted.split("__")
        cfg[section][key] = value
    return cfg


def test_lif_cv2_is_one_for_rare_spikes():
    # far below threshold the LIF fires as a Poisson process: CV^2 -> 1; 0.5% covers the
    # O(1/|y_t|^2) correction at y_t = 4.4
    assert lif_cv2(-1.0, 0.2) == pytest.approx(1.0, rel=5e-3)


def test_lif_cv2_matches_an_euler_simulation():
    # 2000 LIF neurons, Euler-Maruyama step 1e-3 tau_m, 30 tau_m: ~60000 intervals
    mu, d, h, n, steps = 1.5, 0.1, 1e-3, 2000, 30000
    rng = np.random.default_rng(1)
    v = rng.random(n)
    last = np.full(n, np.nan)
    isis = []
    for k in range(steps):
        v += (mu - v) * h + np.sqrt(2 * d * h) * rng.standard_normal(n)
        fired = v >= 1.0
        if fired.any():
            t = k * h
            ok = fired & np.isfinite(last)
            isis.append(t - last[ok])
            last[fired] = t
            v[fired] = 0.0
    isi = np.concatenate(isis)
    cv2 = isi.var() / isi.mean() ** 2
    # the CV^2 estimate from ~6e4 intervals has a relative standard error ~1%; the
    # step h shifts the threshold by 1.03 sqrt(D h) = 0.01 theta, which moves CV^2 by <2%
    assert cv2 == pytest.approx(lif_cv2(mu, d), rel=0.04)


def test_finite_step_rate_at_zero_step_is_the_siegert_rate():
    mu = np.array([0.5, 0.8, 1.2])
    d = np.array([0.1, 0.1, 0.05])
    # the same formula evaluated twice: rounding only (1e-12)
    assert np.allclose(lif_rate_finite_step(mu, d, 0.0), lif_rate(mu, d), rtol=1e-12)
    # the array path (mean shifted down) equals the scalar path (threshold and reset up)
    fin = lif_rate_finite_step(mu, d, 0.005)
    assert np.allclose(fin, [lif_rate_finite_step(float(a), float(b), 0.005)
                             for a, b in zip(mu, d)], rtol=1e-12)
    assert np.all(fin < lif_rate(mu, d))


def test_finite_step_network_rates_lie_below_the_continuous_ones():
    p = derive(_default()).theory
    m, v = np.full((2, 2), p.m0), np.full((2, 2), 3e-4)
    cont = solve_rates(m, v, p).rates
    fin = solve_rates(m, v, p, dt=0.1 / p.tau_m_ms).rates
    assert np.all(fin < cont)
    # at dt = 0.1 ms the single-neuron shift costs 3-8% of the rate (bench/results.json,
    # finite_step_rates); the network's recurrent feedback may add to it, but not tenfold
    assert np.all(fin / cont > 0.8)


def test_finite_step_key_leaves_the_default_config_hash_alone():
    base = load_config("config/default.yaml")
    off = load_config("config/default.yaml", overrides=["theory.finite_step=false"])
    on = load_config("config/default.yaml", overrides=["theory.finite_step=true"])
    assert config_hash(off) == config_hash(base) != config_hash(on)
    pred = predict({**_default(), "theory": {"finite_step": True}})
    for name in ("full", "rate_only"):
        cont, fin = pred[f"rates_continuous_start_{name}"], pred[f"rates_finite_step_start_{name}"]
        assert all(fin[k] < cont[k] for k in cont)


def test_linear_episode_reproduces_the_theory_stationary_episode():
    cfg = _default()
    p = derive(cfg).theory
    pred = predict(cfg)
    lin = episode_map_linear(p, cross_correlations=True)
    m = np.array([[pred["m_full"]["00"], pred["m_full"]["01"]],
                  [pred["m_full"]["10"], pred["m_full"]["11"]]])
    # the same RK4 on the same equations: equal to the integrator's error (~1e-8 relative)
    assert np.allclose(lin.m, m, rtol=1e-6)
    assert lin.v_star == pytest.approx(pred["stationary_variance_full"], rel=1e-12)
    # non-cue inputs do not fire (nu0 = 0): their synapses do not move
    assert np.allclose(lin.ell[:, 0], 1.0) and np.allclose(lin.noise[:, 0], 0.0)
    # multiplicative depression contracts the cue synapses, most onto the fast targets
    assert 0 < lin.ell[1, 1] < lin.ell[0, 1] < 1


def test_matrix_trace_is_deterministic_and_crosses():
    cfg = _default(protocol__episodes=80)
    p = derive(cfg).theory
    lin = episode_map_linear(p, cross_correlations=True)
    a = matrix_trace(p, lin, 1000, seed=3, n_ref=20, shared_post=True)
    b = matrix_trace(p, lin, 1000, seed=3, n_ref=20, shared_post=True)
    assert a.capacity == b.capacity and np.array_equal(a.curve, b.curve, equal_nan=True)
    assert a.crossed
    # the default network's simulated capacity is 52-56 over seeds (bench/results/
    # theory_validity.json); the corrected theory must land in that neighbourhood, not at
    # the full theory's 50 by construction: 40-70 rules out a broken map
    assert 40 <= a.capacity <= 70


def test_readout_moments_of_a_constructed_sum():
    # 2 memories, 3 episodes, 6 neurons; memory k's targets are neurons {k, k+1}
    P, n = 3, 6
    ref = np.array([0, 1])
    targets = np.array([[0, 1], [1, 2], [4, 5]])
    cue_sums = np.full((2, P, n), np.nan, dtype=np.float32)
    cue_sums[0, 0] = [2, 4, 1, 1, 1, 1]
    cue_sums[0, 1] = [3, 3, 1, 1, 2, 0]
    cue_sums[1, 1] = [0, 5, 7, 0, 0, 0]
    cue_sums[0, 2] = [1, 1, 1, 1, 1, 1]
    cue_sums[1, 2] = [1, 1, 1, 1, 1, 1]
    mo = readout_moments(cue_sums, targets, ref)
    # small integers in float32: the moments are exact up to float64 rounding (approx's 1e-6)
    assert mo["n_memories"].tolist() == [2, 2, 1]
    assert mo["mean_t"][0] == pytest.approx((3 + 6) / 2)     # ages 0: (2+4)/2, (5+7)/2
    assert mo["var_t"][0] == pytest.approx((1 + 1) / 2)
    assert mo["mean_n"][1] == pytest.approx((1.0 + 1.0) / 2)  # (1+1+2+0)/4, (1+1+1+1)/4
    assert mo["var_n"][1] == pytest.approx((0.5 + 0.0) / 2)
    assert mo["mean_t"][2] == 1.0 and mo["var_t"][2] == 0.0


def test_gaussian_readout_of_theory_moments_is_the_theory_accuracy():
    pred = predict(_default())
    tr = pred["trace_full"]
    mo = theory_moments(tr, pred["n_cue"])
    acc = gaussian_accuracy(mo["mean_t"], mo["var_t"], mo["mean_n"], mo["var_n"], 0.1)
    trace = MemoryTrace(k_mean=np.column_stack([tr["k_non_target"], tr["k_target"]]),
                        g_var=np.column_stack([tr["g_non_target"], tr["g_target"]]))
    # the same threshold search on the same moments: rounding only (1e-12)
    assert np.allclose(acc, predicted_accuracy(trace, pred["n_cue"], 0.1), rtol=1e-12)


def _point(f_c, mean, ci, full, rate):
    return {"f_c": f_c, "simulation": {"mean": mean, "ci95": ci, "per_seed": [1, 2]},
            "theory": {"capacity_full": full, "capacity_rate_only": rate}}


def test_validity_range_is_the_run_of_valid_points_around_the_default():
    data = {"points": [_point(0.05, 120, [110, 130], 123, 158),
                       _point(0.1, 53.5, [51, 56], 50, 66),
                       _point(0.2, 15.5, [14.6, 16.4], 10, 14)]}
    # full: 123 in [110-12, 130+12]; 50 in [51-5.35, 56+5.35]; 10 not in [13.05, 17.95]
    assert validity_map.validity_range(data, "full") == (0.05, 0.1)
    # rate only: 66 > 56 + 5.35 at the default point: no range at all
    assert validity_map.validity_range(data, "rate_only") is None
    assert "OUTSIDE" in validity_map.validity_note(data, "full", 0.2)
    assert "OUTSIDE" not in validity_map.validity_note(data, "full", 0.1)
    # rate only: valid at 0.2 alone (14 in [13.05, 17.95]); 0.1 lies outside that run
    assert validity_map.valid_segments(data, "rate_only") == [(0.2, 0.2)]
    assert "OUTSIDE" in validity_map.validity_note(data, "rate_only", 0.1)
    assert "OUTSIDE" not in validity_map.validity_note(data, "rate_only", 0.2)
