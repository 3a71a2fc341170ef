"""SpiNNaker: cfg handling, translation numbers, resource report, clear errors, and the
nest-spinnaker emulation's synapse. sPyNNaker runs on its virtual board (no hardware)."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from backends.spinnaker import (a_plus_substitute, quantise, ring_buffer_shift, rule_error,
                                w_max_substitute, weight_quantum)
from pipeline import model
from pipeline.parameters import derive
from pipeline.config import validate_config
from tests.conftest import ROOT, tiny_config_dict


def _map(tmp_path, write_config, **overrides):
    cfg = tiny_config_dict(**overrides)
    path = write_config(cfg)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    out = tmp_path / "spin"
    r = subprocess.run([sys.executable, "-m", "pipeline", "simulate", "--backend", "spinnaker",
                        "--config", str(path), "--seed", "1", "--out", str(out)],
                       capture_output=True, text=True, cwd=ROOT, env=env)
    return r, out, home


def test_virtual_board_mapping_without_a_home_config(tmp_path, write_config):
    r, out, home = _map(tmp_path, write_config)
    assert r.returncode == 0, r.stderr[-3000:]
    # sPyNNaker would write ~/.spynnaker.cfg and fail without one: nothing appears in HOME
    assert not (home / ".spynnaker.cfg").exists()
    assert not (home / ".config" / ".spynnaker.cfg").exists()
    assert (out / "spynnaker.cfg").exists() and (out / "reports").is_dir()
    assert "NOT EXECUTED" in r.stderr and "no spikes" in r.stderr
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["produces_spikes"] is False and "not_executed" in prov
    res = json.loads((out / "resources.json").read_text())
    for key in ("chips_used", "app_cores", "sdram_planned_bytes", "routing_entries_max",
                "neurons_per_core", "fits_one_board", "missing_binaries", "binaries"):
        assert key in res
    assert res["missing_binaries"] == [] and res["fits_one_board"]
    assert 1 <= res["chips_used"] <= 48
    atoms = [int(a) for v in res["neurons_per_core"].values() for a in v]
    assert max(atoms) <= 200                          # spinnaker.neurons_per_core
    assert "synapses_stdp_mad_pair_multiplicative.aplx" in res["binaries"]
    tr = json.loads((out / "translation.json").read_text())
    m = tr["measured_on_spinnaker"]
    # the weights sPyNNaker holds lie exactly on the grid the backend predicts
    assert m["plastic_max_abs_diff_from_predicted_grid_mv"] == 0.0
    assert m["quantum_mv_exc_receptor"] == tr["weights"]["quantum_mv"]
    assert m["j_ie_read_back_mv"] == tr["weights"]["per_weight"]["j_ie"]["board_mv"]


def test_translation_numbers():
    cfg = validate_config(tiny_config_dict())
    p = derive(cfg).simulator
    # w_max' = 4 theta = 80 mV -> shift ceil(log2 80) = 7 -> quantum 2**-8 mV
    assert w_max_substitute(p, cfg) == 80.0
    assert ring_buffer_shift(80.0) == 7 and ring_buffer_shift(64.0) == 7
    assert weight_quantum(p, cfg) == 2.0 ** -8
    assert float(quantise(0.2, 2.0 ** -8)) == 0.19921875        # E->E jump on the board
    assert float(quantise(0.4, 2.0 ** -8)) == 0.3984375         # as sPyNNaker reads it back
    # substituted potentiation A_plus (w_max' - w): exact at m0, error (m0 - w)/(w_max' - m0)
    assert a_plus_substitute(p, cfg) * (80.0 - p.m0) == pytest.approx(p.delta_c, rel=1e-12)
    err = rule_error(p, cfg)
    assert err["potentiation_rel_error_max"] == pytest.approx(p.m0 / (80.0 - p.m0))
    assert err["potentiation_rel_error_min"] == pytest.approx(-(0.3 * 20 - p.m0) / (80.0 - p.m0))


def test_network_too_big_for_the_board_is_a_clear_error(tmp_path, write_config):
    # one neuron per core on a 4-chip SpiNN-3 board cannot hold 250 neurons
    r, out, _ = _map(tmp_path, write_config, **{
        "spinnaker.version": 3, "spinnaker.neurons_per_core": 1})
    assert r.returncode == 2
    assert "does not fit" in r.stderr and "spinnaker.boards" in r.stderr
    assert "Traceback" not in r.stderr


def test_unreachable_machine_is_a_clear_error(tmp_path, write_config):
    # loopback with nothing listening: refused at once (no traffic leaves the machine)
    r, out, _ = _map(tmp_path, write_config, **{"spinnaker.machine_name": "127.0.0.1"})
    assert r.returncode == 2
    assert "127.0.0.1" in r.stderr and "spinnaker.machine_name" in r.stderr


def test_emulation_synapse_is_spynnakers_multiplicative_rule():
    """nest-spinnaker: one pre-then-post pair changes w by A_plus (w_max' - w) e^(-lag/tau_c)."""
    from backends.nest import import_pynn
    from backends.nest_spinnaker import NestSpinnakerBackend

    cfg = validate_config(tiny_config_dict())
    p = derive(cfg).simulator
    b = NestSpinnakerBackend(cfg, 1, None)
    sim = import_pynn()
    sim.setup(timestep=b.dt, min_delay=b.dt, spike_precision="on_grid", verbosity="error")
    post = sim.Population(1, sim.IF_curr_delta(**model.neuron_parameters(p, 0.0)))
    post.initialize(v=0.0)
    pre = sim.Population(1, sim.SpikeSourceArray(spike_times=[10.0, 1010.0]))
    drive = sim.Population(1, sim.SpikeSourceArray(spike_times=[14.0]))
    d = b.dt
    prj = sim.Projection(pre, post, sim.AllToAllConnector(),
                         model.stdp_synapse(sim, p, b.translation, d), receptor_type="excitatory")
    prj.nest_connections.set({k: f(p) for k, f in b.native_overrides.items()})
    sim.Projection(drive, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=25.0, delay=d),
                   receptor_type="excitatory")
    post.record("spikes")
    sim.run(1050.0)
    w = float(prj.nest_connections.get("weight"))
    t_post = float(post.get_data().segments[0].spiketrains[0].magnitude[0])
    sim.end()
    lag = t_post + d - 10.0
    dw_plus = a_plus_substitute(p, cfg) * (w_max_substitute(p, cfg) - p.m0) * math.exp(-lag / p.tau_c)
    w_fac = p.m0 + dw_plus
    expected = w_fac * (1 + p.r_ac * math.exp(-(1010.0 - d - t_post) / p.tau_ac))
    assert w - p.m0 == pytest.approx(expected - p.m0, rel=1e-6)     # double precision


def test_noise_sources_get_one_seed_per_core(tmp_path, write_config):
    """sPyNNaker writes a NoisyCurrentSource's one seed to every core it spans (and ignores
    a given rng): the backend injects one source per core, seeded from the experiment's
    seed. 200 E at 100 per core = 2 cores, 50 I = 1 core: 3 distinct seeds."""
    from backends.spinnaker import noise_seed
    r, out, _ = _map(tmp_path, write_config, **{"spinnaker.neurons_per_core": 100})
    assert r.returncode == 0, r.stderr[-3000:]
    noise = json.loads((out / "translation.json").read_text())["measured_on_spinnaker"][
        "noise_seeds"]
    assert noise["cores"] == 3 and noise["max_sources_per_core"] == 1
    assert noise["distinct_seeds"] == 3
    by = {(c["population"], c["neurons"][0]): c["seeds"][0] for c in noise["per_core"]}
    # reproducible: the seeds are those drawn from seed 1 and the source's name
    assert by[("exc", 100)] == list(noise_seed(1, "exc[100:200]"))
    assert by[("inh", 0)] == list(noise_seed(1, "inh"))
    assert noise_seed(2, "exc[100:200]") != noise_seed(1, "exc[100:200]")


def test_hardware_protocol_on_the_virtual_board(tmp_path, write_config):
    """spinnaker-hw runs the hardware protocol's code path end to end on the virtual board
    (build with the scheduled cues, 2 episodes of runs, supervision reloads, weight
    read-backs, output files) without touching HOME, and labels it 'virtual: no dynamics'."""
    cfg = tiny_config_dict(**{"readout.spiking": False, "protocol.episodes": 2})
    cfg["recording"]["full_weights_at"] = [0, 1]
    path = write_config(cfg)
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    out = tmp_path / "hw"
    r = subprocess.run([sys.executable, "-m", "pipeline", "simulate", "--backend",
                        "spinnaker-hw", "--config", str(path), "--seed", "1", "--out", str(out)],
                       capture_output=True, text=True, cwd=ROOT, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    assert not (home / ".spynnaker.cfg").exists()
    assert "virtual: no dynamics" in r.stderr
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["execution"] == "virtual: no dynamics" and prov["produces_spikes"] is False
    assert prov["protocol"]["name"] == "hardware"
    tr = json.loads((out / "translation.json").read_text())
    est = tr["board_time_estimate"]
    # one mapping, then per episode: two continuation runs (warm-up, training), one
    # supervision reload and one weight read-back
    assert est["calls"] == {"first_run_s": 1, "run_s": 3, "set_drive_s": 2,
                            "read_back_s": 2, "build_s": 1}
    assert tr["resources"]["missing_binaries"] == []
    for name in ("weights.npz", "episodes.csv", "spikes.nix"):
        assert (out / name).exists()
