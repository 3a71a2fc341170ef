"""Benchmark: the README's `make run` (the default workflow end to end, cross-backend
validation included) from empty results, as a fresh clone after the install runs it.

Runs ``snakemake -c<cores>`` with this checkout's Snakefile and ``config/default.yaml`` in
an empty temporary directory (``--directory``), so no earlier result is reused, and
records the wall time, the CPU time of all jobs (user + system of the children), the
number of jobs, and the wall time of every job (from Snakemake's log: start to finish,
with ``-c2`` two jobs share the machine). One invocation is one repetition: each is added
to section ``make_run_default`` of bench/results.json, whose summary covers the
repetitions of the same code (bench/results_file.add_repetition). Run by hand, on an
otherwise idle machine (about half an hour each on a slow 2-core machine):

    .venv/bin/python bench/make_run.py [--cores 2]
"""
from __future__ import annotations

import argparse
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_file import ROOT, add_repetition  # noqa: E402

_STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")


def job_walls(log: str) -> list[dict]:
    """Return rule, wildcards and wall time [s] of every finished job in a Snakemake log."""
    jobs, t, cur = {}, None, None
    for line in log.splitlines():
        if m := _STAMP.match(line.strip()):
            t = datetime.strptime(" ".join(m.group(1).split()), "%a %b %d %H:%M:%S %Y")
        elif m := re.match(r"^(?:local)?rule (\w+):$", line.strip()):
            cur = {"rule": m.group(1), "start": t, "wildcards": ""}
        elif cur is not None and (m := re.match(r"^jobid: (\d+)$", line.strip())):
            jobs[m.group(1)] = cur
        elif cur is not None and (m := re.match(r"^wildcards: (.*)$", line.strip())):
            cur["wildcards"] = m.group(1)
        elif (m := re.match(r"^Finished job(?:id:)? (\d+)", line.strip())) and m.group(1) in jobs:
            jobs[m.group(1)]["end"] = t
    return [{"rule": j["rule"], "wildcards": j["wildcards"],
             "wall_s": (j["end"] - j["start"]).total_seconds()}
            for j in jobs.values() if "end" in j and j["start"] is not None]


def main() -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cores", type=int, default=2)
    args = ap.parse_args()
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    with tempfile.TemporaryDirectory(prefix="bench-make-run-") as tmp:
        cmd = [snakemake, f"-c{args.cores}", "-s", str(ROOT / "Snakefile"),
               "--directory", tmp, "--configfile", str(ROOT / "config" / "default.yaml")]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if r.returncode != 0:
            keep = Path(tempfile.mkdtemp(prefix="bench-make-run-failed-"))
            shutil.copytree(Path(tmp) / "results", keep / "results", dirs_exist_ok=True)
            raise SystemExit(f"make run failed (exit {r.returncode}); its results and logs "
                             f"are kept in {keep}\n{r.stderr[-3000:]}")
        jobs = job_walls(r.stderr)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    by_rule: dict[str, float] = {}
    for j in jobs:
        by_rule[j["rule"]] = round(by_rule.get(j["rule"], 0.0) + j["wall_s"], 1)
    rep = {"wall_s": round(wall, 1), "wall_min": round(wall / 60, 2), "cpu_s": round(cpu, 1),
           "cores": args.cores, "n_jobs": len(jobs), "job_wall_s_by_rule": by_rule,
           "jobs": sorted(jobs, key=lambda j: -j["wall_s"])}
    section = add_repetition("make_run_default", rep, ["wall_s", "wall_min", "cpu_s"],
                             ["python", "bench/make_run.py", *sys.argv[1:]])
    print(f"make run: {wall / 60:.1f} min wall, {cpu / 60:.1f} CPU-min, {len(jobs)} jobs; "
          f"{section['summary']['wall_min']['n']} repetition(s) of this code, median "
          f"{section['summary']['wall_min']['median']:.1f} min")
    for rule, s in sorted(by_rule.items(), key=lambda kv: -kv[1]):
        print(f"  {rule:14s} {s:8.1f} s (sum of job wall times)")
    return section


if __name__ == "__main__":
    main()
