"""The validate step: three-way verdicts on whether two sets of runs are the same network
and memory, within the config's tolerances (pipeline/validation/).

Small real NEST runs: the default network's sizes (1000 E, 250 I, 100 inputs), 30
episodes of 300 ms with the STDP steps x8 (their ratio kept) so that memories fade
within them (capacity ~20): seeds 1 and 2 of the model, their replicates (only NEST's
own random streams differ) and seeds 1 and 2 with inhibition halved. A smaller network
(400 E, 40 targets) recalls too coarsely for 2 seeds to resolve the default tolerances.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest
import yaml

from tests.conftest import ROOT, tiny_config_dict


def _config(**overrides) -> dict:
    c = tiny_config_dict(**overrides)
    c["network"].update(n_exc=1000, n_inh=250, c_exc=200, c_inh=50)
    c["inputs"].update(m=100, f_c=0.1)
    c["protocol"].update(episodes=30, t_train_ms=300.0, t_warm_ms=50.0)
    # learning steps x8 (the ratio kept): memories fade within the 30 episodes
    c["stdp"].update(delta_c=0.016, r_ac=-0.064)
    c["weights"]["v0"] = "stationary"
    c["readout"]["reference_memories"] = 15
    c["recording"].update(n_exc_sample=60, n_inh_sample=25, full_weights_at=[0, 29])
    with open(ROOT / "config" / "default.yaml") as fh:
        c["validation"]["tolerances"] = yaml.safe_load(fh)["validation"]["tolerances"]
    return c


def _simulate(cfg_path, seed: int, out) -> None:
    r = subprocess.run([sys.executable, "-m", "pipeline", "simulate", "--config", str(cfg_path),
                        "--seed", str(seed), "--out", str(out)], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """{(model, seed): run dir}; models: base, replicate (simulation.replicate 1), g_half."""
    d = tmp_path_factory.mktemp("validation")
    cfgs = {"base": _config(), "replicate": _config(**{"simulation.replicate": 1}),
            "g_half": _config(**{"network.g": 2.5})}
    out = {}
    for name, seeds in (("base", (1, 2)), ("replicate", (1, 2)), ("g_half", (1, 2))):
        path = d / f"{name}.yaml"
        path.write_text(yaml.safe_dump(cfgs[name]))
        for s in seeds:
            out[name, s] = d / f"{name}-{s}"
            _simulate(path, s, out[name, s])
    return out


def _validate_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", "validate", *map(str, args)],
                          cwd=ROOT, capture_output=True, text=True)


def _entry(v: dict, name: str) -> dict:
    return next(e for e in v["statistics"] if e["name"] == name)


def test_replicate_is_equivalent_on_the_memory(runs, tmp_path):
    """The paired 'nothing changed' comparison at 2 seeds (what make run uses)."""
    r = _validate_cli("--a", runs["base", 1], runs["base", 2],
                      "--b", runs["replicate", 1], runs["replicate", 2],
                      "--out", tmp_path, "--name", "replicate")
    assert r.returncode == 0, r.stderr[-2000:]
    v = json.loads((tmp_path / "validation.json").read_text())
    assert v["design"] == "paired"
    assert v["config_differences"] == {"simulation.replicate": [0, 1]}
    # at this size (30 short episodes) 2 seeds do not always resolve the memory to the
    # default tolerances; what must hold: the memory is never "different", an undecided
    # statistic names the seeds that would decide it. The default network at 2 seeds is
    # equivalent on both (test_default_replicate_is_equivalent_on_the_memory, slow tier)
    assert v["memory_verdict"] in ("equivalent", "inconclusive")
    for name in ("forgetting_curve", "capacity"):
        e = _entry(v, name)
        assert e["verdict"] in ("equivalent", "inconclusive"), e
        # the verdict is the interval's place against the tolerance band (docs/validation.md)
        lo, hi, tol = *e["interval"], e["tolerance"]
        inside, outside = -tol <= lo and hi <= tol, hi < -tol or lo > tol
        assert (e["verdict"] == "equivalent") == inside and not outside, e
        assert e["verdict"] == "equivalent" or "seeds_to_decide" in e
    # nothing is called different when nothing changed
    assert v["counts"]["different"] == 0, [e["name"] for e in v["statistics"]
                                           if e["verdict"] == "different"]
    # homeostasis after every episode: the non-cue means are derived, not tested twice
    assert _entry(v, "w_mean_non_cue->target")["verdict"] == "derived"
    for f in ("validation.md", "forest.png", "forest.svg", "curves.png"):
        assert (tmp_path / f).stat().st_size > 500, f
    assert f"memory {v['memory_verdict'].upper()}" in r.stderr
    # NetworkUnit's model-to-model tests ran on the same spikes: its firing-rate KS
    # distance is scipy's on the pooled per-neuron rates over the joined training phases
    import importlib.util

    from scipy.stats import ks_2samp
    from pipeline.validation import load_run
    if importlib.util.find_spec("networkunit") is None:     # the optional [networkunit] extra
        assert v["networkunit"]["what"].startswith("not run") and not v["networkunit"]["tests"]
        return
    nu = v["networkunit"]["tests"]
    assert set(nu) >= {"rate_exc", "rate_inh", "cv_isi_exc", "lv_isi_inh", "corr_exc"}

    def pooled_rates(paths, pop):
        out = []
        for p in paths:
            run = load_run(p)
            total = sum(b - a for a, b in run.windows) * 1e-3
            out += [sum(((t >= a) & (t < b)).sum() for a, b in run.windows) / total
                    for _, t in sorted(run.trains[pop].items())]
        return out
    want = ks_2samp(pooled_rates([runs["base", 1], runs["base", 2]], "inh"),
                    pooled_rates([runs["replicate", 1], runs["replicate", 2]], "inh"))
    assert nu["rate_inh"]["ks_distance"] == pytest.approx(want.statistic, abs=1e-12)


def test_inhibition_halved_is_different_and_names_what_moved(runs, tmp_path):
    from pipeline.validation import validate

    v = validate([runs["base", 1], runs["base", 2]], [runs["g_half", 1], runs["g_half", 2]],
                 tmp_path, name="g-halved", quiet=True, networkunit=False,
                 allowed=("network.g",))
    assert v["verdict"] == "different" and v["design"] == "paired"
    assert v["config_differences"] == {"network.g": [5.0, 2.5]}
    # weaker inhibition raises the inhibitory rate most of all (about 2x here)
    e = _entry(v, "rate_inh")
    assert e["verdict"] == "different" and e["interval"][0] > e["tolerance"], e
    assert "**different**" in (tmp_path / "validation.md").read_text()


def test_without_pairing_two_seeds_are_inconclusive_and_say_how_many_would_decide(runs):
    """The same runs compared side by side (--design unpaired): the network-to-network
    spread stays in, and 2 seeds a side cannot show the capacity to be within 10%; the
    paired comparison of the same runs can (test above), with far narrower intervals."""
    from pipeline.validation import validate

    a = [runs["base", 1], runs["base", 2]]
    b = [runs["replicate", 1], runs["replicate", 2]]
    unpaired = validate(a, b, None, quiet=True, networkunit=False, requested_design="unpaired")
    paired = validate(a, b, None, quiet=True, networkunit=False)
    assert unpaired["design"] == "unpaired" and paired["design"] == "paired"
    e = _entry(unpaired, "capacity")
    assert e["verdict"] == "inconclusive", e
    assert e["seeds_to_decide"] is None or e["seeds_to_decide"] > 2
    assert unpaired["verdict"] != "equivalent"
    for name in ("forgetting_curve", "rate_target", "w_mean_cue->target"):
        wp = np.diff(_entry(paired, name)["interval"])[0]
        wu = np.diff(_entry(unpaired, name)["interval"])[0]
        assert wp < wu / 2, (name, wp, wu)


def test_runs_of_different_code_versions_are_warned_about(runs, tmp_path, capsys):
    from pipeline.validation import validate

    b = []
    for s in (1, 2):
        b.append(tmp_path / f"rep-{s}")
        shutil.copytree(runs["replicate", s], b[-1])
        prov = json.loads((b[-1] / "provenance.json").read_text())
        prov["code_version"] = {"source": "package", "commit": None, "dirty": None,
                                "version": "0.0.1"}
        (b[-1] / "provenance.json").write_text(json.dumps(prov))
    v = validate([runs["base", 1], runs["base", 2]], b, None, quiet=True, networkunit=False)
    err = capsys.readouterr().err
    assert "warning: validate combines runs from different code versions" in err
    assert "package 0.0.1" in err and v["mixed_code_versions"]


def test_statistics_agree_with_elephant(runs):
    """In every training phase, the CV, LV and correlations the validation averages are
    those of elephant's functions applied to neo SpikeTrains of that phase (the validation
    bins the spikes itself and computes the CV without scipy's overhead)."""
    import neo
    import quantities as pq
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from elephant.conversion import BinnedSpikeTrain
        from elephant.spike_train_correlation import correlation_coefficient
        from elephant.statistics import cv, isi, lv
    from pipeline.validation import load_run
    from pipeline.validation import statistics as st

    run = load_run(runs["base", 1])
    for pop in ("exc", "inh"):
        cvs = st.isi_measure(pop, "cv")(run, {}).values
        lvs = st.isi_measure(pop, "lv")(run, {}).values
        corr = st.corr_measure(pop)(run, {}).values
        for j, (a, b) in enumerate(run.windows):
            sts = [neo.SpikeTrain(t[(t >= a) & (t < b)] * pq.ms, t_start=a * pq.ms,
                                  t_stop=b * pq.ms) for _, t in sorted(run.trains[pop].items())]
            active = [s for s in sts if len(s) >= 3]
            # exact: elephant's cv is scipy.stats.variation, SD * 1.0 / mean
            assert cvs[j] == np.mean([cv(isi(s).magnitude) for s in active])
            assert lvs[j] == np.mean([lv(isi(s).magnitude) for s in active])
            spiking = [neo.SpikeTrain(s.times - a * pq.ms, t_start=0 * pq.ms,
                                      t_stop=(b - a) * pq.ms) for s in sts if len(s) > 0]
            m = correlation_coefficient(BinnedSpikeTrain(spiking, bin_size=10 * pq.ms))
            c = m[np.triu_indices_from(m, 1)]
            # exact: the same counts in the same bins give the same np.corrcoef
            assert corr[j] == c[np.isfinite(c)].mean()
    # the rates are those of episodes.csv (all neurons), one unit per episode
    rates = st.rates_measure("rate_inh_hz")(run, {}).values
    assert np.array_equal(rates, [float(r["rate_inh_hz"]) for r in run.episodes])


def _tolerance_config(tmp_path, name: str, **tol) -> str:
    c = _config()
    c["validation"]["tolerances"].update(tol)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(c))
    return str(path)


@pytest.mark.parametrize("tol, message", [
    ({"capacity": {"relative": -0.1}}, "'validation.tolerances.capacity.relative' = -0.1"),
    ({"capacity": {"relative": 0}}, "must be a finite number > 0"),
    ({"rates": {"absolute": float("nan")}}, "'validation.tolerances.rates.absolute' = nan"),
    # an overlay merges into default.yaml's {relative: 0.1}: null removes the other kind
    ({"rates": {"relative": None, "absolute": 2.0, "unit": "mV"}},
     "'validation.tolerances.rates.unit' = 'mV'"),
    ({"rates": {"absolute": 2.0}}, "set 'relative: null' to drop the default's"),
    ({"capacity": {"relative": 10}}, "is a fraction of A's mean"),
    ({"ccg": {"relative": 0.3, "absolute": 1.0}}, "exactly one of"),
])
def test_bad_tolerances_name_the_key(runs, tmp_path, tol, message):
    if any(isinstance(x.get("absolute"), float) and np.isnan(x["absolute"]) for x in tol.values()):
        # the config loader refuses NaN itself; give the tolerances to validate directly
        from pipeline.io import ResultFileError
        from pipeline.validation import validate
        t = _config()["validation"]["tolerances"]
        t.update(tol)
        with pytest.raises(ResultFileError, match="comparison 'x'.*" + message.replace(".", r"\.")):
            validate([runs["base", 1], runs["base", 2]], [runs["replicate", 1],
                     runs["replicate", 2]], None, name="x", tolerances=t, quiet=True)
        return
    r = _validate_cli("--a", runs["base", 1], runs["base", 2], "--b", runs["replicate", 1],
                      runs["replicate", 2], "--out", tmp_path / "o", "--name", "x",
                      "--config", _tolerance_config(tmp_path, "t", **tol))
    assert r.returncode == 2 and message in r.stderr, r.stderr[-1500:]
    assert "Traceback" not in r.stderr and not (tmp_path / "o").exists()


def test_bad_input_names_the_comparison_and_the_run(runs, tmp_path):
    base, rep, g = (lambda s: runs["base", s]), (lambda s: runs["replicate", s]), \
        (lambda s: runs["g_half", s])
    cases = [
        (("--a", base(1), "--b", rep(1), rep(2)), "side A has 1 run(s)"),
        (("--a", base(1), g(2), "--b", rep(1), rep(2)), "different configs"),
        (("--a", base(1), base(2), "--b", g(1), g(2)), "different configs beyond the backend"),
        (("--a", base(1), base(2), "--b", rep(1), g(2), "--design", "paired"),
         "different configs"),
        (("--a", base(1), base(2), "--b", base(1), base(2)), "on both sides"),
        (("--a", base(1), tmp_path / "nope", "--b", rep(1), rep(2)), "does not exist"),
    ]
    for i, (args, message) in enumerate(cases):
        r = _validate_cli(*args, "--out", tmp_path / f"o{i}", "--name", "cmp")
        assert r.returncode == 2 and message in r.stderr, (message, r.stderr[-1500:])
        assert "comparison 'cmp'" in r.stderr or "does not exist" in message
        assert "Traceback" not in r.stderr and not (tmp_path / f"o{i}").exists()
    # a run labelled seed 3 (a copy of seed 2 with its seed changed: only pairing reads it)
    seed3 = tmp_path / "seed3"
    shutil.copytree(rep(2), seed3)
    prov = json.loads((seed3 / "provenance.json").read_text())
    (seed3 / "provenance.json").write_text(json.dumps(dict(prov, seed=3)))
    for args, message in (
            (("--a", base(1), base(2), "--b", rep(1), seed3, "--design", "paired"),
             "a paired comparison needs the same seeds on both sides, got A [1, 2] and B [1, 3]"),
            (("--a", base(1), base(2), "--b", rep(1), seed3), "share seeds [1] but not all")):
        r = _validate_cli(*args, "--out", tmp_path / "p", "--name", "cmp")
        assert r.returncode == 2 and message in r.stderr, (message, r.stderr[-1500:])
        assert "Traceback" not in r.stderr
    unfinished = tmp_path / "unfinished"
    shutil.copytree(base(2), unfinished)
    (unfinished / "provenance.json").unlink()
    r = _validate_cli("--a", base(1), unfinished, "--b", rep(1), rep(2), "--out", tmp_path / "u")
    assert r.returncode == 2 and str(unfinished) in r.stderr and "no provenance.json" in r.stderr


def test_config_checks_the_comparisons():
    from pipeline.config import ConfigError, validate_config

    c = _config(**{"simulation.seeds": [1]})
    c["validation"]["comparisons"] = [{"name": "x", "a": "nest", "b": "nest-spinnaker"}]
    with pytest.raises(ConfigError, match=r"validation.comparisons\[0\] \('x'\).seeds_a"):
        validate_config(c)
    c["simulation"]["seeds"] = [1, 2]
    c["validation"]["comparisons"] = [{"name": "x", "a": "nest", "b": "nest"}]
    with pytest.raises(ConfigError, match="give side B a replicate"):
        validate_config(c)
    c["validation"]["comparisons"] = [{"name": "x", "a": "nest", "b": "nest", "replicate_b": 1}]
    validate_config(c)
    c["validation"]["tolerances"]["weights"] = {"relative": -1}
    with pytest.raises(ConfigError, match="validation.tolerances.weights.relative"):
        validate_config(c)


@pytest.mark.slow
def test_default_replicate_is_equivalent_on_the_memory(tmp_path):
    """The default config's nest-replicate comparison at its seeds (1, 2; 100 episodes,
    ~4 min on 2 cores): equivalent on the forgetting curve and the capacity."""
    from concurrent.futures import ThreadPoolExecutor
    from pipeline.validation import validate

    with open(ROOT / "config" / "default.yaml") as fh:
        c = yaml.safe_load(fh)
    c["readout"]["spiking"] = False
    paths = {}
    for rep in (0, 1):
        c["simulation"]["replicate"] = rep
        paths[rep] = tmp_path / f"replicate-{rep}.yaml"
        paths[rep].write_text(yaml.safe_dump(c))
    jobs = [(paths[rep], s, tmp_path / f"r{rep}-{s}") for rep in (0, 1) for s in (1, 2)]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda j: _simulate(*j), jobs))
    v = validate([tmp_path / "r0-1", tmp_path / "r0-2"], [tmp_path / "r1-1", tmp_path / "r1-2"],
                 None, quiet=True, networkunit=False)
    assert v["memory_verdict"] == "equivalent", [
        (e["name"], e.get("interval")) for e in v["statistics"] if e["family"] in
        ("forgetting_curve", "capacity")]
    assert v["counts"]["different"] == 0
