"""The NEURON backend (pyNN.neuron), with small real simulations: the free membrane
potential against the white-noise model, the substituted PSP against the translation
report, one spike pair's STDP change against the closed form, plasticity off in the
warm-up, the read-back check, and reproducibility with a seed."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from pipeline import model, protocol
from pipeline.parameters import derive
from pipeline.config import validate_config
from tests.conftest import tiny_config_dict

DRIVE_MV = 25.0   # one driver spike: a jump above threshold (20 mV) forces a post spike


def _tiny(**overrides) -> dict:
    """The tiny test config without spiking recall, which the neuron backend refuses."""
    return tiny_config_dict(**{"readout.spiking": False, **overrides})


def _backend(cfg: dict, seed: int = 1):
    from backends.neuron import NeuronBackend

    b = NeuronBackend(dict(cfg, readout=dict(cfg["readout"], spiking=False)), seed, None)
    b.setup()
    return b


def _free_membrane(t_sim: float = 20000.0):
    """Return (Params, {pop: V_m samples [mV]}, t_sim) of E and I neurons of the model on
    NEURON with every synapse off and the threshold out of reach."""
    cfg = validate_config(_tiny(**{
        "network.j": 0.0, "inputs.nu1_hz": 0.0, "targets.supervision_hz": 0.0,
        "network.n_exc": 50, "network.n_inh": 50, "network.c_exc": 0, "network.c_inh": 0,
        "protocol.t_warm_ms": 0.0}))
    p = derive(cfg).simulator
    b = _backend(cfg, 11)
    net = b.build(p, model.draw_connectivity(p, 11, 0.0))
    recs = {}
    for name in ("exc", "inh"):
        recs[name] = []
        for cell in getattr(net, name):
            cell._cell.v_thresh = 1e9
            v = b.h.Vector()
            v.record(cell._cell(0.5)._ref_v, 1.0)     # every 1 ms
            recs[name].append(v)
    b.run(t_sim)
    out = {k: np.concatenate([np.asarray(v)[200:] for v in vs]) for k, vs in recs.items()}
    b.end()
    return p, out, t_sim


def test_free_membrane_potential_matches_white_noise():
    """mean mu*theta and sd sqrt(D)*theta with the per-cell noise calibrated for NEURON's
    backward Euler step."""
    p, v, t_sim = _free_membrane()
    for name, mu, d in (("exc", p.mu_exc, p.d_exc), ("inh", p.mu_inh, p.d_inh)):
        sd_target = math.sqrt(d) * p.theta
        # as for NEST (tests/test_model.py): 50 neurons x 19.8 s, samples correlated over
        # tau_m, about 24750 independent samples; tolerances are 5 standard errors.
        n_eff = 50 * (t_sim - 200.0) / (2 * p.tau_m)
        assert abs(v[name].mean() - mu) < 5 * sd_target / math.sqrt(n_eff)
        assert abs(v[name].std() / sd_target - 1) < 5 / math.sqrt(2 * n_eff)


def _one_synapse_run(t_pre: list[float], t_drive: list[float], t_sim: float,
                     plastic: bool = True, record_v: bool = False):
    """One synapse of the model (plastic STDP, or static with the jump m0) from a spike
    source onto one substituted neuron, plus a strong static driver. Returns (w0 [mV],
    w [mV], post spike times [ms], delay [ms], Params, V_m samples [mV] every step)."""
    from backends.neuron import apply_native_overrides, import_pynn, neuron_translation

    sim = import_pynn()
    cfg = validate_config(_tiny())
    p = derive(cfg).simulator
    tr = neuron_translation(cfg)
    s = tr.scale(p)
    sim.setup(timestep=0.1, min_delay=0.1)
    post = sim.Population(1, getattr(sim, tr.cell_type)(**model.neuron_parameters(p, 0.0),
                                                        **tr.cell_values(p)))
    post.initialize(v=0.0)
    pre = sim.Population(1, sim.SpikeSourceArray(spike_times=t_pre))
    drive = sim.Population(1, sim.SpikeSourceArray(spike_times=t_drive))
    d = sim.get_min_delay()
    syn = model.stdp_synapse(sim, p, tr, d) if plastic else \
        sim.StaticSynapse(weight=p.m0 * s, delay=d)
    prj = sim.Projection(pre, post, sim.AllToAllConnector(), syn, receptor_type="excitatory")
    if plastic:
        apply_native_overrides(prj)
    sim.Projection(drive, post, sim.AllToAllConnector(),
                   sim.StaticSynapse(weight=DRIVE_MV * s, delay=d), receptor_type="excitatory")
    post.record("spikes")
    if record_v:
        from neuron import h
        vrec = h.Vector()
        vrec.record(post[0]._cell(0.5)._ref_v, 0.1)
    sim.run(t_sim)
    w = next(iter(prj.connections)).nc.weight[0] / s
    t_post = np.asarray(post.get_data().segments[0].spiketrains[0].magnitude)
    v = np.asarray(vrec) if record_v else None
    sim.end()
    return p.m0, w, t_post, d, p, v


def test_substituted_psp_has_the_jumps_charge_and_the_reported_shape():
    """IF_curr_exp with the charge-preserving weight: the PSP of one spike has the delta
    PSP's area J*tau_m and the first-step amplitude that translation.json reports."""
    from backends.neuron import psp_shape

    t_spike, t_sim = 10.0, 400.0
    w0, _, t_post, d, p, v = _one_synapse_run([t_spike], [], t_sim, plastic=False,
                                              record_v=True)
    assert len(t_post) == 0
    shape = psp_shape(p, 0.1)
    # the jump is visible one step after arrival at t_spike + d, with the reported amplitude;
    # 1e-6 relative: double precision plus the 1e-12 mV residue of NEURON's initialisation
    k_arrival = int(round((t_spike + d) / 0.1))
    assert abs(v[k_arrival]) < 1e-9 * w0
    assert v[k_arrival + 1] / w0 == pytest.approx(shape["amplitude_first_step_rel"], rel=1e-6)
    # area over 390 ms = 19.5 tau_m: the tail left out is exp(-19.5) = 3e-9 of the area
    area = v.sum() * 0.1 / (w0 * p.tau_m)
    assert area == pytest.approx(shape["area_rel"], rel=1e-6)
    assert shape["area_rel"] == pytest.approx(1.0, rel=1e-9)


def test_pre_then_post_potentiates_additively_at_the_post_spike():
    # pre at 10 ms, post forced near 15 ms; no later pre spike: the backend applies the
    # potentiation at the post spike (allow_update_on_post = 1), as the model says.
    w0, w, t_post, d, p, _ = _one_synapse_run([10.0], [14.9], 100.0)
    assert len(t_post) == 1
    # the delay is dendritic (PyNN's default): the pair interval is t_post + d - t_pre
    lag = t_post[0] + d - 10.0
    # 1e-6 relative on the change: NEURON computes in double precision
    assert (w - w0) == pytest.approx(p.delta_c * math.exp(-lag / p.tau_c), rel=1e-6)


def test_post_then_pre_depresses_multiplicatively():
    w0, w, t_post, d, p, _ = _one_synapse_run([20.0], [9.9], 100.0)
    assert len(t_post) == 1
    lag = 20.0 - d - t_post[0]     # post trace read at t_pre - d
    # 1e-6 relative on the change: double precision
    assert (w - w0) == pytest.approx(p.r_ac * w0 * math.exp(-lag / p.tau_ac), rel=1e-6)


def test_no_weight_change_during_warm_up_and_reads_match_writes(tiny_cfg):
    """Plasticity off leaves every weight bitwise unchanged (and what accumulated is
    discarded); on, they move. Written weights read back exactly."""
    p = derive(tiny_cfg).simulator
    conn = model.draw_connectivity(p, 1, 1e-4)
    pat = model.draw_patterns(p, 1)
    b = _backend(tiny_cfg)
    b.build(p, conn)
    rows = pat.cues[0]
    trains = model.draw_input_spikes(p, 1, 0, rows, b.now(), 600.0, b.dt)
    b.set_drive(trains, protocol.supervision_rates(p, pat.targets[0]))
    before = b.read_weights(rows)
    # round trip mV -> nA -> mV: 1e-15 relative (one multiplication and one division)
    np.testing.assert_allclose(before, conn.w0[rows], rtol=1e-15, atol=0)
    b.set_plasticity(rows, False)
    b.run(300.0)
    assert len(b.spikes("exc")[0]) > 0          # the network was active
    assert len(b.spikes("inputs")[0]) == sum(int((t < 300.0).sum()) for t in trains)
    np.testing.assert_array_equal(b.read_weights(rows), before)
    b.set_plasticity(rows, True)
    b.run(300.0)
    after = b.read_weights(rows)
    assert not np.array_equal(after, before)
    assert len(b.spikes("inputs")[0]) == sum(int((t >= 300.0).sum()) for t in trains)
    b.write_weights(rows, before)
    np.testing.assert_allclose(b.read_weights(rows), before, rtol=1e-15, atol=0)
    # the flat read of every weight, row by row (unclipped; none is out of range here)
    np.testing.assert_array_equal(b.plastic_weights_flat(),
                                  b.read_weights(np.arange(p.m)).ravel())
    b.end()


def test_build_checks_what_neuron_holds(tiny_cfg):
    """A translation that NEURON does not end up holding stops the build with a message."""
    p = derive(tiny_cfg).simulator
    b = _backend(tiny_cfg)
    params = dict(b.translation.parameters, A_minus=lambda p: 2 * -p.r_ac)
    b.translation = dataclasses.replace(b.translation, parameters=params)
    with pytest.raises(RuntimeError, match="aLTD.*translation table of backend 'neuron'"):
        b.build(p, model.draw_connectivity(p, 1, 1e-4))
    b.end()


def test_same_seed_reproduces_the_run_and_reports_translation(tmp_path, write_config):
    """Two simulate runs (each its own process, as in the workflow) with one seed give
    identical spikes and weights; the translation report names every substitution."""
    import json
    import subprocess
    import sys

    cfg = _tiny(**{"protocol.episodes": 2, "recording.full_weights_at": [0, 1]})
    path = write_config(cfg)
    for k in ("a", "b"):
        subprocess.run([sys.executable, "-m", "pipeline", "simulate", "--config", str(path),
                        "--backend", "neuron", "--seed", "1", "--out", str(tmp_path / k)],
                       check=True, capture_output=True)
    wa, wb = (np.load(tmp_path / k / "weights.npz") for k in ("a", "b"))
    for key in ("class_mean", "cue_sums", "w_0", "w_1"):
        np.testing.assert_array_equal(wa[key], wb[key])
    # the first 9 columns: episode, rates and weight changes (the rest are wall times)
    rows = {k: [r.split(",")[:9] for r in (tmp_path / k / "episodes.csv").read_text()
                .splitlines()] for k in ("a", "b")}
    assert rows["a"] == rows["b"]
    assert (tmp_path / "a" / "spikes.nix").stat().st_size > 0
    tr = json.loads((tmp_path / "a" / "translation.json").read_text())
    assert tr["cell_type"]["substitution"].startswith("IF_curr_exp")
    assert tr["cell_type"]["psp"]["area_rel"] == pytest.approx(1.0, rel=1e-9)
    assert tr["stdp_rule"]["substitution"] is None
    assert tr["stdp_rule"]["neuron_native"]["stdp"]["muLTD"] == 1.0
    assert tr["stdp_rule"]["weights_clipped_on_read"] == 0


def test_checkpoints_are_refused_with_a_message(tmp_path, write_config):
    import subprocess
    import sys

    for key, value in (("simulation.checkpoint_every", 2), ("readout.spiking", True)):
        path = write_config(_tiny(**{key: value}))
        r = subprocess.run([sys.executable, "-m", "pipeline", "simulate", "--config", str(path),
                            "--backend", "neuron", "--seed", "1", "--out", str(tmp_path / "x")],
                           capture_output=True, text=True)
        assert r.returncode == 2
        assert key in r.stderr and "Traceback" not in r.stderr


def test_neuron_is_a_configurable_backend():
    cfg = tiny_config_dict()
    cfg["simulation"]["backends"] = ["nest", "neuron"]
    cfg["simulation"]["seeds"] = [1, 2]
    cfg["validation"]["comparisons"] = [{"name": "nest-vs-neuron", "a": "nest", "b": "neuron"}]
    validate_config(cfg)
