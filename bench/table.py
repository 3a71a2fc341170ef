"""The Markdown tables of docs/performance.md, made from bench/results.json (the sections
present). Prints them, or with --write replaces the block between docs/performance.md's
BEGIN TABLES and END TABLES markers (tests/test_docs.py checks that the page holds
exactly what this makes):

    .venv/bin/python bench/table.py [--write] [bench/results.json]
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("simulation", "spike_retrieval", "drive", "plasticity_switch", "weight_io",
         "stdp_bookkeeping", "homeostasis", "other")


def fmt(s: dict, digits: int = 3) -> str:
    """Return 'median (min-max)' of a stats dict."""
    return f"{s['median']:.{digits}g} ({s['min']:.{digits}g}-{s['max']:.{digits}g})"


def episode_table(res: dict) -> list[str]:
    """Seconds per training episode by part (wall medians) against the bare NEST script."""
    lines = ["Seconds per training episode (wall; parts are medians, totals median (min-max) "
             "of the repetitions; `NEST kernel`: NEST's own `time_simulate` of our run):", "",
             "| scale | threads | " + " | ".join(p.replace("_", " ") for p in PARTS)
             + " | NEST kernel | total | bare NEST, PyNN layout | ratio | bare NEST, direct "
               "supervision | ratio |",
             "|" + "---|" * (len(PARTS) + 8)]
    for scale, entry in res.get("scales", {}).items():
        for key, ep in entry["episode"].items():
            if "bare_nest_direct_wall_s" not in ep:
                continue          # measured before the direct baseline existed
            lines.append(
                f"| {scale} | {key.split('_')[1]} | "
                + " | ".join(f"{ep[f'{p}_wall_s']['median']:.3g}" for p in PARTS)
                + f" | {ep['nest_simulate_wall_s']['median']:.3g} | {fmt(ep['total_wall_s'])} | "
                f"{fmt(ep['bare_nest_wall_s'])} | {fmt(ep['ratio_to_bare_nest_wall'])} | "
                f"{fmt(ep['bare_nest_direct_wall_s'])} | "
                f"{fmt(ep['ratio_to_bare_nest_direct_wall'])} |")
    return lines


def build_table(res: dict) -> list[str]:
    """Build time (1 thread) against PyNN's FromListConnector and bare NEST."""
    lines = ["Build (1 thread, seconds), checkpoint write and peak memory of an episode "
             "process:", "",
             "| scale | build wall (bulk) | PyNN FromListConnector wall | ratio CPU | "
             "bare NEST wall | checkpoint write wall | peak RSS MiB (1 thread) |",
             "|---|---|---|---|---|---|---|"]
    for scale, entry in res.get("scales", {}).items():
        b = entry.get("build")
        ep = entry["episode"].get("threads_1")
        if not b or not ep:
            continue
        lines.append(f"| {scale} | {fmt(b['bulk_wall_s'])} | {fmt(b['pynn_from_list_wall_s'])} | "
                     f"{fmt(b['ratio_bulk_to_pynn_cpu'])} | {fmt(b['bare_nest_wall_s'])} | "
                     f"{fmt(ep['checkpoint_write_wall_s'])} | "
                     f"{ep['peak_rss_bytes']['median'] / 2**20:.0f} |")
    return lines


def seed_tables(res: dict) -> list[str]:
    """Whole-run step tables of bench/step_resources.py (wall, CPU, peak RSS per step):
    median (min-max) over the repetitions of the same code, or the one run of a section
    written before repetitions were kept."""
    lines = []
    for name, sec in res.items():
        if not name.startswith("step_resources_"):
            continue
        reps = sec.get("repetitions", [sec])
        last = reps[-1]
        lines += [f"`{sec['command']}` ({last['experiment']}, {last['episodes']} episodes, "
                  f"{last['threads']} thread(s), seeds {last['seeds']}; {len(reps)} "
                  f"repetition(s)):", "", "| step | wall s | CPU s (last) | peak RSS MiB (last) |",
                  "|---|---|---|---|"]
        for step, runs in last["steps"].items():
            walls = sec.get("summary", {}).get(f"{step}_wall_s") or dict.fromkeys(
                ("median", "min", "max"), sum(m["wall_s"] for m in runs))
            lines.append(f"| {step} | {fmt(walls, 4)} | "
                         f"{sum(m.get('cpu_s', float('nan')) for m in runs):.1f} | "
                         f"{max(m['peak_rss_mb'] for m in runs):.0f} |")
        total = sec.get("summary", {}).get("total_wall_min") or dict.fromkeys(
            ("median", "min", "max"), last["total_wall_s"] / 60)
        lines += [f"| **total** | **{fmt(total)} min** | {last['total_cpu_s']:.0f} | "
                  f"{last['peak_rss_mb']:.0f} (max) |", ""]
    for name, sec in res.items():
        if not name.startswith("make_run_"):
            continue
        s = sec["summary"]
        last = sec["repetitions"][-1]
        lines += [f"`make run` from empty results (`{sec['command']}`; {s['wall_min']['n']} "
                  f"repetition(s)): {fmt(s['wall_min'])} min wall, {fmt(s['cpu_s'], 4)} CPU s, "
                  f"{last['n_jobs']} jobs on {last['cores']} cores. Sum of job wall times by "
                  f"rule (last repetition):", "", "| rule | s |", "|---|---|"]
        lines += [f"| {rule} | {t:.0f} |" for rule, t in sorted(
            last["job_wall_s_by_rule"].items(), key=lambda kv: -kv[1])]
        lines.append("")
    return lines


def other_tables(res: dict) -> list[str]:
    """Theory sweep, CCG, SpiNNaker mapping, N_E scaling and seeds-on-cores tables."""
    lines = []
    if "theory_sweep" in res:
        t = res["theory_sweep"]
        lines += ["| theory: 16-point f_c sweep | wall s | CPU s | per point s | target |",
                  "|---|---|---|---|---|",
                  f"| {t['config']} | {fmt(t['wall_s'])} | {fmt(t['cpu_s'])} | "
                  f"{fmt(t['per_point_wall_s'])} | {t['target_s']:.0f} s |", ""]
    if "ccg" in res:
        c = res["ccg"]
        lines += ["| class CCGs | pairs | class CCG s | elephant per pair ms | elephant, "
                  "extrapolated s | speed-up | max difference (counts) |",
                  "|---|---|---|---|---|---|---|",
                  f"| {c['episodes']} episodes, N_E {c['n_exc']} | {c['pairs']} | "
                  f"{fmt(c['class_ccg_s'])} | {1e3 * c['elephant_per_pair_s']['median']:.3g} | "
                  f"{fmt(c['elephant_extrapolated_s'])} | {fmt(c['speedup'])} | "
                  f"{max(c['max_abs_difference_sampled_counts'], c['max_abs_difference_all_pairs_episode_0_counts']):g} |",
                  ""]
    if "spinnaker_mapping" in res:
        lines += ["| SpiNNaker virtual mapping | step wall s | sPyNNaker mapping s | peak RSS "
                  "MiB | cores | chips | fits one board |", "|---|---|---|---|---|---|---|"]
        for scale, m in res["spinnaker_mapping"]["scales"].items():
            lines.append(f"| {scale} | {fmt(m['step_wall_s'])} | {fmt(m['mapping_wall_s'])} | "
                         f"{m['peak_rss_mb']['median']:.0f} | {m['app_cores']} | "
                         f"{m['chips_used']} | {m['fits_one_board']} |")
        lines.append("")
    for name, s in res.items():
        if not name.startswith("scaling_threads_"):
            continue
        f = s["fit_t_proportional_to_n_exc_power_b"]
        lines += [f"Episode time against N_E ({s['threads']} threads; fitted t ~ N_E^b: ours "
                  f"b = {f['ours']['exponent_of_medians']:.2f} ({fmt(f['ours']['exponent'])} "
                  f"over repetitions), bare NEST b = "
                  f"{f['bare_nest']['exponent_of_medians']:.2f}, build b = "
                  f"{f['build']['exponent_of_medians']:.2f}):", "",
                  "| N_E | episode wall s | bare NEST wall s | ratio | build wall s | peak RSS "
                  "MiB |", "|---|---|---|---|---|---|"]
        for n, m in s["per_n_exc"].items():
            lines.append(f"| {n} | {fmt(m['episode_wall_s'])} | {fmt(m['bare_nest_wall_s'])} | "
                         f"{fmt(m['ratio_to_bare_nest_wall'])} | {fmt(m['build_wall_s'])} | "
                         f"{m['peak_rss_mb']['median']:.0f} |")
        lines.append("")
    for name, s in res.items():
        if not name.startswith("seeds_on_cores_"):
            continue
        lines += [f"Two seeds on 2 cores ({s['config']}, {s['episodes']} episodes each; "
                  f"makespan s):", "",
                  "| serial, 2 threads | parallel, 1 thread | ratio | faster |",
                  "|---|---|---|---|",
                  f"| {fmt(s['serial_2_threads']['makespan_s'])} | "
                  f"{fmt(s['parallel_1_thread']['makespan_s'])} | "
                  f"{fmt(s['ratio_parallel_to_serial'])} | {s['faster']} |", ""]
    return lines


def tables(res: dict) -> str:
    """Return all the Markdown tables of a results dict."""
    return "\n".join([*episode_table(res), "", *build_table(res), "", *seed_tables(res),
                      *other_tables(res)])


BEGIN, END = "<!-- BEGIN TABLES", "<!-- END TABLES -->"
PAGE = ROOT / "docs" / "performance.md"


def tables_block(page: str) -> str:
    """Return the text between the BEGIN TABLES line and END TABLES of ``page``."""
    head = page.index(BEGIN)
    return page[page.index("\n", head) + 1:page.index(END)]


def write_tables(res: dict, page_path: Path = PAGE) -> None:
    """Replace the generated block of ``page_path`` with the tables of ``res``."""
    page = page_path.read_text()
    old = tables_block(page)
    page_path.write_text(page.replace(old, expected_block(res), 1))


def expected_block(res: dict) -> str:
    """Return the generated block docs/performance.md must hold for ``res``."""
    return "\n" + tables(res).rstrip("\n") + "\n\n"


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--write"]
    path = Path(args[0]) if args else ROOT / "bench" / "results.json"
    res = json.loads(path.read_text())
    if "--write" in sys.argv[1:]:
        write_tables(res)
        print(f"wrote the tables of {path} into {PAGE}")
    else:
        print(tables(res))
