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
    ({"inputs.f_c": 0.001}, "'inputs.f_c' * 'inputs.m'"),
    ({"targets.f_s": 0.001}, "'targets.f_s' * 'network.n_exc'"),
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
