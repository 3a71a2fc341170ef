"""Shared fixtures: small real configs derived from config/default.yaml."""
from __future__ import annotations

import copy
import sys
import warnings
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore", message="Cannot find nest-config")

# The simulator-free tier (config, theory, statistics, docs, the backend contract): no
# simulation runs in these files; `make test` runs them first (marker `fast`, docs/tests.md)
SIMULATOR_FREE = ("test_config.py", "test_theory.py", "test_equivalence.py", "test_docs.py",
                  "test_backend_contract.py", "test_theory_validity.py")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if Path(str(item.fspath)).name in SIMULATOR_FREE:
            item.add_marker(pytest.mark.fast)


def tiny_config_dict(**overrides) -> dict:
    """A config small enough for a test: 200 E, 50 I, 40 inputs, 4 episodes of 300 ms."""
    with open(ROOT / "config" / "default.yaml") as fh:
        c = yaml.safe_load(fh)
    c["experiment"] = "tiny"
    c["network"].update(n_exc=200, n_inh=50, c_exc=40, c_inh=10)
    c["inputs"].update(m=40, f_c=0.1)
    c["protocol"].update(episodes=4, t_warm_ms=100.0, t_train_ms=300.0)
    c["weights"]["v0"] = 1e-4
    c["readout"]["reference_memories"] = 2
    c["simulation"].update(seeds=[1], threads=1)
    c["recording"].update(n_exc_sample=10, n_inh_sample=5, full_weights_at=[0, 3])
    c["validation"] = {"alpha": 0.05, "comparisons": [],
                       "tolerances": c["validation"]["tolerances"]}
    c["sweep"] = {"parameter": "inputs.f_c", "theory_values": [0.1, 0.2],
                  "simulation_values": [], "seeds": [1]}
    for dotted, value in overrides.items():
        section, key = dotted.split(".")
        c.setdefault(section, {})[key] = value
    return c


def built_nest(cfg: dict, seed: int):
    """Return (Params, Connectivity, Patterns, NestBackend) of the model built on NEST."""
    from backends.nest import NestBackend
    from pipeline import model
    from pipeline.parameters import derive

    p = derive(cfg).simulator
    conn = model.draw_connectivity(p, seed, 1e-4)
    pat = model.draw_patterns(p, seed)
    b = NestBackend(cfg, seed, None)
    b.setup()
    b.build(p, conn)
    return p, conn, pat, b


@pytest.fixture
def tiny_cfg() -> dict:
    from pipeline.config import validate_config
    return validate_config(tiny_config_dict())


@pytest.fixture
def write_config(tmp_path):
    def _write(cfg: dict, name: str = "cfg.yaml") -> Path:
        p = tmp_path / name
        p.write_text(yaml.safe_dump(copy.deepcopy(cfg), sort_keys=False))
        return p
    return _write
