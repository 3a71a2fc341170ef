"""Benchmark: SpiNNaker protocols side by side -- memory kept against board time per seed.

Every protocol is a set of config overrides (data, PROTOCOLS) run on the NEST emulation
of SpiNNaker (``nest-spinnaker-hw``: AN APPROXIMATION of a board, see docs/backends.md)
and compared with NEST (the reference) on the same seeds:

- capacity by the weight readout and by the spiking recall (``python -m pipeline
  capacity``), mean and 95% t-interval over seeds;
- the paired equivalence verdicts against NEST (``python -m pipeline validate``, its
  tolerances from config/default.yaml);
- the board hours per seed from the board-time model (bench/board_time.py's measured
  parts in bench/results/board_time.json: per load mapping + data generation, per episode
  two run restarts + drive reload + read-back + real time; plus the spiking recall's own
  load with static synapses and its real time), at the default and the paper scale;
- for the protocols without homeostasis, the recall explanation (pipeline/protocol_recall.py):
  the memories the spiking recall tests, read out from the full weights at the same time.

Writes bench/results/spinnaker_protocols.json and .png/.svg (capacity against board
hours). Runs are written under results/spinnaker-protocols/ (git-ignored), one simulation
at a time, and reused when finished. Run by hand (about 2 min per run and seed on one
core at the default scale):

    .venv/bin/python bench/spinnaker_protocols.py run [--seeds 1 2 3 4] [--only NAME ...]
    .venv/bin/python bench/spinnaker_protocols.py collect [--seeds 1 2 3 4]
"""
from __future__ import annotations

import argparse
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNS = ROOT / "results" / "spinnaker-protocols"
OUT = ROOT / "bench" / "results" / "spinnaker_protocols.json"
CONFIG = ROOT / "config" / "default.yaml"

# name -> (backend, overrides, label). The hardware protocol's settings are every
# override; 'nest' is the reference every other protocol is validated against.
PROTOCOLS: dict[str, tuple[str, dict, str]] = {
    "nest": ("nest", {}, "NEST (reference): NEST protocol, homeostasis every episode"),
    "hw-every-1": ("nest-spinnaker-hw", {"spinnaker.rebuild_every": 1},
                   "hardware protocol, rebuild (homeostasis) every episode"),
    "hw-every-5": ("nest-spinnaker-hw", {"spinnaker.rebuild_every": 5},
                   "hardware protocol, rebuild every 5 episodes"),
    "hw-every-10": ("nest-spinnaker-hw", {"spinnaker.rebuild_every": 10},
                    "hardware protocol, rebuild every 10 episodes"),
    "hw-every-25": ("nest-spinnaker-hw", {"spinnaker.rebuild_every": 25},
                    "hardware protocol, rebuild every 25 episodes"),
    "hw-never": ("nest-spinnaker-hw", {"spinnaker.rebuild_every": 0},
                 "hardware protocol, one load, no homeostasis"),
    "hw-never-holds-m0": ("nest-spinnaker-hw", {"spinnaker.rebuild_every": 0,
                                                "spinnaker.stdp_depression": "holds_m0"},
                          "hardware protocol, one load, derived depression (drift holds m0)"),
    "hw-every-10-float": ("nest-spinnaker-hw", {"spinnaker.rebuild_every": 10,
                                                "spinnaker.fixed_point_weights": False},
                          "hardware protocol, rebuild every 10, weights NOT quantised at "
                          "read-back, amplitudes in floating point"),
}
# keys in which a protocol's runs differ from NEST's on purpose (validate --allow)
ALLOWED = ("spinnaker.rebuild_every", "spinnaker.stdp_depression",
           "spinnaker.fixed_point_weights")


def run_dir(name: str, seed: int) -> Path:
    return RUNS / name / f"seed-{seed}"


def simulate(names: list[str], seeds: list[int]) -> None:
    """Simulate every (protocol, seed) not yet finished, one after the other, 1 thread."""
    for name in names:
        backend, overrides, _ = PROTOCOLS[name]
        for s in seeds:
            out = run_dir(name, s)
            if (out / "provenance.json").exists():
                continue
            while (RUNS / "PAUSE").exists():    # lets other work use the core between runs
                time.sleep(5)
            cmd = [sys.executable, "-m", "pipeline", "simulate", "--backend", backend,
                   "--config", str(CONFIG), "--seed", str(s), "--out", str(out),
                   "--set", "simulation.threads=1"]
            for k, v in overrides.items():
                cmd += ["--set", f"{k}={str(v).lower() if isinstance(v, bool) else v}"]
            out.parent.mkdir(parents=True, exist_ok=True)
            t = time.perf_counter()
            with open(out.parent / f"seed-{s}.log", "w") as log:
                r = subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
            print(f"{name} seed {s}: {'done' if r.returncode == 0 else 'FAILED'} in "
                  f"{time.perf_counter() - t:.0f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["run", "collect", "plot"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    ap.add_argument("--only", nargs="+", choices=sorted(PROTOCOLS), default=None)
    args = ap.parse_args()
    names = args.only or list(PROTOCOLS)
    if args.what == "run":
        simulate(names, args.seeds)
    elif args.what == "plot":                    # the figures again, from the results file
        from pipeline.io import read_json
        plot(read_json(OUT, "protocol study"))
    else:
        collect(names, args.seeds)


def board_hours(every: int, scale: str, parts: dict) -> dict:
    """Return the board-time model's hours per seed [h] of a protocol rebuilding every
    ``every`` episodes (0: one load) at ``scale`` ('default', 'paper'), from the measured
    parts in bench/results/board_time.json: loads x (mapping + data generation + load) +
    episodes x (2 run restarts + drive reload + read-back + real time), and the spiking
    recall's own load with static synapses plus its real time (the default's recall
    settings: one session after the last episode, every recall_age_step-th age)."""
    from pipeline.config_sources import load_config
    from pipeline.recall import tested_memories

    c = parts["configs"][scale]
    cfg = load_config(ROOT / "config" / f"{scale}.yaml")
    dflt = load_config(CONFIG)["readout"]
    P = int(cfg["protocol"]["episodes"])
    loads = math.ceil(P / every) if every else 1
    train = loads * c["per_build_s"] + P * c["per_episode_s"]
    n_cues = len(tested_memories(P - 1, int(dflt["recall_age_step"])))
    recall = c["per_build_s"] + n_cues * (dflt["t_recall_gap_ms"] + dflt["t_recall_ms"]) / 1e3
    return {"episodes": P, "loads": loads, "training_h": train / 3600,
            "spiking_recall_h": recall / 3600, "recall_cues": n_cues,
            "total_h": (train + recall) / 3600}


def capacity_entry(res: dict, spiking: bool = False) -> dict:
    cs = (res["spiking"] if spiking else res)["capacity_simulation"]
    return {"mean": cs["mean"], "ci95": cs["ci95"], "per_seed": cs["per_seed"],
            "lower_bound": cs["lower_bound"]}


def collect(names: list[str], seeds: list[int]) -> dict:
    """Capacity, paired verdicts against NEST, board hours and the recall explanation of
    every protocol with all ``seeds`` finished; write the results file and the figure."""
    from pipeline.capacity import capacity_step
    from pipeline.io import read_json, write_json
    from pipeline.protocol_recall import explain_run
    from pipeline.validation import validate

    parts = read_json(ROOT / "bench" / "results" / "board_time.json", "board-time results")
    ref = [run_dir("nest", s) for s in seeds]
    out: dict = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 "command": "python bench/spinnaker_protocols.py run && python "
                            "bench/spinnaker_protocols.py collect --seeds "
                            + " ".join(map(str, seeds)),
                 "seeds": seeds, "config": "config/default.yaml (simulation.threads = 1)",
                 "approximation": "every protocol but 'nest' runs on nest-spinnaker-hw: NEST "
                                  "under SpiNNaker's constraints (AN APPROXIMATION of a board)",
                 "board_time_source": "bench/results/board_time.json (virtual board, host-side "
                                      "parts; transfers to a real board not measured)",
                 "not_run": "no protocol was simulated at the paper scale (capacity there not "
                            "measured); no SpiNNaker hardware was used",
                 "protocols": {}}
    for name in names:
        dirs = [run_dir(name, s) for s in seeds]
        missing = [str(d) for d in dirs if not (d / "provenance.json").exists()]
        if missing and name == "hw-every-10-float" and len(seeds) - len(missing) >= 2:
            # the quantisation check may use fewer seeds (said in its entry)
            dirs = [d for d in dirs if (d / "provenance.json").exists()]
            missing = []
        if missing:
            print(f"{name}: skipped, unfinished runs {missing}")
            continue
        backend, overrides, label = PROTOCOLS[name]
        # runs started before and after the board-numerics keys entered the schema differ
        # only in them (unused by NEST): allowed, anything else is refused
        from pipeline.validation.runs import config_differences
        cfgs = [read_json(d / "provenance.json", "provenance")["config"] for d in dirs]
        extra = {k for c in cfgs[1:] for k in config_differences(cfgs[0], c)} - set(ALLOWED)
        if extra:
            raise SystemExit(f"{name}: its runs differ in {sorted(extra)}")
        cap = capacity_step(dirs, RUNS / name / "capacity", allow_mixed=True)
        entry = {"backend": backend, "overrides": overrides, "label": label,
                 "capacity_weight": capacity_entry(cap),
                 "capacity_spiking": capacity_entry(cap, spiking=True)
                 if "spiking" in cap else None,
                 "wall_s_per_seed": [read_json(d / "provenance.json", "provenance")
                                     ["wall_time_s"] for d in dirs]}
        if name != "nest":
            every = int(overrides.get("spinnaker.rebuild_every", 0))
            entry["board_hours"] = {sc: board_hours(every, sc, parts)
                                    for sc in ("default", "paper")}
            used = [int(d.name.split("-")[1]) for d in dirs]
            entry["seeds"] = used
            v = validate([run_dir("nest", s) for s in used], dirs, RUNS / name / "validation",
                         name=f"nest-vs-{name}",
                         quiet=True, networkunit=False, allowed=ALLOWED)
            entry["validation"] = {
                "verdict": v["verdict"], "memory_verdict": v["memory_verdict"],
                "design": v["design"], "counts": v["counts"],
                "capacity": [{k: e.get(k) for k in ("name", "difference", "interval",
                                                    "tolerance", "verdict")}
                             for e in v["statistics"] if e["family"] == "capacity"]}
        if name in ("nest", "hw-never", "hw-never-holds-m0", "hw-every-10"):
            entry["recall_explanation"] = summarise_explanations(
                [explain_run(d) for d in dirs])
        out["protocols"][name] = entry
        print(f"{name}: capacity {entry['capacity_weight']['mean']:.1f} (weights), "
              + (f"{entry['capacity_spiking']['mean']:.1f} (spikes)"
                 if entry["capacity_spiking"] else "")
              + (f"; {entry['validation']['memory_verdict']} memory vs NEST; "
                 f"{entry['board_hours']['default']['total_h']:.3f} board-h per seed"
                 if name != "nest" else ""), flush=True)
    if all(k in out["protocols"] for k in ("hw-every-10", "hw-every-10-float")):
        # the fixed-point numbers' own effect: the same protocol with and without them
        qs = out["protocols"]["hw-every-10-float"]["seeds"]
        v = validate([run_dir("hw-every-10-float", s) for s in qs],
                     [run_dir("hw-every-10", s) for s in qs],
                     RUNS / "quantisation" / "validation", name="float-vs-fixed-point",
                     quiet=True, networkunit=False, allowed=ALLOWED)
        fx, fl = (out["protocols"][k] for k in ("hw-every-10", "hw-every-10-float"))
        out["quantisation"] = {
            "seeds": qs,
            "comparison": "hw-every-10 (fixed point: weights on the 2^-8 mV grid at loads and "
                          "read-backs, A_plus/A_minus in S16.15) against hw-every-10-float "
                          "(loads quantised only), paired; AN APPROXIMATION either way",
            "capacity_weight_per_seed": {
                "fixed": [fx["capacity_weight"]["per_seed"][seeds.index(s)] for s in qs],
                "float": fl["capacity_weight"]["per_seed"]},
            "capacity_spiking_per_seed": {
                "fixed": [fx["capacity_spiking"]["per_seed"][seeds.index(s)] for s in qs],
                "float": fl["capacity_spiking"]["per_seed"]},
            "verdict": v["verdict"], "memory_verdict": v["memory_verdict"],
            "counts": v["counts"],
            "statistics": [{k: e.get(k) for k in ("name", "difference", "interval",
                                                  "tolerance", "verdict")}
                           for e in v["statistics"] if "interval" in e and
                           e["family"] in ("capacity", "forgetting_curve", "weights",
                                           "weight_change", "rates")]}
    out["recommended"] = recommend(out["protocols"])
    write_json(OUT, out)
    from pipeline.io import write_text
    write_text(OUT.with_suffix(".md"), table_markdown(out))
    plot(out)
    print(table_markdown(out))
    return out


def table_markdown(res: dict) -> str:
    """Return the study's table (Markdown): capacity by weight readout and by spiking
    recall (mean [95% t-interval]), the paired verdicts against NEST, board hours per seed
    at the default and the paper scale, the recommended protocol marked."""
    from pipeline.report_spinnaker import _cap, _verdicts

    rec = res.get("recommended", {}).get("protocol")
    lines = [f"Seeds {res['seeds']}; {res['approximation']}; board hours: "
             f"{res['board_time_source']}; {res['not_run']}. Produced by `{res['command']}` "
             f"on {res['date']}.", "",
             "| protocol | capacity, weight readout | capacity, spiking recall | verdict "
             "against NEST (paired) | loads per seed | board h per seed, default | board h "
             "per seed, paper |", "|---|---|---|---|---|---|---|"]
    for name, e in res["protocols"].items():
        bh = e.get("board_hours")
        lines.append(
            f"| {'**' + name + '** (recommended)' if name == rec else name} | "
            f"{_cap(e['capacity_weight'])} | {_cap(e.get('capacity_spiking'))} | "
            f"{_verdicts(e.get('validation'))} | "
            + (f"{bh['default']['loads']} + 1 recall | {bh['default']['total_h']:.3f} | "
               f"{bh['paper']['total_h']:.2f} |" if bh else "- | - | - |"))
    return "\n".join(lines) + "\n"


def summarise_explanations(ex: list[dict]) -> dict:
    """Return the recall explanation's key numbers, mean over seeds and per seed."""
    def mean(f):
        return float(np.mean([f(e) for e in ex]))
    return {
        "age0_spiking_accuracy": [e["age0_spiking_accuracy"] for e in ex],
        "age0_weight_accuracy_same_memory": [e["age0_weight_accuracy_same_memory"] for e in ex],
        "reference_age0_weight_accuracy": [e["reference_age0"] for e in ex],
        "mean_weight_theta_after_last": [e["mean_weight_theta_last"] for e in ex],
        "late": {k: mean(lambda e, k=k: e["storage"][k]) for k in ex[0]["storage"]
                 if k != "episodes"},
        "late_episodes": ex[0]["storage"]["episodes"],
        "early": {k: mean(lambda e, k=k: e["early"][k]) for k in ex[0]["early"]
                  if k != "episodes"},
        "early_episodes": ex[0]["early"]["episodes"],
        "series_mean_over_seeds": {k: np.mean([e["series"][k] for e in ex], axis=0).tolist()
                                   for k in ex[0]["series"]},
        "tested_by_age": {
            str(t["age"]): {
                "spiking_accuracy": float(np.mean([e["tested"][i]["spiking_accuracy"]
                                                   for e in ex])),
                "weight_accuracy": float(np.mean([e["tested"][i]["weight_accuracy"]
                                                  for e in ex])),
                "signal_theta": float(np.mean([e["tested"][i]["signal_theta"] for e in ex]))}
            for i, t in enumerate(ex[0]["tested"])},
    }


def recommend(protocols: dict, tolerance: float = 0.10) -> dict:
    """Return the recommended hardware protocol by the rule stated in its 'rule' field
    (``tolerance``: the capacity tolerance of config/default.yaml, a fraction of NEST's)."""
    hw = {k: v for k, v in protocols.items() if k != "nest" and "validation" in v
          and v["overrides"].get("spinnaker.fixed_point_weights", True)}
    if not hw:
        return {}
    nest = protocols["nest"]["capacity_weight"]["mean"]
    cost = {k: v["board_hours"]["default"]["total_h"] for k, v in hw.items()}
    cap = {k: v["capacity_weight"]["mean"] for k, v in hw.items()}
    eq = [k for k, v in hw.items() if v["validation"]["memory_verdict"] == "equivalent"]
    best = max(cap.values())
    near = [k for k in hw if cap[k] >= best - tolerance * nest]
    if eq:
        pick, why = min(eq, key=cost.get), "the cheapest whose memory is equivalent to NEST's"
    else:
        pick = min(near, key=cost.get)
        why = (f"no hardware protocol keeps a memory equivalent to NEST's; the cheapest whose "
               f"capacity is within the capacity tolerance ({tolerance:.0%} of NEST's "
               f"{nest:.1f} = {tolerance * nest:.1f} episodes) of the best hardware "
               f"protocol's ({max(cap, key=cap.get)}, {best:.1f})")
    return {"protocol": pick, "overrides": hw[pick]["overrides"],
            "rule": "among the hardware protocols with the board's fixed-point numbers: the "
                    "cheapest in board hours per seed (default scale) whose memory verdict "
                    "against NEST is 'equivalent'; if none is, the cheapest whose mean "
                    "capacity (weight readout) is within the capacity tolerance (10% of "
                    "NEST's) of the best hardware protocol's",
            "why": why}


def plot(res: dict) -> None:
    """Capacity (weight readout and spiking recall, 95% intervals) against board hours
    per seed at the default scale; board hours at the paper scale beside it."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pipeline.io import save_figure

    pr = {k: v for k, v in res["protocols"].items() if "board_hours" in v}
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2),
                                 gridspec_kw={"width_ratios": [1.6, 1]})
    nest = res["protocols"].get("nest")
    rec = res.get("recommended", {}).get("protocol")
    for key, marker, lab in (("capacity_weight", "o", "weight readout"),
                             ("capacity_spiking", "s", "spiking recall")):
        if nest and nest.get(key):
            ax.axhline(nest[key]["mean"], ls="--" if key == "capacity_weight" else ":",
                       color="k", lw=1, label=f"NEST, {lab}")
        for i, (k, v) in enumerate(pr.items()):
            c = v.get(key)
            if not c:
                continue
            x = v["board_hours"]["default"]["total_h"]
            lo, hi = c["ci95"] or (c["mean"], c["mean"])
            ax.errorbar(x, c["mean"], yerr=[[c["mean"] - lo], [hi - c["mean"]]],
                        fmt=marker, color=f"C{i}", mfc="none" if key == "capacity_spiking"
                        else f"C{i}", capsize=3,
                        label=k + (" (recommended)" if k == rec else "")
                        if key == "capacity_weight" else None)
    ax.set_xlabel("board hours per seed, default scale (board-time model)")
    ax.set_ylabel("capacity [episodes]")
    ax.set_title("filled: weight readout, open: spiking recall (95% t-intervals)",
                 fontsize=9)
    ax.legend(fontsize=7, loc="best")
    names = list(pr)
    bx.barh(names, [pr[k]["board_hours"]["paper"]["total_h"] for k in names],
            color=[f"C{i}" for i in range(len(names))])
    bx.set_xlabel("board hours per seed, paper scale (model; capacity not simulated)")
    bx.tick_params(axis="y", labelsize=7)
    fig.suptitle("SpiNNaker protocols on nest-spinnaker-hw (an approximation of a board), "
                 f"seeds {res['seeds']}", fontsize=10)
    save_figure(fig, OUT.with_suffix(""))
    plt.close(fig)
    storage_figure(res)


def storage_figure(res: dict) -> None:
    """What each episode stores (cue->target minus cue->non-target weight change) and the
    cue rows' mean weight at the episode's start, by episode, mean over seeds: the evidence
    of the recall explanation (docs/recall.md)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pipeline.io import save_figure

    ex = {k: v["recall_explanation"]["series_mean_over_seeds"]
          for k, v in res["protocols"].items() if "recall_explanation" in v}
    if not ex:
        return
    fig, (ax, bx, cx) = plt.subplots(1, 3, figsize=(14, 3.8))
    fig.subplots_adjust(wspace=0.3)
    for i, (k, s) in enumerate(ex.items()):
        ax.plot(s["stored_per_synapse_theta"], color=f"C{i}", lw=1, label=k)
        bx.plot(s["cue_weight_at_start_theta"], color=f"C{i}", lw=1, label=k)
        cx.plot(s["rate_target_hz"], color=f"C{i}", lw=1, label=f"{k}, targets")
        cx.plot(s["rate_non_target_hz"], color=f"C{i}", lw=1, ls="--")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_title("stored per synapse: dw(c->t) - dw(c->n)", fontsize=9)
    ax.set_ylabel("theta")
    bx.axhline(0.05, color="k", lw=0.5, ls=":")
    bx.set_title("cue->non-target weight at start (m0 dotted)", fontsize=9)
    bx.set_ylabel("theta")
    cx.set_title("rates: targets solid, non-targets dashed", fontsize=9)
    cx.set_ylabel("Hz")
    for x in (ax, bx, cx):
        x.set_xlabel("episode")
    ax.legend(fontsize=7)
    fig.suptitle(f"What each episode stores, mean over seeds {res['seeds']} "
                 "(nest-spinnaker-hw: an approximation of a board)", fontsize=10)
    save_figure(fig, OUT.with_name(OUT.stem + "_storage"))
    plt.close(fig)


if __name__ == "__main__":
    main()
