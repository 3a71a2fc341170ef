"""Command line: ``python -m pipeline STEP ...``; every Snakemake rule calls one step."""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path


def _simulate(args) -> int:
    from backends import REGISTRY, UnknownBackendError
    from .config_sources import load_config
    from .simulate import simulate

    cfg = load_config(args.config, overrides=args.set or ())
    if args.backend not in REGISTRY:
        raise UnknownBackendError(f"unknown backend '{args.backend}' (--backend): choose one "
                                  f"of {', '.join(sorted(REGISTRY))}")
    simulate(cfg, args.backend, args.seed, Path(args.out), check_memory=not args.no_memory_check)
    return 0


def _config(args) -> int:
    """Print the full config a run would use (every key, defaults filled, YAML) and its hash."""
    import yaml

    from .config import config_hash
    from .config_sources import load_config

    cfg = load_config([args.config] if args.config else [], overrides=args.set or ())
    sources = ["config/default.yaml"] + ([args.config] if args.config else [])
    sources += [f"--set {o}" for o in args.set or ()]
    print(f"# {' + '.join(sources)}; run identity (config hash) {config_hash(cfg)}")
    print(yaml.safe_dump(cfg, sort_keys=False, default_flow_style=None, width=100), end="")
    return 0


def _seed(text: str) -> int:
    """argparse type of --seed: an integer in the range every simulator accepts."""
    from .config import SEED_MAX, SEED_MIN, parse_number

    value = parse_number(text)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not SEED_MIN <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"'{text}' is not a valid seed: a seed must be an "
                                         f"integer from {SEED_MIN} to {SEED_MAX}")
    return value


SET_HELP = ("override one config key, e.g. --set noise.d_exc=1e-1 (VALUE in YAML; repeat); "
            "the config is checked after the overrides")


def _capacity(args) -> int:
    from .capacity import capacity_step

    capacity_step([Path(r) for r in args.run], Path(args.out), theory=args.theory,
                  allow_mixed=args.allow_mixed_configs)
    return 0


def _analyze(args) -> int:
    from .analysis import analyze_run

    analyze_run(Path(args.run), Path(args.out), bin_ms=args.bin_ms, max_lag_ms=args.max_lag_ms)
    return 0


def _probability(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        x = float("nan")
    if not 0 < x < 1:
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1, got '{text}'")
    return x


def _validate(args) -> int:
    from .validation import validate

    tolerances = None
    if args.config:
        from .config_sources import load_config
        tolerances = load_config(args.config).get("validation", {}).get("tolerances")
    result = validate([Path(r) for r in args.a], [Path(r) for r in args.b], Path(args.out),
                      alpha=args.alpha, name=args.name or "",
                      networkunit=not args.no_networkunit, tolerances=tolerances,
                      requested_design=args.design, allowed=tuple(args.allow or ()))
    return 1 if args.fail_on_different and result["verdict"] == "different" else 0


def _positive_ms(text: str) -> float:
    """argparse type: a finite number > 0 (a duration in ms)."""
    try:
        x = float(text)
    except ValueError:
        x = float("nan")
    if not (math.isfinite(x) and x > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0 [ms], got '{text}'")
    return x


def _point(text: str, what: str) -> tuple[float, Path]:
    value, sep, path = text.partition("=")
    try:
        x = float(value)
    except ValueError:
        x = float("nan")
    if not sep or not math.isfinite(x):
        raise SystemExit(f"error: {what} takes VALUE=PATH with a finite VALUE, got '{text}'")
    return x, Path(path)


def _sweep(args) -> int:
    from .sweep import sweep_step

    sims: dict[float, list[Path]] = {}
    for v, path in (_point(t, "--capacity") for t in args.capacity or []):
        sims.setdefault(v, []).append(path)
    points = [(v, path, sims.get(v, [])) for v, path in
              (_point(t, "--theory") for t in args.theory)]
    sweep_step(points, args.parameter, Path(args.out))
    return 0


def _report(args) -> int:
    from .report import build_report

    build_report(args.experiment, Path(args.theory), [Path(p) for p in args.capacity or []],
                 [Path(p) for p in args.analysis or []],
                 Path(args.sweep) if args.sweep else None, Path(args.out),
                 mappings=[Path(p) for p in args.mapping or []],
                 validations=[Path(p) for p in args.validation or []])
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``python -m pipeline``."""
    ap = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__)
    sub = ap.add_subparsers(dest="step", required=True, metavar="STEP")

    k = sub.add_parser("config", help="print the full config a run would use: every key, "
                                      "defaults filled in, and its hash")
    k.add_argument("--config", default=None, help="experiment YAML laid over "
                                                  "config/default.yaml (default: none)")
    k.add_argument("--set", action="append", metavar="KEY=VALUE", help=SET_HELP)
    k.set_defaults(func=_config)

    s = sub.add_parser("simulate", help="train P episodes on one backend and seed")
    s.add_argument("--config", required=True, help="experiment YAML, laid over config/default.yaml (e.g. config/paper.yaml)")
    s.add_argument("--backend", default="nest",
                   help="nest (default), nest-spinnaker, nest-spinnaker-hw, spinnaker, "
                        "spinnaker-hw, neuron")
    s.add_argument("--seed", type=_seed, required=True,
                   help="experiment seed, an integer from 1 to 2147483646")
    s.add_argument("--out", required=True, help="run directory to write")
    s.add_argument("--set", action="append", metavar="SECTION.KEY=VALUE", help=SET_HELP)
    s.add_argument("--no-memory-check", action="store_true",
                   help="run even if the estimated memory exceeds what the machine has")
    s.set_defaults(func=_simulate)

    c = sub.add_parser("capacity", help="forgetting curve and capacity from run directories")
    c.add_argument("--run", action="append", required=True, help="run directory (repeat)")
    c.add_argument("--theory", default=None, help="theory JSON to draw beside the simulation")
    c.add_argument("--out", required=True, help="output directory")
    c.add_argument("--allow-mixed-configs", action="store_true",
                   help="combine runs whose config hashes differ")
    c.set_defaults(func=_capacity)

    a = sub.add_parser("analyze", help="cross-correlograms, drift from CCGs, spike statistics")
    a.add_argument("--run", required=True, help="run directory written by simulate")
    a.add_argument("--out", required=True, help="output directory")
    a.add_argument("--bin-ms", type=_positive_ms, default=1.0, help="CCG bin [ms] (default 1)")
    a.add_argument("--max-lag-ms", type=_positive_ms, default=250.0, help="CCG half-width [ms]")
    a.set_defaults(func=_analyze)

    v = sub.add_parser("validate", help="are runs A and B the same network and memory, "
                       "within the tolerances? (equivalent / different / inconclusive)")
    v.add_argument("--a", nargs="+", required=True, metavar="RUN",
                   help="run directories of side A (the reference), one per seed, >= 2")
    v.add_argument("--b", nargs="+", required=True, metavar="RUN",
                   help="run directories of side B, one per seed, >= 2")
    v.add_argument("--out", required=True, help="output directory (validation.json/.md, figures)")
    v.add_argument("--alpha", type=_probability, default=0.05,
                   help="family-wise error level of all verdicts of the comparison (default "
                        "0.05)")
    v.add_argument("--config", default=None,
                   help="config whose validation.tolerances are used (default: side A's "
                        "runs' own config)")
    v.add_argument("--design", choices=("auto", "paired", "unpaired"), default="auto",
                   help="paired: per-seed differences (both sides the same seeds); "
                        "unpaired: side means (other seeds); auto (default): paired when "
                        "the seeds agree, unpaired when they are disjoint")
    v.add_argument("--allow", action="append", metavar="KEY",
                   help="a config key in which B may differ from A on purpose (e.g. "
                        "stdp.delta_c for a calibration; repeat)")
    v.add_argument("--name", default=None, help="a name for the comparison in the report")
    v.add_argument("--fail-on-different", action="store_true",
                   help="exit with status 1 when the verdict is 'different' (for CI)")
    v.add_argument("--no-networkunit", action="store_true",
                   help="skip NetworkUnit's pooled-sample model-to-model tests (reported "
                        "beside the verdict, not part of it; about 20 s at default scale)")
    v.set_defaults(func=_validate)

    w = sub.add_parser("sweep", help="capacity against one parameter: theory and simulation")
    w.add_argument("--parameter", required=True, help="swept config key, e.g. inputs.f_c")
    w.add_argument("--theory", action="append", required=True, metavar="VALUE=JSON",
                   help="theory JSON of one parameter value (repeat)")
    w.add_argument("--capacity", action="append", metavar="VALUE=JSON",
                   help="capacity JSON of a simulated parameter value (repeat)")
    w.add_argument("--out", required=True, help="output directory")
    w.set_defaults(func=_sweep)

    r = sub.add_parser("report", help="one Markdown/HTML page with figures and key numbers")
    r.add_argument("--experiment", required=True)
    r.add_argument("--theory", required=True, help="theory JSON")
    r.add_argument("--capacity", action="append", help="capacity JSON (repeat)")
    r.add_argument("--analysis", action="append", help="analysis JSON (repeat)")
    r.add_argument("--sweep", help="sweep CSV")
    r.add_argument("--mapping", action="append", help="SpiNNaker run directory (repeat)")
    r.add_argument("--validation", action="append", help="validation JSON (repeat)")
    r.add_argument("--out", required=True, help="report .md (an .html is written beside it)")
    r.set_defaults(func=_report)

    try:
        from .theory import cli as theory_cli
    except ImportError:
        theory_cli = None
    if theory_cli is not None:
        theory_cli.add_parsers(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    """Run one step; return the exit code (2 for bad input, with a one-paragraph message)."""
    from backends import UnknownBackendError
    from backends.neuron import NeuronError
    from backends.spinnaker import SpinnakerError
    from .config import ConfigError
    from .cost import InsufficientMemoryError
    from .io import DiskFullError, ResultFileError
    from .runlock import RunLockedError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, ResultFileError, UnknownBackendError, SpinnakerError,
            InsufficientMemoryError, RunLockedError, DiskFullError, NeuronError) as err:
        print(f"error: {err.strerror if isinstance(err, OSError) else err}", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"error: {args.step} ran out of memory (numpy or the simulator could not "
              f"allocate); shrink the config (network size, inputs.m, protocol.episodes) or "
              f"use a machine with more memory", file=sys.stderr)
        return 2
