"""Benchmark: the LIF rate at NEST's time step against the continuous Siegert rate and its
finite-step correction (pipeline/theory/siegert.py, lif_rate_finite_step; docs/theory.md).

500 unconnected LIF neurons (the model's neuron, tests/conftest.py's tiny config) driven by
NEST's noisy current at mean mu and noise D (paper units), 10 s after 200 ms, at three
operating points and two time steps. Writes section ``finite_step_rates`` of
bench/results.json.

    .venv/bin/python bench/finite_step_rates.py
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_file import ROOT, write_section  # noqa: E402

POINTS = [(0.8, 0.1), (0.5, 0.1), (1.2, 0.05)]
STEPS_MS = [0.1, 0.5]


def main() -> None:
    from tests.test_theory_nest import nest_rate
    from pipeline.theory.siegert import lif_rate, lif_rate_finite_step
    tau_m = 20.0
    rows = []
    for dt in STEPS_MS:
        for mu, d in POINTS:
            rate, count = nest_rate(mu, d, dt)
            cont = lif_rate(mu, d) * 1e3 / tau_m
            fin = lif_rate_finite_step(mu, d, dt / tau_m) * 1e3 / tau_m
            rows.append({"dt_ms": dt, "mu": mu, "d": d, "nest_hz": rate, "spikes": count,
                         "poisson_se_rel": 1 / np.sqrt(count), "continuous_hz": cont,
                         "finite_step_hz": fin, "nest_over_continuous": rate / cont,
                         "nest_over_finite_step": rate / fin})
            print(f"dt {dt} ms mu {mu} D {d}: NEST {rate:.3f} Hz, continuous {cont:.3f} "
                  f"({rate / cont - 1:+.1%}), finite step {fin:.3f} ({rate / fin - 1:+.1%})",
                  flush=True)
    write_section("finite_step_rates", {"rows": rows, "n_neurons": 500, "t_sim_ms": 10000.0},
                  ["python", "bench/finite_step_rates.py"])


if __name__ == "__main__":
    main()
