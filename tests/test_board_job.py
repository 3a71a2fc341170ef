"""The job for a real SpiNNaker machine (pipeline/board_job.py): built here, its entry point
run end to end on sPyNNaker's virtual board, its EBRAINS submission request built and
checked without sending it, and every bad input a single line."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from pipeline import board_job
from pipeline.cli import main
from tests.conftest import tiny_config_dict


def _job(tmp_path, write_config, *extra, name="job", **over):
    cfg = write_config(tiny_config_dict(**over))
    return main(["board-job", "--config", str(cfg), "--seed", "1",
                 "--out", str(tmp_path / name), *extra])


@pytest.mark.parametrize("extra, message", [
    (["--platform", "tape"], "unknown platform 'tape' (--platform): choose one of"),
    (["--platform", "local"], "platform 'local' needs --machine"),
    # loopback with nothing listening: refused at once, no traffic leaves the machine
    (["--platform", "local", "--machine", "127.0.0.1", "--timeout", "2"],
     "the SpiNNaker board '127.0.0.1' does not answer"),
    (["--platform", "ebrains", "--collab", "c", "--submit"], "no credentials"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, write_config, capsys, monkeypatch,
                                                  extra, message):
    monkeypatch.delenv("EBRAINS_TOKEN", raising=False)
    assert _job(tmp_path, write_config, *extra) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err
    assert not (tmp_path / "job").exists()


def test_a_job_directory_with_files_is_refused(tmp_path, write_config, capsys):
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / "provenance.json").write_text("{}")
    assert _job(tmp_path, write_config, "--platform", "virtual") == 2
    assert "already holds files" in capsys.readouterr().err
    assert (tmp_path / "job" / "provenance.json").read_text() == "{}"


def test_ebrains_submission_request_is_built_and_checked(tmp_path, write_config):
    assert _job(tmp_path, write_config, "--platform", "ebrains", "--collab", "my-collab",
                **{"spinnaker.rebuild_every": 2}) == 0
    job = tmp_path / "job"
    req = json.loads((job / "submission.json").read_text())
    board_job.check_request(req)
    assert req["platform"] == "SpiNNaker" and req["collab_id"] == "my-collab"
    assert req["command"] == "run_job.py {system}" and req["source"] == str(job)
    meta = json.loads((job / "job.json").read_text())
    assert "rebuild every 2" in meta["hardware_protocol"]
    assert "not submitted" in meta["not_executed"]
    assert "sPyNNaker==1!7.4.1" in (job / "requirements.txt").read_text().split()
    with pytest.raises(board_job.BoardJobError, match="platform 'BrainScaleS'"):
        board_job.check_request({**req, "platform": "BrainScaleS"})
    with pytest.raises(board_job.BoardJobError, match="'collab_id' must be a str"):
        board_job.check_request({**req, "collab_id": None})


def test_job_entry_point_runs_on_the_virtual_board(tmp_path, write_config):
    """The job's own entry point, from its own code copy, writes a run directory that the
    pipeline reads as a spinnaker-hw run (virtual: no dynamics); run again, it refuses."""
    assert _job(tmp_path, write_config, "--platform", "virtual",
                **{"protocol.episodes": 2, "readout.spiking": False,
                   "recording.full_weights_at": [0, 1]}) == 0
    job = tmp_path / "job"
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    cmd = [sys.executable, str(job / "run_job.py"), "--out", str(tmp_path / "run")]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    for name in board_job.RUN_FILES:
        assert (tmp_path / "run" / name).exists(), name
    prov = json.loads((tmp_path / "run" / "provenance.json").read_text())
    assert prov["backend"] == "spinnaker-hw" and prov["execution"] == "virtual: no dynamics"
    r2 = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env)
    assert r2.returncode == 2 and "already holds files" in r2.stderr
    assert "Traceback" not in r2.stderr
