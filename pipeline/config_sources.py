"""Where an experiment config comes from: the one rule that combines config files and
overrides, used by ``python -m pipeline STEP --config FILE [--set ...]`` and by the
Snakefile (``snakemake --configfile FILE ... --config ...``) alike.

The rule (docs/design.md section 10):

1. start from ``config/default.yaml`` (every shipped config is an overlay of it);
2. lay each config file over it, in the order given;
3. lay each override over that, in the order given: ``section.key=VALUE`` or
   ``section=VALUE`` (VALUE in YAML, ``1e-3`` a number), or a mapping such as
   Snakemake's ``--config`` (whose nested values arrive as strings and are read as YAML);
4. "lay over" is a recursive merge: a mapping merges key by key into a mapping, any other
   value (a number, a string, a list) replaces what was there.

The result is checked afterwards (:func:`pipeline.config.validate_config`); a key cannot be
removed by an overlay, only set (to a list, null, ...). Layering: this module reads and
merges; it imports only :mod:`pipeline.config`'s YAML reader and error type.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from .config import _YAML_FAILURES, ConfigError, _one_line, _shown, load_yaml, \
    read_config_file, validate_config

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config" / "default.yaml"

Override = str | Mapping[str, Any]


def read_file(path: str | Path) -> dict:
    """Return the mapping in the YAML file ``path``; ConfigError naming the file if it is
    missing, a directory, empty, binary, not UTF-8, not YAML, or not a mapping of sections
    (:func:`pipeline.config.read_config_file`)."""
    return read_config_file(Path(path))


def merge(base: dict, over: Mapping) -> dict:
    """Lay ``over`` onto ``base`` in place (step 4 of the rule) and return ``base``."""
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = copy.deepcopy(dict(value) if isinstance(value, Mapping) else value)
    return base


def _as_yaml(value: Any) -> Any:
    """A value from the command line, read as YAML where it is text (Snakemake's
    ``--config`` hands nested values over as strings): ``'1e-3'`` -> 0.001, ``'[1, 2]'`` ->
    [1, 2]; text that is not YAML stays text."""
    if isinstance(value, Mapping):
        return {k: _as_yaml(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_yaml(v) for v in value]
    if isinstance(value, str):
        try:
            return load_yaml(value)
        except _YAML_FAILURES:
            return value
    return value


def _nested(dotted: str, value: Any, item: Any) -> dict:
    parts = str(dotted).strip().split(".")
    if not 1 <= len(parts) <= 2 or not all(parts):
        raise ConfigError(f"override '{_shown(item)}' must look like section.key=VALUE or "
                          f"section=VALUE, e.g. noise.d_exc=1e-1")
    return {parts[0]: value} if len(parts) == 1 else {parts[0]: {parts[1]: value}}


def override_mapping(item: Override) -> dict:
    """Return the nested mapping one override sets: ``'noise.d_exc=1e-1'`` ->
    ``{'noise': {'d_exc': 0.1}}``; a mapping (keys ``section`` or ``section.key``) has its
    text values read as YAML."""
    if isinstance(item, Mapping):
        out: dict = {}
        for key, value in item.items():
            merge(out, _nested(key, _as_yaml(value), item))
        return out
    dotted, sep, text = str(item).partition("=")
    if not sep:
        raise ConfigError(f"override '{_shown(item)}' must look like section.key=VALUE, e.g. "
                          f"noise.d_exc=1e-1")
    try:
        value = load_yaml(text)
    except _YAML_FAILURES as err:
        raise ConfigError(f"override '{_shown(item)}': VALUE is not valid YAML "
                          f"({_one_line(err)})") from None
    return _nested(dotted, value, item)


def combine(files: Iterable[str | Path] = (), overrides: Iterable[Override] = ()) -> dict:
    """Return the raw (unchecked) config: ``config/default.yaml``, then ``files``, then
    ``overrides``, each laid over the one before (the module's rule)."""
    cfg = read_file(DEFAULT_CONFIG)
    for path in files:
        merge(cfg, read_file(path))
    for item in overrides:
        merge(cfg, override_mapping(item))
    return cfg


def load_config(files: str | Path | Iterable[str | Path] = (),
                overrides: Iterable[Override] = ()) -> dict:
    """Return the checked config of ``files`` and ``overrides`` combined by the rule
    (defaults filled in). Raises ConfigError naming the files and the key."""
    if isinstance(files, (str, Path)):
        files = [files]
    files = list(files)
    raw = combine(files, overrides)
    try:
        return validate_config(raw)
    except ConfigError as err:
        where = " over ".join([str(f) for f in reversed(files)] + [str(DEFAULT_CONFIG.name)])
        raise ConfigError(f"{where}: {err}") from None
