"""Atomic file output, and reading result files with clear errors.

Every writer here writes to a temporary name in the target's directory and renames it
into place, so a killed run never leaves a truncated file under its final name.
"""
from __future__ import annotations

import contextlib
import csv
import json
import os
import zipfile
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np


class ResultFileError(ValueError):
    """A result file that is missing, truncated or not what the step expects."""


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``.

    The temporary name keeps the suffix (some writers, such as NIX, look at it). On an
    exception the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
    try:
        yield tmp
        if tmp.exists():
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_json(path: str | Path, data: Any) -> None:
    """Write ``data`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w") as fh:
            json.dump(data, fh, indent=2, default=_default, allow_nan=True)
            fh.write("\n")


def read_json(path: str | Path, what: str = "result file") -> Any:
    """Return the parsed JSON in ``path``; ResultFileError names the file if it is bad."""
    path = Path(path)
    if not path.is_file():
        raise ResultFileError(f"{what} '{path}' is missing: run the step that makes it "
                              f"(e.g. `snakemake -c2`) first")
    try:
        with open(path) as fh:
            return json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ResultFileError(f"{what} '{path}' is corrupt or truncated ({err}); delete it "
                              f"and rerun the step that makes it") from None


def write_text(path: str | Path, text: str) -> None:
    """Write a text file (Markdown, HTML), atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w") as fh:
            fh.write(text)


def write_npz(path: str | Path, **arrays: np.ndarray) -> None:
    """Write arrays to a compressed .npz, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)


def read_npz(path: str | Path, required: Sequence[str] = ()) -> dict[str, np.ndarray]:
    """Load every array of an .npz into a dict.

    Raises ResultFileError naming the file if it is missing, truncated or lacks a key.
    """
    path = Path(path)
    if not path.is_file():
        raise ResultFileError(f"weights file '{path}' is missing: rerun `python -m pipeline "
                              f"simulate` for that run directory")
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        raise ResultFileError(f"'{path}' is corrupt or truncated ({err}); delete it and "
                              f"rerun the step that makes it") from None
    missing = [k for k in required if k not in data]
    if missing:
        raise ResultFileError(f"'{path}' lacks the arrays {missing}: it was written by another "
                              f"version of the pipeline; rerun the step that makes it")
    return data


def write_csv(path: str | Path, rows: Sequence[dict], fieldnames: Sequence[str] | None = None) -> None:
    """Write a list of dicts as CSV with a header row, atomically."""
    fieldnames = list(fieldnames or (rows[0].keys() if rows else []))
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=fieldnames)
            w.writeheader()
            w.writerows(rows)


def read_csv(path: str | Path) -> list[dict[str, str]]:
    """Return the rows of a CSV file as dicts of strings."""
    path = Path(path)
    if not path.is_file():
        raise ResultFileError(f"table '{path}' is missing: rerun the step that makes it")
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def save_figure(fig, path_stem: str | Path) -> list[Path]:
    """Save a matplotlib figure as ``<stem>.png`` and ``<stem>.svg``, atomically.

    Returns the two paths written.
    """
    out = []
    for ext in (".png", ".svg"):
        p = Path(str(path_stem) + ext)
        with atomic_path(p) as tmp:
            fig.savefig(tmp, dpi=150, bbox_inches="tight")
        out.append(p)
    return out


def write_spikes_nix(path: str | Path, block) -> None:
    """Write a neo Block to a NIX file, atomically."""
    from neo.io import NixIO

    with atomic_path(path) as tmp:
        io = NixIO(str(tmp), mode="ow")
        try:
            io.write_block(block)
        finally:
            io.close()


def read_spikes_nix(path: str | Path):
    """Return the first neo Block of a NIX file; ResultFileError if it is missing or bad."""
    from neo.io import NixIO

    path = Path(path)
    if not path.is_file():
        raise ResultFileError(f"spike file '{path}' is missing: rerun `python -m pipeline "
                              f"simulate` for that run directory")
    try:
        io = NixIO(str(path), mode="ro")
        try:
            return io.read_block()
        finally:
            io.close()
    except Exception as err:  # nixio/h5py raise many types for a damaged file
        raise ResultFileError(f"spike file '{path}' is corrupt or truncated ({err}); delete "
                              f"it and rerun simulate") from None
