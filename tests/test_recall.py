"""Spiking recall (docs/design.md section 4): recall never changes training, its
accuracy and spikes are written, the tie rule and the theory's limits are right."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import tiny_config_dict
from pipeline import recall
from pipeline.config import ConfigError, validate_config


def _cfg(spiking: bool, **kw) -> dict:
    c = tiny_config_dict()
    # sessions after episodes 1 and 3; with checkpoints every 2 episodes the first session
    # runs between two training segments, the hardest case for "training is untouched"
    c["readout"].update(spiking=spiking, recall_every=2, recall_age_step=1, t_recall_ms=200.0,
                        t_recall_gap_ms=20.0)
    c["simulation"]["checkpoint_every"] = 2
    c.update(kw)
    return validate_config(c)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from pipeline.simulate import simulate
    base = tmp_path_factory.mktemp("recall")
    out = {}
    for name, on in (("with", True), ("without", False)):
        simulate(_cfg(on), "nest", 1, base / name)
        out[name] = base / name
    return out


def test_recall_leaves_training_bitwise_unchanged(runs):
    a = np.load(runs["with"] / "weights.npz")
    b = np.load(runs["without"] / "weights.npz")
    assert {k for k in a.files if k.startswith("recall")} == {
        "recall_counts", "recall_after", "recall_memory", "recall_points", "recall_t_ms"}
    for k in b.files:                                  # every weight array, bit for bit
        assert a[k].tobytes() == b[k].tobytes(), k
    ea = (runs["with"] / "episodes.csv").read_text().splitlines()
    eb = (runs["without"] / "episodes.csv").read_text().splitlines()
    strip = lambda rows: [",".join(r.split(",")[:-3]) for r in rows]   # drop wall times
    assert strip(ea) == strip(eb)


def test_recall_accuracy_and_spikes_are_written(runs, tmp_path):
    from pipeline.capacity import capacity_step
    from pipeline.io import read_json, read_spikes_nix

    w = np.load(runs["with"] / "weights.npz")
    # sessions after episodes 1 (memories 0, 1) and 3 (memories 0..3)
    assert list(w["recall_after"]) == [1, 1, 3, 3, 3, 3]
    assert list(w["recall_memory"]) == [0, 1, 0, 1, 2, 3]
    assert w["recall_counts"].shape == (6, 200) and w["recall_counts"].sum() > 0
    prov = read_json(runs["with"] / "provenance.json", "provenance")
    # plasticity off: NEST's stdp_synapse with lambda = 0 still rescales w by Wmax and
    # back, which may move a weight by rounding (1e-15 mV seen); nothing is written back
    assert prov["summary"]["recall_max_weight_change_mv"] < 1e-12
    assert prov["timings"]["recall_s"] > 0

    block = read_spikes_nix(runs["with"] / "spikes.nix")
    assert [s.name for s in block.segments] == ["run", "recall"]
    seg = block.segments[1]
    ep = [e for e in seg.epochs if e.name == "recall"][0]
    assert len(ep) == 6
    assert str(ep.labels[0]) == "recall after episode 1: memory 0 (age 1)"
    t = np.concatenate([st.magnitude for st in seg.spiketrains
                        if st.annotations["population"] == "exc"])
    starts, ends = ep.times.magnitude, (ep.times + ep.durations).magnitude
    assert np.any((t[:, None] >= starts) & (t[:, None] < ends))
    # the training segment is as without recall
    assert len(block.segments[0].epochs[0]) == 8

    cap = capacity_step([runs["with"]], tmp_path / "cap")
    sp = cap["spiking"]
    acc = np.array([np.nan if x is None else x for x in sp["forgetting_curve"]["accuracy"]])
    assert np.all(np.isfinite(acc)) and np.all((acc >= 0) & (acc <= 1))
    assert sp["samples_per_age"] == [2, 2, 1, 1]
    assert (tmp_path / "cap" / "recall_rates.png").exists()
    assert (tmp_path / "cap" / "spiking_recall.csv").exists()
    expect = recall.spiking_accuracy(w["recall_counts"][5], w["targets"][3])   # age 0
    assert acc[0] == pytest.approx((expect + recall.spiking_accuracy(
        w["recall_counts"][1], w["targets"][1])) / 2, abs=1e-12)


def test_tie_rule_is_the_expectation_over_random_draws():
    counts = np.array([5, 3, 3, 3, 0, 0])
    target = np.array([0, 1])               # 2 recalled: neuron 0 and one of three tied 3s
    assert recall.spiking_accuracy(counts, target) == pytest.approx((1 + 1 / 3) / 2)
    rng = np.random.default_rng(0)
    draws = [int(rng.permutation([1, 2, 3])[0] == 1) for _ in range(20000)]
    # 20000 draws: the mean of a Bernoulli(1/3) is within 0.01 of 1/3 (3 sigma = 0.01)
    assert (1 + np.mean(draws)) / 2 == pytest.approx(recall.spiking_accuracy(counts, target),
                                                     abs=0.01)
    assert recall.spiking_accuracy(np.array([1, 1, 1, 1]), np.array([2])) == 0.25


def test_sessions_and_samples_per_age():
    assert recall.recall_points(100, 0) == [99]
    assert recall.recall_points(100, 50) == [49, 99]
    assert list(recall.tested_memories(99, 5))[:3] == [4, 9, 14]
    n = recall.samples_per_age([49, 99], 100, 5)
    assert n[0] == 2 and n[45] == 2 and n[50] == 1 and n[1] == 0 and n.sum() == 30


def test_theory_limits():
    from pipeline.theory.recall import count_accuracy
    f_s = 0.1
    same = np.full((2, 48), 0.5)            # targets fire like non-targets: chance
    assert count_accuracy(same, 10.0, f_s) == pytest.approx(f_s, abs=1e-9)
    apart = np.vstack([np.full(48, 0.1), np.full(48, 5.0)])
    # 500 vs 10 expected spikes: the Poisson overlap is below 1e-100
    assert count_accuracy(apart, 100.0, f_s) == pytest.approx(1.0, abs=1e-9)


def test_prediction_in_theory_json():
    from pipeline.theory import predict
    c = tiny_config_dict()
    c["readout"].update(spiking=True, t_recall_ms=500.0)
    pred = predict(validate_config(c))
    acc = np.array(pred["accuracy_spiking_full"])
    assert len(acc) == 4 and np.all((acc > 0.1) & (acc <= 1))
    r = pred["recall_rates_full"]
    assert r["target"][0] > r["non_target"][0] > 0


def test_recall_window_must_be_whole_steps():
    c = tiny_config_dict()
    c["readout"].update(spiking=True, t_recall_ms=100.05)
    with pytest.raises(ConfigError, match="readout.t_recall_ms"):
        validate_config(c)
