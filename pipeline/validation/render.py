"""validation.md, the one-line summary and the figures of a validation: a forest plot of
every statistic's interval against its tolerance, and the per-seed curves."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..io import save_figure
from .tolerances import UNITS, describe

COLOURS = {"equivalent": "#1b7837", "different": "#c51b7d", "inconclusive": "#e08214"}
EMULATION_NOTE = ("`nest-spinnaker` and `nest-spinnaker-hw` are EMULATIONS: NEST under "
                  "SpiNNaker's constraints, not SpiNNaker hardware.")


def _side_text(s: dict) -> str:
    rep = f", replicate {s['replicate']}" if s.get("replicate") else ""
    return f"`{s['backend']}`{rep} seeds {s['seeds']}"


def summary_line(result: dict) -> str:
    """Return one line: the memory verdict, the overall verdict and the counts."""
    c = result["counts"]
    return (f"[validate] {result['name']}: memory {result['memory_verdict'].upper()}, "
            f"overall {result['verdict'].upper()} ({result['design']}; {c['equivalent']} "
            f"equivalent, {c['different']} different, {c['inconclusive']} inconclusive of "
            f"{result['n_statistics']} statistics at family-wise alpha {result['alpha']})")


def _g(x, nd: int = 3) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and not np.isfinite(x):
        return str(x)
    return f"{x:.{nd}g}"


def undecided(result: dict) -> list[str]:
    """Return one sentence per inconclusive statistic: the seeds that would decide it."""
    out = []
    for e in result["statistics"]:
        if e["verdict"] == "inconclusive":
            n = e.get("seeds_to_decide")
            unit = "seed pairs" if result["design"] == "paired" else "seeds a side"
            out.append(f"`{e['name']}`: " + (f"about {n} {unit} would likely decide it"
                       if n else "no number of seeds up to 1000 would likely decide it "
                       "(the difference sits on the tolerance's edge)"))
    return out


def markdown(result: dict) -> str:
    """Return validation.md: the verdicts, what they were tested against, one table row
    per statistic."""
    a, b = result["a"], result["b"]
    memory = [e for e in result["statistics"] if e["family"] in ("forgetting_curve", "capacity")]
    tested = [e["name"].replace("_", " ") for e in memory if "interval" in e]
    untested = [f"{e['name']} not tested: {e['reason']}" for e in memory if "interval" not in e]
    lines = [f"# Validation: {result['name']}", "",
             f"**Memory: {result['memory_verdict']}** ({' and '.join(tested) or 'nothing tested'}"
             f"{'; ' + '; '.join(untested) if untested else ''}). "
             f"**All statistics: {result['verdict']}** ({result['counts']['equivalent']} "
             f"equivalent, {result['counts']['different']} different, "
             f"{result['counts']['inconclusive']} inconclusive of {result['n_statistics']}).",
             "",
             f"- A: {_side_text(a)} (config {a['config_hash']})",
             f"- B: {_side_text(b)} (config {b['config_hash']})",
             f"- Design: **{result['design']}**" + (
                 " (the same seeds on both sides: per-seed differences B - A, which share "
                 "every host draw)" if result["design"] == "paired" else
                 " (different seeds: side means, network-to-network spread included)"),
             f"- Rule: {result['rule']}.",
             "- Tested against: " + ", ".join(
                 f"{fam} {describe(t, UNITS[fam])}" for fam, t in result["tolerances"].items())
             + " (`validation.tolerances`; reasons in config/default.yaml).", ""]
    if result["config_differences"]:
        lines += ["Config keys that differ: " + ", ".join(
            f"`{k}` {v[0]} -> {v[1]}" for k, v in result["config_differences"].items()), ""]
    if any("spinnaker" in s["backend"] for s in (a, b)):
        lines += [EMULATION_NOTE, ""]
    lines += ["![forest plot](forest.png)", ""]
    und = undecided(result)
    if und:
        lines += ["Inconclusive: " + "; ".join(und) + ".", ""]
    lines += ["| statistic | unit | A | B | B - A [interval] | tolerance | detectable | verdict |",
              "|---|---|---|---|---|---|---|---|"]
    for e in result["statistics"]:
        if "interval" not in e:
            lines.append(f"| {e['name']} | {e['unit']} | | | | | | {e['verdict']}: "
                         f"{e['reason']} |")
            continue
        lo, hi = e["interval"]
        v = e["verdict"]
        lines.append(
            f"| {e['name']} | {e['unit']} | {_g(e['a']['mean'], 4)} | {_g(e['b']['mean'], 4)} | "
            f"{_g(e['difference'])} [{_g(lo)}, {_g(hi)}] | ±{_g(e['tolerance'])} "
            f"({e['tolerance_text']}) | {_g(e['detectable'])} | "
            f"{'**' + v + '**' if v != 'inconclusive' else v}"
            f"{' (' + str(e['seeds_to_decide']) + ' seeds)' if e.get('seeds_to_decide') else ''} |")
    lines += ["", "`detectable`: the smallest |B - A| this comparison would have called "
              "different at its standard error. Intervals: simultaneous, "
              f"{100 * (1 - result['alpha'] / max(result['n_statistics'], 1)):.2f}% each.", ""]
    nu = result.get("networkunit")
    if nu:
        lines += ["## NetworkUnit model-to-model tests (pooled samples, not the verdict)", "",
                  nu["what"] + ".", ""]
        if nu["tests"]:
            lines += ["| statistic | networkunit test | KS distance | p (pooled) | samples A, B |",
                      "|---|---|---|---|---|"]
            for k, v in nu["tests"].items():
                if "error" in v:
                    lines.append(f"| {k} | {v['test']} | failed: {v['error']} | | |")
                    continue
                lines.append(f"| {k} | `{v['test']}` | {v['ks_distance']:.3f} | "
                             f"{v['p_value']:.2g} | {v['samples'][0]}, {v['samples'][1]} |")
            lines.append("")
    lines += ["![curves](curves.png)", ""]
    return "\n".join(lines)


def forest(result: dict, ax) -> None:
    """Draw every tested statistic's interval in units of its tolerance (the band is
    -1..1), coloured by verdict; derived and untested statistics are listed greyed."""
    rows = [e for e in result["statistics"] if "interval" in e]
    clip = 4.0
    for i, e in enumerate(rows):
        t = e["tolerance"]
        lo, hi, d = (np.array([*e["interval"], e["difference"]]) / t) if t > 0 else (0, 0, 0)
        col = COLOURS[e["verdict"]]
        ax.plot([max(lo, -clip), min(hi, clip)], [i, i], color=col, lw=2.2,
                solid_capstyle="butt")
        ax.plot([np.clip(d, -clip, clip)], [i], "o", color=col, ms=4)
        for end, edge in ((lo, -clip), (hi, clip)):
            if (end < -clip and edge < 0) or (end > clip and edge > 0):
                ax.annotate("", xy=(edge * 1.04, i), xytext=(edge * 0.92, i),
                            arrowprops=dict(arrowstyle="->", color=col, lw=1.5))
    ax.axvspan(-1, 1, color="0.9", zorder=0)
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{e['name']}  ({e['tolerance_text']})" for e in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(-clip * 1.08, clip * 1.08)
    ax.set_xlabel("B - A in units of the tolerance (grey band: equivalent region)")
    handles = [ax.plot([], [], color=c, lw=2.2, label=v)[0] for v, c in COLOURS.items()]
    ax.legend(handles=handles, fontsize=8, loc="lower right")


def plot(result: dict, meas_a: dict, meas_b: dict, out: Path) -> None:
    """Write forest.png/.svg and curves.png/.svg into ``out``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = max(1, result["n_statistics"])
    fig, ax = plt.subplots(figsize=(8.5, 1.2 + 0.28 * n))
    forest(result, ax)
    ax.set_title(f"{result['name']}: memory {result['memory_verdict']}, all statistics "
                 f"{result['verdict']} ({result['design']})", fontsize=10)
    fig.tight_layout()
    save_figure(fig, out / "forest")
    plt.close(fig)

    la = f"A: {result['a']['backend']}"
    lb = f"B: {result['b']['backend']}" + (f" replicate {result['b']['replicate']}"
                                           if result["b"].get("replicate") else "")
    verdicts = {e["name"]: e["verdict"] for e in result["statistics"]}
    names = [k for k in ("forgetting_curve", "ccg_cue->target", "dw_cue->target",
                         "w_mean_cue->target", "rate_target", "rate_inh")
             if meas_a.get(k) and all(x is not None and x.curve is not None
                                      for x in meas_a[k] + meas_b[k])]
    fig, axes = plt.subplots(2, 3, figsize=(12, 5.6), squeeze=False)
    for ax, k in zip(axes.ravel(), names):
        for ms, colour, lab in ((meas_a[k], "C0", la), (meas_b[k], "C3", lb)):
            for i, x in enumerate(ms):
                ax.plot(x.curve[0], x.curve[1], color=colour, lw=0.9, alpha=0.8,
                        label=lab if i == 0 else None)
        ax.set_title(f"{k}: {verdicts.get(k, '')}", fontsize=9,
                     color=COLOURS.get(verdicts.get(k), "k"))
        ax.set_xlabel({"forgetting_curve": "age [episodes]"}.get(
            k, "lag [ms]" if k.startswith("ccg") else "episode"), fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(names):]:
        ax.axis("off")
    axes[0][0].legend(fontsize=7)
    fig.suptitle("per seed: A blue, B red", fontsize=10)
    fig.tight_layout()
    save_figure(fig, out / "curves")
    plt.close(fig)
