"""Generated inputs (hypothesis): configs of every class a careless user or a sweep script
makes, damaged config bytes, and damaged result files. Each input either works or ends in
the project's own error (ConfigError, its TheoryError, ResultFileError), never another
exception; at the command line, one line and exit status 2.

Two profiles: 'generated-fast' (a few hundred examples in all, derandomized: the same
cases every run) in the default tier, 'generated-slow' (several thousand, random) behind
the ``slow`` marker: ``pytest -m slow tests/test_generated_inputs.py``. The slow run's
count and time are in docs/reliability.md.
"""
from __future__ import annotations

import contextlib
import copy
import io
import math
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.config import ConfigError, load_schema, validate_config
from pipeline.config_sources import load_config, merge, override_mapping
from pipeline.io import ResultFileError
from tests.conftest import ROOT, tiny_config_dict

_COMMON = dict(deadline=None, database=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                      HealthCheck.data_too_large])
settings.register_profile("generated-fast", derandomize=True, **_COMMON)
settings.register_profile("generated-slow", derandomize=False, **_COMMON)
FAST = settings.get_profile("generated-fast")
SLOW = settings.get_profile("generated-slow")

# examples per property: (fast tier, slow tier). The theory costs ~1 s per config, the
# others milliseconds.
EXAMPLES = {"configs": (300, 4000), "bytes": (150, 2000), "theory": (8, 150),
            "files": (80, 1000)}


def profile(name: str, slow: bool) -> settings:
    return settings(SLOW if slow else FAST, max_examples=EXAMPLES[name][slow])


def fast_and_slow(name: str, check, **strategies):
    """Return the two tests of one property: ``check`` on the fast profile's examples, and
    on the slow profile's behind the ``slow`` marker."""
    fast = profile(name, slow=False)(given(**strategies)(check))
    slow = pytest.mark.slow(profile(name, slow=True)(given(**strategies)(check)))
    return fast, slow


# ------------------------------------------------------------------- the schema's leaves
SCHEMA = load_schema()


def _leaves(node: dict, prefix=()):
    for name, sub in node.get("properties", {}).items():
        if sub.get("type") == "object" and "properties" in sub:
            yield from _leaves(sub, prefix + (name,))
        else:
            yield prefix + (name,), sub


LEAVES = list(_leaves(SCHEMA))
SECTIONS = [n for n, s in SCHEMA["properties"].items() if s.get("type") == "object"]


def _numeric(sub: dict) -> dict | None:
    """The numeric schema node of a leaf (through oneOf), or None."""
    for node in [sub] + sub.get("oneOf", []):
        t = node.get("type")
        if t in ("number", "integer") or (isinstance(t, list) and "integer" in t):
            return node
    return None


NUMERIC = [(p, _numeric(s)) for p, s in LEAVES if _numeric(s) is not None]


def test_every_numeric_key_has_bounds_and_a_reason():
    """config/schema.yaml: a lower and an upper bound and the reason for them on every
    numeric key (the swept values are checked against the swept key's own)."""
    bare = [".".join(p) for p, n in NUMERIC
            if not ({"minimum", "exclusiveMinimum"} & set(n) and
                    {"maximum", "exclusiveMaximum"} & set(n) and n.get("reason"))
            and "enum" not in n]
    assert bare == []
    assert len(NUMERIC) > 40          # the walk found the schema's numeric keys


# ------------------------------------------------------------------------ strategies
def _set(cfg: dict, path: tuple, value) -> None:
    node = cfg
    for p in path[:-1]:
        if not isinstance(node.get(p), dict):
            node[p] = {}
        node = node[p]
    node[path[-1]] = value


HUGE = [1e308, -1e308, 5e-324, -5e-324, 2**53, 2**53 + 1, 2**63, 2**64, -2**63, 10**400,
        -(10**400), 0, -0.0, 1, -1, 0.5, 1e-300]
NON_FINITE = [math.nan, math.inf, -math.inf, "nan", ".inf", "-.inf", "1e999"]


@st.composite
def extreme(draw, node: dict):
    """A value at or beyond an edge of a numeric key: its bounds, the floats next to
    them, huge and tiny numbers, the same written as text, or a boolean."""
    edges = [node[k] for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
             if k in node]
    near = [float(np.nextafter(float(e), d)) for e in edges for d in (-math.inf, math.inf)]
    x = draw(st.sampled_from(edges + near + HUGE + [True, False]))
    return draw(st.sampled_from([x, str(x), f"{x!r}"])) if not isinstance(x, bool) else x


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                    st.text(max_size=12), st.binary(max_size=8).map(lambda b: b.decode("latin-1")))
yaml_trees = st.recursive(scalars, lambda kids: st.one_of(
    st.lists(kids, max_size=4), st.dictionaries(st.text(max_size=8), kids, max_size=4)),
    max_leaves=12)


@st.composite
def mutation(draw, cfg: dict) -> None:
    """Apply one generated change of one class to ``cfg`` (in place)."""
    kind = draw(st.sampled_from(["wrong type", "non-finite", "extreme", "extreme",
                                 "missing", "unknown", "tree", "in range"]))
    if kind in ("non-finite", "extreme", "in range"):
        path, node = draw(st.sampled_from(NUMERIC))
        if kind == "non-finite":
            value = draw(st.sampled_from(NON_FINITE))
        elif kind == "extreme":
            value = draw(extreme(node))
        else:                       # anywhere between the bounds, log-uniform in magnitude
            lo = node.get("minimum", node.get("exclusiveMinimum", -1e6))
            hi = node.get("maximum", node.get("exclusiveMaximum", 1e6))
            value = draw(st.floats(min_value=max(lo, -1e300), max_value=min(hi, 1e300)))
            if node.get("type") == "integer":
                value = int(value)
        _set(cfg, path, value)
    elif kind == "wrong type":
        path, _ = draw(st.sampled_from(LEAVES))
        _set(cfg, path, draw(st.one_of(st.text(max_size=8), st.lists(scalars, max_size=3),
                                       st.dictionaries(st.text(max_size=4), scalars,
                                                       max_size=2), st.none(), st.booleans())))
    elif kind == "missing":
        if draw(st.booleans()):
            cfg.pop(draw(st.sampled_from(SECTIONS)), None)
        else:
            path, _ = draw(st.sampled_from(LEAVES))
            parent = cfg.get(path[0]) if len(path) > 1 else cfg
            if isinstance(parent, dict):
                parent.pop(path[-1], None)
    elif kind == "unknown":
        where = draw(st.sampled_from([None] + SECTIONS))
        key = draw(st.one_of(st.text(max_size=10), st.integers(), st.none(), st.booleans()))
        target = cfg if where is None else cfg.setdefault(where, {})
        if isinstance(target, dict):
            target[key] = draw(scalars)
    else:                           # a generated tree in place of a section or the whole
        section = draw(st.sampled_from(SECTIONS))
        cfg[section] = draw(yaml_trees)


@st.composite
def configs(draw) -> dict:
    """The tiny test config with 1-4 generated changes."""
    cfg = tiny_config_dict()
    for _ in range(draw(st.integers(1, 4))):
        draw(mutation(cfg))
    return cfg


def expect_own_error(fn, *args, errors=(ConfigError,)):
    """Call fn(*args); return its result, or None if it raised one of ``errors`` (with a
    message of one line). Any other exception fails the test."""
    try:
        return fn(*args)
    except errors as err:
        text = err.strerror if isinstance(err, OSError) else str(err)
        assert text and all(line.strip() for line in text.splitlines()), text
        return None


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


# ---------------------------------------------------------------- configs: the loader
def check_loader(scratch: Path, cfg: dict) -> None:
    got = expect_own_error(validate_config, copy.deepcopy(cfg))
    if got is not None:
        assert isinstance(got, dict)
    try:
        text = yaml.safe_dump(cfg, allow_unicode=False)
    except yaml.YAMLError:
        return                          # not representable in YAML: no file to load
    load_as_file(scratch / "generated.yaml", text.encode())


def load_as_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` and load it as a config: a dict or a ConfigError."""
    path.write_bytes(data)
    got = expect_own_error(load_config, path)
    assert got is None or isinstance(got, dict)


(test_generated_configs_load_or_are_refused_by_the_loader,
 test_generated_configs_load_or_are_refused_by_the_loader_slow) = fast_and_slow(
    "configs", check_loader, cfg=configs())


@profile("configs", slow=False)
@given(item=st.one_of(st.text(max_size=40),
                      st.builds(lambda k, v: f"{k}={v}", st.sampled_from(
                          [".".join(p) for p, _ in LEAVES] + ["network", "a.b.c", "x.y", ""]),
                          st.text(max_size=20))))
def test_generated_overrides_apply_or_are_refused(item):
    cfg = tiny_config_dict()
    over = expect_own_error(override_mapping, item)
    if over is not None and "=" in item:
        expect_own_error(validate_config, merge(cfg, over))


# ------------------------------------------------------------- damaged config bytes
DEFAULT_BYTES = (ROOT / "config" / "default.yaml").read_bytes()


@st.composite
def damaged_bytes(draw) -> bytes:
    data = bytearray(DEFAULT_BYTES)
    for _ in range(draw(st.integers(1, 4))):
        how = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "nul",
                                    "latin-1", "binary", "indent", "empty"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if how == "truncate":
            del data[at:]
        elif how == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif how == "delete":
            del data[at:at + draw(st.integers(1, 200))]
        elif how == "nul":
            data[at:at] = b"\0"
        elif how == "latin-1":                    # a stray byte of another encoding
            data[at:at] = "é".encode("latin-1")
        elif how == "binary":
            data = bytearray(draw(st.binary(min_size=1, max_size=300)))
        elif how == "indent":
            data[at:at] = b"\n" + b" " * draw(st.integers(1, 7))
        else:
            data = bytearray(draw(st.sampled_from([b"", b"\n\n", b"# only a comment\n",
                                                   b"- a\n- list\n", b"42\n", b"'text'\n"])))
    return bytes(data)


def check_bytes(scratch: Path, data: bytes) -> None:
    load_as_file(scratch / "damaged.yaml", data)


(test_damaged_config_bytes_load_or_are_refused_naming_the_file,
 test_damaged_config_bytes_load_or_are_refused_naming_the_file_slow) = fast_and_slow(
    "bytes", check_bytes, data=damaged_bytes())


def test_config_files_that_are_not_configs_are_named(tmp_path):
    """The file classes, one each: the message names the file and what is wrong."""
    cases = {"not UTF-8": b"network:\n  n_exc: 10\xff\n", "empty": b"",
             "binary": b"\x00\x01\x02PK\x03\x04", "holds no settings": b"# nothing\n",
             "must hold a mapping": b"- 1\n- 2\n", "not valid YAML": b"a: [1, 2\n"}
    for words, data in cases.items():
        path = tmp_path / f"{len(data)}.yaml"
        path.write_bytes(data)
        with pytest.raises(ConfigError) as exc:
            load_config(path)
        assert str(path) in str(exc.value) and words in str(exc.value), str(exc.value)
        assert "\n" not in str(exc.value)
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


# ----------------------------------------------------------------------- the theory
THEORY_SECTIONS = ("network", "noise", "inputs", "targets", "stdp", "weights")
THEORY_NUMERIC = [(p, n) for p, n in NUMERIC if p[0] in THEORY_SECTIONS]


@st.composite
def accepted_theory_configs(draw) -> dict:
    """Configs the loader may accept: 1-3 theory parameters at an edge of their range or
    anywhere in it (the theory's cost grows with protocol.episodes, kept at the tiny 4)."""
    cfg = tiny_config_dict()
    for _ in range(draw(st.integers(1, 3))):
        path, node = draw(st.sampled_from(THEORY_NUMERIC))
        lo = node.get("minimum", node.get("exclusiveMinimum"))
        hi = node.get("maximum", node.get("exclusiveMaximum"))
        value = draw(st.one_of(st.sampled_from([lo, hi]), st.floats(min_value=lo, max_value=hi)))
        if node.get("type") == "integer":
            value = int(min(max(value, lo), hi, 10**4))    # the network stays buildable
        _set(cfg, path, value)
    return cfg


def check_theory(cfg: dict) -> None:
    from pipeline.theory import predict

    valid = expect_own_error(validate_config, cfg)
    if valid is None:
        return
    pred = expect_own_error(predict, valid)
    if pred is not None:
        assert 0 <= pred["capacity_full"] <= valid["protocol"]["episodes"]


(test_theory_predicts_or_fails_in_words_on_generated_configs,
 test_theory_predicts_or_fails_in_words_on_generated_configs_slow) = fast_and_slow(
    "theory", check_theory, cfg=accepted_theory_configs())


# the reported cases, through the command line: one line, exit status 2
REPORTED = [
    (["protocol.t_train_ms=1e308"], "protocol.t_train_ms"),
    (["noise.mu_exc=1e30"], "noise.mu_exc"),
    (["inputs.m=9223372036854775808"], "inputs.m"),
    (["stdp.delta_c=0"], "stdp.delta_c"),
    (["noise.mu_exc=100"], "non-positive diffusion"),          # in range; the theory says why
    (["inputs.nu1_hz=1e-300"], "no stationary weight variance"),
    (["stdp.tau_c_ms=10000"], "did not converge"),
]


def run_cli(argv: list[str]) -> tuple[int, str]:
    from pipeline.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()


@pytest.mark.parametrize("sets, words", REPORTED)
def test_reported_values_end_in_one_line_naming_the_key(tmp_path, sets, words):
    argv = ["theory", "--config", str(ROOT / "config" / "paper.yaml"), "--out",
            str(tmp_path / "t.json")]
    for s in sets:
        argv += ["--set", s]
    code, err = run_cli(argv)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert words in err, err


# ------------------------------------------------------------------ damaged result files
RUN_FILES = ("weights.npz", "spikes.nix", "episodes.csv", "provenance.json")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """One real run of the tiny network (2 episodes, NEST, seed 1)."""
    from pipeline.simulate import simulate

    cfg = validate_config(tiny_config_dict(**{"protocol.episodes": 2,
                                              "recording.full_weights_at": [1]}))
    out = tmp_path_factory.mktemp("generated") / "run"
    simulate(cfg, "nest", 1, out, stream=io.StringIO())
    return out


@st.composite
def damage(draw, data: bytes) -> bytes:
    how = draw(st.sampled_from(["truncate", "flip", "zero", "garbage", "append", "empty"]))
    at = draw(st.integers(0, max(len(data) - 1, 0)))
    b = bytearray(data)
    if how == "truncate":
        return bytes(b[:at])
    if how == "flip":
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(b) - 1))
            b[i] ^= draw(st.integers(1, 255))
        return bytes(b)
    if how == "zero":
        n = draw(st.integers(1, 4096))
        b[at:at + n] = bytes(len(b[at:at + n]))
        return bytes(b)
    if how == "garbage":
        return draw(st.binary(min_size=1, max_size=2048))
    if how == "append":
        return data + draw(st.binary(min_size=1, max_size=64))
    return b""


def read_file(run: Path, name: str):
    from pipeline.capacity import load_run
    from pipeline.io import read_csv, read_json, read_npz, read_spikes_nix

    path = run / name
    readers = {"weights.npz": lambda: load_run(run),     # capacity's reader of a run
               "spikes.nix": lambda: read_spikes_nix(path),
               "episodes.csv": lambda: read_csv(path),
               "provenance.json": lambda: load_run(run)}
    return readers[name]()


def check_damaged_file(finished_run: Path, scratch: Path, data) -> None:
    name, damaged = data.draw(damaged_files(finished_run))
    run = scratch / "damaged-run"
    shutil.rmtree(run, ignore_errors=True)
    shutil.copytree(finished_run, run)
    (run / name).write_bytes(damaged)
    try:
        read_file(run, name)
    except ResultFileError as err:
        assert str(run / name) in str(err) and "\n" not in str(err), str(err)


@st.composite
def damaged_files(draw, finished_run: Path):
    name = draw(st.sampled_from(RUN_FILES))
    return name, draw(damage((finished_run / name).read_bytes()))


(test_damaged_result_files_are_read_or_refused_naming_the_file,
 test_damaged_result_files_are_read_or_refused_naming_the_file_slow) = fast_and_slow(
    "files", check_damaged_file, data=st.data())


@pytest.mark.parametrize("name", RUN_FILES)
def test_truncated_run_files_end_each_step_in_one_line_naming_the_file(finished_run, tmp_path,
                                                                       name):
    """analyze, capacity and validate given a run whose file is cut in half; report given
    a theory JSON cut in half."""
    runs = []
    for i in range(4):                   # validate: two runs a side, the first damaged
        runs.append(tmp_path / f"run{i}")
        shutil.copytree(finished_run, runs[-1])
    data = (runs[0] / name).read_bytes()
    (runs[0] / name).write_bytes(data[:len(data) // 2])
    damaged = str(runs[0] / name)
    steps = [["analyze", "--run", str(runs[0]), "--out", str(tmp_path / "an")],
             ["capacity", "--run", str(runs[0]), "--out", str(tmp_path / "cap")],
             ["validate", "--a", *map(str, runs[:2]), "--b", *map(str, runs[2:]), "--out",
              str(tmp_path / "val"), "--no-networkunit"]]
    for argv in steps:
        if argv[0] == "capacity" and name in ("spikes.nix", "episodes.csv"):
            continue                                  # capacity does not read these
        code, err = run_cli(argv)
        assert code == 2 and err.count("\n") == 1, (argv[0], err)
        assert damaged in err, (argv[0], err)


def test_a_damaged_theory_file_ends_report_in_one_line_naming_it(finished_run, tmp_path):
    from pipeline.io import write_json

    theory = tmp_path / "theory.json"
    write_json(theory, {"capacity_full": 1})
    theory.write_bytes(theory.read_bytes()[:7])
    code, err = run_cli(["report", "--experiment", "tiny", "--theory", str(theory),
                         "--out", str(tmp_path / "report.md")])
    assert code == 2 and err.count("\n") == 1 and str(theory) in err, err
