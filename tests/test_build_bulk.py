"""The NEST build's bulk list connector (backends/nest_bulk.py) gives PyNN's network, bitwise."""
from __future__ import annotations

import dataclasses

import numpy as np

from backends.nest import NestBackend
from pipeline import model, protocol
from pipeline.parameters import derive

KEYS = ["source", "target", "weight", "delay", "port", "target_thread", "receptor"]


def _build_and_present(cfg: dict, bulk: bool) -> dict:
    """Build the tiny model (bulk or PyNN's FromListConnector), present episode 0 and
    return every connection's state, the episode's spikes and its cue weights."""
    p = derive(cfg).simulator
    conn = model.draw_connectivity(p, 3, 1e-4)
    pat = model.draw_patterns(p, 3)
    b = NestBackend(cfg, 3, None)
    if not bulk:
        b.translation = dataclasses.replace(b.translation, list_connector=None)
    b.setup()
    net = b.build(p, conn)
    out = {}
    for name, proj in net.projections.items():
        st = proj.nest_connections.get(KEYS)
        st = {k: np.asarray(st[k], dtype=float) for k in KEYS}
        # per thread, in NEST's storage order (GetConnections interleaves the threads'
        # lists differently from call to call; each thread's list is what is simulated)
        for th in np.unique(st["target_thread"]):
            sel = st["target_thread"] == th
            out[f"{name} thread {int(th)}"] = {k: v[sel] for k, v in st.items()}
    plastic = net.plastic.nest_connections.get()
    order = np.lexsort((plastic["target"], plastic["source"]))
    out["plastic_parameters"] = {k: np.asarray(v, dtype=float)[order]
                                 for k, v in plastic.items()
                                 # the label counts PyNN projections in this process
                                 if k not in ("synapse_model", "synapse_label")}
    ep = protocol.present_episode(b, p, 3, 0, pat.cues[0], pat.targets[0], pat.cues[0],
                                  protocol.PreTrace.empty(p.m))
    out["spikes"] = {k: np.concatenate(v) for k, v in ep.train.items()}
    out["weights"] = {"cue rows after training": ep.weights}
    b.end()
    return out


def test_bulk_build_equals_pynn_build_bitwise(tiny_cfg):
    # 2 threads: the connections are split over threads, where a different creation order
    # would show (the network is tiny, 250 neurons: well under a second)
    tiny_cfg["simulation"]["threads"] = 2
    a = _build_and_present(tiny_cfg, bulk=True)
    b = _build_and_present(tiny_cfg, bulk=False)
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].keys() == b[name].keys(), name
        for k in a[name]:
            # exact: the same connections, stored in the same order, simulate identically
            assert np.array_equal(a[name][k], b[name][k]), (name, k)
    assert len(a["spikes"]["exc"]) > 0        # the comparison is not vacuous
