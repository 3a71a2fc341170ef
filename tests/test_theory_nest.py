"""The theory against NEST: the Siegert rate against simulated LIF neurons, and the
single-synapse drift (with and without cross-correlations) against a plastic synapse
driven by a Poisson input (docs/design.md section 5)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline import model
from pipeline.parameters import derive
from pipeline.config import validate_config
from pipeline.theory.drift import single_synapse_drift
from pipeline.theory.siegert import lif_rate, lif_rate_finite_step
from tests.conftest import tiny_config_dict



def _params():
    return derive(validate_config(tiny_config_dict())).simulator


def _lif_population(sim, p, n, mu, d, dt):
    pop = sim.Population(n, sim.IF_curr_delta(**model.neuron_parameters(p, mu * p.theta)))
    pop.initialize(v=0.0)
    sim.NoisyCurrentSource(mean=0.0, stdev=model.noise_stdev(d, p, dt), dt=dt, start=0.0,
                           stop=1e9).inject_into(pop)
    return pop


def nest_rate(mu: float, d: float, dt: float, n: int = 500, t_sim: float = 10000.0,
              t0: float = 200.0) -> tuple[float, int]:
    """Return (rate [Hz], spike count after t0 [ms]) of n unconnected LIF neurons with
    white-noise input (mu, d) [theta, theta^2/tau_m] in NEST at time step dt [ms]."""
    from backends.nest import import_pynn

    p = _params()
    sim = import_pynn()
    sim.setup(timestep=dt, min_delay=dt, spike_precision="on_grid", verbosity="error",
              rng_seed=7)
    pop = _lif_population(sim, p, n, mu, d, dt)
    pop.record("spikes")
    sim.run(t0 + t_sim)
    count = sum(int(np.sum(np.asarray(st) > t0)) for st in pop.get_data().segments[0].spiketrains)
    sim.end()
    return count / (n * t_sim * 1e-3), count


@pytest.mark.parametrize("mu, d", [(0.8, 0.1), (0.5, 0.1), (1.2, 0.05)])
def test_siegert_rate_matches_nest(mu, d):
    p, dt = _params(), 0.1
    rate, count = nest_rate(mu, d, dt)
    # the finite-step rate (threshold and reset raised by 1.0326 sqrt(D h); Brunel & Hakim
    # 1999, Fourcaud & Brunel 2002), the one definition the theory step reports
    theory = lif_rate_finite_step(mu, d, dt / p.tau_m) * 1e3 / p.tau_m
    # 5 Poisson standard errors of the count (ISI CV < 1 here makes it conservative)
    # plus 1.5% for the next order of the finite-step correction, O(h/tau_m) = 0.5%.
    tol = 5 / math.sqrt(count) + 0.015
    assert rate == pytest.approx(theory, rel=tol)
    # without the finite-step correction the continuous-time rate is off by more
    assert abs(rate / (lif_rate(mu, d) * 1e3 / p.tau_m) - 1) > 0.02


def measure_drift(w_theta: float, mu: float, d: float, nu_hz: float, n: int, t_sim: float,
                  seed: int = 1) -> tuple[float, float, float]:
    """Return the mean drift and its standard error [theta/tau_m] of ``n`` independent
    plastic synapses starting at weight w (the model's synapse on NEST), each from its own
    Poisson input at nu_hz onto its own LIF neuron with white noise (mu, d), and the
    run-averaged weight [theta] (mean of start and end)."""
    from backends.nest import STDP_TRANSLATION, import_pynn

    p, dt = _params(), 0.1
    rng = np.random.default_rng(seed)
    sim = import_pynn()
    sim.setup(timestep=dt, min_delay=dt, spike_precision="on_grid", verbosity="error",
              rng_seed=seed)
    post = _lif_population(sim, p, n, mu, d, dt)
    trains = []
    for _ in range(n):
        steps = np.flatnonzero(rng.random(int(t_sim / dt) - 2) < nu_hz * dt * 1e-3) + 2
        # a last spike at t_sim makes NEST apply every pairing up to t_sim
        trains.append(np.append(np.round(steps * dt, 6), t_sim + dt))
    pre = sim.Population(n, sim.SpikeSourceArray(spike_times=[list(t) for t in trains]))
    syn = model.stdp_synapse(sim, p, STDP_TRANSLATION, dt)
    prj = sim.Projection(pre, post, sim.OneToOneConnector(), syn, receptor_type="excitatory")
    w0 = w_theta * p.theta
    prj.nest_connections.set(weight=w0)
    sim.run(t_sim + 10 * dt)
    w = np.asarray(prj.nest_connections.get("weight"))
    sim.end()
    t_tau = (t_sim + dt) / p.tau_m
    drift = (w - w0) / p.theta / t_tau
    return (float(drift.mean()), float(drift.std(ddof=1) / math.sqrt(n)),
            float((w0 + w.mean()) / 2 / p.theta))


def theory_drift(w: float) -> dict:
    """The single-synapse theory at weight w [theta] for MU, D, NU_HZ (paper units)."""
    p = _params()
    return single_synapse_drift(MU, D, NU_HZ * p.tau_m * 1e-3, w,
                                {"delta_c": 0.002, "r_ac": -0.008, "tau_c": p.tau_c / p.tau_m,
                                 "tau_ac": p.tau_ac / p.tau_m})


def drift_tolerance(th: dict, se: float) -> float:
    """What 'agrees' means [theta/tau_m]: on a 0.1 ms grid the LIF's rate and linear
    response are biased by O(sqrt(h/tau_m)) ~ 7% (5% measured on the rate in
    test_siegert_rate_matches_nest), and the linear response neglects O(w^3): 10% of the
    full drift and 6% of the rate-only part, plus 4 standard errors of the mean."""
    return 0.10 * abs(th["drift_full"]) + 0.06 * abs(th["drift_rate_only"]) + 4 * se


# (w [theta], full theory must agree; rate-only must miss). mu, D, nu below.
MU, D, NU_HZ = 0.5, 0.1, 50.0


@pytest.mark.parametrize("w", [0.1, 0.3])
def test_single_synapse_drift_matches_the_full_theory(w):
    drift, se, w_mean = measure_drift(w, MU, D, NU_HZ, n=600, t_sim=2000.0)
    th = theory_drift(w_mean)           # the weights move by ~10% over the run
    tol = drift_tolerance(th, se)
    assert abs(drift - th["drift_full"]) < tol, (drift, th["drift_full"], tol)
    # the rate-only theory misses; where the correction is large, by far
    factor = 3 if w >= 0.3 else 1
    assert abs(drift - th["drift_rate_only"]) > factor * tol, (drift, th["drift_rate_only"])


@pytest.mark.slow
@pytest.mark.parametrize("w", [0.05, 0.1, 0.2, 0.3, 0.5])
def test_single_synapse_drift_long(w):
    """The long version: 4000 synapses over 5 s at five weights. The full theory is a
    second-order expansion in w: it agrees up to 0.3 theta (the model's working range);
    at 0.5 theta (10 mV jumps) it was measured 23% off, still far closer than rate-only."""
    drift, se, w_mean = measure_drift(w, MU, D, NU_HZ, n=4000, t_sim=5000.0, seed=3)
    th = theory_drift(w_mean)
    if w <= 0.3:
        assert abs(drift - th["drift_full"]) < drift_tolerance(th, se)
    assert abs(drift - th["drift_full"]) < abs(drift - th["drift_rate_only"]) / 2
