"""One writer per run directory: an advisory lock file (``flock``) that holds the pid.

The kernel releases an ``flock`` when its process ends, however it ends, so the lock of a
killed run never blocks a rerun; the file itself stays (it is not a result).
"""
from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

LOCK_NAME = ".simulate.lock"


class RunLockedError(RuntimeError):
    """Another process holds the run directory."""


class RunLock:
    """Exclusive lock of a run directory for the life of one step.

    ``acquire()`` raises RunLockedError naming the holder's pid if another process holds
    it; use as a context manager.
    """

    def __init__(self, run_dir: str | Path) -> None:
        self.path = Path(run_dir) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> "RunLock":
        """Take the lock (without waiting) and write our pid into it; return self.
        A full disk raises pipeline.io.DiskFullError naming the lock file."""
        try:
            return self._acquire()
        except OSError as err:
            from .io import DiskFullError, disk_full
            if err.errno in (errno.ENOSPC, errno.EDQUOT) and not isinstance(err, DiskFullError):
                raise disk_full(self.path, 4096) from None
            raise

    def _acquire(self) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise RunLockedError(
                f"run directory '{self.path.parent}' is in use by another simulate (pid "
                f"{holder}, lock file {self.path}); wait for it to finish or choose another "
                f"--out") from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            raise
        self._fd = fd
        return self

    def release(self) -> None:
        """Release the lock (the file stays, emptied of the pid)."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
