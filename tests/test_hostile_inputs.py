"""Configs that pass a range check but are still wrong, and machines that fight back:
non-finite numbers, numbers in scientific notation, edge seeds, oversized runs, more
threads than cores, a full disk, two runs into one directory, and the code version in
provenance. Every case ends in a one-line message or a warning and a correct
run, never a traceback."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pipeline.config import SEED_MAX, ConfigError, load_yaml, validate_config
from pipeline.config_sources import load_config
from tests.conftest import ROOT, tiny_config_dict
from tests.test_reliability import assert_same_run

RUN_FILES = ("spikes.nix", "weights.npz", "episodes.csv", "translation.json", "provenance.json")


def _pipeline(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True,
                          text=True, cwd=ROOT, env=env, **kw)


def _simulate(cfg_path: Path, out: Path, *extra: str, seed: str = "1",
              env: dict | None = None) -> subprocess.CompletedProcess:
    return _pipeline("simulate", "--config", str(cfg_path), "--seed", seed, "--out",
                     str(out), *extra, env=env)


def _one_line_error(r: subprocess.CompletedProcess) -> str:
    """The step failed with exit code 2 and a single 'error: ...' line, no traceback."""
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr
    errors = [ln for ln in r.stderr.splitlines() if "error:" in ln]
    assert len(errors) == 1, r.stderr[-2000:]
    return errors[0]


# ------------------------------------------------------------------ the table
@pytest.mark.parametrize("override, words", [
    ("inputs.f_c=.nan", "'inputs.f_c' = nan is not a finite number"),
    ("network.theta_mv=.inf", "'network.theta_mv' = inf is not a finite number"),
    ("sweep.theory_values=[0.1, .nan]", "'sweep.theory_values.1' = nan"),
    ("network.n_exc=1000000000", "GiB of memory"),
    ("protocol.episodes=100000000", "GiB of memory"),
])
def test_table_rows_end_in_one_line(override, words):
    """Each refused row of the issue's table: one line naming the key or the memory,
    before anything is built (the default config itself)."""
    r = _simulate(ROOT / "config" / "default.yaml", Path("/nonexistent/never-written"),
                  "--set", override)
    line = _one_line_error(r)
    assert words in line, line
    if "memory" in words:       # the estimate is printed first, and the way out is named
        assert "[simulate] estimate: memory" in r.stderr
        assert "--no-memory-check" in line and "network.n_exc" in line
    assert not Path("/nonexistent/never-written").exists()


@pytest.mark.parametrize("seed", ["0", "-1", "4294967296", str(SEED_MAX + 1), "1.5", "abc"])
def test_bad_seeds_are_refused_at_the_command_line(seed, write_config):
    r = _simulate(write_config(tiny_config_dict()), Path("/nonexistent/x"), seed=seed)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"'{seed}' is not a valid seed" in r.stderr and f"1 to {SEED_MAX}" in r.stderr


@pytest.mark.parametrize("key, value", [("simulation.seeds", [0]), ("simulation.seeds", [-1]),
                                        ("simulation.seeds", [2**32]),
                                        ("sweep.seeds", [SEED_MAX + 1])])
def test_bad_seeds_in_the_config_are_refused(key, value):
    with pytest.raises(ConfigError) as exc:
        validate_config(tiny_config_dict(**{key: value}))
    assert key in str(exc.value) and "out of range" in str(exc.value)


def test_scientific_notation_in_files_overrides_and_snakemake_strings(tmp_path):
    text = (ROOT / "config" / "default.yaml").read_text()
    text = text.replace("d_exc: 0.1", "d_exc: 1e-1").replace("supervision_hz: 3200.0",
                                                             "supervision_hz: 3.2E3")
    text = text.replace("episodes: 100 ", "episodes: 1e+2 ")
    path = tmp_path / "sci.yaml"
    path.write_text(text)
    cfg = load_config(path, overrides=["stdp.delta_c=2E-3", "sweep.theory_values=[5e-2, 1e-1]"])
    ref = load_config(ROOT / "config" / "default.yaml")
    assert cfg["noise"]["d_exc"] == 0.1 and cfg["targets"]["supervision_hz"] == 3200.0
    assert cfg["protocol"]["episodes"] == 100 and isinstance(cfg["protocol"]["episodes"], int)
    assert cfg["stdp"]["delta_c"] == 0.002
    assert cfg["sweep"]["theory_values"] == [0.05, 0.1]
    ref["sweep"]["theory_values"] = [0.05, 0.1]
    assert cfg == ref
    # Snakemake's --config hands nested values over as strings (YAML BaseLoader)
    raw = load_yaml((ROOT / "config" / "default.yaml").read_text())
    raw["simulation"]["seeds"] = ["1", "2"]
    raw["noise"]["d_exc"] = "1e-1"
    raw["protocol"]["homeostasis"] = "true"
    raw["spinnaker"] = {"machine_name": "null"}     # default.yaml leaves the section to the schema
    assert validate_config(raw) == load_config(ROOT / "config" / "default.yaml")


def test_snakemake_reads_numbers_in_config_overrides(tmp_path):
    """`snakemake --config noise='{d_exc: 1e-1}'` (a dry run): numbers as strings from the
    command line become numbers in the effective config; a NaN is named."""
    exe = str(Path(sys.executable).with_name("snakemake"))
    base = [exe, "-n", "-q", "-s", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
            "--configfile", str(ROOT / "config" / "default.yaml"), "--config"]
    r = subprocess.run([*base, "noise={d_exc: 1e-1}", "simulation={seeds: [1, 2, 5, 6]}"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    eff = load_yaml((tmp_path / "results" / "default" / "config.yaml").read_text())
    assert eff["noise"]["d_exc"] == 0.1 and eff["simulation"]["seeds"] == [1, 2, 5, 6]
    r = subprocess.run([*base, "inputs={f_c: .nan}"], capture_output=True, text=True)
    assert r.returncode != 0 and "'inputs.f_c' = nan is not a finite number" in r.stdout + r.stderr


def test_sweep_points_simulate_only_sweep_backends(tmp_path):
    """`sweep.backends` (a dry run of the default config): the experiment's own f_c runs
    every spiking backend, the sweep point only the ones named; a backend the experiment
    does not run is refused with the key named."""
    exe = str(Path(sys.executable).with_name("snakemake"))
    base = [exe, "-n", "-s", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
            "--configfile", str(ROOT / "config" / "default.yaml")]
    r = subprocess.run(base, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    jobs = {line.strip() for line in r.stdout.splitlines() if "backend=" in line}
    point = {j for j in jobs if "sweep/inputs.f_c-0.2," in j}
    main = {j for j in jobs if "prefix=results/default," in j and "seed=1" in j}
    assert {j.split("backend=")[1].split(",")[0] for j in point} == {"nest"}
    assert {j.split("backend=")[1].split(",")[0] for j in main} >= {
        "nest", "nest-spinnaker", "nest-spinnaker-hw"}
    raw = load_yaml((ROOT / "config" / "default.yaml").read_text())
    raw["simulation"]["backends"] = ["nest"]
    raw["sweep"]["backends"] = ["nest", "nest-spinnaker"]
    raw["validation"]["comparisons"] = []
    with pytest.raises(ConfigError, match=r"'sweep.backends' names \['nest-spinnaker'\]"):
        validate_config(raw)


# ------------------------------------------------------------------ runs (small, real)
@pytest.fixture(scope="module")
def edge_seed_run(tmp_path_factory):
    """A tiny run with the largest seed, checkpointed (so the later segments' simulator
    seeds are drawn too)."""
    tmp = tmp_path_factory.mktemp("edge")
    cfg = tiny_config_dict(**{"protocol.episodes": 4, "simulation.checkpoint_every": 2})
    path = tmp / "cfg.yaml"
    path.write_text(json.dumps(cfg))
    r = _simulate(path, tmp / "run", seed=str(SEED_MAX))
    assert r.returncode == 0, r.stderr[-3000:]
    return tmp / "run", r


def test_largest_seed_runs_and_records_code_version_and_threads(edge_seed_run):
    run, r = edge_seed_run
    prov = json.loads((run / "provenance.json").read_text())
    assert prov["seed"] == SEED_MAX
    v = prov["code_version"]
    assert v["source"] in ("git", "package")
    if v["source"] == "git":
        assert len(v["commit"]) == 40 and isinstance(v["dirty"], bool)
    assert prov["threads"]["requested"] == 1 and prov["threads"]["used"] == 1
    assert prov["threads"]["cores_available"] >= 1
    assert prov["cost_estimate"]["memory_bytes"] > 0
    assert "[simulate] estimate: memory" in r.stderr


def test_capacity_warns_about_mixed_code_versions(edge_seed_run, tmp_path):
    run, _ = edge_seed_run
    other = tmp_path / "other"
    shutil.copytree(run, other)
    prov = json.loads((other / "provenance.json").read_text())
    prov["code_version"] = {"source": "git", "commit": "0" * 40, "dirty": False,
                            "version": "0.1.0"}
    (other / "provenance.json").write_text(json.dumps(prov))
    r = _pipeline("capacity", "--run", str(run), "--run", str(run), "--out",
                  str(tmp_path / "same"))
    assert r.returncode == 0 and "different code versions" not in r.stderr
    r = _pipeline("capacity", "--run", str(run), "--run", str(other), "--out",
                  str(tmp_path / "mixed"))
    assert r.returncode == 0, r.stderr[-2000:]
    assert "warning: capacity combines runs from different code versions" in r.stderr
    assert "0000000000" in r.stderr
    assert json.loads((tmp_path / "mixed" / "capacity.json").read_text())["mixed_code_versions"]


def test_more_threads_than_cores_warns_and_runs_as_the_cores_allow(tmp_path, write_config):
    """SLURM grants 1 core: threads 2 is lowered to 1, with a warning, and the run is
    bitwise the run of threads 1 (reproducibility for a fixed thread count)."""
    env = dict(os.environ, SLURM_CPUS_PER_TASK="1")
    r2 = _simulate(write_config(tiny_config_dict(**{"simulation.threads": 2}), "t2.yaml"),
                   tmp_path / "two", env=env)
    assert r2.returncode == 0, r2.stderr[-2000:]
    assert "warning: simulation.threads = 2 but this process may use only 1 core" in r2.stderr
    assert "SLURM_CPUS_PER_TASK 1" in r2.stderr
    prov = json.loads((tmp_path / "two" / "provenance.json").read_text())
    assert prov["threads"]["requested"] == 2 and prov["threads"]["used"] == 1
    assert prov["translation"]["threads"] == 1
    r1 = _simulate(write_config(tiny_config_dict(), "t1.yaml"), tmp_path / "one", env=env)
    assert r1.returncode == 0 and "[simulate] warning" not in r1.stderr
    assert_same_run(tmp_path / "two", tmp_path / "one")


def test_a_run_longer_than_a_day_is_warned(tiny_cfg):
    import io

    from backends.nest import NestBackend
    from pipeline.simulate import check_cost

    cfg = validate_config(tiny_config_dict(**{"network.n_exc": 100_000, "network.n_inh": 25_000,
                                              "protocol.episodes": 20_000}))
    out = io.StringIO()
    est = check_cost(cfg, NestBackend, 1, check_memory=False, stream=out)
    assert est.wall_s > 86_400
    assert "warning: this run would take about" in out.getvalue()
    out = io.StringIO()
    check_cost(tiny_cfg, NestBackend, 1, stream=out)
    assert "warning" not in out.getvalue()


# ------------------------------------------------------------------ two runs, one directory
def test_second_run_into_a_held_directory_is_refused_and_corrupts_nothing(tmp_path,
                                                                          write_config):
    path = write_config(tiny_config_dict(**{"protocol.episodes": 8}))
    run = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-m", "pipeline", "simulate", "--config",
                              str(path), "--seed", "1", "--out", str(run)],
                             stderr=subprocess.PIPE, text=True, cwd=ROOT)
    for line in first.stderr:                 # the first run holds the directory
        if "episode 1/8" in line:
            break
    second = _simulate(path, run)
    line = _one_line_error(second)
    assert f"pid {first.pid}" in line and str(run) in line
    rest = first.stderr.read()
    assert first.wait() == 0, rest[-2000:]
    ref = tmp_path / "ref"
    assert _simulate(path, ref).returncode == 0
    assert_same_run(run, ref)


def test_a_killed_runs_lock_does_not_block(tmp_path):
    from pipeline.runlock import LOCK_NAME, RunLock

    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pipeline.runlock import RunLock; "
         f"RunLock({str(tmp_path)!r}).acquire(); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(Exception) as exc:
        RunLock(tmp_path).acquire()
    assert f"pid {holder.pid}" in str(exc.value)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert (tmp_path / LOCK_NAME).read_text().strip() == str(holder.pid)   # stale file
    with RunLock(tmp_path):
        assert (tmp_path / LOCK_NAME).read_text().strip() == str(os.getpid())


# ------------------------------------------------------------------ a full disk (real tmpfs)
@contextlib.contextmanager
def small_tmpfs(path: Path, size: int):
    """Mount a tmpfs of ``size`` bytes at ``path`` for the test; skip where one cannot be
    mounted (not root, or no CAP_SYS_ADMIN in a container); always unmount."""
    path.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None:
        pytest.skip("no mount command: cannot mount a small tmpfs for the full-disk test")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root/CAP_SYS_ADMIN): "
                    f"{r.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_simulate_on_a_full_disk_names_the_path_and_leaves_no_final_file(tmp_path,
                                                                          write_config):
    cfg_path = write_config(tiny_config_dict())
    with small_tmpfs(tmp_path / "disk", 256 * 1024) as disk:
        run = disk / "run"
        r = _simulate(cfg_path, run)
        line = _one_line_error(r)
        assert "no space left to write" in line and str(run / "spikes.nix") in line
        assert "it needs" in line and "free" in line
        left = sorted(p.name for p in run.iterdir())
        assert not set(left) & set(RUN_FILES), left
        assert not [n for n in left if ".partial" in n], left


def test_a_failed_write_removes_the_outputs_written_before_it(tmp_path):
    from pipeline.io import DiskFullError, atomic_path, write_json, write_npz
    from pipeline.simulate import _write_outputs

    with small_tmpfs(tmp_path / "disk", 64 * 1024) as disk:
        noise = np.random.default_rng(1).random(20_000)     # 160 kB, incompressible
        with pytest.raises(DiskFullError) as exc:
            _write_outputs([(disk / "a.json", lambda: write_json(disk / "a.json", {"a": 1})),
                            (disk / "b.npz", lambda: write_npz(disk / "b.npz", x=noise))])
        assert str(disk / "b.npz") in exc.value.strerror and "needs" in exc.value.strerror
        assert list(disk.iterdir()) == []
        # the safety net: a write that fills the disk while it runs (no size known ahead)
        with pytest.raises(DiskFullError) as exc:
            with atomic_path(disk / "c.bin") as tmp:
                with open(tmp, "wb") as fh:
                    for _ in range(100):
                        fh.write(b"\0" * 4096)
                        fh.flush()
        assert str(disk / "c.bin") in exc.value.strerror
        assert list(disk.iterdir()) == []
