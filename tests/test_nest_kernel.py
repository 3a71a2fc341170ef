"""The NEST backend's kernel settings (backends/nest.py, KERNEL_STATUS): the time per
episode must not grow over a run, and the settings must not change what is simulated."""
from __future__ import annotations

import numpy as np
import pytest

import backends.nest as nest_backend
from pipeline import protocol
from tests.conftest import built_nest


def _episodes(cfg: dict, kernel_status: dict, n: int) -> tuple[list, int]:
    """Return (per episode: weights and spikes) of n episodes, and the number of entries
    in NEST's spike buffer resize log at the end."""
    saved = nest_backend.KERNEL_STATUS
    nest_backend.KERNEL_STATUS = kernel_status
    try:
        p, _, pat, b = built_nest(cfg, 1)
    finally:
        nest_backend.KERNEL_STATUS = saved
    trace = protocol.PreTrace.empty(p.m)
    out = []
    for j in range(n):
        ep = protocol.present_episode(b, p, 1, j, pat.cues[j], pat.targets[j], pat.cues[j],
                                      trace)
        out.append([ep.weights, *ep.warm["exc"], *ep.train["exc"], *ep.train["inh"]])
    log = len(b.nest.GetKernelStatus("spike_buffer_resize_log")["times"])
    b.end()
    return out, log


@pytest.mark.parametrize("threads", [1, 2])
def test_spike_buffer_log_stays_short_and_nothing_simulated_changes(tiny_cfg, threads):
    """NEST 3.10 logs every resize of its spike exchange buffer in the kernel status, and
    every GetKernelStatus (PyNN's clock, each SynapseCollection.get/set) converts the
    whole log: with NEST's default shrinking the log gains an entry every few steps and
    the time per episode grew without bound. The backend's setting keeps it at the
    handful of geometric growths (x1.5 each, from 2 spikes to the busiest step's count);
    spikes and weights are bitwise the same as with NEST's default."""
    cfg = dict(tiny_cfg, simulation=dict(tiny_cfg["simulation"], threads=threads))
    ours, log_ours = _episodes(cfg, nest_backend.KERNEL_STATUS, 3)
    default, log_default = _episodes(cfg, {}, 3)
    # 1.5^20 > 3000: more spikes than the tiny network sends in one 0.1-ms step
    assert log_ours <= 20, log_ours
    # 3 episodes are 12,000 steps; NEST's default resizes on a large share of them
    assert log_default > 1000, log_default
    for a, b in zip(ours, default):
        for x, y in zip(a, b):
            assert np.array_equal(x, y)
