"""HPC pieces that need no cluster: SLURM job in provenance, NEST threads = granted cores,
resource requests from measured runs, typed `--config` overrides (fast tier)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, tiny_config_dict

JOB = {"SLURM_JOB_ID": "4711", "SLURMD_NODENAME": "node07", "SLURM_CPUS_PER_TASK": "2",
       "SLURM_JOB_PARTITION": "standard"}


def test_provenance_names_the_slurm_job():
    from pipeline.provenance import granted_cores, slurm_job

    job = slurm_job(JOB)
    assert job == {"job_id": "4711", "nodename": "node07", "cpus_per_task": "2",
                   "job_partition": "standard"}
    assert granted_cores(JOB) == 2
    assert slurm_job({"SLURMD_NODENAME": "x"}) is None        # no job id: not under SLURM
    assert granted_cores({}) is None


def test_nest_threads_against_the_granted_cores(tiny_cfg, capsys):
    from pipeline.simulate import check_granted_cores, resolve_threads

    assert check_granted_cores(tiny_cfg, {}) == 1                       # outside SLURM
    assert check_granted_cores(tiny_cfg, dict(JOB, SLURM_CPUS_PER_TASK="1")) == 1
    assert capsys.readouterr().err == ""
    # more cores granted than threads: NEST keeps simulation.threads, with a warning
    assert check_granted_cores(tiny_cfg, JOB) == 1
    assert "SLURM job 4711 was granted 2 cores" in capsys.readouterr().err


def test_resource_requests_scale_with_the_config():
    from pipeline.config_sources import load_config
    from pipeline.resources import STEPS, request

    default = load_config(ROOT / "config" / "default.yaml")
    paper = load_config(ROOT / "config" / "paper.yaml")
    for step in STEPS:
        d, p = request(step, default), request(step, paper)
        assert set(d) == {"cpus_per_task", "mem_mb", "runtime"}
        assert p["mem_mb"] >= d["mem_mb"] and p["runtime"] >= d["runtime"], step
    assert request("simulate", default)["cpus_per_task"] == default["simulation"]["threads"]
    assert request("analyze", default)["cpus_per_task"] == 1
    # twice the episodes: at least 1.9x the simulate time (start-up and build stay put)
    longer = load_config(ROOT / "config" / "default.yaml")
    longer["protocol"]["episodes"] *= 2
    from pipeline.resources import simulate_seconds
    assert simulate_seconds(longer) > 1.9 * (simulate_seconds(default) - 20)
    with pytest.raises(KeyError, match="no resource model"):
        request("nonsense", default)


def test_nested_config_overrides_are_typed(tmp_path, write_config):
    path = write_config(tiny_config_dict(), "tiny.yaml")
    exe = Path(sys.executable).with_name("snakemake")
    r = subprocess.run([str(exe), "-s", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
                        "--configfile", str(path), "-n", "--config",
                        "simulation={seeds: [3, 4], backends: [nest]}"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    import yaml
    eff = yaml.safe_load((tmp_path / "results" / "tiny" / "config.yaml").read_text())
    assert eff["simulation"]["seeds"] == [3, 4] and eff["simulation"]["threads"] == 1
