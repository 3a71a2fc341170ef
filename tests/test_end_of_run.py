"""The end of a run: every recorded spike lies inside the run's phases, and a failure
while the outputs are written keeps the trained state for a rerun to finish from.

PyNN runs NEST's kernel one time step (min_delay) past the first ``sim.run`` of every
simulator it sets up, so the first episode of a build spans t_warm + t_train + dt on
NEST's clock; spikes of that extra step used to lie after the last phase's end when the
episode was also the run's last (docs/reliability.md, "The end of a run").
"""
from __future__ import annotations

import io

import numpy as np
import pytest

from pipeline.config import validate_config
from pipeline.io import read_npz, read_spikes_nix
from tests.conftest import tiny_config_dict


def one_episode_config(threads: int, **overrides) -> dict:
    """The tiny network trained for one episode, every neuron recorded (so that a spike in
    the run's last time step is recorded for the seeds below)."""
    c = tiny_config_dict(**{"protocol.episodes": 1, "simulation.threads": threads,
                            "recording.full_weights_at": [0], "recording.n_exc_sample": 200,
                            "recording.n_inh_sample": 50, **overrides})
    return validate_config(c)


def phases(block) -> list[tuple[str, float, float]]:
    ep = [e for e in block.segments[0].epochs if e.name == "phases"][0]
    return [(str(lab), float(t), float(t + d)) for lab, t, d in
            zip(ep.labels, ep.times.rescale("ms").magnitude,
                ep.durations.rescale("ms").magnitude)]


# (threads, seed): a run in which a recorded neuron spikes in the run's last time step,
# the reported case at 2 threads (the only one of seeds 1-24 of this config; before the
# fix it ended in neo's "The last spike ([... 400.1]) is after t_stop (400.0)")
@pytest.mark.parametrize("threads, seed", [(2, 22)])
def test_a_spike_in_the_runs_last_step_lies_inside_the_run(tmp_path, threads, seed):
    from pipeline.simulate import simulate

    cfg = one_episode_config(threads)
    out = tmp_path / "run"
    simulate(cfg, "nest", seed, out, stream=io.StringIO())
    block = read_spikes_nix(out / "spikes.nix")
    ph = phases(block)
    dt = cfg["simulation"]["dt_ms"]
    t_stop = float(block.segments[0].spiketrains[0].t_stop.rescale("ms").magnitude)
    # the phases are NEST's clock: warm-up [0, t_warm + dt) (PyNN's extra first step),
    # training [t_warm + dt, t_warm + t_train + dt); 1e-9 ms: float sums of 0.1 ms steps
    assert ph[0][1] == 0.0
    assert ph[0][2] == pytest.approx(cfg["protocol"]["t_warm_ms"] + dt, abs=1e-9)
    assert ph[1][1] == ph[0][2]
    assert ph[1][2] == pytest.approx(t_stop, abs=1e-9)
    assert t_stop == pytest.approx(cfg["protocol"]["t_warm_ms"] + cfg["protocol"]["t_train_ms"]
                                   + dt, abs=1e-9)
    last = max(float(st.max()) for st in block.segments[0].spiketrains if len(st))
    assert last == pytest.approx(t_stop, abs=1e-9)     # the case: a spike in the last step
    assert (out / "provenance.json").exists() and not (out / "checkpoint.npz").exists()


def test_a_failed_write_keeps_the_trained_state_and_a_rerun_finishes_without_simulating(
        tmp_path):
    """A write that fails after the last episode (here: a directory where spikes.nix must
    go, so the rename into place fails) leaves the final checkpoint; the same command run
    again writes every output from it without building a simulator."""
    from pipeline.simulate import RUN_FILES, simulate

    cfg = one_episode_config(1)
    out = tmp_path / "run"
    (out / "spikes.nix" / "blocker").mkdir(parents=True)
    first = io.StringIO()
    with pytest.raises(OSError):
        simulate(cfg, "nest", 2, out, stream=first)
    assert "the trained state is kept in" in first.getvalue()
    assert (out / "checkpoint.npz").exists() and not (out / "provenance.json").exists()
    (out / "spikes.nix" / "blocker").rmdir()
    (out / "spikes.nix").rmdir()
    again = io.StringIO()
    record = simulate(cfg, "nest", 2, out, stream=again)
    assert "writing them from the final checkpoint" in again.getvalue()
    assert "built in" not in again.getvalue()             # no simulator was built
    assert record["resumed_from_episode"] == 1
    assert record["translation"]["backend"] == "nest"     # kept from the trained build
    assert all((out / name).exists() for name in RUN_FILES)
    assert not (out / "checkpoint.npz").exists()
    w = read_npz(out / "weights.npz")
    assert np.isfinite(w["class_mean"]).all() and "w_0" in w
    assert len(read_spikes_nix(out / "spikes.nix").segments[0].spiketrains) == 40 + 200 + 50
