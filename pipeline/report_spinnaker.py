"""The report's "SpiNNaker protocol" section: memory kept against board time per protocol,
and why the hardware protocol's spiking recall fails, from the committed results of
``bench/spinnaker_protocols.py`` (bench/results/spinnaker_protocols.json; docs/backends.md)."""
from __future__ import annotations

import os
from pathlib import Path

from .io import copy_figure, read_json

RESULTS = Path(__file__).resolve().parent.parent / "bench" / "results" / "spinnaker_protocols.json"


def _cap(c: dict | None) -> str:
    if not c:
        return "-"
    ci = c.get("ci95")
    ge = ">= " if c.get("lower_bound") else ""
    return (f"{ge}{c['mean']:.1f} [{max(ci[0], 0):.1f}, {ci[1]:.1f}]" if ci
            else f"{ge}{c['mean']:.1f}")


def _verdicts(v: dict | None) -> str:
    if not v:
        return "reference"
    caps = "; ".join(f"{e['name']}: {e['verdict']}" for e in v["capacity"])
    return f"memory {v['memory_verdict']} ({caps}); overall {v['verdict']}"


def spinnaker_protocol_section(base: Path, path: Path = RESULTS) -> list[str]:
    """Return the section's Markdown lines (none when the study's results file is absent).
    ``base`` is the report's directory (for the figure's relative link)."""
    if not Path(path).exists():
        return []
    r = read_json(path, "SpiNNaker protocol study")
    pr = r["protocols"]
    rec = r.get("recommended", {}).get("protocol")
    lines = ["## SpiNNaker protocol", "",
             f"Protocols that sPyNNaker 1!7.4.1 can execute, run on `nest-spinnaker-hw` (NEST "
             f"under SpiNNaker's constraints, fixed-point weights at every load and read-back: "
             f"AN APPROXIMATION of a board), seeds {r['seeds']}, each validated against NEST "
             f"on the same seeds (paired). Board hours per seed are the board-time model's "
             f"({r['board_time_source']}). Produced by `{r['command']}` on {r['date']}; "
             f"{r['not_run']}.", ""]
    fig = Path(path).with_suffix(".png")
    if fig.exists():
        fig = copy_figure(fig, base / "figures")
        lines += [f"![capacity against board hours]({os.path.relpath(fig, base)})", ""]
    lines += ["| protocol | capacity, weight readout [95% CI] | capacity, spiking recall "
              "[95% CI] | verdict against NEST | board h per seed, default (paper) |",
              "|---|---|---|---|---|"]
    for name, e in pr.items():
        bh = e.get("board_hours")
        hours = (f"{bh['default']['total_h']:.3f} ({bh['paper']['total_h']:.2f})" if bh
                 else "- (not a board protocol)")
        mark = " **(recommended)**" if name == rec else ""
        lines.append(f"| {name}{mark}: {e['label']} | {_cap(e['capacity_weight'])} | "
                     f"{_cap(e.get('capacity_spiking'))} | {_verdicts(e.get('validation'))} | "
                     f"{hours} |")
    if rec:
        lines += ["", f"Recommended: **{rec}** ({r['recommended']['why']}; rule: "
                      f"{r['recommended']['rule']}). It is the hardware protocol's default "
                      f"(spinnaker.rebuild_every, config/schema.yaml).", ""]
    q = r.get("quantisation")
    if q:
        cap = next(e for e in q["statistics"] if e["name"] == "capacity")
        lines += [f"Fixed-point numbers (AN APPROXIMATION of the board's: weights on its grid "
                  f"at every load and read-back, STDP amplitudes in S16.15), measured on "
                  f"hw-every-10 with and without them, seeds {q['seeds']}, paired: capacity "
                  f"per seed {q['capacity_weight_per_seed']['fixed']} with, "
                  f"{q['capacity_weight_per_seed']['float']} without (difference "
                  f"{cap['difference']:+.1f} [{cap['interval'][0]:.1f}, "
                  f"{cap['interval'][1]:.1f}], {cap['verdict']}); memory "
                  f"{q['memory_verdict']}, overall {q['verdict']} "
                  f"({q['counts']['different']} of "
                  f"{sum(q['counts'].values())} statistics different).", ""]
    ex = pr.get("hw-never", {}).get("recall_explanation")
    if ex:
        late, early = ex["late"], ex["early"]
        t0 = ex["tested_by_age"].get("0", {})
        lines += ["", "**Why the hardware protocol without rebuilds loses its spiking recall.** "
                  "The weight readout's age 0 averages the reference memories (stored in the "
                  "first half of the run) at their own storage times; the spiking recall tests "
                  "memory P-1 after episode P-1. Read from the same weights (after the last "
                  f"episode), memory P-1 gives weight-readout accuracy {t0.get('weight_accuracy', float('nan')):.2f} "
                  f"and spiking accuracy {t0.get('spiking_accuracy', float('nan')):.2f} (mean over seeds; "
                  f"chance 0.10), against {sum(ex['reference_age0_weight_accuracy']) / len(ex['reference_age0_weight_accuracy']):.2f} "
                  f"for the early reference memories. Storage per synapse (cue->target minus "
                  f"cue->non-target weight change in the episode) falls from "
                  f"{early['stored_per_synapse_theta']:+.4f} theta in episodes "
                  f"{ex['early_episodes'][0]}-{ex['early_episodes'][1]} to "
                  f"{late['stored_per_synapse_theta']:+.4f} theta in episodes "
                  f"{ex['late_episodes'][0]}-{ex['late_episodes'][1]}, while the cue rows' "
                  f"mean weight at an episode's start rises from "
                  f"{early['cue_non_target_weight_at_start_theta']:.3f} to "
                  f"{late['cue_non_target_weight_at_start_theta']:.3f} theta (the rule's "
                  f"drift fixed point without homeostasis is ~0.12 theta; m0 = 0.05) and "
                  f"non-target rates in training from {early['rate_non_target_hz']:.1f} to "
                  f"{late['rate_non_target_hz']:.1f} Hz. In the late episodes cue->target "
                  f"synapses change by {late['dw_cue_to_target_theta']:+.4f} theta and "
                  f"cue->non-target by {late['dw_cue_to_non_target_theta']:+.4f} theta "
                  f"(inverted in {late['inverted_episodes']:.1f} of 20 episodes, mean over "
                  f"seeds): at the rule's fixed point the rate-driven drift, proportional to "
                  f"nu_pre nu_post (w* - w), no longer favours the strongly firing targets, and "
                  f"above it depresses them most. The spiking recall reads these inverted "
                  f"memories correctly: it has no bug. docs/recall.md gives the mechanism.", ""]
        fig2 = Path(path).with_name(Path(path).stem + "_storage.png")
        if fig2.exists():
            fig2 = copy_figure(fig2, base / "figures")
            lines += [f"![what each episode stores]({os.path.relpath(fig2, base)})", ""]
    return lines
