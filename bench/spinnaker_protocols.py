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
    ap.add_argument("what", choices=["run", "collect"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    ap.add_argument("--only", nargs="+", choices=sorted(PROTOCOLS), default=None)
    args = ap.parse_args()
    names = args.only or list(PROTOCOLS)
    if args.what == "run":
        simulate(names, args.seeds)
    else:
        collect(names, args.seeds)


def collect(names: list[str], seeds: list[int]) -> dict:
    raise NotImplementedError


if __name__ == "__main__":
    main()
