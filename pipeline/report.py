"""The ``report`` step: one Markdown page (and the same as HTML) with the figures, their
captions and the numbers a reader looks for first."""
from __future__ import annotations

import html
import os
from pathlib import Path

import numpy as np

from .io import atomic_path, read_csv, read_json


def _rel(path: Path, base: Path) -> str:
    return os.path.relpath(path, base)


def _fmt_cap(cs: dict) -> str:
    ge = ">= " if cs.get("lower_bound") else ""
    ci = cs.get("ci95")
    ci_txt = (f" (95% interval {max(ci[0], 0):.1f} to {ci[1]:.1f} over {cs['n_seeds']} seeds)"
              if ci else " (one seed: no interval)")
    return f"{ge}{cs['mean']:.1f}{ci_txt}"


def _theory_cap(th: dict, name: str) -> str:
    label = th.get(f"capacity_{name}_label")
    return label if label else str(th[f"capacity_{name}"])


def build_report(experiment: str, theory: Path, capacities: list[Path], analyses: list[Path],
                 sweep: Path | None, out: Path) -> str:
    """Write ``out`` (Markdown) and the same page as HTML beside it; return the Markdown."""
    out = Path(out)
    base = out.parent
    th = read_json(theory, "theory file")
    lines = [f"# stdp-capacity report: experiment `{experiment}`", ""]
    caps = [(p, read_json(p, "capacity file")) for p in capacities]
    lines += ["## Memory capacity", "",
              "| source | capacity [episodes] |", "|---|---|"]
    for p, c in caps:
        label = ", ".join(c["backend"])
        if "emulation" in label:
            label += " (NEST emulating SpiNNaker's constraints: an approximation)"
        lines.append(f"| simulation, {label} | {_fmt_cap(c['capacity_simulation'])} |")
    lines.append(f"| theory with cross-correlations | {_theory_cap(th, 'full')} |")
    lines.append(f"| theory, rate only | {_theory_cap(th, 'rate_only')} |")
    full, rate = th["capacity_full"], th["capacity_rate_only"]
    if full:
        lines += ["", f"The rate-only theory predicts {rate / full:.2f} times the capacity of the "
                      f"theory with spike-time cross-correlations."]
    lines += ["", "## Forgetting curves", ""]
    for p, c in caps:
        png = Path(p).parent / "forgetting_curve.png"
        lines += [f"![forgetting curve]({_rel(png, base)})", "",
                  f"*Recall accuracy against the age of a memory ({', '.join(c['backend'])}); "
                  f"band: 95% interval over {c['forgetting_curve']['band_over']}; dashed: "
                  f"theory with and without cross-correlations; dotted: threshold "
                  f"{c['threshold']}; dash-dotted: chance.*", ""]
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
    rates = th.get("rates_full", {})
    lines += ["## Firing rates during training [Hz]", "",
              "| source | target | non-target | inhibitory |", "|---|---|---|---|",
              f"| theory (full) | {rates.get('target', float('nan')):.2f} | "
              f"{rates.get('non_target', float('nan')):.2f} | {rates.get('inhibitory', float('nan')):.2f} |"]
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
    lines += ["## What was not executed", "",
              "No SpiNNaker hardware was used: SpiNNaker runs, where present, are mappings on "
              "sPyNNaker's virtual board, which produce no spikes.", ""]
    md = "\n".join(lines)
    with atomic_path(out) as tmp:
        tmp.write_text(md)
    with atomic_path(out.with_suffix(".html")) as tmp:
        tmp.write_text(_to_html(md, experiment))
    return md


def _n(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{x:.3f}"


def _to_html(md: str, title: str) -> str:
    """A minimal Markdown -> HTML for this page (headings, images, tables, paragraphs)."""
    out, table = [], []
    for line in md.split("\n") + [""]:
        if line.startswith("|"):
            if set(line.replace("|", "").strip()) <= {"-"}:
                continue
            table.append([html.escape(c.strip()) for c in line.strip("|").split("|")])
            continue
        if table:
            out.append("<table>" + "".join(
                "<tr>" + "".join(f"<{'th' if i == 0 else 'td'}>{c}</{'th' if i == 0 else 'td'}>"
                                 for c in row) + "</tr>" for i, row in enumerate(table)) + "</table>")
            table = []
        if line.startswith("#"):
            n = len(line) - len(line.lstrip("#"))
            out.append(f"<h{n}>{html.escape(line[n:].strip())}</h{n}>")
        elif line.startswith("!["):
            alt, src = line[2:].split("](")
            out.append(f'<img alt="{html.escape(alt)}" src="{html.escape(src.rstrip(")"))}" width="640">')
        elif line.startswith("*") and line.endswith("*"):
            out.append(f"<p><em>{html.escape(line.strip('*'))}</em></p>")
        elif line:
            out.append(f"<p>{html.escape(line)}</p>")
    style = ("body{font-family:sans-serif;max-width:900px;margin:auto}table{border-collapse:"
             "collapse}td,th{border:1px solid #bbb;padding:2px 8px}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title><style>{style}</style></head><body>{''.join(out)}</body></html>\n")
