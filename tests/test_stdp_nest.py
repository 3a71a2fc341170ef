"""The model's plastic synapse on NEST: one spike pair changes the weight as docs/design.md
section 3 says, and nothing changes while plasticity is off."""
from __future__ import annotations

import math
import numpy as np
import pytest

from pipeline import model
from pipeline.parameters import derive
from pipeline.config import validate_config
from tests.conftest import built_nest, tiny_config_dict

DRIVE_MV = 25.0   # one driver spike: a jump above threshold (20 mV) forces a post spike


def _pair_run(t_pre: list[float], t_drive: list[float]):
    """Return (initial and final weight [mV], post spike times [ms], delay [ms], Params)
    of one plastic synapse of the model between a spike source and an IF_curr_delta
    neuron. The initial weight is the model's m0."""
    from backends.nest import STDP_TRANSLATION, import_pynn

    sim = import_pynn()

    p = derive(validate_config(tiny_config_dict())).simulator
    sim.setup(timestep=0.1, min_delay=0.1, spike_precision="on_grid", verbosity="error")
    post = sim.Population(1, sim.IF_curr_delta(**model.neuron_parameters(p, 0.0)))
    post.initialize(v=0.0)
    pre = sim.Population(1, sim.SpikeSourceArray(spike_times=t_pre))
    drive = sim.Population(1, sim.SpikeSourceArray(spike_times=t_drive))
    d = sim.get_min_delay()
    syn = model.stdp_synapse(sim, p, STDP_TRANSLATION, d)
    prj = sim.Projection(pre, post, sim.AllToAllConnector(), syn, receptor_type="excitatory")
    sim.Projection(drive, post, sim.AllToAllConnector(),
                   sim.StaticSynapse(weight=DRIVE_MV, delay=d), receptor_type="excitatory")
    post.record("spikes")
    sim.run(max(t_pre + t_drive) + 50.0)
    w0 = p.m0
    w = float(prj.nest_connections.get("weight"))
    t_post = np.asarray(post.get_data().segments[0].spiketrains[0].magnitude)
    sim.end()
    return w0, w, t_post, d, p


def test_pre_then_post_potentiates_additively():
    # pre at 10 ms, post forced near 15 ms, a late pre spike at 1010 ms makes NEST apply
    # the facilitation (it is applied at the next pre spike).
    w0, w, t_post, d, p = _pair_run([10.0, 1010.0], [14.9])
    assert len(t_post) == 1
    # NEST counts the delay as dendritic: the pair interval is t_post + d - t_pre.
    lag = t_post[0] + d - 10.0
    w_fac = w0 + p.delta_c * math.exp(-lag / p.tau_c)
    # the late pre spike also depresses, by exp(-(1010 - d - t_post)/tau_ac) ~ 1e-13
    expected = w_fac * (1 + p.r_ac * math.exp(-(1010.0 - d - t_post[0]) / p.tau_ac))
    # 1e-6 relative on the change: NEST computes in double precision
    assert (w - w0) == pytest.approx(expected - w0, rel=1e-6)
    assert (w - w0) == pytest.approx(p.delta_c * math.exp(-lag / p.tau_c), rel=1e-6)


def test_post_then_pre_depresses_multiplicatively():
    w0, w, t_post, d, p = _pair_run([20.0], [9.9])
    assert len(t_post) == 1
    lag = 20.0 - d - t_post[0]     # post trace read at t_pre - d
    # 1e-6 relative on the change: double precision
    assert (w - w0) == pytest.approx(p.r_ac * w0 * math.exp(-lag / p.tau_ac), rel=1e-6)


def test_no_weight_change_during_warm_up(tiny_cfg):
    """Plasticity off (lambda = 0) leaves every weight bitwise unchanged; on, they move."""
    p, conn, pat, b = built_nest(tiny_cfg, 1)
    rows = pat.cues[0]
    trains = model.draw_input_spikes(p, 1, 0, rows, b.now(), 600.0, b.dt)
    b.set_drive(trains, np.where(np.isin(np.arange(p.n_exc), pat.targets[0]),
                                 p.supervision_rate, 0.0))
    before = b.read_weights(rows)
    b.set_plasticity(rows, False)
    b.run(300.0)
    assert len(b.spikes("exc")[0]) > 0          # the network was active
    # NEST renormalises w -> (w / Wmax) * Wmax at every spike even with lambda = 0, which
    # can move the last bit: allow 4 ulp-scale relative error, far below one STDP step
    # (Delta_c / m0 = 4e-2 relative).
    np.testing.assert_allclose(b.read_weights(rows), before, rtol=1e-15 * 4, atol=0)
    b.set_plasticity(rows, True)
    b.run(300.0)
    assert not np.array_equal(b.read_weights(rows), before)
    b.end()
