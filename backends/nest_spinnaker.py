"""``nest-spinnaker``: NEST run under SpiNNaker's constraints -- an EMULATION.

The NEST backend with the SpiNNaker backend's translated parameters: the board's time
step (1 ms) and hence 1 ms delays, the noise recalibrated for that step, weights on the
board's fixed-point grid (initial, static and every weight the host writes), and the
substituted STDP rule (sPyNNaker's multiplicative rule, run in NEST as stdp_synapse with
mu_plus = mu_minus = 1). It runs the full experiment with real spikes, so the capacity
step can say what moving to SpiNNaker changes. Not emulated: fixed-point arithmetic of
the plastic updates, lookup-table exponentials, the 16-event post-spike history.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from pipeline.model import Network, Params, Translation
from pipeline.protocol import HARDWARE_PROTOCOL, NEST_PROTOCOL, protocol_deviations

from .nest import NestBackend
from .nest_bulk import bulk_from_list_connector
from .nest_sources import one_target_poisson_source
from . import board_numerics
from .spinnaker import quantise, spinnaker_translation, translation_report, weight_quantum
from .spinnaker import w_max_substitute


def emulation_translation(cfg: dict) -> Translation:
    """The SpiNNaker substitution expressed for PyNN on NEST (data, like the others)."""
    spin = spinnaker_translation(cfg)
    params = dict(spin.parameters)
    w_max = params["w_max"]
    # PyNN 0.13 scales w_max by 1000 on NEST but not the IF_curr_delta weights (see nest.py)
    params["w_max"] = lambda p: w_max(p) / 1000.0
    params["mu_plus"] = lambda p: 1.0      # Gutig with mu = 1: multiplicative both ways
    params["mu_minus"] = lambda p: 1.0
    # the amplitudes the board holds (S16.15 with spinnaker.fixed_point_weights)
    params["A_plus"] = lambda p: board_numerics.stdp_amplitudes(p, cfg)["A_plus"]
    params["A_minus"] = lambda p: board_numerics.stdp_amplitudes(p, cfg)["A_minus"]
    return Translation(weight_dependence="GutigWeightDependence", parameters=params,
                       inhibitory_sign=-1.0, list_connector=bulk_from_list_connector,
                       poisson_source=one_target_poisson_source,
                       note="emulation of " + spin.note)


class NestSpinnakerBackend(NestBackend):
    """NEST emulating SpiNNaker's constraints (an approximation; see module doc)."""

    name = "nest-spinnaker"
    label = "NEST emulating SpiNNaker's constraints (an approximation), NEST protocol"
    protocol = NEST_PROTOCOL
    # PyNN 0.13's GutigWeightDependence on NEST drops mu_plus and mu_minus (its __init__
    # does not pass them on), leaving NEST's 0.5: set them on the connections.
    native_overrides = {"mu_plus": lambda p: 1.0, "mu_minus": lambda p: 1.0}

    def __init__(self, cfg: dict, seed: int, run_dir) -> None:
        super().__init__(cfg, seed, run_dir)
        if self.protocol.switch_plasticity and \
                cfg["spinnaker"].get("stdp_depression", "exact") != "exact":
            from pipeline.config import ConfigError
            # the host's phase-boundary correction (pipeline/stdp_bookkeeping.py) assumes
            # the model's depression r_ac
            raise ConfigError(f"config key 'spinnaker.stdp_depression' = "
                              f"{cfg['spinnaker']['stdp_depression']!r} runs only with the "
                              f"hardware protocol: use backend nest-spinnaker-hw, or set it "
                              f"to 'exact' for {self.name}")
        self.translation = emulation_translation(cfg)
        self.expected_native = {
            "Wmax": lambda p: w_max_substitute(p, cfg),
            "lambda": lambda p: board_numerics.stdp_amplitudes(p, cfg)["A_plus"],
            "alpha": lambda p: board_numerics.stdp_amplitudes(p, cfg)["A_minus"]
            / board_numerics.stdp_amplitudes(p, cfg)["A_plus"],
            "mu_plus": lambda p: 1.0,
            "mu_minus": lambda p: 1.0,
            "tau_plus": lambda p: p.tau_c,
            "tau_minus": lambda p: p.tau_ac,
        }

    @staticmethod
    def time_step(cfg: dict) -> float:
        """The board's time step [ms] (``spinnaker.timestep_ms``)."""
        return float(cfg["spinnaker"]["timestep_ms"])

    def build(self, p: Params, conn) -> Network:
        """Build with every weight on the board's fixed-point grid."""
        self.q = weight_quantum(p, self.cfg)
        qp = dataclasses.replace(
            p, **{k: float(quantise(getattr(p, k), self.q))
                  for k in ("j_ee", "j_ie", "j_inh", "supervision_jump")})
        conn = dataclasses.replace(conn, w0=quantise(conn.w0, self.q))
        net = super().build(qp, conn)
        self.p = p
        return net

    def write_weights(self, rows: np.ndarray, values: np.ndarray) -> None:
        """Write weights as the host would load them onto the board: quantised."""
        super().write_weights(rows, quantise(values, self.q))

    def read_weights(self, rows: np.ndarray) -> np.ndarray:
        """Return the plastic weights [mV] of ``rows`` as a board would read them back:
        on its 16-bit grid with ``spinnaker.fixed_point_weights`` (an approximation: NEST
        computed them in floating point; backends/board_numerics.py)."""
        w = super().read_weights(rows)
        return quantise(w, self.q) if board_numerics.fixed_point_on(self.cfg) else w

    def potentiation_step(self, w: np.ndarray) -> np.ndarray:
        """A_plus (w_max' - w) [mV]: the substituted multiplicative potentiation."""
        a_plus = board_numerics.stdp_amplitudes(self.p, self.cfg)["A_plus"]
        return a_plus * (w_max_substitute(self.p, self.cfg) - w)

    def translation_report(self) -> dict:
        rep = translation_report(self.p, self.cfg, float(self.cfg["simulation"]["dt_ms"]),
                                 self.dt, emulation=True, backend=self.name)
        rep["nest_native"] = getattr(self, "native", {})
        rep["board_numerics"] = board_numerics.report(self.p, self.cfg, self.q)
        rep["protocol"] = {"name": self.protocol.name, "description": self.protocol.description,
                           "rebuild_every": int(self.cfg["spinnaker"].get("rebuild_every", 0))
                           if self.protocol.homeostasis_at == "rebuild" else None,
                           "deviations_from_nest_protocol":
                               protocol_deviations(self.protocol, self.cfg)}
        return rep


class NestSpinnakerHwBackend(NestSpinnakerBackend):
    """The emulation running the hardware protocol (pipeline.protocol.HARDWARE_PROTOCOL):
    what a board should give, numerics and protocol together. Beside ``nest-spinnaker``
    (NEST protocol) it splits the capacity lost to SpiNNaker into numerics and protocol."""

    name = "nest-spinnaker-hw"
    label = ("NEST emulating SpiNNaker's constraints (an approximation), hardware protocol "
             "(plasticity on throughout, no weight writes, homeostasis only at rebuilds)")
    protocol = HARDWARE_PROTOCOL
