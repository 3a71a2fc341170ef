"""Atomic file output, and reading result files with clear errors.

Every writer here writes to a temporary name in the target's directory and renames it
into place, so a killed run never leaves a truncated file under its final name.
"""
from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import io as _io
import json
import os
import shutil
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np


class ResultFileError(ValueError):
    """A result file that is missing, truncated or not what the step expects."""


class DiskFullError(OSError):
    """A result that does not fit on its file system. The message names the path, the
    space it needs and the space that is free; nothing is left under the final name."""


_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def _human(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def free_bytes(directory: str | Path) -> int:
    """Return the bytes free for this user on the file system holding ``directory``."""
    return shutil.disk_usage(directory).free


def disk_full(path: Path, needed: int | None, written: int | None = None) -> DiskFullError:
    """Return the DiskFullError for ``path`` that needs ``needed`` bytes (None: unknown;
    ``written``: bytes written before the file system filled up)."""
    try:
        free = free_bytes(path.parent)
    except OSError:
        free = None
    need = (f"it needs {_human(needed)}" if needed is not None else
            f"it needs more than the {_human(written or 0)} written before the disk filled")
    have = f"{_human(free)} free" if free is not None else "unknown free space"
    return DiskFullError(errno.ENOSPC, f"no space left to write '{path}': {need}, the file "
                         f"system holding '{path.parent}' has {have}. Free space there or "
                         f"write elsewhere (--out); nothing was left under that name")


def check_space(path: str | Path, needed: int) -> None:
    """Raise DiskFullError if the file system of ``path`` has less than ``needed`` bytes
    free (``path``'s directory is created if needed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if free_bytes(path.parent) < needed:
        raise disk_full(path, needed)


@contextlib.contextmanager
def atomic_path(path: str | Path, needed: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``.

    The temporary name keeps the suffix (some writers, such as NIX, look at it). On an
    exception the temporary file is removed and ``path`` is left untouched. ``needed``
    (bytes, if known) is checked against the free space first; a write that fills the
    file system (ENOSPC, EDQUOT) raises DiskFullError naming the path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if needed is not None:
        check_space(path, needed)
    tmp = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
    try:
        yield tmp
        if tmp.exists():
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as err:
        if err.errno in _NO_SPACE and not isinstance(err, DiskFullError):
            written = tmp.stat().st_size if tmp.exists() else None
            raise disk_full(path, needed, written) from None
        raise
    finally:
        if tmp.exists():
            tmp.unlink()


def _write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, after checking that it fits."""
    with atomic_path(path, needed=len(data)) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)


def json_default(o: Any) -> Any:
    """json.dumps' ``default``: numpy scalars and arrays as Python numbers and lists, paths as
    text."""
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_json(path: str | Path, data: Any) -> None:
    """Write ``data`` as indented JSON, atomically."""
    text = json.dumps(data, indent=2, default=json_default, allow_nan=True) + "\n"
    _write_bytes(path, text.encode())


# What a file of this name must hold at its top level (a JSON object with these keys,
# of these types), checked by read_json: a file damaged into other valid JSON is refused
# here, by name, not by a KeyError in the step that reads it.
JSON_KEYS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "provenance.json": {"config": dict, "seed": (int, type(None)), "backend": (str, type(None))},
}


# provenance.json of a run: {file name: sha256 hex digest} of the files simulate wrote
CHECKSUMS_KEY = "sha256"


def sha256_file(path: str | Path) -> str:
    """Return the sha256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(2**20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_recorded_checksum(path: Path) -> None:
    """Raise ResultFileError if the provenance.json beside ``path`` records a sha256 for it
    and the file's differs: the file was damaged after simulate wrote it. Checked before
    a reader parses the file, since a damaged HDF5 file can keep h5py busy indefinitely.
    Files without a recorded checksum (runs of older versions, other steps' files) pass;
    a damaged provenance.json is reported when it is read."""
    prov = path.parent / "provenance.json"
    if path.name == "provenance.json" or not prov.is_file():
        return
    try:
        recorded = json.loads(prov.read_bytes().decode("utf-8")).get(CHECKSUMS_KEY, {})
        recorded = recorded.get(path.name)
    except (ValueError, AttributeError, OSError, RecursionError):
        return
    if isinstance(recorded, str) and recorded != sha256_file(path):
        raise ResultFileError(f"'{path}' is damaged: its sha256 differs from the one simulate "
                              f"recorded in '{prov}' when it wrote the file; rerun simulate "
                              f"for that run directory")


def _damaged(what: str, path: Path, problem: str, fix: str = "") -> ResultFileError:
    """Return the one-line ResultFileError of a damaged result file."""
    fix = fix or "delete it and rerun the step that makes it"
    return ResultFileError(f"{what} '{path}' is {problem}; {fix}")


def read_json(path: str | Path, what: str = "result file") -> dict:
    """Return the JSON object in ``path``; ResultFileError names the file if it is
    missing, not UTF-8, corrupt, truncated, not an object, or (for the names in
    JSON_KEYS) lacks a key it must have."""
    path = Path(path)
    if not path.is_file():
        raise ResultFileError(f"{what} '{path}' is missing: run the step that makes it "
                              f"(e.g. `snakemake -c2`) first")
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        raise _damaged(what, path, f"corrupt or truncated ({' '.join(str(err).split())[:200]})") \
            from None
    except OSError as err:
        raise _damaged(what, path, f"unreadable ({err.strerror})") from None
    if not isinstance(data, dict):
        raise _damaged(what, path, f"damaged: it holds a JSON {type(data).__name__}, not an "
                                   f"object")
    for key, kind in JSON_KEYS.get(path.name, {}).items():
        if key in data and not isinstance(data[key], kind) or key not in data and kind is dict:
            raise _damaged(what, path, f"damaged: its key '{key}' is missing or of the wrong "
                                       f"type")
    return data


def write_text(path: str | Path, text: str) -> None:
    """Write a text file (Markdown, HTML), atomically."""
    _write_bytes(path, text.encode())


def copy_figure(png: str | Path, directory: str | Path) -> Path:
    """Copy a figure (its .png, and its .svg when there is one) into ``directory``,
    atomically; return the copy's .png path. A report links the copy, so that its
    directory holds every image it shows."""
    png, directory = Path(png), Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for src in (png, png.with_suffix(".svg")):
        if src.exists():
            _write_bytes(directory / src.name, src.read_bytes())
    return directory / png.name


def write_npz(path: str | Path, **arrays: np.ndarray) -> None:
    """Write arrays to a compressed .npz, atomically (compressed in memory first, so the
    space it needs is known before anything is written)."""
    buf = _io.BytesIO()
    np.savez_compressed(buf, **arrays)
    _write_bytes(path, buf.getvalue())


def read_npz(path: str | Path, required: Sequence[str] = ()) -> dict[str, np.ndarray]:
    """Load every array of an .npz into a dict.

    Raises ResultFileError naming the file if it is missing, truncated or lacks a key.
    """
    path = Path(path)
    if not path.is_file():
        raise ResultFileError(f"weights file '{path}' is missing: rerun `python -m pipeline "
                              f"simulate` for that run directory")
    check_recorded_checksum(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except Exception as err:  # zipfile, zlib, numpy's format reader: many types when damaged
        raise ResultFileError(f"'{path}' is corrupt or truncated ({type(err).__name__}: "
                              f"{' '.join(str(err).split())[:200]}); delete it and rerun the "
                              f"step that makes it") from None
    missing = [k for k in required if k not in data]
    if missing:
        raise ResultFileError(f"'{path}' lacks the arrays {missing}: it was written by another "
                              f"version of the pipeline; rerun the step that makes it")
    return data


def write_csv(path: str | Path, rows: Sequence[dict], fieldnames: Sequence[str] | None = None) -> None:
    """Write a list of dicts as CSV with a header row, atomically."""
    fieldnames = list(fieldnames or (rows[0].keys() if rows else []))
    buf = _io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=fieldnames)
    w.writeheader()
    w.writerows(rows)
    _write_bytes(path, buf.getvalue().encode())


# tables whose every cell is a number (nan allowed): a damaged cell is refused on reading
NUMERIC_TABLES = ("episodes.csv",)


def read_csv(path: str | Path) -> list[dict[str, str]]:
    """Return the rows of a CSV file as dicts of strings. ResultFileError names the file
    if it is missing, not UTF-8 text, has no header, a row with more or fewer cells than
    the header (a truncated file), or, for NUMERIC_TABLES, a cell that is not a number."""
    path = Path(path)
    if not path.is_file():
        raise ResultFileError(f"table '{path}' is missing: rerun the step that makes it")
    check_recorded_checksum(path)
    try:
        text = path.read_bytes().decode("utf-8")
        rows = list(csv.DictReader(_io.StringIO(text, newline=""), restkey="\0extra"))
    except UnicodeDecodeError as err:
        raise _damaged("table", path, f"not UTF-8 text (byte offset {err.start})") from None
    except (csv.Error, OSError) as err:
        raise _damaged("table", path, f"not a readable CSV table ({err})") from None
    if not text.strip():
        raise _damaged("table", path, "empty")
    for i, row in enumerate(rows):
        if None in row.values() or "\0extra" in row:
            raise _damaged("table", path, f"truncated or damaged: row {i + 2} has "
                                          f"{'fewer' if None in row.values() else 'more'} "
                                          f"cells than the header")
        if path.name in NUMERIC_TABLES:
            for key, cell in row.items():
                try:
                    float(cell)
                except ValueError:
                    raise _damaged("table", path, f"damaged: row {i + 2}, column '{key}' "
                                                  f"holds '{cell[:20]}', not a number") from None
    return rows


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


# Size of a NIX file written by neo (measured with nixio 1.5.4 / h5py, neo 0.14.6): about
# 65 kB per file, 15 kB per spike train and 8-10 bytes per spike; epochs ~ 64 bytes each.
_NIX_BYTES = {"file": 65_000, "spiketrain": 15_000, "spike": 10, "epoch": 64}
_NIX_MARGIN = 1.25     # the estimate's headroom: the measured sizes spread by about 10%


def nix_size_estimate(block) -> int:
    """Return the bytes a NIX file of the neo Block ``block`` needs (an upper estimate)."""
    trains = [st for seg in block.segments for st in seg.spiketrains]
    epochs = sum(len(ep) for seg in block.segments for ep in seg.epochs)
    n = (_NIX_BYTES["file"] + _NIX_BYTES["spiketrain"] * len(trains)
         + _NIX_BYTES["spike"] * sum(len(st) for st in trains) + _NIX_BYTES["epoch"] * epochs)
    return int(n * _NIX_MARGIN)


def write_spikes_nix(path: str | Path, block) -> None:
    """Write a neo Block to a NIX file, atomically.

    HDF5 buffers its writes and fails only when the file is closed if the disk fills up
    (and may leave the process in a bad state), so the space is checked first against an
    upper estimate of the file's size."""
    from neo.io import NixIO

    needed = nix_size_estimate(block)
    with atomic_path(path, needed=needed) as tmp:
        io = NixIO(str(tmp), mode="ow")
        try:
            io.write_block(block)
        finally:
            try:
                io.close()
            except RuntimeError as err:       # h5py: "Unable to flush file" on a full disk
                if free_bytes(Path(path).parent) < 2**20:
                    raise disk_full(Path(path), needed) from None
                raise err


def read_spikes_nix(path: str | Path):
    """Return the first neo Block of a NIX file; ResultFileError if it is missing or bad."""
    from neo.io import NixIO

    path = Path(path)
    if not path.is_file():
        raise ResultFileError(f"spike file '{path}' is missing: rerun `python -m pipeline "
                              f"simulate` for that run directory")
    check_recorded_checksum(path)
    try:
        io = NixIO(str(path), mode="ro")
        try:
            block = io.read_block()
        finally:
            io.close()
    except Exception as err:  # nixio/h5py raise many types for a damaged file
        raise ResultFileError(f"spike file '{path}' is corrupt or truncated ("
                              f"{' '.join(str(err).split())[:200]}); delete it and rerun "
                              f"simulate") from None
    seg = block.segments[0] if block is not None and block.segments else None
    if seg is None or not any(e.name == "phases" for e in seg.epochs) or any(
            "population" not in st.annotations or "index" not in st.annotations
            for st in seg.spiketrains):
        raise ResultFileError(f"spike file '{path}' is damaged: it lacks the run's segment, "
                              f"its 'phases' epoch or the neurons' population and index; "
                              f"delete it and rerun simulate")
    return block
