"""PyNN's Poisson spike source on NEST without its relay parrot neurons, for sources that
each have exactly one target (the supervision: one source per E neuron, one-to-one).

pyNN.nest creates every ``SpikeSourcePoisson`` as a ``poisson_generator`` followed by a
``parrot_neuron``, so that a source sends the same train to all its targets (a NEST
generator draws an independent train per target). With one target per source the two
layouts give the same process: an independent Poisson train of the same rate into each
E neuron. The parrots, however, re-emit every supervision spike through NEST's global
spike exchange: at paper scale 400 targets x 3,200 Hz, about 1.5 million spikes per
1.2 s episode, 30 times the network's own. Without them the bare NEST script of a
paper-scale episode takes 10.1 s instead of 11.8 s at 1 thread, 6.2 s instead of 7.0 s at
2 (bench/results.json: ``bare_nest_direct_wall_s`` against ``bare_nest_wall_s``, medians
of 3). The trains are a different draw
from NEST's random streams than with parrots (same statistics; runs stay bitwise
reproducible), and the supervision reaches E one time step (the parrot's delay) sooner.

Used by name in a backend's :class:`pipeline.model.Translation` (``poisson_source``), so
``pipeline/model.py`` stays the only description of the network.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=None)
def one_target_poisson_source(sim: Any) -> type:
    """Return a pyNN.nest ``SpikeSourcePoisson`` subclass whose population is the
    ``poisson_generator`` nodes themselves (no parrots). Only for one-to-one projections."""

    class SpikeSourcePoissonOneTarget(sim.SpikeSourcePoisson):
        __doc__ = ("pyNN.nest SpikeSourcePoisson without relay parrots: valid only when "
                   "every source has one target (backends/nest_sources.py)")
        uses_parrot = False

    return SpikeSourcePoissonOneTarget
