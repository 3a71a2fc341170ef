"""Paper-scale checks (slow: minutes; `make test-slow`)."""
from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys

import pytest
import yaml

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def _paper(tmp_path, episodes: int) -> Path:
    with open(ROOT / "config" / "paper.yaml") as fh:
        cfg = yaml.safe_load(fh)
    cfg["protocol"]["episodes"] = episodes
    cfg["recording"]["full_weights_at"] = [0]
    cfg["readout"]["reference_memories"] = 1
    path = tmp_path / "paper.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_paper_rates_match_the_theory(tmp_path):
    path = _paper(tmp_path, 3)
    run = tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "pipeline", "simulate", "--config", str(path),
                        "--seed", "1", "--out", str(run)], capture_output=True, text=True,
                       cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    th = tmp_path / "theory.json"
    assert subprocess.run([sys.executable, "-m", "pipeline", "theory", "--config", str(path),
                           "--out", str(th)], cwd=ROOT).returncode == 0
    rates = json.loads(th.read_text())["rates_full"]
    summary = json.loads((run / "provenance.json").read_text())["summary"]
    # diffusion approximation of shot noise and the 0.1 ms grid: 15%
    for key, name in (("rate_target_hz", "target"), ("rate_non_target_hz", "non_target"),
                      ("rate_inh_hz", "inhibitory")):
        assert summary[key] == pytest.approx(rates[name], rel=0.15), name


def test_paper_network_maps_on_one_spinnaker_board(tmp_path):
    path = _paper(tmp_path, 3)
    out = tmp_path / "spin"
    r = subprocess.run([sys.executable, "-m", "pipeline", "simulate", "--backend", "spinnaker",
                        "--config", str(path), "--seed", "1", "--out", str(out)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((out / "resources.json").read_text())
    assert res["fits_one_board"] and res["missing_binaries"] == []
