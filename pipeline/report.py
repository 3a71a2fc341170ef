"""The ``report`` step: one Markdown page (and the same as HTML) with the figures, their
captions and the numbers a reader looks for first."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .html_page import markdown_page
from .io import ResultFileError, atomic_path, read_csv, read_json
from .report_spinnaker import spinnaker_protocol_section


def _rel(path: Path, base: Path) -> str:
    return os.path.relpath(path, base)


def _fmt_cap(cs: dict) -> str:
    ge = ">= " if cs.get("lower_bound") else ""
    ci = cs.get("ci95")
    ci_txt = (f" (95% interval {max(ci[0], 0):.1f} to {ci[1]:.1f} over {cs['n_seeds']} seeds)"
              if ci else " (one seed: no interval)")
    return f"{ge}{cs['mean']:.1f}{ci_txt}"


def spinnaker_split(caps: list) -> list[str]:
    """Return report lines splitting the capacity lost to SpiNNaker into numerics (nest ->
    nest-spinnaker, NEST protocol) and protocol (nest-spinnaker -> nest-spinnaker-hw),
    when all three backends were run; else no lines. Differences are of seed means
    [episodes]; a lower bound on either side is said."""
    by = {c["backend"][0]: c["capacity_simulation"] for _, c in caps if len(c["backend"]) == 1}
    names = ("nest", "nest-spinnaker", "nest-spinnaker-hw")
    if not all(n in by for n in names):
        return []
    a, b, h = (by[n] for n in names)
    bound = any(x["lower_bound"] for x in (a, b, h))
    return ["", "Capacity lost to SpiNNaker (differences of seed means; the emulations are "
                "NEST under SpiNNaker's constraints, an approximation): numerics (1 ms step, "
                f"fixed-point weights, substituted rule) {a['mean'] - b['mean']:+.1f} episodes "
                f"(nest - nest-spinnaker); protocol (plasticity on throughout, no weight writes, "
                f"homeostasis only at rebuilds) {b['mean'] - h['mean']:+.1f} episodes "
                f"(nest-spinnaker - nest-spinnaker-hw); total {a['mean'] - h['mean']:+.1f}."
                + (" At least one capacity is a lower bound." if bound else "")]


def _theory_cap(th: dict, name: str) -> str:
    label = th.get(f"capacity_{name}_label")
    return label if label else str(th[f"capacity_{name}"])


def build_report(experiment: str, theory: Path, capacities: list[Path], analyses: list[Path],
                 sweep: Path | None, out: Path, mappings: list[Path] = (),
                 validations: list[Path] = ()) -> str:
    """Write ``out`` (Markdown) and the same page as HTML beside it; return the Markdown.

    ``mappings`` are SpiNNaker run directories (resources.json, translation.json);
    ``validations`` are validation.json files of the validate step."""
    out = Path(out)
    base = out.parent
    th = read_json(theory, "theory file")
    lines = [f"# stdp-capacity report: experiment `{experiment}`", ""]
    caps = [(p, read_json(p, "capacity file")) for p in capacities]
    lines += ["## Memory capacity", "",
              "| source | capacity [episodes] |", "|---|---|"]
    for p, c in caps:
        label = ", ".join(c["backend"])
        if "nest-spinnaker" in label:
            label += (" (NEST emulating SpiNNaker's constraints: an approximation; "
                      f"{'/'.join(c.get('protocol', ['nest']))} protocol)")
        lines.append(f"| simulation, {label} | {_fmt_cap(c['capacity_simulation'])} |")
    from . import validity_map
    vmap = validity_map.load()
    f_c = float(th.get("params", {}).get("f_c", float("nan")))
    lines.append(f"| theory with cross-correlations | {_theory_cap(th, 'full')} "
                 f"({validity_map.validity_note(vmap, 'full', f_c)}) |")
    lines.append(f"| theory, rate only | {_theory_cap(th, 'rate_only')} "
                 f"({validity_map.validity_note(vmap, 'rate_only', f_c)}) |")
    for p, c in caps:
        sp = c.get("spiking")
        if sp:
            lines.append(f"| spiking recall ({sp['t_recall_ms']:g} ms per cue), simulation, "
                         f"{', '.join(c['backend'])} | {_fmt_cap(sp['capacity_simulation'])} |")
    if "capacity_spiking_full_label" in th:
        lines.append(f"| spiking recall, predicted (theory with cross-correlations + Siegert) | "
                     f"{th['capacity_spiking_full_label']} |")
        lines.append(f"| spiking recall, predicted (rate-only theory + Siegert) | "
                     f"{th['capacity_spiking_rate_only_label']} |")
    lines += spinnaker_split(caps)
    full, rate = th["capacity_full"], th["capacity_rate_only"]
    if full:
        lines += ["", f"The rate-only theory predicts {rate / full:.2f} times the capacity of the "
                      f"theory with spike-time cross-correlations."]
    if validations:
        lines += validation_section([Path(v) for v in validations], base)
    lines += ["", "## Forgetting curves", ""]
    if len(caps) > 1:
        png = base / "forgetting_curves_backends.png"
        comparison_figure(caps, th, png.with_suffix(""))
        lines += [f"![backends]({_rel(png, base)})", "",
                  "*Forgetting curves of every simulated backend (bands: 95% intervals; dotted "
                  "with markers: spiking recall), with both theories. nest-spinnaker is NEST run under SpiNNaker's constraints "
                  "(1 ms step, fixed-point weights, substituted STDP rule): an emulation, not "
                  "SpiNNaker.*", ""]
    for p, c in caps:
        png = Path(p).parent / "forgetting_curve.png"
        lines += [f"![forgetting curve]({_rel(png, base)})", "",
                  f"*Recall accuracy against the age of a memory ({', '.join(c['backend'])}); "
                  f"band: 95% interval over {c['forgetting_curve']['band_over']}; dashed: "
                  f"theory with and without cross-correlations; dotted: threshold "
                  f"{c['threshold']}; dash-dotted: chance"
                  + ("; orange: spiking recall, simulated (markers, band over seeds) and "
                     "predicted (dashed)" if c.get("spiking") else "") + ".*", ""]
        if c.get("spiking"):
            lines += spiking_section(Path(p), c, base)
    if sweep is not None:
        rows = read_csv(sweep)
        lines += ["## Capacity against the coding level", "",
                  f"![sweep]({_rel(Path(sweep).with_suffix('.png'), base)})", "",
                  "*Capacity against the cue coding level f_c: both theories (open triangles: "
                  "the curve did not cross the threshold within the trained episodes, a lower "
                  "bound) and simulation on a reduced grid.*", ""]
        keys = list(rows[0].keys()) if rows else []
        lines += ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
        lines += ["| " + " | ".join(r[k] for k in keys) + " |" for r in rows]
        lines.append("")
    lines += validity_map.report_section(vmap, base)
    rates = th.get("rates_full", {})
    lines += ["## Firing rates during training [Hz]", "",
              "| source | target | non-target | inhibitory |", "|---|---|---|---|",
              f"| theory (full) | {rates.get('target', float('nan')):.2f} | "
              f"{rates.get('non_target', float('nan')):.2f} | {rates.get('inhibitory', float('nan')):.2f} |"]
    for key, label in (("rates_continuous_start_full", "theory (full), start of episode, "
                        "continuous"), ("rates_finite_step_start_full", "theory (full), start of "
                        f"episode, finite step {th.get('finite_step_dt_ms', '')} ms")):
        if key in th:                       # config key theory.finite_step (docs/theory.md)
            r = th[key]
            lines.append(f"| {label} | {r['target']:.2f} | {r['non_target']:.2f} | "
                         f"{r['inhibitory']:.2f} |")
    for p, c in caps:
        for run in c["provenance"].get("runs", []):
            ep = read_csv(Path(run) / "episodes.csv")
            m = {k: np.mean([float(r[k]) for r in ep]) for k in
                 ("rate_target_hz", "rate_non_target_hz", "rate_inh_hz")}
            lines.append(f"| simulation {Path(run).parent.name} {Path(run).name} | "
                         f"{m['rate_target_hz']:.2f} | {m['rate_non_target_hz']:.2f} | "
                         f"{m['rate_inh_hz']:.2f} |")
    lines.append("")
    for a in analyses:
        res = read_json(Path(a), "analysis file")
        d = Path(a).parent
        lines += [f"## Spike-time correlations and drift ({d.parent.parent.name} {d.parent.name})", "",
                  f"![ccg]({_rel(d / 'ccg.png', base)})", "",
                  "*Class-averaged input -> E cross-correlation densities over the training "
                  "phases (elephant-checked); positive lag: the E neuron fires after the input.*",
                  "", f"![drift]({_rel(d / 'drift.png', base)})", "",
                  "*Mean weight change per episode and synapse class: measured, predicted by the "
                  "STDP window integrated against the measured CCG, and predicted from the "
                  "measured rates alone.*", "",
                  "| class | measured | from CCG | rate only |", "|---|---|---|---|"]
        for c, v in res["classes"].items():
            lines.append(f"| {c} | {v['dw_measured_mean']:+.5f} | {v['dw_ccg_mean']:+.5f} | "
                         f"{v['dw_rate_only_mean']:+.5f} |")
        if (d / "weights.png").exists():
            lines += ["", f"![weights]({_rel(d / 'weights.png', base)})", "",
                      "*Feed-forward weight distributions per class, for the classes of the "
                      "episode named.*"]
        st = res.get("statistics", {})
        lines += ["", "| population | rate [Hz] | CV ISI | Fano (100 ms) | corr. coeff. (10 ms) |",
                  "|---|---|---|---|---|"]
        for pop, s in st.items():
            lines.append(f"| {pop} (n={s['n']}) | {s['rate_hz']:.2f} | {_n(s['cv_isi'])} | "
                         f"{_n(s['fano_100ms'])} | {_n(s['corrcoef_10ms'])} |")
        lines.append("")
        break           # one seed's analysis is enough for the page; all are in results/
    for m in mappings:
        lines += _mapping_section(Path(m))
    lines += spinnaker_protocol_section(base)
    lines += ["## What was not executed", "",
              "No SpiNNaker hardware was used: SpiNNaker runs, where present, are mappings on "
              "sPyNNaker's virtual board, which produce no spikes.", ""]
    md = "\n".join(lines)
    with atomic_path(out) as tmp:
        tmp.write_text(md)
    with atomic_path(out.with_suffix(".html")) as tmp:
        tmp.write_text(markdown_page(md, experiment))
    return md


def spiking_section(cap_path: Path, c: dict, base: Path) -> list[str]:
    """Return the report lines on the spiking recall of one capacity.json ``c``: what was
    done, samples per age, the wall-time cost, and the recall-rate figure."""
    sp = c["spiking"]
    n = sp["samples_per_age"]
    ages = [a for a, k in enumerate(n) if k]
    png = cap_path.parent / "recall_rates.png"
    pred = (f" Predicted: {sp.get('capacity_theory_full_label', 'n/a')} (full theory), "
            f"{sp.get('capacity_theory_rate_only_label', 'n/a')} (rate-only theory)."
            if "capacity_theory_full_label" in sp else "")
    return [f"Spiking recall ({', '.join(c['backend'])}): each cue is presented for "
            f"{sp['t_recall_ms']:g} ms without supervision and with plasticity off; the f_s*N_E "
            f"E neurons with the most spikes are recalled (ties drawn at random, the expectation "
            f"is reported). Ages {ages[0]} to {ages[-1]} in steps of "
            f"{ages[1] - ages[0] if len(ages) > 1 else 1} are tested in sessions after episodes "
            f"{sp['sessions_after_episodes']}: up to {max(n)} sample(s) per age and seed, "
            f"{len(sp['wall_recall_s'])} seed(s). Capacity "
            f"{_fmt_cap(sp['capacity_simulation'])}.{pred} Recall took "
            f"{100 * sp['wall_recall_over_training']:.1f}% of the training's wall time "
            f"({', '.join(f'{x:.0f}' for x in sp['wall_recall_s'])} s against "
            f"{', '.join(f'{x:.0f}' for x in sp['wall_training_s'])} s per seed).", "",
            f"![recall rates]({_rel(png, base)})", "",
            "*Rates of the tested memory's targets and of the other E neurons during recall, "
            "by age: simulation (markers) and the Siegert rate at the recall operating point "
            "from the theory's summed-cue-weight moments (lines).*", ""]


def _mapping_section(run: Path) -> list[str]:
    res = read_json(run / "resources.json", "resource report")
    tr = read_json(run / "translation.json", "translation report")
    rule, w = tr["stdp_rule"], tr["weights"]
    lines = ["## SpiNNaker: mapping on sPyNNaker's virtual board (no spikes)", "",
             "| resource | value |", "|---|---|",
             f"| chips used (application cores) | {res['chips_used']} of {res['machine_chips']} |",
             f"| cores used (application + system) | {res['app_cores']} + {res['system_cores']} |",
             f"| SDRAM planned | {res['sdram_planned_bytes'] / 2**20:.1f} MiB "
             f"(fullest chip {res['sdram_max_chip_bytes'] / 2**20:.1f} of "
             f"{res['chip_sdram_bytes'] / 2**20:.0f} MiB) |",
             f"| routing entries (fullest chip / total) | {res['routing_entries_max']} / "
             f"{res['routing_entries_total']} (table size {res['router_table_size']}) |",
             f"| fits one {res['board_chips']}-chip board | {'yes' if res['fits_one_board'] else 'no'} |",
             f"| binaries missing from sPyNNaker | {', '.join(res['missing_binaries']) or 'none'} |",
             f"| mapping wall time | {res['mapping_wall_s']} s |", "",
             "| neurons per core | cores |", "|---|---|"]
    for k, v in res["neurons_per_core"].items():
        lines.append(f"| {k} | " + ", ".join(f"{n} x {a}" for a, n in v.items()) + " |")
    lines += ["", "| what moving to SpiNNaker changes | size |", "|---|---|",
              f"| time step | {tr['time_step_ms']['reference']} ms -> {tr['time_step_ms']['used']} ms |",
              f"| delays | {tr['delay_ms']['reference']} ms -> {tr['delay_ms']['used']} ms |",
              f"| weight quantum | {w['quantum_mv']:.4g} mV |"]
    for k, v in w["per_weight"].items():
        lines.append(f"| {k} | {v['model_mv']:.4g} -> {v['board_mv']:.4g} mV "
                     f"({100 * v['rel_error']:+.2f}%) |")
    lines += [f"| STDP rule | {rule['substitution']}: potentiation error "
              f"{100 * rule['potentiation_rel_error_min']:+.1f}% to "
              f"{100 * rule['potentiation_rel_error_max']:+.1f}% over w in "
              f"{rule['working_range_theta']} theta, depression exact |", ""]
    return lines


def comparison_figure(caps: list, th: dict, stem: Path) -> None:
    """Draw the forgetting curves of several backends and both theories in one figure."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .io import save_figure

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for i, (_, c) in enumerate(caps):
        fc = c["forgetting_curve"]
        f = lambda xs: np.array([np.nan if x is None else x for x in xs], float)
        name = ", ".join(c["backend"])
        if "nest-spinnaker" in name:
            name += f" (emulation, {'/'.join(c.get('protocol', ['nest']))} protocol)"
        ax.plot(fc["age"], f(fc["accuracy"]), color=f"C{i}", label=name)
        ax.fill_between(fc["age"], f(fc["ci95_low"]), f(fc["ci95_high"]), color=f"C{i}",
                        alpha=0.2, lw=0)
        if c.get("spiking"):
            sa = f(c["spiking"]["forgetting_curve"]["accuracy"])
            ok = np.isfinite(sa)
            ax.plot(np.asarray(fc["age"])[ok], sa[ok], "o:", ms=3, color=f"C{i}",
                    label=f"{name}, spiking recall")
    for key, color, name in (("accuracy_full", "C3", "theory, with cross-correlations"),
                             ("accuracy_rate_only", "C2", "theory, rate only")):
        a = np.asarray(th[key], float)
        ax.plot(np.arange(len(a)), a, "--", color=color, label=name)
    ax.axhline(caps[0][1]["threshold"], color="k", lw=0.8, ls=":")
    ax.set_xlabel("age of the memory [episodes]")
    ax.set_ylabel("recall accuracy")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7)
    ax.set_title("Forgetting curves by backend")
    fig.tight_layout()
    save_figure(fig, stem)
    plt.close(fig)


def validation_section(paths: list[Path], base: Path) -> list[str]:
    """Return the report's "Cross-backend validation" section: per comparison the verdict
    on the memory and over all statistics, what was tested against, the statistics left
    inconclusive with the seeds that would decide them, and the forest plot."""
    from .validation.render import undecided

    lines = ["", "## Cross-backend validation", "",
             "Is side B the same network and memory as side A, within declared tolerances "
             "(`validation.tolerances`)? Every statistic's difference B - A gets a "
             "simultaneous confidence interval (all hold at once with probability 1 - alpha); "
             "**equivalent**: inside the tolerance; **different**: excludes 0 and not inside; "
             "**inconclusive**: too little data to tell. Sides with the same seeds are "
             "compared seed by seed (paired: they share every host draw). "
             "See docs/validation.md.", "",
             "| comparison | A | B | design | memory | all statistics | inconclusive |",
             "|---|---|---|---|---|---|---|"]
    results = [(p, read_json(p, "validation file")) for p in paths]
    for p, v in results:
        if "memory_verdict" not in v:
            raise ResultFileError(f"validation file '{p}' was written by an older validate "
                                  f"(no three-way verdict); rerun `python -m pipeline validate`")
        c = v["counts"]
        side = {k: f"{v[k]['backend']}" + (f" replicate {v[k]['replicate']}"
                                          if v[k].get("replicate") else "")
                + (" (emulation)" if "spinnaker" in v[k]["backend"] else "") + f" {v[k]['seeds']}"
                for k in ("a", "b")}
        lines.append(f"| [{v['name']}]({_rel(p.with_suffix('.md'), base)}) | {side['a']} | "
                     f"{side['b']} | {v['design']} | **{v['memory_verdict']}**"
                     f"{'' if _capacity_tested(v) else ' (capacity not tested: a lower bound)'} | "
                     f"**{v['verdict']}** ({c['equivalent']} eq., {c['different']} diff., "
                     f"{c['inconclusive']} inc. of {v['n_statistics']}) | "
                     f"{'; '.join(undecided(v)) or 'none'} |")
    lines.append("")
    for p, v in results:
        mem = [e for e in v["statistics"] if e["family"] in ("forgetting_curve", "capacity")
               and "interval" in e]
        lines += [f"![{v['name']} forest plot]({_rel(p.parent / 'forest.png', base)})", "",
                  f"*{v['name']}: each statistic's difference B - A with its simultaneous "
                  f"interval, in units of its tolerance (grey: the equivalent region). "
                  + " ".join(f"{e['name']}: {e['difference']:+.3g} [{e['interval'][0]:+.3g}, "
                             f"{e['interval'][1]:+.3g}] {e['unit']} against "
                             f"±{e['tolerance']:.3g} ({e['verdict']})." for e in mem) + "*", ""]
    return lines


def _capacity_tested(v: dict) -> bool:
    return any(e["name"] == "capacity" and "interval" in e for e in v["statistics"])


def _n(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{x:.3f}"
