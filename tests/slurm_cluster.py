"""A real single-node SLURM cluster on 127.0.0.1 for tests (Debian's slurm-wlm + munge).

Everything lives in one directory: ``slurm.conf``, a private munge key and socket, state,
spool, logs and pid files. Clients find it through ``SLURM_CONF``, which sbatch passes on
to the jobs. The daemons are stopped by the pids they wrote, never by name.

Facts this relies on (slurm-wlm 22.05.8, munge 0.5.15 on Debian 12, run as root):
- a minimal slurm.conf without accounting, cgroups or a database works with
  ``ProctrackType=proctrack/linuxproc`` and ``TaskPlugin=task/none``;
- ``slurmctld`` and ``slurmd -N localhost`` daemonise and write their pid files;
- without accounting ``sacct`` fails, so the Snakemake SLURM plugin is told to poll with
  ``squeue`` instead (``--slurm-status-command squeue``);
- snakemake-executor-plugin-slurm-jobstep 0.6.1 removes every ``SLURM_*`` variable but the
  job's identity from the environment of the ``srun`` it calls inside a job, SLURM_CONF
  included; a cluster whose slurm.conf is not at /etc/slurm/slurm.conf then fails with
  "srun: fatal: Could not establish a configuration source". ``bin/srun`` here puts
  SLURM_CONF back and runs the real srun; ``env`` puts ``bin/`` first on PATH.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

PACKAGES = ("slurmctld", "slurmd", "slurm-client", "munge")
BINARIES = ("slurmctld", "slurmd", "sinfo", "sbatch", "squeue", "munged")


def missing_binaries() -> list[str]:
    """Return the SLURM/munge programs not on PATH (sbin included)."""
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    return [b for b in BINARIES if shutil.which(b, path=path) is None]


def install_packages(timeout_s: float = 600) -> str | None:
    """Install the SLURM and munge packages with apt when missing.

    Returns None when they are present afterwards, else the reason (for a skip)."""
    if os.geteuid() != 0:
        return "not root: cannot install or start SLURM daemons"
    if not missing_binaries():
        return None
    if shutil.which("apt-get") is None:
        return "no apt-get: cannot install slurmctld slurmd slurm-client munge"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq", *PACKAGES]):
        try:
            r = subprocess.run(["timeout", "-k", "10", str(int(timeout_s)), *cmd], env=env,
                               capture_output=True, text=True)
        except OSError as err:
            return f"{' '.join(cmd)} failed: {err}"
        if r.returncode != 0:
            return f"{' '.join(cmd)} failed (exit {r.returncode}): {r.stderr.strip()[-500:]}"
    missing = missing_binaries()
    return f"apt installed the packages but {missing} are still missing" if missing else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _mem_total_mb() -> int:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    raise RuntimeError("no MemTotal in /proc/meminfo")


class SingleNodeSlurm:
    """munged + slurmctld + slurmd on 127.0.0.1, configured and logged under ``root``.

    ``env`` is the environment for clients (sbatch, squeue, snakemake); ``cpus`` and
    ``mem_mb`` are what the node offers (all cores; MemTotal - 512 MB)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.cpus = os.cpu_count() or 1
        self.mem_mb = _mem_total_mb() - 512
        self.conf = self.root / "slurm.conf"
        self.pidfiles = {name: self.root / "run" / f"{name}.pid"
                         for name in ("munged", "slurmctld", "slurmd")}
        self.env = dict(os.environ, SLURM_CONF=str(self.conf))
        self.env["PATH"] = (f"{self.root / 'bin'}:" + self.env.get("PATH", "")
                            + ":/usr/sbin:/sbin")

    # ------------------------------------------------------------------ start
    def write_config(self) -> None:
        """Write slurm.conf and a private munge key (0600)."""
        for sub in ("run", "log", "state", "spool", "munge", "bin"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        srun = self.root / "bin" / "srun"
        real = shutil.which("srun")
        if real is None:
            raise RuntimeError("no srun on PATH: install slurm-client")
        srun.write_text(f"#!/bin/sh\nSLURM_CONF={self.conf} exec {real} \"$@\"\n")
        os.chmod(srun, 0o755)
        os.chmod(self.root / "munge", 0o700)
        key = self.root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        os.chmod(key, 0o600)
        r = self.root
        self.conf.write_text("\n".join([
            "ClusterName=stdpcapacity",
            "SlurmctldHost=localhost(127.0.0.1)",
            f"SlurmctldPort={_free_port()}",
            f"SlurmdPort={_free_port()}",
            "SlurmUser=root",
            "SlurmdUser=root",
            f"AuthInfo=socket={r}/munge/munge.socket",
            f"StateSaveLocation={r}/state",
            f"SlurmdSpoolDir={r}/spool",
            f"SlurmctldPidFile={self.pidfiles['slurmctld']}",
            f"SlurmdPidFile={self.pidfiles['slurmd']}",
            f"SlurmctldLogFile={r}/log/slurmctld.log",
            f"SlurmdLogFile={r}/log/slurmd.log",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core_Memory",
            "AccountingStorageType=accounting_storage/none",
            "JobAcctGatherType=jobacct_gather/none",
            "MpiDefault=none",
            "ReturnToService=2",
            "SchedulerType=sched/backfill",
            f"NodeName=localhost NodeAddr=127.0.0.1 CPUs={self.cpus} "
            f"RealMemory={self.mem_mb} State=UNKNOWN",
            "PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP",
            ""]))

    def _daemon(self, name: str, cmd: list[str]) -> None:
        """Start a daemonising program; wait for its pid file [up to 30 s]."""
        pidfile = self.pidfiles[name]
        pidfile.unlink(missing_ok=True)                        # a stale pid file misleads
        r = subprocess.run(["timeout", "-k", "5", "30", *cmd], env=self.env,
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{name} did not start (exit {r.returncode}): "
                               f"{r.stdout}{r.stderr}{self.log_tail(name)}")
        for _ in range(300):
            if pidfile.exists() and pidfile.read_text().strip():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{name} wrote no pid file {pidfile}{self.log_tail(name)}")

    def start(self, timeout_s: float = 60) -> None:
        """Start munged, slurmctld and slurmd; return when ``sinfo`` shows the node idle.

        This process becomes a child subreaper (Linux prctl), so the daemons, which fork
        away from it, stay its descendants and ``stop`` can reap them: an init that does
        not reap (a container's shell) would otherwise keep them as zombies."""
        PR_SET_CHILD_SUBREAPER = 36
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        self.write_config()
        m = self.root / "munge"
        self._daemon("munged", ["munged", "--force", f"--socket={m}/munge.socket",
                                f"--key-file={m}/munge.key", f"--log-file={self.root}/log/munged.log",
                                f"--pid-file={self.pidfiles['munged']}",
                                f"--seed-file={m}/munged.seed"])
        self._daemon("slurmctld", ["slurmctld", "-f", str(self.conf)])
        self._daemon("slurmd", ["slurmd", "-f", str(self.conf), "-N", "localhost"])
        t0 = time.monotonic()
        state = ""
        while time.monotonic() - t0 < timeout_s:
            r = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], env=self.env,
                               capture_output=True, text=True)
            state = r.stdout.strip()
            if state == "idle":
                return
            time.sleep(1)
        raise RuntimeError(f"node not idle after {timeout_s} s (sinfo: {state!r})"
                           f"{self.log_tail('slurmctld')}{self.log_tail('slurmd')}")

    def log_tail(self, name: str, n: int = 20) -> str:
        """Return the last ``n`` lines of a daemon's log (or '')."""
        log = self.root / "log" / f"{name}.log"
        if not log.exists():
            return ""
        return f"\n--- {log} ---\n" + "\n".join(log.read_text().splitlines()[-n:])

    # ------------------------------------------------------------------ stop
    def pids(self) -> dict[str, int]:
        """Return the pid of every daemon that wrote a pid file."""
        out = {}
        for name, f in self.pidfiles.items():
            try:
                out[name] = int(f.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                pass
        return out

    def stop(self, timeout_s: float = 20) -> list[int]:
        """Stop the daemons by their pids (SIGTERM, then SIGKILL after ``timeout_s``).

        Returns the pids still alive afterwards (empty when all stopped)."""
        pids = self.pids()
        for name in ("slurmd", "slurmctld", "munged"):         # clients first, munge last
            pid = pids.get(name)
            if pid is None:
                continue
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            t0 = time.monotonic()
            while _alive(pid) and time.monotonic() - t0 < timeout_s:
                time.sleep(0.1)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
                time.sleep(0.5)
        _reap()
        return [p for p in pids.values() if _alive(p)]


def _reap() -> None:
    """Collect every finished child (the daemons, reparented here by the subreaper)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _alive(pid: int) -> bool:
    """True when ``pid`` runs (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False
