"""The vectorised class CCG equals elephant's, and the CCG drift integral is right."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.analysis import pair_ccg_elephant, stdp_drift_from_ccg, summed_ccg


def _poisson(rng, rate_hz, t0, t1, dt=0.1):
    n = rng.poisson(rate_hz * (t1 - t0) * 1e-3)
    return np.sort(np.round(rng.uniform(t0, t1, n) / dt) * dt)


def test_vectorised_class_ccg_equals_elephant_on_sampled_pairs():
    rng = np.random.default_rng(5)
    t0, t1 = 200.0, 1200.0
    pre = [_poisson(rng, 50, t0 - 20, t1 + 20) for _ in range(6)]      # spikes outside too
    post = [_poisson(rng, 20, t0, t1) for _ in range(5)]
    post[0] = np.sort(np.concatenate([post[0], pre[0] + 3.0]))        # a causal pairing
    post[1] = np.array([t0, t1 - 0.1, 700.0])                          # spikes on bin edges
    got = summed_ccg(pre, post, t0, t1, 1.0, 50)
    ref = sum(pair_ccg_elephant(a, b, t0, t1, 1.0, 50) for a in pre for b in post)
    np.testing.assert_array_equal(got, ref)     # integer counts: exactly equal
    assert got[50 + 3] > got[50 - 3]            # the causal pairing shows at +3 ms


def test_ccg_drift_of_independent_trains_is_the_rate_only_drift():
    lags = np.arange(-500, 501) * 1.0          # +-500 ms: truncation exp(-500/33.7) ~ 4e-7
    nu_pre, nu_post, w = 50.0, 10.0, 0.05
    dens = np.full(len(lags), nu_pre * nu_post)
    got = stdp_drift_from_ccg(dens, lags, w, 0.002, -0.008, 16.8, 33.7)
    want = nu_pre * nu_post * 1e-3 * (0.002 * 16.8 - 0.008 * w * 33.7)
    # the kernel is integrated exactly per bin: only the truncation remains (4e-7)
    assert got == pytest.approx(want, rel=1e-6)


def test_analyze_step_on_a_real_run(tmp_path, write_config):
    import subprocess
    import sys
    import json
    from tests.conftest import ROOT, tiny_config_dict

    cfg = tiny_config_dict(**{"recording.n_exc_sample": 100})
    path = write_config(cfg)
    run = tmp_path / "run"
    assert subprocess.run([sys.executable, "-m", "pipeline", "simulate", "--config", str(path),
                           "--seed", "1", "--out", str(run)], cwd=ROOT,
                          capture_output=True).returncode == 0
    r = subprocess.run([sys.executable, "-m", "pipeline", "analyze", "--run", str(run),
                        "--out", str(tmp_path / "an")], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads((tmp_path / "an" / "analysis.json").read_text())
    ct = res["classes"]["cue->target"]
    # supervised targets fire a lot: potentiation wins for cue->target synapses
    assert ct["dw_measured_mean"] > 0 and ct["dw_ccg_mean"] > 0
    assert res["statistics"]["exc"]["rate_hz"] > 0
    # the STDP window integrated against the measured CCG explains the measured weight
    # change better than the measured rates alone (the spike-time correlations matter)
    for c in ("cue->target", "cue->non_target"):
        v = res["classes"][c]
        assert abs(v["dw_ccg_mean"] - v["dw_measured_mean"]) < \
            abs(v["dw_rate_only_mean"] - v["dw_measured_mean"]), (c, v)
    for f in ("ccg.png", "drift.png", "weights.png", "ccg.csv", "drift.csv"):
        assert (tmp_path / "an" / f).stat().st_size > 0
