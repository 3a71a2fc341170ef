"""Command-line steps of the theory (arXiv 2508.13846): ``python -m pipeline theory`` and
``python -m pipeline drift``. pipeline/cli.py registers them via :func:`add_parsers`."""
from __future__ import annotations

import argparse
import json

__all__ = ["add_parsers", "run_theory", "run_drift", "summary"]


def summary(pred: dict) -> str:
    """Return a short human-readable summary of a :func:`pipeline.theory.predict` result
    (capacities in episodes, variances in theta^2, rates in Hz; arXiv 2508.13846)."""
    lines = [f"theory ({pred.get('reference', 'arXiv 2508.13846')}), "
             f"{pred['episodes']} episodes, threshold {pred['threshold']}:"]
    for name, label in (("full", "with cross-correlations"), ("rate_only", "rate only")):
        cap = pred[f"capacity_{name}_label"]
        note = "" if pred[f"crossed_{name}"] else " (lower bound: no crossing within the episodes)"
        r = pred[f"rates_{name}"]
        lines.append(f"  {label:24s} capacity {cap}{note}; V* = "
                     f"{pred[f'stationary_variance_{name}']:.4g} theta^2; rates T/N/I = "
                     f"{r['target']:.1f}/{r['non_target']:.1f}/{r['inhibitory']:.1f} Hz")
    if "capacity_spiking_full_label" in pred:
        r = pred["recall_rates_full"]
        lines.append(f"  spiking recall ({pred['t_recall_ms']:g} ms per cue): capacity "
                     f"{pred['capacity_spiking_full_label']} (full), "
                     f"{pred['capacity_spiking_rate_only_label']} (rate only); recall rates "
                     f"at age 0 T/N/I = {r['target'][0]:.1f}/{r['non_target'][0]:.1f}/"
                     f"{r['inhibitory'][0]:.1f} Hz")
    return "\n".join(lines)


def run_theory(args: argparse.Namespace) -> int:
    """Run ``theory --config FILE --out FILE.json``: predict, print a summary, write the JSON
    atomically. Returns the exit code 0 (arXiv 2508.13846)."""
    from ..config_sources import load_config
    from ..io import write_json
    from ..provenance import Provenance
    from . import predict
    cfg = load_config(args.config, overrides=getattr(args, "set", None) or ())
    prov = Provenance("theory", cfg, config_file=str(args.config))
    pred = predict(cfg)
    pred["config_file"] = str(args.config)
    pred["provenance"] = prov.finish()
    write_json(args.out, pred)
    print(summary(pred))
    print(f"  -> {args.out}")
    return 0


def run_drift(args: argparse.Namespace) -> int:
    """Run ``drift --mu X --d Y --nu Z --w W [--config FILE] [--json]``: print the drift
    (full and rate-only, theta/tau_m) and diffusion (theta^2/tau_m) of one synapse in paper
    units. --mu/--d are the post neuron's input WITHOUT the synapse. Returns 0
    (arXiv 2508.13846; Lindner & Schimansky-Geier 2001)."""
    from .drift import single_synapse_drift
    from .params import PAPER_STDP
    if args.config:
        from ..config_sources import load_config
        from ..parameters import derive
        stdp = derive(load_config(args.config)).theory.stdp
    else:
        stdp = PAPER_STDP
    from .failures import failures_in_words
    with failures_in_words(None, f"drift --mu {args.mu:g} --d {args.d:g} --nu {args.nu:g} "
                                 f"--w {args.w:g}"):
        out = single_synapse_drift(args.mu, args.d, args.nu, args.w, stdp)
    out["stdp"] = {"delta_c": stdp.delta_c, "r_ac": stdp.r_ac, "tau_c": stdp.tau_c,
                   "tau_ac": stdp.tau_ac}
    out["units"] = {"drift": "theta/tau_m", "diffusion": "theta^2/tau_m", "r0": "1/tau_m",
                    "alpha": "1/theta", "beta": "1/theta^2", "tau": "tau_m"}
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        print(f"mu_tot = {out['mu_tot']:.6g}, D_tot = {out['d_tot']:.6g}, r0 = {out['r0']:.6g}/tau_m")
        print(f"alpha(-1/tau_c) = {out['alpha']:.6g}/theta, beta(-1/tau_c) = {out['beta']:.6g}/theta^2")
        print(f"drift full      = {out['drift_full']:.6g} theta/tau_m")
        print(f"drift rate-only = {out['drift_rate_only']:.6g} theta/tau_m")
        print(f"diffusion       = {out['diffusion']:.6g} theta^2/tau_m")
    return 0


def _number(lo: float, hi: float, above: bool = False):
    """Return an argparse type: a finite number in [lo, hi] ((lo, hi] with ``above``), the
    bounds of the config keys the argument stands for (config/schema.yaml)."""
    def parse(text: str) -> float:
        try:
            x = float(text)
        except ValueError:
            x = float("nan")
        if not (lo < x <= hi if above else lo <= x <= hi):
            raise argparse.ArgumentTypeError(
                f"must be a number {'>' if above else '>='} {lo:g} and <= {hi:g}, got '{text}'")
        return x
    return parse


def add_parsers(subparsers: "argparse._SubParsersAction") -> None:
    """Register the ``theory`` and ``drift`` subcommands on ``subparsers`` (from
    ``ArgumentParser.add_subparsers``); each sets ``func`` to a function of the namespace
    returning an exit code (arXiv 2508.13846)."""
    t = subparsers.add_parser(
        "theory", help="theory forgetting curves and capacities (full and rate-only)",
        description="Predict the forgetting curves, capacities, stationary weight variances "
                    "and rates of an experiment with and without spike-time "
                    "cross-correlations (arXiv 2508.13846).")
    t.add_argument("--config", required=True, help="experiment YAML, laid over config/default.yaml (e.g. config/paper.yaml)")
    t.add_argument("--set", action="append", metavar="SECTION.KEY=VALUE",
                   help="override one config key, e.g. --set inputs.f_c=1e-1 (repeat)")
    t.add_argument("--out", required=True, help="JSON file to write")
    t.set_defaults(func=run_theory)

    d = subparsers.add_parser(
        "drift", help="drift and diffusion of one synapse (paper units)",
        description="Drift A(w) with and without cross-correlations and diffusion B(w) of one "
                    "synapse from a Poisson neuron (rate nu, 1/tau_m) onto a LIF with input "
                    "mean mu and noise D (without the synapse), in units of tau_m and theta.")
    d.add_argument("--mu", type=_number(-100, 100), required=True,
                   help="mean input without the synapse [theta], -100 .. 100 (noise.mu_exc)")
    d.add_argument("--d", type=_number(0, 100, above=True), required=True,
                   help="noise intensity D without the synapse, > 0 .. 100")
    d.add_argument("--nu", type=_number(0, 1e3), required=True,
                   help="presynaptic rate [1/tau_m], 0 .. 1000")
    d.add_argument("--w", type=_number(0, 100), required=True, help="weight [theta], 0 .. 100")
    d.add_argument("--config", default=None,
                   help="take the STDP parameters from this config (default: the paper's)")
    d.add_argument("--json", action="store_true", help="print JSON")
    d.set_defaults(func=run_drift)
