"""The config is checked before anything runs; errors name the key and what is allowed."""
from __future__ import annotations

import subprocess
import sys

import pytest

from pipeline.config import ConfigError, config_hash, validate_config
from pipeline.config_sources import load_config
from tests.conftest import ROOT, tiny_config_dict


@pytest.mark.parametrize("name", ["default.yaml", "paper.yaml"])
def test_shipped_configs_train_until_both_theories_cross(name):
    """A shipped config is valid and trains enough episodes that both theories cross the
    readout threshold: its capacities are numbers, not lower bounds (docs/design.md
    section 4)."""
    from pipeline.theory import predict

    cfg = load_config(ROOT / "config" / name)
    pred = predict(cfg)
    assert pred["crossed_full"] and pred["crossed_rate_only"], (
        f"{name}: {cfg['protocol']['episodes']} episodes, theory capacities "
        f"{pred['capacity_full_label']} / {pred['capacity_rate_only_label']}")


def _error(cfg: dict) -> str:
    with pytest.raises(ConfigError) as exc:
        validate_config(cfg)
    return str(exc.value)


def test_misspelt_key_is_named_with_a_suggestion():
    c = tiny_config_dict()
    c["inputs"]["nu1"] = c["inputs"].pop("nu1_hz")
    msg = _error(c)
    assert "inputs.nu1" in msg and "did you mean 'nu1_hz'" in msg


def test_negative_rate_is_rejected_with_its_range():
    c = tiny_config_dict(**{"inputs.nu0_hz": -5.0})
    msg = _error(c)
    assert "inputs.nu0_hz" in msg and "-5.0" in msg and ">= 0" in msg


def test_coding_level_above_one_is_rejected():
    msg = _error(tiny_config_dict(**{"inputs.f_c": 1.5}))
    assert "inputs.f_c" in msg and "<= 1" in msg


@pytest.mark.parametrize("overrides, words", [
    ({"inputs.f_c": 0.001}, "'inputs.f_c' = 0.001 makes 0.001 * 'inputs.m' = 0.04"),
    ({"targets.f_s": 0.001}, "'targets.f_s' = 0.001 makes 0.001 * 'network.n_exc' = 0.2"),
    ({"protocol.episodes": 0}, "protocol.episodes"),
    ({"network.c_exc": 10_000}, "network.c_exc"),
    ({"protocol.t_train_ms": 100.05}, "protocol.t_train_ms"),
    ({"weights.v0": "stationry"}, "weights.v0"),
    ({"simulation.seeds": [0]}, "simulation.seeds.0"),
])
def test_other_bad_values_are_named(overrides, words):
    assert words in _error(tiny_config_dict(**overrides))


def test_unknown_backend_in_config_is_named():
    assert "simulation.backends.0" in _error(tiny_config_dict(**{"simulation.backends": ["loihi"]}))


def test_hash_ignores_seeds_and_backends_but_not_science():
    a = validate_config(tiny_config_dict())
    b = validate_config(tiny_config_dict(**{"simulation.seeds": [5, 6]}))
    c = validate_config(tiny_config_dict(**{"stdp.delta_c": 0.003}))
    assert config_hash(a) == config_hash(b) != config_hash(c)


def test_cli_rejects_a_bad_config_before_simulating(tmp_path, write_config):
    cfg = tiny_config_dict(**{"inputs.f_c": 1.5})
    path = write_config(cfg)
    r = subprocess.run([sys.executable, "-m", "pipeline", "simulate", "--config", str(path),
                        "--seed", "1", "--out", str(tmp_path / "run")],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2
    assert "inputs.f_c" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "run").exists()


def test_cli_rejects_an_unknown_backend(tmp_path, write_config):
    path = write_config(tiny_config_dict())
    r = subprocess.run([sys.executable, "-m", "pipeline", "simulate", "--config", str(path),
                        "--backend", "loihi", "--seed", "1", "--out", str(tmp_path / "run")],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "loihi" in r.stderr and "nest" in r.stderr


# ------------------------------------------------------------ one parameter derivation
@pytest.mark.parametrize("key, value, options", [
    ("inputs.f_c", 0.11, "f_c = 0.1 or f_c = 0.125"),        # 0.11 * 40 = 4.4 inputs
    ("targets.f_s", 0.1025, "f_s = 0.1 or f_s = 0.105"),     # 0.1025 * 200 = 20.5 E neurons
])
def test_a_pattern_that_is_not_a_whole_number_of_neurons_is_refused(key, value, options):
    message = _error(tiny_config_dict(**{key: value}))
    assert f"'{key}' = {value:g}" in message and options in message


def test_simulation_and_theory_count_the_same_cue_and_target():
    from pipeline.parameters import derive

    # 0.07 * 100 = 7.000000000000001 in float64: a whole number to rounding
    p = derive(load_config([], overrides=["inputs.f_c=0.07"]))
    assert p.simulator.n_cue == 7 and p.theory.n_cue == 7.0
    assert p.simulator.n_target == round(p.theory.f_s * p.simulator.n_exc) == 100
    # the two views are the same numbers in two unit systems
    assert p.simulator.tau_c / p.simulator.tau_m == p.theory.stdp.tau_c
    assert p.simulator.nu1 * p.simulator.tau_m / 1000.0 == pytest.approx(p.theory.nu1,
                                                                         rel=1e-15)


def test_config_command_prints_the_full_config_and_its_hash():
    r = subprocess.run([sys.executable, "-m", "pipeline", "config", "--config",
                        "config/paper.yaml"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    cfg = load_config("config/paper.yaml")
    assert config_hash(cfg) in r.stdout.splitlines()[0]
    import yaml
    assert yaml.safe_load(r.stdout) == cfg


def test_schema_backends_are_the_registered_ones():
    import yaml

    from backends import MAPPING_ONLY, REGISTRY

    schema = yaml.safe_load((ROOT / "config" / "schema.yaml").read_text())
    every = set(schema["$defs"]["backend"]["enum"])
    spiking = set(schema["$defs"]["spiking_backend"]["enum"])
    assert every <= set(REGISTRY) and spiking == every - set(MAPPING_ONLY)
