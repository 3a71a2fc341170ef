"""The validate step: a verdict on whether two sets of runs are the same network and memory.

Small real NEST runs (400 E, 100 I neurons with the paper's in-degrees, 6 episodes of
400 ms): two seed sets of one config must be "consistent"; inhibition halved must be
"different", naming what moved; the spike statistics agree with elephant's own functions;
bad input gives a message that names the run.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest

from tests.conftest import ROOT, tiny_config_dict


def _config(**overrides) -> dict:
    c = tiny_config_dict(**overrides)
    # the paper's in-degrees, so that inhibition matters as it does in the model
    c["network"].update(n_exc=400, n_inh=100, c_exc=200, c_inh=50)
    c["protocol"]["episodes"] = 6
    c["recording"]["full_weights_at"] = [0, 5]
    # record every I neuron and a quarter of the E neurons: rates of 5 sampled I neurons
    # over 6 short phases are too noisy for 2 seeds of a changed model to show at 4 vs 2
    c["recording"].update(n_exc_sample=100, n_inh_sample=100)
    return c


def _simulate(cfg_path, seed: int, out) -> None:
    r = subprocess.run([sys.executable, "-m", "pipeline", "simulate", "--config", str(cfg_path),
                        "--seed", str(seed), "--out", str(out)], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """NEST runs: seeds 1-4 of the model, seeds 5-6 with inhibition halved (g = 2.5)."""
    import yaml
    d = tmp_path_factory.mktemp("validation")
    base, half = d / "base.yaml", d / "g_half.yaml"
    base.write_text(yaml.safe_dump(_config()))
    half.write_text(yaml.safe_dump(_config(**{"network.g": 2.5})))
    out = {}
    for s in (1, 2, 3, 4):
        out[s] = d / f"nest-{s}"
        _simulate(base, s, out[s])
    for s in (5, 6):
        out[f"g{s}"] = d / f"g-half-{s}"
        _simulate(half, s, out[f"g{s}"])
    return out


def _validate_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", "validate", *map(str, args)],
                          cwd=ROOT, capture_output=True, text=True)


def test_two_seed_sets_of_one_config_are_consistent(runs, tmp_path):
    r = _validate_cli("--a", runs[1], runs[2], "--b", runs[3], runs[4], "--out", tmp_path,
                      "--name", "nest-seeds")
    assert r.returncode == 0, r.stderr[-2000:]
    v = json.loads((tmp_path / "validation.json").read_text())
    assert v["verdict"] == "consistent", [e["name"] for e in v["statistics"]
                                          if e["verdict"] == "different"]
    assert v["a"]["config_hash"] == v["b"]["config_hash"] and v["config_differences"] == {}
    names = {e["name"] for e in v["statistics"]}
    for required in ("rate_exc_target", "rate_exc_non_target", "rate_inh", "cv_isi_exc",
                     "lv_isi_exc", "corr_exc", "ccg_cue->target", "dw_cue->target",
                     "weights_cue->target_last", "forgetting_curve", "capacity"):
        assert required in names, required
    for e in v["statistics"]:
        if e["verdict"] == "not tested":
            continue
        for key in ("a", "b", "test", "effect_size", "effect_size_ci95", "threshold", "p_value"):
            assert key in e, (e["name"], key)
        lo, hi = e["effect_size_ci95"]
        assert lo <= e["effect_size"] <= hi
    for f in ("validation.md", "distributions.png", "distributions.svg", "curves.png"):
        assert (tmp_path / f).stat().st_size > 500, f
    assert "CONSISTENT" in r.stderr
    # NetworkUnit's model-to-model tests ran on the same spikes: its firing-rate KS
    # distance is scipy's on the pooled per-neuron rates over the joined training phases
    from scipy.stats import ks_2samp
    from pipeline.validation import load_run
    nu = v["networkunit"]["tests"]
    assert set(nu) >= {"rate_exc", "rate_inh", "cv_isi_exc", "lv_isi_inh", "corr_exc"}
    assert all("p_value" in x and 0 <= x["ks_distance"] <= 1 for x in nu.values()), nu

    def pooled_rates(paths, pop):
        out = []
        for p in paths:
            run = load_run(p)
            total = sum(b - a for a, b in run.windows) * 1e-3
            out += [sum(((t >= a) & (t < b)).sum() for a, b in run.windows) / total
                    for _, t in sorted(run.trains[pop].items())]
        return out
    want = ks_2samp(pooled_rates([runs[1], runs[2]], "inh"), pooled_rates([runs[3], runs[4]], "inh"))
    assert nu["rate_inh"]["ks_distance"] == pytest.approx(want.statistic, abs=1e-12)
    assert nu["rate_inh"]["p_value"] == pytest.approx(want.pvalue, rel=1e-9)
    assert "NetworkUnit model-to-model tests" in (tmp_path / "validation.md").read_text()
    assert not v["mixed_code_versions"] and "different code versions" not in r.stderr


def test_runs_of_different_code_versions_are_warned_about(runs, tmp_path, capsys):
    from pipeline.validation import validate

    b = []
    for s in (3, 4):
        b.append(tmp_path / f"nest-{s}")
        shutil.copytree(runs[s], b[-1])
        prov = json.loads((b[-1] / "provenance.json").read_text())
        prov["code_version"] = {"source": "package", "commit": None, "dirty": None,
                                "version": "0.0.1"}
        (b[-1] / "provenance.json").write_text(json.dumps(prov))
    v = validate([runs[1], runs[2]], b, None, quiet=True, networkunit=False)
    err = capsys.readouterr().err
    assert "warning: validate combines runs from different code versions" in err
    assert "package 0.0.1" in err and v["mixed_code_versions"]


def test_inhibition_halved_is_different_and_names_what_moved(runs, tmp_path):
    from pipeline.validation import validate

    # 4 reference seeds against 2: with 2 against 2 the seed-level spread has 2 degrees of
    # freedom, and Student's t at Holm's first threshold (0.05 / ~40 statistics) then asks
    # for |d| > 28 (bench/results/validation_calibration.json: power at 2 vs 2 and 4 vs 2)
    v = validate([runs[1], runs[2], runs[3], runs[4]], [runs["g5"], runs["g6"]], tmp_path,
                 name="g-halved", quiet=True, networkunit=False)
    assert v["verdict"] == "different"
    assert v["config_differences"] == {"network.g": [5.0, 2.5]}
    moved = {e["name"] for e in v["statistics"] if e["verdict"] == "different"}
    # weaker inhibition raises the inhibitory rate most of all (about 2x here)
    assert "rate_inh" in moved, moved
    assert v["largest_effects"][0]["effect_size"] > 0
    assert "**different**" in (tmp_path / "validation.md").read_text()


def test_statistics_agree_with_elephant(runs):
    """In every training phase, the rates, CV, LV and correlations the validation averages
    are those of elephant's functions applied to neo SpikeTrains of that phase (the
    validation bins the spikes itself and computes the CV without scipy's overhead)."""
    import neo
    import quantities as pq
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from elephant.conversion import BinnedSpikeTrain
        from elephant.spike_train_correlation import correlation_coefficient
        from elephant.statistics import cv, isi, lv, mean_firing_rate
    from pipeline import validation as val

    run = val.load_run(runs[1])
    for pop in ("exc", "inh"):
        rates = val.rates_measure(pop, None)(run, {}).units
        cvs = val.isi_measure(pop, "cv")(run, {})
        lvs = val.isi_measure(pop, "lv")(run, {}).units
        corr = val.corr_measure(pop)(run, {})
        want_pairs = []
        for j, (a, b) in enumerate(run.windows):
            sts = [neo.SpikeTrain(t[(t >= a) & (t < b)] * pq.ms, t_start=a * pq.ms,
                                  t_stop=b * pq.ms) for _, t in sorted(run.trains[pop].items())]
            rate = np.mean([float(mean_firing_rate(s).rescale("Hz")) for s in sts])
            # 1e-12: the same sums, only the order of float operations differs
            assert rates[j] == pytest.approx(rate, rel=1e-12)
            active = [s for s in sts if len(s) >= 3]
            # exact: elephant's cv is scipy.stats.variation, SD * 1.0 / mean
            assert cvs.units[j] == np.mean([cv(isi(s).magnitude) for s in active])
            assert lvs[j] == np.mean([lv(isi(s).magnitude) for s in active])
            spiking = [neo.SpikeTrain(s.times - a * pq.ms, t_start=0 * pq.ms,
                                      t_stop=(b - a) * pq.ms) for s in sts if len(s) > 0]
            m = correlation_coefficient(BinnedSpikeTrain(spiking, bin_size=10 * pq.ms))
            c = m[np.triu_indices_from(m, 1)]
            want_pairs.append(c[np.isfinite(c)])
            # exact: the same counts in the same bins give the same np.corrcoef
            assert corr.units[j] == want_pairs[-1].mean()
        assert np.array_equal(corr.dist, np.concatenate(want_pairs))


def test_bad_input_names_the_run(runs, tmp_path):
    r = _validate_cli("--a", runs[1], "--b", runs[3], runs[4], "--out", tmp_path / "o1")
    assert r.returncode == 2 and "side A has 1 run(s)" in r.stderr and "2 seeds" in r.stderr
    assert "Traceback" not in r.stderr
    r = _validate_cli("--a", runs[1], runs["g5"], "--b", runs[3], runs[4], "--out", tmp_path / "o2")
    assert r.returncode == 2 and "different configs" in r.stderr
    assert str(runs["g5"]) in r.stderr and "Traceback" not in r.stderr
    unfinished = tmp_path / "unfinished"
    shutil.copytree(runs[2], unfinished)
    (unfinished / "provenance.json").unlink()
    r = _validate_cli("--a", runs[1], unfinished, "--b", runs[3], runs[4], "--out", tmp_path / "o3")
    assert r.returncode == 2 and str(unfinished) in r.stderr and "no provenance.json" in r.stderr
    r = _validate_cli("--a", runs[1], tmp_path / "nope", "--b", runs[3], runs[4],
                      "--out", tmp_path / "o4")
    assert r.returncode == 2 and "does not exist" in r.stderr
    r = _validate_cli("--a", runs[1], runs[2], "--b", runs[2], runs[3], "--out", tmp_path / "o5")
    assert r.returncode == 2 and "on both sides" in r.stderr
    assert not any((tmp_path / f"o{i}").exists() for i in range(1, 6))


def test_config_rejects_comparisons_without_two_seeds_a_side():
    from pipeline.config import ConfigError, validate_config

    c = _config(**{"simulation.seeds": [1]})
    c["validation"]["comparisons"] = [{"name": "x", "a": "nest", "b": "nest-spinnaker"}]
    with pytest.raises(ConfigError, match=r"validation.comparisons\[0\] \('x'\).seeds_a"):
        validate_config(c)
    c["simulation"]["seeds"] = [1, 2]
    c["validation"]["comparisons"] = [{"name": "x", "a": "nest", "b": "nest"}]
    with pytest.raises(ConfigError, match="give seeds_b other seeds"):
        validate_config(c)
