"""What a SpiNNaker board holds as numbers (backends/board_numerics.py): S16.15 STDP
amplitudes, the substituted rule's drift fixed point and the derived depression."""
from __future__ import annotations

import pytest

from backends import board_numerics as bn
from pipeline.parameters import derive
from pipeline.config import ConfigError, validate_config
from tests.conftest import tiny_config_dict


def _p_cfg(**over):
    cfg = validate_config(tiny_config_dict(**over))
    return derive(cfg).simulator, cfg


def test_amplitudes_are_s1615_as_spynnaker_writes_them():
    p, cfg = _p_cfg()
    # A_plus = Delta_c / (w_max' - m0) = 0.04 / 79 = 5.063e-4 = 16.59 / 2**15 -> 17 / 2**15
    assert bn.stdp_amplitudes(p, cfg, board=False)["A_plus"] == pytest.approx(0.04 / 79)
    assert bn.stdp_amplitudes(p, cfg, board=True) == {"A_plus": 17 / 32768,
                                                      "A_minus": 262 / 32768}
    off = validate_config(tiny_config_dict(**{"spinnaker.fixed_point_weights": False}))
    assert bn.stdp_amplitudes(p, off)["A_minus"] == -p.r_ac


def test_substituted_rule_drifts_to_its_own_fixed_point_not_m0():
    p, cfg = _p_cfg(**{"spinnaker.fixed_point_weights": False})
    a = bn.stdp_amplitudes(p, cfg)
    w_star = bn.drift_fixed_point(p, cfg, a["A_plus"], a["A_minus"]) / p.theta
    # A_plus w' tau_c / (A_plus tau_c + A_minus tau_ac) with w' = 4 theta: 0.122 theta,
    # near the model rule's own Delta_c tau_c / (-r_ac tau_ac) = 0.125, far above m0 = 0.05
    assert w_star == pytest.approx(0.1223, abs=1e-4)     # 4 digits of the formula


def test_derived_depression_holds_m0():
    p, cfg = _p_cfg(**{"spinnaker.stdp_depression": "holds_m0",
                       "spinnaker.fixed_point_weights": False})
    a = bn.stdp_amplitudes(p, cfg)
    assert bn.drift_fixed_point(p, cfg, a["A_plus"], a["A_minus"]) == pytest.approx(p.m0,
                                                                                    rel=1e-12)
    # A_minus = Delta_c tau_c / (m0 tau_ac): 2.5x the model's depression; the deviation
    # decay rate is then within 4% of the NEST protocol's (homeostasis every episode,
    # Delta_c tau_c / m0): the A_plus tau_c term is the difference
    assert a["A_minus"] == pytest.approx(p.delta_c * p.tau_c / (p.m0 * p.tau_ac))
    rate = bn.deviation_decay_rate(p, cfg, a["A_plus"], a["A_minus"])
    assert rate == pytest.approx(bn.homeostatic_decay_rate(p), rel=0.04)
    # on the board (S16.15) the fixed point stays at m0 within A_minus's rounding
    pb, cb = _p_cfg(**{"spinnaker.stdp_depression": "holds_m0"})
    ab = bn.stdp_amplitudes(pb, cb)
    assert bn.drift_fixed_point(pb, cb, ab["A_plus"], ab["A_minus"]) == pytest.approx(
        pb.m0, rel=1e-3)


def test_derived_depression_is_refused_with_the_nest_protocol(tmp_path):
    from backends.nest_spinnaker import NestSpinnakerBackend, NestSpinnakerHwBackend

    cfg = validate_config(tiny_config_dict(**{"spinnaker.stdp_depression": "holds_m0"}))
    with pytest.raises(ConfigError, match="spinnaker.stdp_depression.*nest-spinnaker-hw"):
        NestSpinnakerBackend(cfg, 1, tmp_path)
    NestSpinnakerHwBackend(cfg, 1, tmp_path)


def test_report_section_reads_the_committed_protocol_study(tmp_path):
    """The report's 'SpiNNaker protocol' section is made from the committed results of
    bench/spinnaker_protocols.py: the table, the recommended protocol, the recall evidence."""
    from pipeline.report_spinnaker import RESULTS, spinnaker_protocol_section

    lines = spinnaker_protocol_section(tmp_path)
    if not RESULTS.exists():
        assert lines == []
        return
    text = "\n".join(lines)
    assert text.startswith("## SpiNNaker protocol")
    assert "**(recommended)**" in text and "AN APPROXIMATION" in text
    assert "stored inverted" in text or "inverted in" in text
    assert "spinnaker_protocols.png" in text
