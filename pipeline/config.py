"""Check an experiment config against ``config/schema.yaml`` and the cross-key rules (the
files and overrides are read and combined by ``pipeline/config_sources.py``).

Every problem is reported before anything is simulated, as a :class:`ConfigError` whose
message names the key, the bad value and what is allowed.
"""
from __future__ import annotations

import copy
import functools
import difflib
import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any

import yaml

from .parameters import whole_count

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "config" / "schema.yaml"

# Keys that select which runs to make, not what one run computes: they stay out of the
# config hash, so runs of different seeds or backends of one experiment can be combined.
_UNHASHED = (("simulation", "seeds"), ("simulation", "backends"))
# Sections that only say what to do besides the experiment's runs (which comparisons to
# make, which other parameter values to sweep: each sweep point has its own config and hash)
_UNHASHED_SECTIONS = ("validation", "sweep")
# Keys added after runs existed: at their default they leave the hash (and so every finished
# run's identity) as it was; any other value is a different experiment
_HASHED_UNLESS_DEFAULT = {("simulation", "replicate"): 0, ("theory", "finite_step"): False}


# Seeds a user may give (--seed, simulation.seeds, sweep.seeds, validation seeds): every one
# is a valid NEST seed (NEST takes 1 .. 2^32 - 2), a valid numpy seed, and leaves room for
# sPyNNaker's per-source seeds (seed + source index < 2^32). The schema holds the same range.
SEED_MIN, SEED_MAX = 1, 2**31 - 2
# A run's time steps: a time t = k dt in float64 ms is exact to within dt/2 only while
# k < 2^52 (beyond, neighbouring steps round to the same float).
STEPS_MAX = 2**52


class ConfigError(ValueError):
    """A config that must not be run. The message says which key, and what is allowed."""


# ----------------------------------------------------------------- numbers as people write them
# YAML 1.1 (PyYAML) reads 1e-3, 2E5 and 1e+2 as strings: its float pattern needs a dot. This
# is the YAML 1.2 core schema's float pattern (plus PyYAML's '_' digit separators).
_FLOAT_TEXT = re.compile(r"""^(?:
    [-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)?   # 1.5 .5 1. 1.5e-3
  | [-+]?[0-9][0-9_]*[eE][-+]?[0-9]+                      # 1e-3, 2E5, 1e+2
  | [-+]?\.(?:inf|Inf|INF)                               # infinities (rejected later)
  | \.(?:nan|NaN|NAN)                                    # not a number (rejected later)
)$""", re.X)
_INT_TEXT = re.compile(r"^[-+]?[0-9][0-9_]*$")


class NumberLoader(yaml.SafeLoader):
    """PyYAML's safe loader that also reads ``1e-3``, ``2E5`` and ``1e+2`` as floats."""


NumberLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_TEXT,
                                   list("-+0123456789."))


def load_yaml(text_or_stream) -> Any:
    """Return the YAML document in ``text_or_stream`` read with :class:`NumberLoader`."""
    return yaml.load(text_or_stream, Loader=NumberLoader)  # noqa: S506 (a SafeLoader)


def parse_number(text: str) -> int | float | None:
    """Return the int or float a string spells (``'2E5'``, ``'1e-3'``, ``'.inf'``), or None
    when it is not a number."""
    t = text.strip()
    if _INT_TEXT.match(t):
        return int(t.replace("_", ""))
    if _FLOAT_TEXT.match(t):
        return yaml.load(t, Loader=NumberLoader)  # noqa: S506
    return None


def load_schema() -> dict:
    """Return the JSON schema (a dict) from ``config/schema.yaml``."""
    return copy.deepcopy(_schema())


@functools.lru_cache(maxsize=1)
def _schema() -> dict:
    with open(SCHEMA_PATH) as fh:
        return yaml.safe_load(fh)


# Reading config files and overrides and combining them: pipeline/config_sources.py
# (config/default.yaml, then the files, then the overrides; one rule for the CLI and Snakemake).


# what a YAML parser may raise on damaged text besides YAMLError: PyYAML's constructors
# raise ValueError/OverflowError (a timestamp like 2001-13-45, a huge exponent), deep
# nesting RecursionError
_YAML_FAILURES = (yaml.YAMLError, ValueError, OverflowError, RecursionError, TypeError)


def _one_line(err: Exception) -> str:
    """Return an exception's message on one line (PyYAML's span several)."""
    return " ".join(str(err).split()) or type(err).__name__


def read_config_file(path: Path) -> dict:
    """Return the mapping in the YAML config file ``path``. ConfigError names the file and
    what is wrong: missing, a directory, unreadable, empty, binary, not UTF-8, not YAML,
    or not a mapping of sections."""
    fix = "pass a YAML file of sections (network, noise, ...), e.g. config/default.yaml"
    if path.is_dir():
        raise ConfigError(f"config file '{path}' is a directory: {fix}")
    if not path.is_file():
        raise ConfigError(f"config file '{path}' does not exist: pass an existing YAML file, "
                          f"e.g. config/default.yaml")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ConfigError(f"config file '{path}' cannot be read ({err.strerror}): {fix}") \
            from None
    if not data.strip():
        raise ConfigError(f"config file '{path}' is empty: {fix}")
    if b"\0" in data:
        raise ConfigError(f"config file '{path}' is binary (it holds NUL bytes), not YAML "
                          f"text: {fix}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        raise ConfigError(f"config file '{path}' is not UTF-8 text: byte 0x{data[err.start]:02x} "
                          f"at line {line} (offset {err.start}); save the file as UTF-8") \
            from None
    try:
        raw = load_yaml(text)
    except _YAML_FAILURES as err:
        raise ConfigError(f"config file '{path}' is not valid YAML: {_one_line(err)}") from None
    if raw is None:
        raise ConfigError(f"config file '{path}' holds no settings (only comments): {fix}")
    if not isinstance(raw, dict):
        raise ConfigError(f"config file '{path}' must hold a mapping of sections "
                          f"(network, noise, inputs, ...), not {type(raw).__name__}")
    return raw


def _types(node: dict) -> set[str]:
    """Return the JSON types a schema node allows (through oneOf/anyOf)."""
    t = node.get("type")
    out = set(t if isinstance(t, list) else [t] if t else [])
    for alt in node.get("oneOf", []) + node.get("anyOf", []):
        out |= _types(alt)
    return out


def coerce_numbers(value: Any, node: dict) -> Any:
    """Return ``value`` with numbers written as text read as numbers where the schema
    ``node`` wants a number: Snakemake's ``--config`` (every nested value a string) and
    YAML 1.1 (``1e-3`` a string) hand them over as strings. Integral floats become ints
    for integer keys (``episodes: 1e3``). Anything else is left for the schema check."""
    if isinstance(value, dict):
        props = node.get("properties", {})
        return {k: coerce_numbers(v, props.get(k, {})) for k, v in value.items()}
    if isinstance(value, list):
        items = node.get("items", {})
        return [coerce_numbers(v, items) for v in value]
    types = _types(node)
    if isinstance(value, str) and types & {"number", "integer"} and "string" not in types:
        number = parse_number(value)
        if number is not None:
            value = number
    elif isinstance(value, str) and "boolean" in types and value.lower() in ("true", "false"):
        value = value.lower() == "true"
    elif isinstance(value, str) and "null" in types and value in ("null", "~", "None"):
        value = None
    if (isinstance(value, float) and "integer" in types and "number" not in types
            and math.isfinite(value) and value.is_integer()):
        value = int(value)
    return value


def non_finite(value: Any, path: tuple = ()) -> list[tuple[str, float]]:
    """Return (dotted key, value) of every NaN or infinite number in a config."""
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in non_finite(v, path + (str(k),))]
    if isinstance(value, list):
        return [x for i, v in enumerate(value) for x in non_finite(v, path + (str(i),))]
    if isinstance(value, float) and not math.isfinite(value):
        return [(".".join(path) or "<top level>", value)]
    return []


def validate_config(raw: dict, check_sweep: bool = True) -> dict:
    """Validate a config dict against the schema and the cross-key rules.

    Numbers written as text (``'1e-3'``) are read as numbers first (:func:`coerce_numbers`);
    NaN and infinity are refused for every key. Returns a deep copy with schema defaults
    filled in. Raises ConfigError on the first problems found (all schema violations are
    listed, one per line).
    """
    import jsonschema

    if not isinstance(raw, dict):
        raise ConfigError(f"a config must be a mapping of sections (network, noise, ...), "
                          f"not {type(raw).__name__}")
    schema = load_schema()
    cfg = coerce_numbers(copy.deepcopy(raw), schema)
    bad = non_finite(cfg)
    if bad:
        raise ConfigError("\n".join(
            f"config key '{key}' = {v!r} is not a finite number: NaN and infinity are not "
            f"allowed{_what(schema, key)}" for key, v in bad))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(cfg), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise ConfigError("\n".join(_describe(e, schema) for e in errors))
    _fill_defaults(cfg, schema)
    _check_cross_keys(cfg)
    if check_sweep:
        problems = _check_sweep(cfg)
        if problems:
            raise ConfigError("\n".join(problems))
    return cfg


def config_hash(cfg: dict) -> str:
    """Return a short sha256 hex digest of the config that identifies an experiment.

    Seeds, the list of backends and the validation and sweep sections are left out (see
    _UNHASHED, _UNHASHED_SECTIONS);
    simulation.replicate counts only when it is not 0.
    """
    c = copy.deepcopy(cfg)
    for section, key in _UNHASHED:
        c.get(section, {}).pop(key, None)
    for section in _UNHASHED_SECTIONS:
        c.pop(section, None)
    for (section, key), value in _HASHED_UNLESS_DEFAULT.items():
        if c.get(section, {}).get(key, value) == value:
            c.get(section, {}).pop(key, None)
            if section in c and not c[section]:       # an optional section left empty
                c.pop(section)
    blob = json.dumps(c, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _what(schema: dict, dotted: str) -> str:
    node = _sub_schema(schema, [int(p) if p.isdigit() else p for p in dotted.split(".")])
    return f" ({node['description']})" if node.get("description") else ""


def _shown(key) -> str:
    """A key as text for a one-line message: escaped if it holds control characters."""
    text = str(key)
    return text if text.isprintable() else repr(text)[1:-1]


def _key(err) -> str:
    return ".".join(_shown(p) for p in err.absolute_path) or "<top level>"


def _sub_schema(schema: dict, path) -> dict:
    node = schema
    for p in path:
        props = node.get("properties", {})
        if isinstance(p, str) and p in props:
            node = props[p]
        elif not isinstance(p, str) and "items" in node:
            node = node["items"]
        else:
            return {}
    return node


def _number_text(x) -> str:
    """A bound as people read it: integers in full (9007199254740992), floats short."""
    return str(x) if isinstance(x, int) else f"{x:g}"


def _describe(err, schema: dict) -> str:
    key = _key(err)
    node = _sub_schema(schema, err.absolute_path)
    what = f" ({node['description']})" if node.get("description") else ""
    v = err.validator
    if v == "additionalProperties":
        allowed = sorted(node.get("properties", {}))
        extra = [k for k in err.instance if k not in node.get("properties", {})]
        parts = []
        for k in extra:
            near = difflib.get_close_matches(str(k), allowed, n=1)
            hint = f"; did you mean '{near[0]}'?" if near else ""
            where = f"{key}.{_shown(k)}" if err.absolute_path else _shown(k)
            parts.append(f"unknown config key '{where}'{hint} Allowed here: {', '.join(allowed)}")
        return "\n".join(parts)
    if v == "required":
        missing = err.message.split("'")[1]
        if not err.absolute_path:
            return f"config section '{missing}' is missing (required)"
        return f"config key '{key}.{missing}' is missing (required)"
    bound = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
    if v in bound:
        reason = f"; {err.schema['reason']}" if err.schema.get("reason") else ""
        return (f"config key '{key}' = {err.instance!r} is out of range: it must be "
                f"{bound[v]} {_number_text(err.validator_value)}{what}{reason}")
    if v == "type":
        return (f"config key '{key}' = {err.instance!r} has the wrong type: it must be "
                f"{err.validator_value}{what}")
    if v == "enum":
        return (f"config key '{key}' = {err.instance!r} is not allowed: choose one of "
                f"{', '.join(map(str, err.validator_value))}{what}")
    if v == "oneOf":
        return (f"config key '{key}' = {err.instance!r} is not allowed: it must be a number "
                f">= 0 or 'stationary'{what}")
    return f"config key '{key}' = {err.instance!r}: {err.message}{what}"


def _fill_defaults(cfg: dict, schema: dict) -> None:
    for name, sub in schema.get("properties", {}).items():
        if name not in cfg and "default" in sub:
            cfg[name] = copy.deepcopy(sub["default"])
        if isinstance(cfg.get(name), dict) and sub.get("type") == "object":
            _fill_defaults(cfg[name], sub)


def _check_cross_keys(cfg: dict) -> None:
    net, inp, tgt = cfg["network"], cfg["inputs"], cfg["targets"]
    proto, sim, rec = cfg["protocol"], cfg["simulation"], cfg["recording"]
    problems = []
    for key, frac, total_key, total, of in (
            ("inputs.f_c", inp["f_c"], "inputs.m", inp["m"], "input neuron"),
            ("targets.f_s", tgt["f_s"], "network.n_exc", net["n_exc"], "E neuron")):
        n = frac * total
        whole = whole_count(frac, total)
        if whole is None:
            lo, hi = math.floor(n), math.ceil(n)
            problems.append(
                f"config key '{key}' = {frac:g} makes {frac:g} * '{total_key}' = {n:g} {of}s: "
                f"the simulation and the theory need a whole number; use "
                + " or ".join(f"{key.split('.')[1]} = {k / total:g}" for k in (lo, hi) if k >= 1)
                + " (docs/design.md section 3)")
        elif whole < 1:
            problems.append(f"config key '{key}' = {frac:g} makes {frac:g} * '{total_key}' = "
                            f"{n:g} {of}s: a pattern needs at least 1; raise {key} or "
                            f"{total_key}")
    if net["c_exc"] > net["n_exc"]:
        problems.append(f"config key 'network.c_exc' = {net['c_exc']} exceeds "
                        f"'network.n_exc' = {net['n_exc']}: the in-degree must be <= n_exc")
    if net["c_inh"] > net["n_inh"]:
        problems.append(f"config key 'network.c_inh' = {net['c_inh']} exceeds "
                        f"'network.n_inh' = {net['n_inh']}: the in-degree must be <= n_inh")
    dt = sim["dt_ms"]
    for k in ("t_train_ms", "t_warm_ms"):
        steps = proto[k] / dt
        if abs(steps - round(steps)) > 1e-6:
            problems.append(f"config key 'protocol.{k}' = {proto[k]} is not a whole number of "
                            f"time steps of simulation.dt_ms = {dt}")
    steps = proto["episodes"] * (proto["t_warm_ms"] + proto["t_train_ms"]) / dt
    if steps > STEPS_MAX:
        problems.append(f"config keys 'protocol.episodes' * ('protocol.t_warm_ms' + "
                        f"'protocol.t_train_ms') = {steps:.3g} time steps of simulation.dt_ms "
                        f"= {dt}: spike times in ms stay on the step grid only up to 2^52 "
                        f"steps; run fewer or shorter episodes, or a longer dt_ms")
    ro = cfg["readout"]
    if ro.get("spiking"):
        for k in ("t_recall_ms", "t_recall_gap_ms"):
            steps = ro[k] / dt
            if abs(steps - round(steps)) > 1e-6:
                problems.append(f"config key 'readout.{k}' = {ro[k]} is not a whole number of "
                                f"time steps of simulation.dt_ms = {dt}")
    bad = [e for e in rec["full_weights_at"] if e >= proto["episodes"]]
    if bad:
        problems.append(f"config key 'recording.full_weights_at' has episodes {bad} >= "
                        f"protocol.episodes = {proto['episodes']}; episodes count from 0")
    for pop in ("exc", "inh"):
        if rec[f"n_{pop}_sample"] > net[f"n_{pop}"]:
            problems.append(f"config key 'recording.n_{pop}_sample' = {rec[f'n_{pop}_sample']} "
                            f"exceeds the population size network.n_{pop} = {net[f'n_{pop}']}")
    if cfg["weights"]["m0"] > cfg["stdp"]["w_max"]:
        problems.append(f"config key 'weights.m0' = {cfg['weights']['m0']} exceeds "
                        f"'stdp.w_max' = {cfg['stdp']['w_max']}")
    problems += _check_validation(cfg)
    if problems:
        raise ConfigError("\n".join(problems))


def _check_validation(cfg: dict) -> list[str]:
    """Comparisons need >= 2 seeds a side, unique names, and other seeds when A = B."""
    problems, names = [], set()
    seeds = cfg["simulation"]["seeds"]
    for i, c in enumerate(cfg.get("validation", {}).get("comparisons", [])):
        where = f"validation.comparisons[{i}] ('{c['name']}')"
        if c["name"] in names:
            problems.append(f"config key {where}: the name is used twice; names must be unique")
        names.add(c["name"])
        sa, sb = c.get("seeds_a", seeds), c.get("seeds_b", seeds)
        for side, s in (("seeds_a", sa), ("seeds_b", sb)):
            if len(s) < 2:
                problems.append(f"config key {where}.{side} = {s}: validation needs at least 2 "
                                f"seeds per side (set {side}, add seeds to simulation.seeds, or "
                                f"switch validation off with validation.comparisons: [])")
        if c["a"] == c["b"] and set(sa) & set(sb) and not c.get("replicate_b"):
            problems.append(f"config key {where}: a = b = '{c['a']}' with shared seeds "
                            f"{sorted(set(sa) & set(sb))}; give side B a replicate "
                            f"(replicate_b: 1) or other seeds (seeds_b)")
        if set(sa) & set(sb) and set(sa) != set(sb):
            problems.append(f"config key {where}: seeds_a {sa} and seeds_b {sb} share some "
                            f"seeds but not all; give both sides the same seeds (paired) or "
                            f"disjoint ones (unpaired)")
    if cfg.get("validation", {}).get("comparisons"):
        from .io import ResultFileError
        from .validation.tolerances import check_tolerances
        try:
            check_tolerances(cfg["validation"].get("tolerances"), "validation")
        except ResultFileError as err:
            problems.append(str(err))
    return problems


def _check_sweep(cfg: dict) -> list[str]:
    """Every sweep value must make a valid config of its own."""
    sweep = cfg.get("sweep")
    if not sweep:
        return []
    section, key = sweep["parameter"].split(".")
    node = load_schema()["properties"].get(section, {}).get("properties", {}).get(key)
    if node is None or node.get("type") not in ("number", "integer"):
        return [f"config key 'sweep.parameter' = '{sweep['parameter']}' is not a numeric "
                f"config key (e.g. inputs.f_c)"]
    problems = []
    extra = [b for b in sweep.get("backends", []) if b not in cfg["simulation"]["backends"]]
    if extra:
        problems.append(f"config key 'sweep.backends' names {extra}, which are not in "
                        f"simulation.backends {cfg['simulation']['backends']}: add them "
                        f"there or remove them from sweep.backends")
    for v in sorted(set(sweep["theory_values"]) | set(sweep["simulation_values"])):
        point = copy.deepcopy(cfg)
        point[section][key] = v
        try:
            validate_config(point, check_sweep=False)
        except ConfigError as err:
            problems.append(f"config key 'sweep' value {v} for {sweep['parameter']}: {err}")
    return problems
