"""The HPC path for real: the workflow submitted through the SLURM profile to a real
single-node SLURM cluster (slurm-wlm from Debian, started here on 127.0.0.1).

Marked ``slurm``: not part of ``make test``; ``.ci/run`` runs it in its own pytest call.
It installs ``slurmctld slurmd slurm-client munge`` with apt when missing and is skipped,
with the reason printed, only where it is not root or apt cannot install them.
"""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, tiny_config_dict
from tests.slurm_cluster import SingleNodeSlurm, install_packages

pytestmark = pytest.mark.slurm

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
BACKENDS = ["nest", "nest-spinnaker"]
SEEDS = [1, 2]
VALUES = [0.1, 0.2]            # inputs.f_c: 0.1 is the experiment itself, 0.2 a sweep point


@pytest.fixture(scope="module")
def cluster():
    """A running single-node cluster; stopped by pid afterwards, leaving no process.

    Its directory is made with mkdtemp, not pytest's tmp_path: pytest prunes old numbered
    temporary directories of the same user, which another pytest run could do while the
    daemons still use theirs."""
    reason = install_packages()
    if reason is not None:
        print(f"SKIPPED test_slurm: {reason}", file=sys.stderr)
        pytest.skip(reason)
    c = SingleNodeSlurm(Path(tempfile.mkdtemp(prefix="stdp-capacity-slurm-")))
    t0 = time.monotonic()
    try:
        c.start()
        print(f"[slurm] cluster idle after {time.monotonic() - t0:.1f} s, pids {c.pids()}")
        yield c
    finally:
        left = c.stop()
        assert not left, f"SLURM daemons still running after stop: {left}"
        stray = processes_mentioning(str(c.root))
        assert not stray, f"processes left behind: {stray}"
        shutil.rmtree(c.root, ignore_errors=True)


def processes_mentioning(text: str) -> list[str]:
    """Return 'pid: cmdline' of every live process whose command line or environment
    mentions ``text`` (here: the cluster's directory, which SLURM_CONF names)."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            env = (d / "environ").read_bytes().decode(errors="replace")
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and (text in cmd or text in env):
            out.append(f"{d.name}: {cmd.strip()}")
    return out


def test_workflow_through_slurm(cluster, tmp_path, write_config):
    cfg = tiny_config_dict(**{"simulation.seeds": SEEDS, "simulation.backends": BACKENDS})
    cfg["sweep"] = {"parameter": "inputs.f_c", "theory_values": VALUES,
                    "simulation_values": VALUES[1:], "seeds": SEEDS, "backends": BACKENDS}
    path = write_config(cfg, "tiny.yaml")
    work = tmp_path / "work"
    t0 = time.monotonic()
    # Without accounting sacct fails and the plugin would wait forever although the jobs
    # finished: poll with squeue. The guard (10 min) is about 4x the run on 2 cores.
    r = subprocess.run(
        ["timeout", "-k", "10", "600", SNAKEMAKE, "-s", str(ROOT / "Snakefile"),
         "--directory", str(work), "--configfile", str(path),
         "--profile", str(ROOT / "config" / "profiles" / "slurm"),
         "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "5",
         "--slurm-no-account", "--latency-wait", "5"],
        env=cluster.env, capture_output=True, text=True)
    wall = time.monotonic() - t0
    log = r.stdout + r.stderr
    assert r.returncode == 0, log[-6000:] + cluster.log_tail("slurmctld")

    # every rule but the local `all` ran as a SLURM job
    submitted = re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+)", log)
    rules = re.findall(r"^(?:localrule|rule) (\w+):\n(?:    .*\n)*?    jobid: (\d+)", log, re.M)
    rule_of = {jobid: rule for rule, jobid in rules}
    slurm_rules = {rule_of[j] for j, _ in submitted}
    assert slurm_rules == {"simulate", "analyze", "theory", "capacity", "sweep", "report"}, \
        slurm_rules
    assert {rule for rule, _ in rules} - slurm_rules == {"all"}
    n_sim = len(VALUES) * len(SEEDS) * len(BACKENDS)       # seeds x values x backends
    assert sum(rule_of[j] == "simulate" for j, _ in submitted) == n_sim
    job_ids = {int(s) for _, s in submitted}

    # each output's provenance names its SLURM job, node and granted cores
    out = work / "results" / "tiny"
    point = out / "sweep" / "inputs.f_c-0.2"
    sim_jobs = []
    for prefix in (out, point):
        for b in BACKENDS:
            for s in SEEDS:
                prov = json.loads((prefix / b / f"seed-{s}" / "provenance.json").read_text())
                job = prov["slurm"]
                assert int(job["job_id"]) in job_ids
                assert job["cpus_per_task"] == str(cfg["simulation"]["threads"])
                assert prov["nest_threads"] == cfg["simulation"]["threads"]
                assert job.get("nodename", job.get("job_nodelist")) == "localhost"
                sim_jobs.append(int(job["job_id"]))
            cap = json.loads((prefix / b / "capacity" / "capacity.json").read_text())
            assert int(cap["provenance"]["slurm"]["job_id"]) in job_ids
    assert len(set(sim_jobs)) == n_sim                     # one job per simulation
    theory = json.loads((out / "theory.json").read_text())
    assert int(theory["provenance"]["slurm"]["job_id"]) in job_ids

    # the aggregate table: capacity by value and backend, interval over seeds, both theories
    with open(out / "sweep" / "sweep.csv") as fh:
        rows = {float(row["inputs.f_c"]): row for row in csv.DictReader(fh)}
    assert sorted(rows) == VALUES
    for v, prefix in zip(VALUES, (out, point)):
        row = rows[v]
        # both theories of the value's own theory job, as that job wrote them
        th = json.loads((prefix / "theory.json").read_text())
        assert float(row["capacity_theory_full"]) == th["capacity_full"]
        assert float(row["capacity_theory_rate_only"]) == th["capacity_rate_only"]
        for b in BACKENDS:
            assert int(row[f"n_seeds_{b}"]) == len(SEEDS)
            assert float(row[f"ci95_low_{b}"]) <= float(row[f"capacity_simulation_{b}"]) \
                <= float(row[f"ci95_high_{b}"])
    assert (out / "sweep" / "sweep.png").stat().st_size > 1000
    assert (out / "report.html").exists()

    # nothing left in the queue
    q = subprocess.run(["squeue", "-h", "-o", "%i %T"], env=cluster.env, capture_output=True,
                       text=True)
    assert q.returncode == 0 and q.stdout.strip() == "", q.stdout + q.stderr

    # Snakemake's own self-contained report from the registered figures and tables
    rep = subprocess.run([SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "--directory", str(work),
                          "--configfile", str(path), "--report", "report.zip"],
                         capture_output=True, text=True)
    assert rep.returncode == 0, rep.stdout[-3000:] + rep.stderr[-3000:]
    names = zipfile.ZipFile(work / "report.zip").namelist()
    for f in ("sweep.csv", "sweep.png", "forgetting_curve.png", "ccg.png", "report.html"):
        assert any(n.endswith(f) for n in names), f
    print(f"[slurm] workflow through SLURM: {len(submitted)} jobs in {wall:.0f} s; "
          f"SLURM job ids {sorted(job_ids)}")
