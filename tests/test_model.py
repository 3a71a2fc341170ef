"""Host draws, homeostasis, readout and the noise calibration (docs/design.md sections 3-4)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline import model, protocol
from pipeline.parameters import derive
from pipeline.protocol import homeostasis
from pipeline.readout import capacity_from_curve, forgetting_curves, recall_accuracy


def test_equal_seeds_give_identical_networks_and_inputs(tiny_cfg):
    p = derive(tiny_cfg).simulator
    a, b, c = (model.draw_connectivity(p, s, 1e-4) for s in (7, 7, 8))
    for key in a.lists:
        assert np.array_equal(a.lists[key], b.lists[key])
    assert np.array_equal(a.w0, b.w0)
    assert not np.array_equal(a.w0, c.w0)
    assert not np.array_equal(a.lists[("exc", "exc")], c.lists[("exc", "exc")])
    pa, pb = model.draw_patterns(p, 7), model.draw_patterns(p, 7)
    assert np.array_equal(pa.cues, pb.cues) and np.array_equal(pa.targets, pb.targets)
    ta = model.draw_input_spikes(p, 7, 2, pa.cues[2], 0.0, 500.0, 0.1)
    tb = model.draw_input_spikes(p, 7, 2, pa.cues[2], 0.0, 500.0, 0.1)
    assert all(np.array_equal(x, y) for x, y in zip(ta, tb))
    tc = model.draw_input_spikes(p, 7, 3, pa.cues[2], 0.0, 500.0, 0.1)
    assert not all(np.array_equal(x, y) for x, y in zip(ta, tc))


def test_connectivity_has_the_configured_in_degrees(tiny_cfg):
    p = derive(tiny_cfg).simulator
    conn = model.draw_connectivity(p, 1, 1e-4)
    for (pre, post), k in ((("exc", "exc"), p.c_exc), (("inh", "exc"), p.c_inh),
                           (("exc", "inh"), p.c_exc), (("inh", "inh"), p.c_inh)):
        pairs = conn.lists[(pre, post)]
        n_post = p.n_exc if post == "exc" else p.n_inh
        assert np.all(np.bincount(pairs[:, 1], minlength=n_post) == k)
        if pre == post:
            assert not np.any(pairs[:, 0] == pairs[:, 1])      # no autapses
        assert len(np.unique(pairs, axis=0)) == len(pairs)       # no multapses


def test_input_spikes_have_the_configured_rates(tiny_cfg):
    p = derive(tiny_cfg).simulator
    cue = np.arange(p.n_cue)
    trains = model.draw_input_spikes(p, 1, 0, cue, 0.0, 20000.0, 0.1)
    n_cue_spikes = sum(len(trains[m]) for m in cue)
    expected = p.nu1 * 20.0 * len(cue)
    # Poisson count: 5 standard deviations
    assert abs(n_cue_spikes - expected) < 5 * math.sqrt(expected)
    assert sum(len(trains[m]) for m in range(p.n_cue, p.m)) == 0       # nu0 = 0
    for t in trains:
        assert np.all(np.diff(t) > 0) and np.all((t > 0) & (t < 20000.0))


def test_homeostasis_sets_every_row_mean_to_m0():
    rng = np.random.default_rng(0)
    w = rng.uniform(0.1, 3.0, size=(40, 30))
    out = homeostasis(w, 1.0)
    np.testing.assert_allclose(out.mean(axis=0), 1.0, rtol=1e-12)   # float rounding only
    # a multiplicative rescaling: ratios inside a row are kept
    np.testing.assert_allclose(out[0] / out[1], w[0] / w[1], rtol=1e-12)


def test_readout_on_a_hand_made_matrix():
    # 6 inputs, 10 E neurons; memory with cue {0, 1} and target {2, 5, 7}.
    w = np.full((6, 10), 0.1)
    w[np.ix_([0, 1], [2, 5, 7])] = 0.5          # the target is stored
    s = w[[0, 1]].sum(axis=0)
    assert recall_accuracy(s, np.array([2, 5, 7])) == 1.0
    w[1, 7] = 0.0
    w[0, 7] = 0.0                               # neuron 7 forgot; neuron 9 is strongest
    w[np.ix_([0, 1], [9])] = 0.4
    s = w[[0, 1]].sum(axis=0)
    assert recall_accuracy(s, np.array([2, 5, 7])) == pytest.approx(2 / 3)


def test_forgetting_curve_and_capacity():
    # one memory, 4 episodes: accuracy by age 1, 2/3, 1/3, 1/3
    targets = np.array([[0, 1, 2]] * 4)
    sums = np.zeros((1, 4, 6))
    sums[0, 0] = [3, 3, 3, 0, 0, 0]
    sums[0, 1] = [3, 3, 0, 3, 0, 0]
    sums[0, 2] = [3, 0, 0, 3, 3, 0]
    sums[0, 3] = [3, 0, 0, 3, 3, 0]
    curve = forgetting_curves(sums, targets, np.array([0]))[0]
    np.testing.assert_allclose(curve, [1, 2 / 3, 1 / 3, 1 / 3])
    # ages 1 and 2 are both 1/6 from the threshold: the first is taken
    assert capacity_from_curve(curve, 0.5) == (1, True)
    assert capacity_from_curve(np.array([1.0, 0.9, 0.8]), 0.5) == (2, False)


def _free_membrane(dt: float, t_sim: float = 20000.0):
    """Return {pop: V_m samples [mV]} of E and I neurons of the model with every synapse
    off (no recurrent, input or supervision drive) and the threshold out of reach."""
    from backends.nest import NestBackend
    from pipeline.config import validate_config
    from tests.conftest import tiny_config_dict

    cfg = validate_config(tiny_config_dict(**{
        "network.j": 0.0, "inputs.nu1_hz": 0.0, "targets.supervision_hz": 0.0,
        "network.n_exc": 50, "network.n_inh": 50, "network.c_exc": 0, "network.c_inh": 0,
        "simulation.dt_ms": dt, "protocol.t_warm_ms": 0.0}))
    p = derive(cfg).simulator
    b = NestBackend(cfg, 11, None)
    b.setup()
    net = b.build(p, model.draw_connectivity(p, 11, 0.0))
    net.exc.node_collection.set(V_th=1e9)
    net.inh.node_collection.set(V_th=1e9)
    nest = b.nest
    out = {}
    mms = {}
    for name, pop in (("exc", net.exc), ("inh", net.inh)):
        mms[name] = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": 1.0,
                                                      "start": 200.0})
        nest.Connect(mms[name], pop.node_collection)
    b.run(t_sim)
    for name in mms:
        out[name] = np.asarray(mms[name].get("events")["V_m"])
    b.end()
    return p, out, t_sim


@pytest.mark.parametrize("dt", [0.1, 1.0])
def test_free_membrane_potential_matches_white_noise(dt):
    """mean mu*theta and sd sqrt(D)*theta at the NEST step and at SpiNNaker's 1 ms step."""
    p, v, t_sim = _free_membrane(dt)
    for name, mu, d in (("exc", p.mu_exc, p.d_exc), ("inh", p.mu_inh, p.d_inh)):
        sd_target = math.sqrt(d) * p.theta
        # 50 neurons x ~19.8 s; samples are correlated over tau_m, so about
        # 50 * 19800 / (2 tau_m) = 24750 independent samples: the mean's standard error is
        # sd/157, the sd's relative standard error 1/sqrt(2 * 24750) = 0.45%. Tolerances:
        # 5 standard errors.
        n_eff = 50 * (t_sim - 200.0) / (2 * p.tau_m)
        assert abs(v[name].mean() - mu) < 5 * sd_target / math.sqrt(n_eff)
        assert abs(v[name].std() / sd_target - 1) < 5 / math.sqrt(2 * n_eff)


@pytest.mark.parametrize("backend_name", ["nest", "nest-spinnaker"])
def test_supervision_without_parrots_is_poisson_shot_noise(backend_name):
    """The NEST backends connect the supervision's poisson_generators straight to E
    (backends/nest_sources.py): one generator per E neuron, one connection each, and a
    target's free membrane potential is the shot noise of a Poisson train of the
    supervision rate (mean nu*J*tau_m, variance nu*J^2*tau_m/2 as dt -> 0, the exact
    on-grid values below); non-targets get nothing."""
    from backends import get_backend
    from pipeline.config import validate_config
    from tests.conftest import tiny_config_dict

    cfg = validate_config(tiny_config_dict(**{
        "network.j": 0.0, "inputs.nu1_hz": 0.0, "noise.d_exc": 0.0, "noise.d_inh": 0.0,
        "network.n_exc": 100, "network.n_inh": 25, "network.c_exc": 0, "network.c_inh": 0,
        "protocol.t_warm_ms": 0.0}))
    p = derive(cfg).simulator
    pat = model.draw_patterns(p, 3)
    b = get_backend(backend_name)(cfg, 3, None)
    b.setup()
    net = b.build(p, model.draw_connectivity(p, 3, 0.0))
    nest = b.nest
    sources = net.supervision.node_collection
    assert set(sources.get("model")) == {"poisson_generator"}
    conns = nest.GetConnections(source=sources)
    assert len(conns) == p.n_exc          # one target each, no parrot in between
    np.testing.assert_array_equal(np.asarray(conns.get("target")) - net.exc.first_id,
                                  np.arange(p.n_exc))
    jump = float(np.unique(conns.get("weight"))[0])       # mV (delta synapses; quantised
    assert jump > 0                                         # on the emulation)
    net.exc.node_collection.set(V_th=1e9)
    b.set_drive([np.array([])] * p.m, protocol.supervision_rates(p, pat.targets[0]))
    mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": 1.0,
                                           "start": 500.0})   # 25 tau_m: v_init forgotten
    nest.Connect(mm, net.exc.node_collection)
    t_sim = 10500.0
    b.run(t_sim)
    ev = mm.get("events")
    v = np.asarray(ev["V_m"])
    is_tgt = np.isin(np.asarray(ev["senders"]) - net.exc.first_id, pat.targets[0])
    b.end()
    # sampled at the end of each step, after that step's jumps: per step Poisson counts
    # of mean (and variance) nu*dt, decay a per step; -> nu*J*tau_m as dt -> 0
    a, n = math.exp(-b.dt / p.tau_m), p.supervision_rate * 1e-3 * b.dt
    mean, sd = n * jump / (1 - a), math.sqrt(n * jump ** 2 / (1 - a * a))
    # 10 targets x 10 s sampled every ms, correlated over tau_m: about
    # 10 * 10000 / (2 tau_m) = 2500 independent samples; the mean's standard error is
    # sd / 50, the sd's relative standard error 1/sqrt(2 * 2500) = 1.4%. Tolerances: 5
    # standard errors.
    n_eff = is_tgt.sum() / (2 * p.tau_m)
    assert abs(v[is_tgt].mean() - mean) < 5 * sd / math.sqrt(n_eff)
    assert abs(v[is_tgt].std() / sd - 1) < 5 / math.sqrt(2 * n_eff)
    # E_L = 0, no noise, no drive: at rest but for exp(-25) of the initial value (< 20 mV)
    assert np.abs(v[~is_tgt]).max() < 1e-6
