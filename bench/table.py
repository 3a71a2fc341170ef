"""Print bench/results.json (written by bench/speed.py) as the README's Markdown tables.

    .venv/bin/python bench/table.py [bench/results.json]
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


def tables(res: dict) -> str:
    """Return the Markdown tables (episode split, build) of a results dict."""
    lines = ["| scale | threads | " + " | ".join(p.replace("_", " ") for p in PARTS)
             + " | total CPU s | bare NEST CPU s | ratio CPU | total wall s | ratio wall |",
             "|" + "---|" * (len(PARTS) + 7)]
    for scale, entry in res["scales"].items():
        for key, ep in entry["episode"].items():
            th = key.split("_")[1]
            lines.append(f"| {scale} | {th} | "
                         + " | ".join(f"{ep[f'{p}_cpu_s']['median']:.3g}" for p in PARTS)
                         + f" | {fmt(ep['total_cpu_s'])} | {fmt(ep['bare_nest_cpu_s'])} | "
                         f"{fmt(ep['ratio_to_bare_nest_cpu'])} | {fmt(ep['total_wall_s'])} | "
                         f"{fmt(ep['ratio_to_bare_nest_wall'])} |")
    lines += ["", "| scale | build CPU s (bulk) | PyNN FromListConnector CPU s | ratio | "
              "build wall s (bulk) | PyNN wall s | bare NEST CPU s | checkpoint write CPU s "
              "| peak RSS MiB (1 thread) |", "|---|---|---|---|---|---|---|---|---|"]
    for scale, entry in res["scales"].items():
        b = entry["build"]
        ep = entry["episode"].get("threads_1", next(iter(entry["episode"].values())))
        lines.append(f"| {scale} | {fmt(b['bulk_cpu_s'])} | {fmt(b['pynn_from_list_cpu_s'])} | "
                     f"{fmt(b['ratio_bulk_to_pynn_cpu'])} | {fmt(b['bulk_wall_s'])} | "
                     f"{fmt(b['pynn_from_list_wall_s'])} | {fmt(b['bare_nest_cpu_s'])} | "
                     f"{fmt(ep['checkpoint_write_cpu_s'])} | "
                     f"{ep['peak_rss_bytes']['median'] / 2**20:.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bench" / "results.json"
    print(tables(json.loads(path.read_text())))
