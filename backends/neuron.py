"""NEURON backend: the same ``pipeline.model.build`` through ``pyNN.neuron`` (NEURON 9.0.2).

Translations (data, in :func:`neuron_translation`, every one reported with its size in
``translation.json``):

- Cell: pyNN.neuron has no IF_curr_delta. IF_curr_exp with a synaptic time constant
  tau_syn = TAU_SYN_STEPS * dt (0.01 ms at dt = 0.1 ms) and a charge-preserving weight
  replaces it. NEURON integrates with fixed-step backward Euler and holds the synaptic
  current of a step at its value at the start of the step, so a weight w [nA] delivers
  the charge w * dt / (1 - exp(-dt/tau_syn)) [pC]; a jump J [mV] needs J * C_m, hence
  w = J * C_m * (1 - exp(-dt/tau_syn)) / dt. With tau_syn = dt/10 all but exp(-10) of the
  charge arrives in one step: the PSP is a jump that becomes visible one step after the
  spike's arrival (NEST: at arrival), scaled by the step's decay (1 + dt/tau_m)^-1.
- STDP: PyNN's AdditivePotentiationMultiplicativeDepression exists on NEURON (PyNN's
  ``StdwaGuetig`` mechanism with muLTP = 0, muLTD = 1): no substitution. Its amplitudes
  are absolute (dw+ = aLTP * x_pre, not A_plus * w_max as on NEST), in nA. The backend
  sets ``allow_update_on_post = 1`` (PyNN sets 0 "for compatibility with NEST"): the
  potentiation is applied at the post spike, as the model says, so no host correction of
  deferred facilitation is needed. The mechanism does not clip weights to [w_min, w_max]:
  multiplicative depression keeps them >= 0, and weights read back are checked against
  w_max.
- Plasticity off (warm-up): the mechanism's ``on = 0`` on the synapses of the inputs that
  spike; its traces keep running (as NEST's do with lambda = 0) and the weight change it
  accumulates meanwhile (``deltaw``) is discarded when plasticity is switched on.
- Noise: pyNN.neuron's NoisyCurrentSource plays ONE random sequence into every cell of a
  population and draws the whole run (1e8 ms) at construction. The backend injects its
  own piecewise-constant current per cell (an IClamp each), drawn chunk by chunk from a
  numpy Generator seeded with the simulator seed, and calibrated for backward Euler
  (``pipeline.model.MEMBRANE_DECAY``).
- Inputs: PyNN's VecStim checks for a new spike vector every ``ping`` ms (1 ms), and
  drops spikes that lie before that check; ``ping`` is set to one time step, so a new
  episode's trains (first spike two steps after its start) are kept whole. Input spikes
  are recorded as emitted (NetCon records), not as given.
- Weights: a host copy is the truth; only rows of inputs that spike are written and read,
  directly on the NetCons (in mV on the host, nA in NEURON).
"""
from __future__ import annotations

import dataclasses
import math
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.model import (CM_NF, MEMBRANE_DECAY, STREAM_NEURON_NOISE, Network, Params,
                            Translation, build)

from .interface import EpisodeBackend

# IF_curr_exp's synaptic time constant as a fraction of the time step: small enough that
# the synaptic current is a one-step pulse (exp(-10) = 4.5e-5 of the charge is left after
# the step), large enough for NEURON's ExpISyn (tau >= 1e-9 ms).
TAU_SYN_STEPS = 0.1
# Longest simulated interval per NEURON run call [ms]: the noise of one chunk is held in
# memory (cells x steps doubles; 1250 cells x 1000 steps x 2 x 8 B = 20 MB at 0.1 ms).
NOISE_CHUNK_MS = 100.0
# pyNN.neuron's SpikeSourcePoisson divides by the rate: "off" is this rate [Hz] (one
# spike in 3e4 years; 1e-4 expected spikes in a default run of 1000 neurons x 120 s)
MIN_RATE_HZ = 1e-9
# Set on every plastic synapse's StdwaGuetig after the PyNN build (checked like the rest):
# PyNN 0.13 drops AdditivePotentiationMultiplicativeDepression's muLTP/muLTD on NEURON,
# leaving the mechanism's muLTD = 0 (additive depression); and it sets
# allow_update_on_post = 0, which defers potentiation to the next pre spike.
NATIVE_OVERRIDES = {"muLTP": 0.0, "muLTD": 1.0, "allow_update_on_post": 1.0}


class NeuronError(RuntimeError):
    """A NEURON set-up problem, with a message that says what to do."""


def tau_syn(dt: float) -> float:
    """Return IF_curr_exp's synaptic time constant [ms] used at time step ``dt`` [ms]."""
    return TAU_SYN_STEPS * dt


def charge_weight_scale(dt: float) -> float:
    """Return the IF_curr_exp weight [nA] per mV of PSP jump that delivers the jump's
    charge J * C_m under NEURON's fixed step ``dt`` [ms] (see the module docstring)."""
    return CM_NF * (1.0 - math.exp(-dt / tau_syn(dt))) / dt


def psp_shape(p: Params, dt: float, n_steps: int = 4000) -> dict:
    """Return how the substituted PSP differs from the model's jump, computed for NEURON's
    scheme: V_n = sum_k<n a^(n-k) J q_k with a = 1/(1 + dt/tau_m) and q_k the charge
    fraction of step k, against the delta PSP J exp(-n dt/tau_m). Amplitudes relative to J,
    the area relative to J * tau_m (the delta PSP's), the delay in steps."""
    a = MEMBRANE_DECAY["backward_euler"](dt, p.tau_m)
    b = dt / tau_syn(dt)
    k = np.arange(n_steps)
    q = (1.0 - math.exp(-b)) * np.exp(-b * k)
    v = np.array([np.sum(a ** (n - k[:n]) * q[:n]) for n in range(1, 12)])
    area = np.sum(q) * a / (1 - a) * dt / p.tau_m     # sum_n V_n dt / (J tau_m)
    return {"first_visible_step_after_arrival": 1,
            "amplitude_first_step_rel": float(v[0]),
            "amplitude_delta_model_same_time_rel": math.exp(-dt / p.tau_m),
            "peak_rel": float(v.max()),
            "charge_left_after_first_step": math.exp(-b),
            "area_rel": float(area)}


def neuron_translation(cfg: dict) -> Translation:
    """The model in pyNN.neuron's terms at ``simulation.dt_ms`` (see the module doc)."""
    dt = float(cfg["simulation"]["dt_ms"])
    s = charge_weight_scale(dt)
    return Translation(
        weight_dependence="AdditivePotentiationMultiplicativeDepression",
        parameters={
            "tau_plus": lambda p: p.tau_c,
            "tau_minus": lambda p: p.tau_ac,
            # StdwaGuetig: dw+ = aLTP * x_pre (absolute, in the weight's unit nA)
            "A_plus": lambda p: p.delta_c * s,
            # dw- = -aLTD * (w - w_min) * x_post
            "A_minus": lambda p: -p.r_ac,
            "w_max": lambda p: p.w_max * s,
            "w_min": lambda p: 0.0,
        },
        inhibitory_sign=-1.0,   # ExpISyn: i -= weight; negative weights hyperpolarise
        note="exact rule: StdwaGuetig with muLTP=0 (additive potentiation), muLTD=1 "
             "(multiplicative depression), applied at every spike (allow_update_on_post=1)",
        cell_type="IF_curr_exp",
        cell_parameters={"tau_syn_E": lambda p: tau_syn(dt), "tau_syn_I": lambda p: tau_syn(dt)},
        weight_scale=lambda p: s,
        integrator="backward_euler",
        min_rate_hz=MIN_RATE_HZ,
    )


def import_pynn():
    """Return ``pyNN.neuron``, compiling PyNN's NMODL mechanisms on first use.

    pyNN.neuron compiles them with ``nrnivmodl`` if that is on PATH (the venv's bin
    directory, put first here). Raises RuntimeError with the fix if they are missing."""
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    if Path("x86_64").is_dir():
        warnings.warn("a compiled 'x86_64' folder in the working directory is loaded by "
                      "NEURON too; a second copy of PyNN's mechanisms aborts NEURON")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pyNN.neuron as sim
    except ImportError as exc:
        raise NeuronError(
            f"pyNN.neuron cannot be imported ({exc}): install the NEURON wheel with the "
            "README's set-up (`make test` or `pip install -e .`)") from exc
    except (OSError, TypeError) as exc:
        raise NeuronError(
            f"PyNN's NEURON mechanisms are not compiled ({exc}): run the set-up (`make "
            "test`), which runs nrnivmodl in pyNN/neuron/nmodl inside .venv") from exc
    return sim


def apply_native_overrides(projection) -> dict[int, list]:
    """Set NATIVE_OVERRIDES on every synapse of a plastic pyNN.neuron ``projection``;
    return its connections grouped by presynaptic index."""
    rows: dict[int, list] = {}
    for c in projection.connections:
        for k, v in NATIVE_OVERRIDES.items():
            setattr(c.weight_adjuster, k, v)
        rows.setdefault(int(c.presynaptic_index), []).append(c)
    return rows


class CellNoise:
    """Background noise: an independent piecewise-constant current per cell and step,
    N(mean, stdev) [nA], played into one IClamp per cell (called like PyNN's
    NoisyCurrentSource; see the module doc for why PyNN's is not used).

    Each cell's amplitudes are a NEURON Vector played (continuous, with doubled times for
    steps) into its IClamp from before initialisation; every chunk of at most
    NOISE_CHUNK_MS overwrites the vectors in place. (With neuron 9.0.2 a Vector.play
    started after initialisation does not act, and a replaced one keeps acting.)"""

    def __init__(self, backend: "NeuronBackend", mean: float, stdev: float, dt: float,
                 start: float, stop: float) -> None:
        self.backend, self.mean, self.stdev, self.dt = backend, mean, stdev, dt
        self.start, self.stop = start, stop
        self.steps = int(round(NOISE_CHUNK_MS / dt))
        self.iclamps: list = []
        self.amps: list = []
        self.rng: np.random.Generator | None = None

    def inject_into(self, pop) -> None:
        """Create one IClamp per cell of the PyNN Population ``pop`` and start the plays."""
        h = self.backend.h
        index = len(self.backend.noise)
        self.times = h.Vector(2 * self.steps)       # shared by the cells' plays
        for cell in pop:
            ic = h.IClamp(0.5, sec=cell._cell.source_section)
            ic.delay, ic.dur, ic.amp = 0.0, 1e12, 0.0
            y = h.Vector(2 * self.steps)
            y.play(ic._ref_amp, self.times, 1)
            self.iclamps.append(ic)
            self.amps.append(y)
        self.rng = np.random.default_rng([self.backend.rng_seed, STREAM_NEURON_NOISE,
                                           index])
        self.backend.noise.append(self)

    def release(self) -> None:
        """Stop the plays and drop the IClamps (NEURON holds played vectors)."""
        for y in self.amps:
            y.play_remove()
        self.amps, self.iclamps = [], []

    def advance(self, t0: float, duration: float) -> None:
        """Draw the currents of the steps in [t0, t0 + duration) [ms] (duration at most
        NOISE_CHUNK_MS) and load them into the playing vectors."""
        k = int(round(duration / self.dt))
        if k > self.steps:
            raise ValueError(f"noise chunk of {k} steps > {self.steps}")
        tt = t0 + self.dt * np.arange(self.steps + 1)
        on = (tt[:k] >= self.start - 1e-9) & (tt[:k] < self.stop - 1e-9)
        amps = np.zeros((len(self.iclamps), self.steps))
        amps[:, :k] = self.mean + self.stdev * self.rng.standard_normal((len(self.iclamps), k))
        amps[:, :k][:, ~on] = 0.0
        self.times.from_python(np.repeat(tt, 2)[1:-1])
        for y, a in zip(self.amps, np.repeat(amps, 2, axis=1)):
            y.from_python(a)


class NeuronBackend(EpisodeBackend):
    """Runs the model on NEURON through pyNN.neuron. See the module docstring."""

    name = "neuron"
    label = "NEURON (pyNN.neuron; IF_curr_exp standing in for delta synapses)"
    produces_spikes = True
    map_only = False                # runs the episode protocol
    deferred_facilitation = False   # potentiation is applied at the post spike

    @staticmethod
    def time_step(cfg: dict) -> float:
        """Return the simulation time step [ms] this backend uses for ``cfg``."""
        return float(cfg["simulation"]["dt_ms"])

    def __init__(self, cfg: dict, seed: int, run_dir) -> None:
        self.cfg = cfg
        self.seed = seed
        self.run_dir = run_dir
        self.dt = float(cfg["simulation"]["dt_ms"])
        if cfg["simulation"]["checkpoint_every"] > 0:
            raise NeuronError(
                f"config key 'simulation.checkpoint_every' = "
                f"{cfg['simulation']['checkpoint_every']}: the neuron backend runs without "
                f"checkpoints (set it to 0). pyNN.neuron cannot free a network within a "
                f"process, so a rebuild at a checkpoint would not match a resumed run")
        if cfg.get("readout", {}).get("spiking"):
            raise NeuronError(
                "config key 'readout.spiking' = true: the neuron backend cannot hold a "
                "spiking-recall session (it is a second simulator, and pyNN.neuron builds one "
                "network per process); set readout.spiking: false for neuron runs")
        self.translation = neuron_translation(cfg)
        self.net: Network | None = None
        self.noise: list[CellNoise] = []
        self.rng_seed = seed
        self.clipped = 0

    # ------------------------------------------------------------------ set-up
    def setup(self, rng_seed: int | None = None):
        """Set up pyNN.neuron at the config's step; return the ``sim`` module.

        ``rng_seed`` seeds NEURON's Poisson sources and the noise (default: the seed)."""
        sim = import_pynn()
        from neuron import h
        self.rng_seed = int(rng_seed or self.seed)
        sim.setup(timestep=self.dt, min_delay=self.dt, max_delay=max(10 * self.dt, 1.0),
                  native_rng_baseseed=self.rng_seed)
        self.sim, self.h = sim, h
        self.noise = []
        return sim

    def _noise_source(self, **kw) -> CellNoise:
        return CellNoise(self, **kw)

    def build(self, p: Params, conn) -> Network:
        """Build the model (pipeline.model.build), switch the STDP mechanism to updates at
        every spike, prepare the weight fast path, and check what NEURON holds."""
        self.p = p
        self.scale = self.translation.scale(p)
        tr = dataclasses.replace(self.translation, noise_source=self._noise_source)
        self.net = build(self.sim, p, conn, tr)
        rows = apply_native_overrides(self.net.plastic)
        self._rows = {m: (cs, np.array([c.postsynaptic_index for c in cs], dtype=np.int64))
                      for m, cs in rows.items()}
        self._input_rec = []
        for cell in self.net.inputs:
            cell._cell.ping = self.dt
            vec = self.h.Vector()
            nc = self.h.NetCon(cell._cell, None)
            nc.record(vec)
            self._input_rec.append((nc, vec))
        self._check_native()
        return self.net

    def expected_native(self, p: Params) -> dict[str, dict[str, float]]:
        """Return what NEURON must hold after the build, per object, in NEURON's units."""
        s = self.scale
        ts = tau_syn(self.dt)
        cells = {}
        for pop, mu in (("exc", p.mu_exc), ("inh", p.mu_inh)):
            cells[pop] = {"tau_m": p.tau_m, "c_m": CM_NF, "v_rest": 0.0, "v_reset": 0.0,
                          "v_thresh": p.theta, "t_refrac": 0.0,
                          "i_offset": mu * CM_NF / p.tau_m, "tau_e": ts, "tau_i": ts}
        w_inh = self.translation.inhibitory_sign * p.j_inh * s
        return {
            "stdp": {"aLTP": p.delta_c * s, "aLTD": -p.r_ac, "tauLTP": p.tau_c,
                     "tauLTD": p.tau_ac, "wmax": p.w_max * s, "wmin": 0.0, "muLTP": 0.0,
                     "muLTD": 1.0, "allow_update_on_post": 1.0, "on": 1.0},
            **{f"cell_{k}": v for k, v in cells.items()},
            "weights": {"exc->exc": p.j_ee * s, "exc->inh": p.j_ie * s, "inh->exc": w_inh,
                        "inh->inh": w_inh, "supervision->exc": p.supervision_jump * s},
            "delays": {"plastic": self.dt, "exc->exc": self.dt},
        }

    def _check_native(self) -> None:
        """Fail loudly if NEURON does not hold the intended parameters."""
        want = self.expected_native(self.p)
        c0 = next(iter(self.net.plastic.connections))
        wa = c0.weight_adjuster
        got: dict[str, dict[str, float]] = {
            "stdp": {k: float(getattr(wa, k)) for k in want["stdp"]}}
        for pop in ("exc", "inh"):
            cell = getattr(self.net, pop)[0]._cell
            got[f"cell_{pop}"] = {k: float(getattr(cell, k)) for k in want[f"cell_{pop}"]}
        got["weights"] = {}
        for k in want["weights"]:
            c = next(iter(self.net.projections[k].connections), None) \
                if k in self.net.projections else None
            if c is not None:
                got["weights"][k] = float(c.nc.weight[0])
                if k == "exc->exc":
                    got["delays"] = {"exc->exc": float(c.nc.delay)}
        got.setdefault("delays", {})["plastic"] = float(c0.nc.delay)
        self.native = got
        for group, values in want.items():
            for k, v in values.items():
                if k not in got[group]:
                    continue
                if not np.isclose(got[group][k], v, rtol=1e-9, atol=1e-12):
                    raise RuntimeError(
                        f"NEURON holds {group}.{k} = {got[group][k]!r}, expected {v!r}: the "
                        f"pyNN.neuron translation changed; fix the translation table of "
                        f"backend '{self.name}' (backends/neuron.py)")

    # ------------------------------------------------------------------ episodes
    def now(self) -> float:
        """Return the simulation time [ms]: new input spikes must lie after it."""
        return float(self.sim.get_current_time())

    def set_drive(self, trains: list[np.ndarray], supervision_rates: np.ndarray) -> None:
        """Set the input spike trains [ms] and the per-E-neuron supervision rates [Hz]."""
        self.net.inputs.set(spike_times=[self.sim.Sequence(t) for t in trains])
        rates = np.maximum(supervision_rates, MIN_RATE_HZ)
        if self.sim.simulator.state.running:
            self.net.supervision.set(rate=rates)
        else:
            # before NEURON's initialisation pyNN.neuron's rate setter fails (it sends
            # events); set the NetStim interval [ms] itself. (Initialising early instead,
            # with run(0), stops Vector.play started afterwards from acting: neuron 9.0.2.)
            for cell, r in zip(self.net.supervision, rates):
                cell._cell.interval = 1000.0 / r

    def set_plasticity(self, rows: np.ndarray, on: bool) -> None:
        """Switch STDP on or off on the synapses of the input rows ``rows``; switching on
        discards the weight change accumulated while off."""
        for m in rows:
            for c in self._rows[int(m)][0]:
                wa = c.weight_adjuster
                if on:
                    wa.deltaw = 0.0
                wa.on = 1 if on else 0

    def run(self, duration: float) -> None:
        """Advance the simulation by ``duration`` [ms], in chunks of NOISE_CHUNK_MS."""
        n = int(round(duration / self.dt))
        per = int(round(NOISE_CHUNK_MS / self.dt))
        while n > 0:
            k = min(n, per)
            t0 = round(self.now() / self.dt) * self.dt
            for src in self.noise:
                src.advance(t0, k * self.dt)
            self.sim.run(k * self.dt)
            n -= k

    def _grid(self, t: np.ndarray) -> np.ndarray:
        """Spike times on the time grid (NEURON's t accumulates dt in floating point)."""
        return np.round(np.asarray(t) / self.dt) * self.dt

    def spikes(self, pop: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (neuron index, time [ms]) of the spikes of ``pop`` ('exc', 'inh',
        'inputs') since the last call, and forget them."""
        if pop == "inputs":
            vecs = [vec for _, vec in self._input_rec]
        else:
            vecs = [cell._cell.spike_times for cell in getattr(self.net, pop)]
        idx, t = [], []
        for i, vec in enumerate(vecs):
            if vec.size():
                t.append(vec.as_numpy().copy())
                idx.append(np.full(int(vec.size()), i, dtype=np.int64))
                vec.resize(0)
        idx = np.concatenate(idx) if idx else np.array([], dtype=np.int64)
        t = self._grid(np.concatenate(t)) if t else np.array([])
        order = np.lexsort((idx, t))
        return idx[order], t[order]

    def read_weights(self, rows: np.ndarray) -> np.ndarray:
        """Return the plastic weights [mV] of the input rows ``rows``, shape (len, N_E),
        clipped to [0, w_max] (StdwaGuetig does not clip; ``clipped`` counts)."""
        out = np.empty((len(rows), self.p.n_exc))
        for i, m in enumerate(rows):
            conns, targets = self._rows[int(m)]
            out[i, targets] = [c.nc.weight[0] for c in conns]
        out /= self.scale
        bad = (out < 0) | (out > self.p.w_max)
        if bad.any():
            self.clipped += int(bad.sum())
            out = np.clip(out, 0.0, self.p.w_max)
        return out

    def plastic_weights_flat(self) -> np.ndarray:
        """Return every plastic weight [mV], row by row, unclipped (the recall checks that
        its sessions, with plasticity off, leave them unchanged)."""
        return np.concatenate([[c.nc.weight[0] for c in self._rows[m][0]]
                               for m in range(self.p.m)]) / self.scale

    def write_weights(self, rows: np.ndarray, values: np.ndarray) -> None:
        """Set the plastic weights [mV] of the input rows ``rows`` to ``values`` (len, N_E)."""
        for i, m in enumerate(rows):
            conns, targets = self._rows[int(m)]
            w = values[i, targets] * self.scale
            for c, x in zip(conns, w.tolist()):
                c.nc.weight[0] = x

    def potentiation_step(self, w: np.ndarray) -> float:
        """Return the weight step [mV] of one potentiating pair at unit trace: Delta_c."""
        return self.p.delta_c

    def plastic_delay(self) -> float:
        """Return the delay [ms] of the plastic synapses (all of it dendritic, as PyNN's
        default dendritic_delay_fraction = 1)."""
        return self.dt

    def translation_report(self) -> dict:
        """Return every parameter this backend had to change, with the size of the change."""
        from pipeline.model import noise_stdev

        p, dt = self.p, self.dt
        psp = psp_shape(p, dt)
        s = self.scale
        sd_used = noise_stdev(p.d_exc, p, dt, "backward_euler")
        sd_exact = noise_stdev(p.d_exc, p, dt, "exact")
        first_step_change = (psp["amplitude_first_step_rel"]
                             / psp["amplitude_delta_model_same_time_rel"] - 1)
        return {
            "backend": self.name,
            "emulation": False,
            "time_step_ms": dt,
            "integrator": "NEURON fixed step, backward Euler (secondorder = 0)",
            "cell_type": {
                "substitution": "IF_curr_exp for IF_curr_delta (pyNN.neuron has none)",
                "tau_syn_ms": tau_syn(dt),
                "weight_scale_na_per_mv": s,
                "weight_rule": "w = J * C_m * (1 - exp(-dt/tau_syn)) / dt: the charge of the "
                               "jump J under NEURON's fixed step",
                "weight_scale_vs_continuous_formula": s / (CM_NF / tau_syn(dt)),
                "psp": psp,
                "psp_note": "the jump shows one step after arrival (NEST: at arrival), i.e. "
                            "an extra 1 step of effective delay; its area (charge) is exact",
            },
            "delay_ms": {"model": "minimum delay", "used": dt,
                         "effective_psp_delay_ms": 2 * dt},
            "stdp_rule": {"substitution": None, "note": self.translation.note,
                          "pynn": self.translation.weight_dependence,
                          "pynn_parameters": self.translation.values(p),
                          "set_after_pynn_build": {
                              "muLTD": "PyNN 0.13 drops it on NEURON (mechanism default 0 = "
                                       "additive depression); set to 1",
                              "muLTP": "set to 0 (the mechanism default, PyNN drops it)",
                              "allow_update_on_post": "PyNN sets 0 (potentiation deferred to "
                                                      "the next pre spike, as NEST); set to 1"},
                          "weight_bounds": "not enforced by StdwaGuetig; multiplicative "
                                           "depression keeps w >= 0, reads are checked "
                                           "against w_max",
                          "weights_clipped_on_read": self.clipped,
                          "neuron_native": getattr(self, "native", {})},
            "weights": {"quantisation": None, "unit": "nA (host: mV of PSP jump)"},
            "noise": {"source": "per-cell piecewise-constant IClamp current drawn by the "
                                "backend (pyNN.neuron's NoisyCurrentSource injects one "
                                "sequence into every cell)",
                      "stdev_na_backward_euler": sd_used, "stdev_na_exact_integrator": sd_exact,
                      "rel_change": sd_used / sd_exact - 1},
            "inputs": {"vecstim_ping_ms": [1.0, dt],
                       "note": "so that a new episode's spike trains are picked up before "
                               "their first spike"},
            "poisson_off_rate_hz": {"model": 0.0, "used": MIN_RATE_HZ},
            "spike_times": "rounded to the time grid (NEURON accumulates t += dt)",
            "threads": 1,
            "changes": [
                f"cell: IF_curr_exp (tau_syn {tau_syn(dt):.3g} ms, {s:.6g} nA per mV) for "
                f"IF_curr_delta; PSP visible {dt:g} ms later, first-step amplitude "
                f"{first_step_change:+.2e} relative, area {psp['area_rel'] - 1:+.1e}",
                "stdp: StdwaGuetig muLTD 0 -> 1 (dropped by PyNN), allow_update_on_post "
                "0 -> 1 (potentiation at the post spike)",
                f"noise: per-cell current, stdev {sd_used / sd_exact - 1:+.2%} for backward Euler",
                f"inputs: VecStim ping 1 -> {dt:g} ms",
                f"poisson off rate: 0 -> {MIN_RATE_HZ:g} Hz"],
        }

    def end(self) -> None:
        """Release the simulator. The network's NEURON objects stay alive until the process
        exits: pyNN.neuron keeps every Projection in a module-level list and its cells hold
        NetCons onto themselves, and freeing 4e5 connections one by one took 110 s at the
        default scale. Hence one build per process (no checkpoints, see __init__)."""
        for src in self.noise:
            src.release()
        self.noise = []
        self._input_rec = []
        self._rows = {}
        self.net = None
        self.sim.end()
