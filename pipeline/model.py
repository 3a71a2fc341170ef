"""THE model: one PyNN description of the paper's network (docs/design.md section 3).

Everything random is drawn on the host from the experiment's seed (connectivity, initial
weights, patterns, input spike trains), so every backend simulates the same network and
the same input. :func:`build` creates the network through the PyNN API only; the ``sim``
module is passed in (``pyNN.nest``, ``pyNN.spiNNaker``, ``pyNN.neuron``, ...). A backend may
translate the STDP rule's parameters, the cell type and the weights' unit (a data table,
:class:`Translation`, see ``backends/``) but never re-describes the network.

Units inside: ms, mV, nA, nF, Hz (PyNN's): the simulator view of
``pipeline.parameters.derive(cfg)``, the one conversion from the config's units.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from .parameters import Params  # noqa: F401  (the simulator view, model.Params to the backends)

# Independent random streams of one seed; each is numpy.random.default_rng([seed, STREAM]).
STREAM_CONNECTIVITY = 1
STREAM_WEIGHTS = 2
STREAM_PATTERNS = 3
STREAM_INPUT = 4          # per episode: default_rng([seed, STREAM_INPUT, episode])
STREAM_INITIAL_STATE = 5
STREAM_RECALL = 6         # spiking recall: default_rng([seed, STREAM_RECALL, ...]), never training's
STREAM_REPLICATE = 7      # the simulator's seeds of replicate r > 0: default_rng([seed, 7, r, ...])
STREAM_NEURON_NOISE = 8   # NEURON's per-cell noise: default_rng([simulator seed, 8, population])

CM_NF = 1.0  # membrane capacitance [nF]; with delta synapses it only scales currents


# The membrane's decay factor a over one step dt [ms] (V_{k+1} = a V_k + R I_k (1 - a) for
# a current I_k held over the step), per integration scheme of the simulators: NEST's
# exact integration, NEURON's fixed-step backward Euler (V_{k+1} (1 + dt/tau) = V_k + ...).
MEMBRANE_DECAY: dict[str, Callable[[float, float], float]] = {
    "exact": lambda dt, tau: math.exp(-dt / tau),
    "backward_euler": lambda dt, tau: 1.0 / (1.0 + dt / tau),
}


def noise_stdev(d: float, p: Params, dt: float, integrator: str = "exact") -> float:
    """Return the stdev [nA] of a current held constant over each step ``dt`` [ms] that
    gives the free membrane potential the variance D*theta^2 of the white-noise model.

    With V_{k+1} = a V_k + R I_k (1 - a), a = exp(-dt/tau_m) (``integrator`` 'exact'; see
    MEMBRANE_DECAY for the others), R = tau_m/C, the stationary
    variance of V is R^2 sigma^2 (1 - a)/(1 + a); the white-noise model dv = (mu - v) dt +
    sqrt(2 D) dW (paper units) has variance D. Hence sigma = theta sqrt(D) / R *
    sqrt((1 + a)/(1 - a)), which tends to theta sqrt(2 D tau_m / dt) / R for small dt.
    """
    a = MEMBRANE_DECAY[integrator](dt, p.tau_m)
    r = p.tau_m / CM_NF
    return p.theta * math.sqrt(d) / r * math.sqrt((1 + a) / (1 - a))


def neuron_parameters(p: Params, mu: float) -> dict[str, float]:
    """Return IF_curr_delta parameters (PyNN names and units) for a mean drive ``mu`` [mV]."""
    return dict(tau_m=p.tau_m, cm=CM_NF, v_rest=0.0, v_reset=0.0, v_thresh=p.theta,
                tau_refrac=0.0, i_offset=mu * CM_NF / p.tau_m)


# --------------------------------------------------------------------------- host draws
@dataclass
class Connectivity:
    """Host-drawn network: recurrent lists and initial feed-forward weights.

    ``lists[(pre, post)]`` is an int array of shape (n, 2) of (pre index, post index) for
    pre, post in {"exc", "inh"}. ``w0`` is the (M, N_E) initial feed-forward matrix [mV].
    ``v_init`` maps a population name to initial membrane potentials [mV].
    """

    lists: dict[tuple[str, str], np.ndarray]
    w0: np.ndarray
    v_init: dict[str, np.ndarray]


def _fixed_indegree(rng: np.random.Generator, n_pre: int, n_post: int, k: int,
                    no_self: bool) -> np.ndarray:
    """Return (pre, post) pairs: each post draws k distinct pre (not itself if no_self)."""
    pairs = np.empty((n_post * k, 2), dtype=np.int64)
    for post in range(n_post):
        if no_self:
            pre = rng.choice(n_pre - 1, size=k, replace=False)
            pre[pre >= post] += 1
        else:
            pre = rng.choice(n_pre, size=k, replace=False)
        pre.sort()
        pairs[post * k:(post + 1) * k, 0] = pre
        pairs[post * k:(post + 1) * k, 1] = post
    return pairs


def draw_connectivity(p: Params, seed: int, v0_theta2: float) -> Connectivity:
    """Draw the recurrent connectivity, initial weights and initial potentials for ``seed``.

    ``v0_theta2`` is the initial weight variance in theta^2. Weights are Gaussian with mean
    m0, clipped to [0, w_max] (the clip moves the mean by less than 1e-6 of m0 for the
    paper's m0 = 0.05, sqrt(v0) ~ 0.01).
    """
    rng = np.random.default_rng([seed, STREAM_CONNECTIVITY])
    n = {"exc": p.n_exc, "inh": p.n_inh}
    lists = {}
    for pre, k in (("exc", p.c_exc), ("inh", p.c_inh)):
        for post in ("exc", "inh"):
            lists[(pre, post)] = _fixed_indegree(rng, n[pre], n[post], k, no_self=(pre == post))
    rng_w = np.random.default_rng([seed, STREAM_WEIGHTS])
    sd = math.sqrt(v0_theta2) * p.theta
    w0 = np.clip(rng_w.normal(p.m0, sd, size=(p.m, p.n_exc)), 0.0, p.w_max)
    return Connectivity(lists=lists, w0=w0, v_init=draw_initial_state(p, seed, 0))


def draw_initial_state(p: Params, seed: int, segment: int = 0) -> dict[str, np.ndarray]:
    """Return initial membrane potentials [mV], uniform in [0, theta), per population,
    for the start of the run (segment 0) or of a later checkpoint segment."""
    key = [seed, STREAM_INITIAL_STATE] + ([segment] if segment else [])
    rng = np.random.default_rng(key)
    return {"exc": rng.uniform(0.0, p.theta, size=p.n_exc),
            "inh": rng.uniform(0.0, p.theta, size=p.n_inh)}


def simulator_seed(seed: int, segment: int = 0, replicate: int = 0) -> int:
    """Return the simulator's RNG seed (noise, Poisson sources) for a run segment.

    ``replicate`` (``simulation.replicate``) > 0 draws the seed from a stream of its own,
    so a replicate shares every host draw of ``seed`` and nothing of the simulator's own
    randomness; replicate 0 keeps the seed's historical streams."""
    if replicate:
        return int(np.random.default_rng([seed, STREAM_REPLICATE, replicate, segment])
                   .integers(1, 2**31 - 1))
    if segment == 0:
        return seed
    return int(np.random.default_rng([seed, STREAM_INITIAL_STATE, segment]).integers(1, 2**31 - 1))


@dataclass
class Patterns:
    """Cue and target of every episode: ``cues`` (P, n_cue) input indices and
    ``targets`` (P, n_target) E indices, each row sorted."""

    cues: np.ndarray
    targets: np.ndarray


def draw_patterns(p: Params, seed: int) -> Patterns:
    """Draw the P cue/target pairs independently (hetero-association) for ``seed``."""
    rng = np.random.default_rng([seed, STREAM_PATTERNS])
    cues = np.sort(np.stack([rng.choice(p.m, p.n_cue, replace=False)
                             for _ in range(p.episodes)]), axis=1)
    targets = np.sort(np.stack([rng.choice(p.n_exc, p.n_target, replace=False)
                                for _ in range(p.episodes)]), axis=1)
    return Patterns(cues=cues, targets=targets)


def draw_input_spikes(p: Params, seed: int, episode: int, cue: np.ndarray, t_start: float,
                      duration: float, dt: float,
                      rng_key: list[int] | None = None) -> list[np.ndarray]:
    """Return one sorted array of spike times [ms] per input neuron for one episode.

    Poisson trains at nu1 (cue neurons) or nu0 (the others) on the time grid ``dt``, on
    the steps t_start + k dt, 2 <= k < duration/dt (PyNN on NEST emits a spike through a
    generator one step early, which must lie after t_start). The stream depends only on
    (seed, episode), so any episode can be redrawn on its own (resume, other backends);
    ``rng_key`` replaces that stream by another (the spiking recall's, STREAM_RECALL).
    """
    rng = np.random.default_rng(rng_key if rng_key is not None else [seed, STREAM_INPUT, episode])
    n_steps = int(round(duration / dt))
    rates = np.full(p.m, p.nu0)
    rates[cue] = p.nu1
    trains = []
    for rate in rates:
        prob = rate * dt * 1e-3
        steps = np.flatnonzero(rng.random(n_steps - 2) < prob) + 2 if prob > 0 else np.array([], int)
        trains.append(np.round(t_start + steps * dt, 6))
    return trains


# --------------------------------------------------------------------------- PyNN build
@dataclass
class Translation:
    """How a backend expresses the model in its PyNN dialect (data, not code paths).

    ``weight_dependence`` names a PyNN weight-dependence class for the STDP rule;
    ``parameters`` maps each PyNN parameter name (of SpikePairRule and of the weight
    dependence) to a function of the model Params giving its value. ``inhibitory_sign`` is
    the sign the simulator wants on current-based inhibitory weights (PyNN on NEST: -1;
    sPyNNaker: +1). ``note`` documents any substitution.
    """

    weight_dependence: str
    parameters: dict[str, Callable[[Params], float]]
    inhibitory_sign: float = -1.0
    note: str = ""
    # extra PyNN ``additional_parameters`` per population label ("exc", "inh"), as
    # functions of Params (e.g. sPyNNaker's fixed-point weight range)
    population_parameters: dict[str, Callable[[Params], dict]] = field(default_factory=dict)
    cell_type: str = "IF_curr_delta"
    cell_parameters: dict[str, Callable[[Params], float]] = field(default_factory=dict)
    weight_scale: Callable[[Params], float] | None = None
    integrator: str = "exact"
    noise_source: Callable[..., Any] | None = None
    # neurons per noise source: one source per consecutive block of that many neurons (a
    # board core, whose neurons share one seed), None = one source per population
    noise_block: Callable[[Params], int] | None = None
    min_rate_hz: float = 0.0
    # returns the PyNN FromListConnector class to connect the host-drawn lists with (a
    # subclass of the simulator's, same arguments; NEST's creates them in bulk); None:
    # ``sim.FromListConnector``
    list_connector: Callable[[], Any] | None = None
    # returns the PyNN cell type of the supervision's Poisson sources (each has exactly one
    # target, one-to-one) for ``sim``; None: ``sim.SpikeSourcePoisson``
    poisson_source: Callable[[Any], Any] | None = None

    def scale(self, p: Params) -> float:
        """Return the simulator weight per mV of PSP jump (1.0 for delta synapses)."""
        return 1.0 if self.weight_scale is None else float(self.weight_scale(p))

    def cell_values(self, p: Params) -> dict[str, float]:
        """Return the extra PyNN cell parameters for the model parameters ``p``."""
        return {k: float(f(p)) for k, f in self.cell_parameters.items()}

    def values(self, p: Params) -> dict[str, float]:
        """Return the PyNN parameter values for the model parameters ``p``."""
        return {k: float(f(p)) for k, f in self.parameters.items()}


@dataclass
class Network:
    """Handles to the built PyNN network."""

    sim: Any
    params: Params
    exc: Any
    inh: Any
    inputs: Any
    supervision: Any
    plastic: Any                      # the feed-forward STDP projection inputs -> exc
    projections: dict[str, Any] = field(default_factory=dict)
    noise_sources: dict[str, Any] = field(default_factory=dict)


def min_delay(sim) -> float:
    """Return the simulator's minimum delay [ms]; sPyNNaker 1!7.4.1's get_min_delay()
    fails, and its minimum delay is one time step."""
    try:
        return float(sim.get_min_delay())
    except AttributeError:
        return float(sim.get_time_step())


def stdp_synapse(sim, p: Params, translation: Translation, delay: float):
    """Return the model's plastic synapse (a PyNN STDPMechanism) for ``sim``."""
    v = translation.values(p)
    timing = sim.SpikePairRule(tau_plus=v["tau_plus"], tau_minus=v["tau_minus"],
                               A_plus=v["A_plus"], A_minus=v["A_minus"])
    wd_names = [k for k in v if k not in ("tau_plus", "tau_minus", "A_plus", "A_minus")]
    weight_dep = getattr(sim, translation.weight_dependence)(**{k: v[k] for k in wd_names})
    return sim.STDPMechanism(timing_dependence=timing, weight_dependence=weight_dep,
                             weight=p.m0 * translation.scale(p), delay=delay)


def build(sim, p: Params, conn: Connectivity, translation: Translation,
          record_inputs: bool = True, input_trains: list[np.ndarray] | None = None) -> Network:
    """Create the network of docs/design.md section 3 in an already set-up PyNN ``sim``.

    ``input_trains`` optionally gives the inputs' first spike trains [ms] (sPyNNaker
    1!7.4.1 accepts them at construction only). Returns the Network handles. Spikes of
    E, I and the inputs are recorded.
    """
    dt = sim.get_time_step()
    delay = min_delay(sim)
    scale = translation.scale(p)          # simulator weight per mV of PSP jump
    cell_type = getattr(sim, translation.cell_type)
    noise_source = translation.noise_source or sim.NoisyCurrentSource
    from_list = (translation.list_connector() if translation.list_connector
                 else sim.FromListConnector)

    def population(n, mu, label):
        extra = translation.population_parameters.get(label)
        kw = {"additional_parameters": extra(p)} if extra else {}
        cell = cell_type(**neuron_parameters(p, mu), **translation.cell_values(p))
        return sim.Population(n, cell, label=label, **kw)

    exc = population(p.n_exc, p.mu_exc, "exc")
    inh = population(p.n_inh, p.mu_inh, "inh")
    exc.initialize(v=conn.v_init["exc"])
    inh.initialize(v=conn.v_init["inh"])
    first = [list(map(float, t)) for t in input_trains] if input_trains is not None else []
    inputs = sim.Population(p.m, sim.SpikeSourceArray(spike_times=first), label="inputs")
    poisson = (translation.poisson_source(sim) if translation.poisson_source
               else sim.SpikeSourcePoisson)
    supervision = sim.Population(p.n_exc, poisson(rate=translation.min_rate_hz),
                                 label="supervision")

    noise_sources = {}
    # on for any run (1e8 ms, a day of biological time: sPyNNaker stores the stop as a
    # 32-bit step count, 1e9 steps at 0.1 ms)
    t_stop = 1e8
    for name, pop, d in (("exc", exc, p.d_exc), ("inh", inh, p.d_inh)):
        if d <= 0:
            continue
        block = int(translation.noise_block(p)) if translation.noise_block else pop.size
        for a in range(0, pop.size, block):
            src = noise_source(mean=0.0, stdev=noise_stdev(d, p, dt, translation.integrator),
                               dt=dt, start=0.0, stop=t_stop)
            b = min(a + block, pop.size)
            src.inject_into(pop if block >= pop.size else pop[a:b])
            noise_sources[name if block >= pop.size else f"{name}[{a}:{b}]"] = src

    pops = {"exc": exc, "inh": inh}
    w_inh = translation.inhibitory_sign * p.j_inh
    jumps = {("exc", "exc"): p.j_ee * scale, ("exc", "inh"): p.j_ie * scale,
             ("inh", "exc"): w_inh * scale, ("inh", "inh"): w_inh * scale}
    projections = {}
    for (pre, post), pairs in conn.lists.items():
        if len(pairs) == 0:
            continue
        # sorted by (pre, post): sPyNNaker 7.4.1 estimates row lengths wrongly otherwise
        pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
        cl = np.column_stack([pairs.astype(float), np.full(len(pairs), jumps[(pre, post)]),
                              np.full(len(pairs), delay)])
        projections[f"{pre}->{post}"] = sim.Projection(
            pops[pre], pops[post], from_list(cl, column_names=["weight", "delay"]),
            synapse_type=sim.StaticSynapse(),
            receptor_type="excitatory" if pre == "exc" else "inhibitory",
            label=f"{pre}->{post}")
    projections["supervision->exc"] = sim.Projection(
        supervision, exc, sim.OneToOneConnector(),
        sim.StaticSynapse(weight=p.supervision_jump * scale, delay=delay),
        receptor_type="excitatory", label="supervision->exc")
    pre_i, post_i = np.meshgrid(np.arange(p.m), np.arange(p.n_exc), indexing="ij")
    ff = np.column_stack([pre_i.ravel(), post_i.ravel(), conn.w0.ravel() * scale,
                          np.full(pre_i.size, delay)]).astype(float)
    plastic = sim.Projection(
        inputs, exc, from_list(ff, column_names=["weight", "delay"]),
        synapse_type=stdp_synapse(sim, p, translation, delay),
        receptor_type="excitatory", label="inputs->exc")
    projections["inputs->exc"] = plastic

    exc.record("spikes")
    inh.record("spikes")
    if record_inputs:
        inputs.record("spikes")
    return Network(sim=sim, params=p, exc=exc, inh=inh, inputs=inputs,
                   supervision=supervision, plastic=plastic, projections=projections,
                   noise_sources=noise_sources)
