"""SpiNNaker backend: the same ``pipeline.model.build`` through ``pyNN.spiNNaker``
(sPyNNaker 1!7.4.1).

By default it runs on sPyNNaker's *virtual board*: the full mapping (partitioning,
placement, routing, data generation) runs for real, but no binary runs, so no spikes and
no weight dynamics come back. It then writes the translation report (every parameter it
had to change), the resource report (chips, cores, SDRAM, neurons per core, routing
entries, whether it fits one 48-chip board) and checks that every binary the placements
use ships with sPyNNaker. Real hardware is a config change (``spinnaker.machine_name`` or
``spinnaker.spalloc_server``); it is not testable on the development machines.

The STDP substitution (data, in SPINNAKER_TRANSLATION): sPyNNaker has no additive-
potentiation/multiplicative-depression rule. Its multiplicative rule has
dw+ = A_plus (w_max - w) x_pre and dw- = -A_minus (w - w_min) x_post. With w_min = 0 and
A_minus = -r_ac the depression is exact. With w_max' = w_max_factor * theta far above the
working range and A_plus = Delta_c / (w_max' - m0), the potentiation is exact at w = m0
and off by (m0 - w)/(w_max' - m0) elsewhere (reported over the working range).
"""
from __future__ import annotations

import math
import os
import time
import warnings
from pathlib import Path

import numpy as np

from pipeline.model import Network, Params, Translation, build

from .interface import Backend, EpisodeBackend


class SpinnakerError(RuntimeError):
    """A SpiNNaker problem with a message that says what to change."""


def w_max_substitute(p: Params, cfg: dict) -> float:
    """Return the substituted rule's upper weight bound w_max' [mV]."""
    return cfg["spinnaker"]["w_max_factor"] * p.theta


def a_plus_substitute(p: Params, cfg: dict) -> float:
    """Return A_plus of the multiplicative rule that is exact at w = m0."""
    return p.delta_c / (w_max_substitute(p, cfg) - p.m0)


def ring_buffer_range(p: Params, cfg: dict) -> float:
    """Return the max_expected_summed_weight [mV] given to sPyNNaker for both receptor
    types: just enough that a single weight up to w_max' is representable, which gives
    the finest fixed-point quantum (sPyNNaker's own worst-case bound is set by w_max'
    times the in-degree and would round 0.2 mV recurrent weights to 0)."""
    return w_max_substitute(p, cfg)


def ring_buffer_shift(m: float) -> int:
    """sPyNNaker 7.4.1's left shift for a max expected summed weight ``m``
    (population_vertex.get_ring_buffer_shifts)."""
    if m <= 0:
        return 0
    s = math.ceil(math.log2(m))
    return s + 1 if 2 ** s == m else s


def weight_quantum(p: Params, cfg: dict) -> float:
    """Return the weight resolution [mV] on the board: 2**(shift - 15)."""
    return 2.0 ** (ring_buffer_shift(ring_buffer_range(p, cfg)) - 15)


def quantise(w, quantum: float):
    """Return weights rounded to the fixed-point grid (numpy's rint, as sPyNNaker)."""
    return np.rint(np.asarray(w) / quantum) * quantum


def spinnaker_translation(cfg: dict) -> Translation:
    """The model's STDP rule and weight range in sPyNNaker's terms (see module doc)."""
    return Translation(
        weight_dependence="MultiplicativeWeightDependence",
        parameters={
            "tau_plus": lambda p: p.tau_c,
            "tau_minus": lambda p: p.tau_ac,
            "A_plus": lambda p: a_plus_substitute(p, cfg),
            "A_minus": lambda p: -p.r_ac,
            "w_max": lambda p: w_max_substitute(p, cfg),
            "w_min": lambda p: 0.0,
        },
        inhibitory_sign=1.0,      # sPyNNaker: positive weights, the receptor sets the sign
        note=("substituted: sPyNNaker's multiplicative rule, dw+ = A_plus (w_max' - w), "
              "exact depression; potentiation exact at m0 (see rule_error)"),
        # one noise source per core, each with its own seed (see noise_seed)
        noise_block=lambda p: int(cfg["spinnaker"]["neurons_per_core"]),
        population_parameters={
            "exc": lambda p: {"max_expected_summed_weight": [ring_buffer_range(p, cfg)] * 2},
            "inh": lambda p: {"max_expected_summed_weight": [ring_buffer_range(p, cfg)] * 2},
        },
    )


NOISE_STREAM = 0x4E015E   # separates the noise seeds from the model's other random streams


def noise_seed(seed: int, source: str) -> tuple[int, ...]:
    """Return the four MarsKiss64 seed words of the noise source named ``source`` (e.g.
    'exc[0:200]'), drawn reproducibly from the experiment ``seed`` and the name, so every
    core's source gets its own sequence."""
    from spynnaker.pyNN.utilities.utility_calls import create_mars_kiss_seeds
    key = [seed, NOISE_STREAM] + [ord(c) for c in source]
    state = int(np.random.default_rng(key).integers(1, 2**31 - 1))
    return tuple(create_mars_kiss_seeds(np.random.RandomState(state)))


def rule_error(p: Params, cfg: dict, w_hi_theta: float = 0.3) -> dict:
    """Return the relative error of the substituted potentiation, A_plus (w_max' - w)
    against Delta_c, over the working range w in [0, w_hi] (theta), and the depression's."""
    w = np.linspace(0.0, w_hi_theta * p.theta, 61)
    ratio = a_plus_substitute(p, cfg) * (w_max_substitute(p, cfg) - w) / p.delta_c
    return {"working_range_theta": [0.0, w_hi_theta],
            "potentiation_rel_error_min": float(ratio.min() - 1),
            "potentiation_rel_error_max": float(ratio.max() - 1),
            "potentiation_rel_error_at_m0": 0.0,
            "depression_rel_error": 0.0,
            "w_max_substitute_theta": w_max_substitute(p, cfg) / p.theta}


def translation_report(p: Params, cfg: dict, reference_dt: float, dt: float,
                       emulation: bool, backend: str, measured: dict | None = None) -> dict:
    """Return every parameter moving to SpiNNaker changes, with the size of the change.

    ``measured`` holds what sPyNNaker reported (quantum, read-back weights), if it ran.
    """
    from pipeline.model import noise_stdev

    q = weight_quantum(p, cfg)
    weights = {}
    for name, w in (("j_ee", p.j_ee), ("j_ie", p.j_ie), ("j_inh", p.j_inh),
                    ("supervision_jump", p.supervision_jump), ("m0", p.m0),
                    ("delta_c", p.delta_c)):
        wq = float(quantise(w, q))
        weights[name] = {"model_mv": w, "board_mv": wq,
                         "rel_error": (wq - w) / w if w else 0.0}
    zero = [k for k, v in weights.items() if v["model_mv"] > 0 and v["board_mv"] == 0]
    if zero:
        raise SpinnakerError(
            f"weights {zero} quantise to 0 on SpiNNaker (quantum {q:.3g} mV): raise them, or "
            f"lower spinnaker.w_max_factor (now {cfg['spinnaker']['w_max_factor']}) for a "
            f"finer fixed-point grid")
    rep = {
        "backend": backend,
        "emulation": emulation,
        "label": ("NEST emulating SpiNNaker's constraints (an approximation)" if emulation
                  else "sPyNNaker"),
        "time_step_ms": {"reference": reference_dt, "used": dt},
        "delay_ms": {"reference": reference_dt, "used": dt,
                     "note": "the minimum delay: one time step"},
        "stdp_rule": {"substitution": "MultiplicativeWeightDependence for "
                                      "AdditivePotentiationMultiplicativeDepression",
                      **rule_error(p, cfg),
                      "a_plus": a_plus_substitute(p, cfg), "a_minus": -p.r_ac,
                      "stdp_exponentials": "lookup tables on the board (not emulated)",
                      "post_spike_history": "16 events per neuron on the board (not emulated)"},
        "weights": {"quantum_mv": q, "ring_buffer_shift": ring_buffer_shift(ring_buffer_range(p, cfg)),
                    "max_expected_summed_weight_mv": ring_buffer_range(p, cfg),
                    "max_single_weight_mv": 65535 * q, "per_weight": weights,
                    "note": "plastic updates on the board are fixed point too (not emulated)"},
        "noise": {"stdev_na_reference_dt": noise_stdev(p.d_exc, p, reference_dt),
                  "stdev_na_used_dt": noise_stdev(p.d_exc, p, dt),
                  "note": "recalibrated so the free membrane variance stays D*theta^2"},
        "supervision": {"rate_hz": p.supervision_rate,
                        "mean_spikes_per_step": p.supervision_rate * dt * 1e-3},
        "neurons_per_core": cfg["spinnaker"]["neurons_per_core"],
        "synapse_cores": cfg["spinnaker"]["synapse_cores"],
    }
    if measured:
        rep["measured_on_spinnaker"] = measured
    return rep


def write_cfg(run_dir: Path, scfg: dict) -> Path:
    """Write sPyNNaker's cfg into ``run_dir`` and point sPyNNaker's user-config lookup at
    it, so that ``~/.spynnaker.cfg`` is neither read nor created. Returns the file."""
    run_dir = Path(run_dir).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    lines = ["[Machine]"]
    if scfg.get("machine_name"):
        lines += ["virtual_board = False", f"machine_name = {scfg['machine_name']}"]
    elif scfg.get("spalloc_server"):
        lines += ["virtual_board = False", f"spalloc_server = {scfg['spalloc_server']}"]
        if scfg.get("spalloc_user"):
            lines.append(f"spalloc_user = {scfg['spalloc_user']}")
    else:
        lines.append("virtual_board = True")
    lines += [f"version = {scfg['version']}", "", "[Reports]",
              f"default_report_file_path = {run_dir}", "", "[Mode]", "mode = Production", ""]
    path = run_dir / "spynnaker.cfg"
    path.write_text("\n".join(lines))
    # sPyNNaker 1!7.4.1 requires a *user* cfg (/etc/xdg, ~/.config or ~) and otherwise
    # writes a template to ~/.spynnaker.cfg and raises. Point its lookup at ours (a
    # private function: the pin to 1!7.4.1 in pyproject.toml matters).
    import spinn_utilities.config_holder as ch
    ch._user_cfg = lambda: str(path)
    return path


def shipped_binaries() -> set[str]:
    """Return the names of the .aplx binaries shipped with sPyNNaker and FEC."""
    import spinn_front_end_common.common_model_binaries as cb
    import spynnaker.pyNN.model_binaries as mb
    return {f for d in (mb.__path__[0], cb.__path__[0]) for f in os.listdir(d)
            if f.endswith(".aplx")}


def resource_report(board_chips: int = 48) -> dict:
    """Return chips, cores, SDRAM, neurons per core, routing entries and the binaries of
    the current mapping (after ``sim.run``), and whether it fits ``board_chips`` chips."""
    from collections import Counter

    from spinn_front_end_common.abstract_models import AbstractHasAssociatedBinary
    from spinn_front_end_common.data import FecDataView

    machine = FecDataView.get_machine()
    steps = FecDataView.get_plan_n_timestep() or FecDataView.get_current_run_timesteps()
    cores = []
    for pl in FecDataView.iterate_placemements():       # sic: the API's spelling
        v = pl.vertex
        app = v.app_vertex
        binary = v.get_binary_file_name() if isinstance(v, AbstractHasAssociatedBinary) else None
        cores.append({"chip": (pl.x, pl.y), "population": app.label if app is not None else None,
                      "n_atoms": v.vertex_slice.n_atoms, "binary": binary,
                      "type": type(v).__name__, "sdram": v.sdram_required.get_total_sdram(steps)})
    app_cores = [c for c in cores if c["population"] is not None]
    chips_used = {c["chip"] for c in app_cores}
    rt = FecDataView.get_uncompressed()
    shipped = shipped_binaries()
    npc = {}
    for c in app_cores:
        key = f"{c['population']}/{c['type']}"
        npc.setdefault(key, Counter())[c["n_atoms"]] += 1
    sdram_per_chip = Counter()
    for c in cores:
        sdram_per_chip[c["chip"]] += c["sdram"]
    return {
        "machine_chips": machine.n_chips,
        "chips_used": len(chips_used),
        "cores_used": len(cores),
        "app_cores": len(app_cores),
        "system_cores": len(cores) - len(app_cores),
        "sdram_planned_bytes": int(sum(c["sdram"] for c in cores)),
        "sdram_max_chip_bytes": int(max(sdram_per_chip.values())),
        "chip_sdram_bytes": int(next(iter(machine.chips)).sdram),
        "planned_time_steps": int(steps),
        "routing_entries_max": int(rt.get_max_number_of_entries()),
        "routing_entries_total": int(rt.get_total_number_of_entries()),
        "router_table_size": int(machine.min_n_router_enteries),
        "neurons_per_core": {k: {str(a): n for a, n in sorted(v.items())} for k, v in npc.items()},
        "binaries": dict(Counter(c["binary"] for c in cores if c["binary"])),
        "missing_binaries": sorted({c["binary"] for c in cores
                                    if c["binary"] and c["binary"] not in shipped}),
        "board_chips": board_chips,
        "fits_one_board": len({c["chip"] for c in cores}) <= board_chips,
    }


def noise_seeds_per_core(net: Network) -> dict:
    """Return, after mapping, the noise seeds sPyNNaker writes to each neuron core of the
    E and I populations: {'cores': n, 'distinct_seeds': k, 'max_sources_per_core': s,
    'per_core': [{'population', 'neurons': [lo, hi], 'seeds': [[4 words], ...]}]}. With
    one seeded source per core, k == n and s == 1."""
    cores = []
    for pop in (net.exc, net.inh):
        for mv in pop._vertex.machine_vertices:
            get = getattr(mv, "_PopulationMachineNeurons__get_current_sources_sorted", None)
            if get is None:              # a synapse core: no current sources
                continue
            sl = mv.vertex_slice
            cores.append({"population": pop.label, "neurons": [sl.lo_atom, sl.hi_atom],
                          "seeds": [[int(x) for x in src.parameters["seed"]] for src in get()]})
    seeds = {tuple(x) for c in cores for x in c["seeds"]}
    return {"cores": len(cores), "distinct_seeds": len(seeds),
            "max_sources_per_core": max((len(c["seeds"]) for c in cores), default=0),
            "per_core": cores}


class SpinnakerBackend(Backend):
    """Maps (and on hardware, runs) the model through pyNN.spiNNaker."""

    name = "spinnaker"
    map_only = True     # builds and maps; the episode protocol does not run here

    def __init__(self, cfg: dict, seed: int, run_dir) -> None:
        self.cfg = cfg
        self.scfg = cfg["spinnaker"]
        self.seed = seed
        self.run_dir = Path(run_dir).resolve()
        self.dt = self.time_step(cfg)
        self.virtual = not (self.scfg.get("machine_name") or self.scfg.get("spalloc_server"))
        # The episode protocol (weights read and written between runs, plasticity switched
        # per phase) is not implemented for hardware: on a board this backend, too, loads
        # and runs one episode's network and reports; the science runs on NEST.
        self.produces_spikes = False
        self.map_only = True
        self.label = ("sPyNNaker on a virtual board (mapping only: NO spikes are produced)"
                      if self.virtual else "sPyNNaker on SpiNNaker hardware (one episode's "
                      "network loaded and run; the episode protocol is not implemented there)")
        self.translation = spinnaker_translation(cfg)
        self.measured: dict = {}

    @staticmethod
    def time_step(cfg: dict) -> float:
        """Return the board's time step [ms] (``spinnaker.timestep_ms``)."""
        return float(cfg["spinnaker"]["timestep_ms"])

    def setup(self, rng_seed: int | None = None):
        """Write the cfg into the run directory and set up pyNN.spiNNaker."""
        write_cfg(self.run_dir, self.scfg)
        os.environ.setdefault("MPLCONFIGDIR", str(self.run_dir / ".matplotlib"))
        self._cwd = os.getcwd()
        os.chdir(self.run_dir)     # sPyNNaker also reads ./spynnaker.cfg, strictly
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pyNN.spiNNaker as sim
        kw = {"n_boards_required": self.scfg["boards"]} if self.virtual else {}
        tsf = max(1.0, 1.0 / self.dt) if self.dt < 1.0 else None
        sim.setup(timestep=self.dt, min_delay=self.dt, time_scale_factor=tsf, **kw)
        sim.set_number_of_neurons_per_core(sim.IF_curr_delta, self.scfg["neurons_per_core"])
        # Split neuron and synapse cores: IF_curr_delta with multiplicative STDP on
        # combined cores needs IF_curr_delta_stdp_mad_pair_multiplicative.aplx, which
        # sPyNNaker 1!7.4.1 does not ship.
        sim.set_number_of_synapse_cores(sim.IF_curr_delta, self.scfg["synapse_cores"])
        self.sim = sim
        return sim

    def build(self, p: Params, conn, input_trains=None) -> Network:
        """Build the model (pipeline.model.build) with the substituted rule; the input
        spike trains [ms] of the episode to load are given here (see model.build)."""
        self.p = p
        self._w0 = conn.w0
        self.net = build(self.sim, p, conn, self.translation, input_trains=input_trains)
        for name, src in self.net.noise_sources.items():
            # sPyNNaker ignores a given rng (RandomState(None)) and writes a source's one
            # seed to every core it spans: one source per core (noise_block), each seeded
            # from the experiment's seed
            src.set_parameters(seed=noise_seed(self.seed, name))
        return self.net

    def map(self, duration: float) -> dict:
        """Run ``duration`` ms (on a virtual board: the mapping only) and return the
        resource report. Raises SpinnakerError for a network that does not fit or a
        missing binary or an unreachable machine."""
        from pacman.exceptions import PacmanException
        from spinnman.exceptions import SpinnmanException
        t = time.perf_counter()
        try:
            self.sim.run(duration)
        except PacmanException as err:
            raise SpinnakerError(
                f"the network does not fit {self.scfg['boards']} SpiNN-{self.scfg['version']} "
                f"board(s): {str(err).splitlines()[0]} -- raise spinnaker.boards, or shrink "
                f"network.n_exc/n_inh or inputs.m, or raise spinnaker.neurons_per_core "
                f"(max 254 with all-to-all STDP)") from None
        except SpinnmanException as err:
            where = self.scfg.get("machine_name") or self.scfg.get("spalloc_server")
            raise SpinnakerError(
                f"could not reach the SpiNNaker machine '{where}' (spinnaker.machine_name / "
                f"spinnaker.spalloc_server): {str(err).splitlines()[0]}. Check the address "
                f"and network, or remove the key to map on a virtual board") from None
        rep = resource_report()
        rep["mapping_wall_s"] = round(time.perf_counter() - t, 2)
        if rep["missing_binaries"]:
            raise SpinnakerError(
                f"the mapping uses binaries that sPyNNaker does not ship: "
                f"{rep['missing_binaries']}; it could never run on a board. Keep "
                f"spinnaker.synapse_cores >= 1 (split neuron/synapse cores)")
        self.measured = self._measure_quantisation()
        self.measured["noise_seeds"] = noise_seeds_per_core(self.net)
        return rep

    def _measure_quantisation(self) -> dict:
        """Read the weight scale sPyNNaker chose and a projection's weights back."""
        out = {}
        try:
            v = self.net.exc._vertex
            shifts = [int(x) for x in v.get_ring_buffer_shifts()]
            out["ring_buffer_shifts_exc_pop"] = shifts
            out["quantum_mv_exc_receptor"] = 2.0 ** (shifts[0] - 15)
        except Exception as err:       # private API: report, do not fail the run
            out["ring_buffer_shifts_error"] = str(err)
        q = weight_quantum(self.p, self.cfg)
        w = np.asarray(self.net.projections["exc->inh"].get("weight", format="list"))[:, 2]
        out["j_ie_read_back_mv"] = float(np.unique(w)[0]) if len(w) else None
        got = np.asarray(self.net.plastic.get("weight", format="list"))
        want = quantise(self._w0[got[:, 0].astype(int), got[:, 1].astype(int)], q)
        out["plastic_weights_read_back"] = int(len(got))
        out["plastic_max_abs_diff_from_predicted_grid_mv"] = float(np.max(np.abs(got[:, 2] - want)))
        out["plastic_max_abs_quantisation_error_mv"] = float(np.max(np.abs(
            got[:, 2] - self._w0[got[:, 0].astype(int), got[:, 1].astype(int)])))
        return out

    def set_supervision(self, supervision_rates: np.ndarray) -> None:
        """Set the supervision rate [Hz] of every E neuron."""
        self.net.supervision.set(rate=supervision_rates)

    def translation_report(self) -> dict:
        return translation_report(self.p, self.cfg, float(self.cfg["simulation"]["dt_ms"]),
                                  self.dt, emulation=False, backend=self.name,
                                  measured=self.measured)

    def end(self) -> None:
        try:
            self.sim.end()
        finally:
            os.chdir(self._cwd)


class SpinnakerHwBackend(SpinnakerBackend, EpisodeBackend):
    """``spinnaker-hw``: the hardware protocol (pipeline.protocol.HARDWARE_PROTOCOL) end to
    end through pyNN.spiNNaker: build from the host's weights, then per episode set the
    cue's spike times and the supervision rates, run 1.2 s (a continuation: no reset, no
    weight writes, plasticity on throughout) and read the plastic weights back
    (Projection.get). On the virtual board every step runs except the binaries: the
    outputs are labelled "virtual: no dynamics" (no spikes, weights stay at their loaded
    values) and the measured times of mapping, reloads and read-backs feed the estimate
    of a board's wall time. Hardware is the config change of the map-only backend."""

    name = "spinnaker-hw"
    map_only = False

    def __init__(self, cfg: dict, seed: int, run_dir) -> None:
        super().__init__(cfg, seed, run_dir)
        from pipeline.protocol import HARDWARE_PROTOCOL
        if cfg.get("readout", {}).get("spiking"):
            raise SpinnakerError(
                "config key 'readout.spiking' = true: the spinnaker-hw backend holds no "
                "spiking-recall session (it switches plasticity off, which sPyNNaker cannot "
                "do within a run); set readout.spiking: false for spinnaker-hw runs")
        self.protocol = HARDWARE_PROTOCOL
        self.map_only = False
        self.produces_spikes = not self.virtual
        self.execution = "virtual: no dynamics" if self.virtual else "hardware"
        self.label = ("sPyNNaker, hardware protocol, on a virtual board (virtual: no "
                      "dynamics -- every step runs but no binary: no spikes, weights stay "
                      "as loaded)" if self.virtual else
                      "sPyNNaker on SpiNNaker hardware, hardware protocol (untested here)")
        self.deferred_facilitation = True     # sPyNNaker, like NEST, potentiates late
        self.timings: dict = {"first_run_s": [], "run_s": [], "set_drive_s": [],
                              "read_back_s": [], "build_s": []}
        self._last_t = {"exc": 0.0, "inh": 0.0, "inputs": 0.0}

    def setup(self, rng_seed: int | None = None):
        """Set up pyNN.spiNNaker (a new mapping follows at the first run)."""
        self._first = True
        self._last_t = {"exc": 0.0, "inh": 0.0, "inputs": 0.0}
        return super().setup(rng_seed)

    def now(self) -> float:
        """Return the simulation time [ms]."""
        return float(self.sim.get_current_time())

    def schedule(self, p: Params, pat, first: int, stop: int) -> None:
        """Draw the cue spike trains [ms] of episodes first .. stop-1 of this build, on its
        clock (episode j starts at (j - first) * (t_warm + t_train)), to be loaded with
        the build: sPyNNaker 1!7.4.1 cannot change a SpikeSourceArray's per-neuron spike
        times after mapping (Population.set fails in the partitioner's buffer slicing)."""
        from pipeline import model
        T = p.t_warm + p.t_train
        per = [model.draw_input_spikes(p, self.seed, j, pat.cues[j], (j - first) * T, T,
                                       self.dt) for j in range(first, stop)]
        self._scheduled = [np.concatenate([tr[m] for tr in per]) for m in range(p.m)]

    def build(self, p: Params, conn, input_trains=None) -> Network:
        """Build with the scheduled cue trains of the whole build loaded (see schedule)."""
        t = time.perf_counter()
        trains = input_trains if input_trains is not None else getattr(self, "_scheduled", None)
        net = super().build(p, conn, trains)
        self.timings["build_s"].append(time.perf_counter() - t)
        return net

    def set_drive(self, trains: list[np.ndarray], supervision_rates: np.ndarray) -> None:
        """Check that the episode's input spikes [ms] are among those scheduled with the
        build, and set the supervision rates [Hz] for the next run (Poisson rates change
        between runs without remapping)."""
        t = time.perf_counter()
        sched = self._scheduled
        for m, x in enumerate(trains):
            if len(x) and not np.isin(np.round(x, 6), np.round(sched[m], 6)).all():
                raise SpinnakerError(f"input {m}: the episode's spikes were not scheduled "
                                     f"with the build (backend.schedule)")
        self.net.supervision.set(rate=np.asarray(supervision_rates, float))
        self.timings["set_drive_s"].append(time.perf_counter() - t)

    def set_plasticity(self, rows: np.ndarray, on: bool) -> None:
        raise SpinnakerError("sPyNNaker cannot switch plasticity within a run; the hardware "
                             "protocol keeps it on (pipeline.protocol.HARDWARE_PROTOCOL)")

    def write_weights(self, rows: np.ndarray, values: np.ndarray) -> None:
        raise SpinnakerError("sPyNNaker does not implement Projection.set: weights enter "
                             "only with a build (spinnaker.rebuild_every)")

    def run(self, duration: float) -> None:
        """Run ``duration`` ms; the first run of a build maps, generates data and loads."""
        t = time.perf_counter()
        if self._first:
            self.resources = self.map(duration)
            self._first = False
            self.timings["first_run_s"].append(time.perf_counter() - t)
        else:
            self.sim.run(duration)
            self.timings["run_s"].append(time.perf_counter() - t)

    def spikes(self, pop: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (index, time [ms]) of the spikes of ``pop`` since the last call; none on
        a virtual board (no binary runs)."""
        if self.virtual:
            return np.array([], np.int64), np.array([])
        st = getattr(self.net, pop).get_data("spikes").segments[-1].spiketrains
        idx = np.concatenate([np.full(len(s), i) for i, s in enumerate(st)]).astype(np.int64)
        t = np.concatenate([np.asarray(s.magnitude, float) for s in st])
        sel = t >= self._last_t[pop]
        self._last_t[pop] = self.now()
        order = np.lexsort((idx[sel], t[sel]))
        return idx[sel][order], t[sel][order]

    def read_weights(self, rows: np.ndarray) -> np.ndarray:
        """Return the plastic weights [mV] of input rows ``rows``, shape (len, N_E): one
        Projection.get of the whole projection (sPyNNaker reads it per core)."""
        t = time.perf_counter()
        got = np.asarray(self.net.plastic.get("weight", format="list"))
        self.timings["read_back_s"].append(time.perf_counter() - t)
        full = np.zeros((self.p.m, self.p.n_exc))
        full[got[:, 0].astype(int), got[:, 1].astype(int)] = got[:, 2]
        return full[np.asarray(rows, int)]

    def plastic_weights_flat(self) -> np.ndarray:
        return self.read_weights(np.arange(self.p.m)).ravel()

    def plastic_delay(self) -> float:
        """The plastic synapses' delay [ms]: one board time step."""
        return self.dt

    def potentiation_step(self, w: np.ndarray) -> np.ndarray:
        """A_plus (w_max' - w) [mV]: the substituted multiplicative potentiation."""
        return a_plus_substitute(self.p, self.cfg) * (w_max_substitute(self.p, self.cfg) - w)

    def board_time_estimate(self) -> dict:
        """Return the measured parts [s] (median per call) and the estimated wall time [s]
        of this config's whole seed on a board: per build, mapping + data generation +
        load as measured; per episode, the real-time run (t_warm + t_train), the drive's
        reload and the weight read-back as measured. On a virtual board the load and the
        read-back touch no board, so their board cost is not in these numbers."""
        from pipeline.parameters import derive
        p = derive(self.cfg).simulator
        med = {k: float(np.median(v)) if v else None for k, v in self.timings.items()}
        every = int(self.scfg.get("rebuild_every", 0))
        builds = math.ceil(p.episodes / every) if every else 1
        episode_real = (p.t_warm + p.t_train) / 1e3
        # two runs per episode (warm-up, training: their spikes are read apart), one
        # drive reload, one read-back
        per_episode = episode_real + (med["set_drive_s"] or 0.0) + 2 * (med["run_s"] or 0.0) \
            + (med["read_back_s"] or 0.0)
        total = builds * ((med["first_run_s"] or 0.0) + (med["build_s"] or 0.0)) \
            + p.episodes * per_episode
        return {"measured_median_s": med, "calls": {k: len(v) for k, v in self.timings.items()},
                "episodes": p.episodes, "builds": builds,
                "real_time_per_episode_s": episode_real,
                "per_episode_s": per_episode, "total_s": total,
                "note": "virtual board: host-side parts only; the load and read-back over "
                        "the network to a board are not measured" if self.virtual else
                        "measured on hardware"}

    def translation_report(self) -> dict:
        from pipeline.protocol import protocol_deviations
        rep = super().translation_report()
        rep["execution"] = self.execution
        rep["protocol"] = {"name": self.protocol.name, "description": self.protocol.description,
                           "rebuild_every": int(self.scfg.get("rebuild_every", 0)),
                           "deviations_from_nest_protocol":
                               protocol_deviations(self.protocol, self.cfg)}
        rep["board_time_estimate"] = self.board_time_estimate()
        if getattr(self, "resources", None):
            rep["resources"] = self.resources
        return rep
