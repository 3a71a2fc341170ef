"""Bulk creation of PyNN list-connected projections on NEST (the build's fast path).

PyNN 0.13's ``FromListConnector`` on NEST calls ``nest.Connect`` once per post-synaptic
neuron (5,000 calls, each with its own parameter-space copy and translation, for the
paper's recurrent network), which made the build take tens of seconds.
:class:`BulkFromListConnector` is the same connector (same arguments, same PyNN checks,
same parameter translation, through the same PyNN objects) that creates the connections
with one ``nest.Connect`` of node-ID arrays (NEST's ``connect_arrays``) instead.

The connections are created in the order PyNN's loop creates them (post-synaptic index
ascending, then pre-synaptic index ascending), so NEST stores them identically and the
simulation is bitwise the same (checked by tests/test_build_bulk.py). The first
post-synaptic neuron is still connected through PyNN's own ``_convergent_connect``, which
identifies the synapse model's common properties for the projection exactly as PyNN does.

It is used by name in a backend's :class:`pipeline.model.Translation` (``list_connector``),
so ``pipeline/model.py`` stays the only description of the network.
"""
from __future__ import annotations

from copy import deepcopy

import numpy as np

# Parameters PyNN passes to its connect call that NEST must not receive
# (pyNN/nest/projections.py, Projection._convergent_connect).
_PYNN_ONLY = ("tau_minus", "dendritic_delay_fraction", "w_min_always_zero_in_NEST")


def _unsupported(projection) -> str | None:
    """Return why the bulk path cannot reproduce PyNN's connect for ``projection``, or
    None when it can (then the plain per-neuron PyNN path is used instead)."""
    import nest
    from pyNN.nest.standardmodels.synapses import TsodyksMarkramSynapse

    if nest.GetKernelStatus("num_processes") > 1:
        return "MPI"
    if projection.post.conductance_based:
        return "conductance-based post-synaptic cells"
    if isinstance(projection.synapse_type, TsodyksMarkramSynapse):
        return "Tsodyks-Markram synapses"
    for attr in ("weight_variable", "delay_variable"):
        if getattr(projection.synapse_type, attr, None) not in (None, attr.split("_")[0]):
            return f"a synapse type with a custom {attr}"
    if not np.all(projection.post._mask_local):
        return "post-synaptic cells on other processes"
    return None


def bulk_from_list_connector():
    """Return the BulkFromListConnector class (pyNN.nest imported on first use)."""
    from pyNN.connectors import FromListConnector
    from pyNN.errors import ConnectionError as PyNNConnectionError
    from pyNN.standardmodels import StandardSynapseType

    class BulkFromListConnector(FromListConnector):
        """PyNN's FromListConnector, creating the connections in one NEST call (see the
        module docstring). Falls back to PyNN's own loop where that would differ."""

        def connect(self, projection) -> None:
            """Connect up ``projection``; returns nothing."""
            if self.conn_list.size == 0 or _unsupported(projection) is not None:
                return FromListConnector.connect(self, projection)
            import nest

            names = projection.synapse_type.get_parameter_names()
            for name in self.column_names:
                if name not in names:
                    raise ValueError(f"{name} is not a valid parameter for "
                                     f"{projection.synapse_type.__class__.__name__}")
            if np.any(self.conn_list[:, 0] >= projection.pre.size):
                raise PyNNConnectionError("source index out of range")
            cl = self.conn_list[np.lexsort((self.conn_list[:, 0], self.conn_list[:, 1]))]
            pre = cl[:, 0].astype(int)
            post = cl[:, 1].astype(int)
            if np.any((pre[1:] == pre[:-1]) & (post[1:] == post[:-1])):
                return FromListConnector.connect(self, projection)   # multapses: PyNN's way

            params = deepcopy(projection.synapse_type.parameter_space)
            params.shape = (len(cl),)
            for col, name in enumerate(self.column_names, 2):
                params.update(**{name: cl[:, col]})
            if isinstance(projection.synapse_type, StandardSynapseType):
                params = projection.synapse_type.translate(params)
            params.evaluate()
            values = {k: v for k, v in params.items() if k not in _PYNN_ONLY}

            # the first post-synaptic neuron through PyNN (identifies common properties)
            n0 = int(np.searchsorted(post, post[0], side="right"))
            projection._convergent_connect(
                pre[:n0], int(post[0]), location_selector=self.location_selector,
                **{k: (v[:n0].copy() if isinstance(v, np.ndarray) else v)
                   for k, v in values.items()})
            if n0 == len(cl):
                return None
            rest = slice(n0, None)
            weight = np.asarray(values.pop("weight"), dtype=float)
            scale = getattr(projection.post.celltype, "receptor_scale", None)
            if scale is not None:
                weight = weight * scale          # as PyNN's _convergent_connect does
            delay = values.pop("delay")
            syn = {"synapse_model": projection.nest_synapse_model,
                   "synapse_label": projection.nest_synapse_label,
                   "weight": np.broadcast_to(weight, (len(cl),))[rest],
                   "delay": np.broadcast_to(np.asarray(delay, float), (len(cl),))[rest]}
            celltype = projection.post.celltype
            if not celltype.standard_receptor_type:
                syn["receptor_type"] = celltype.get_receptor_type(projection.receptor_type)
            common = projection._common_synapse_property_names
            for name, value in values.items():
                if name in common:
                    projection._set_common_synapse_property(name, value)
                else:
                    syn[name] = np.broadcast_to(np.asarray(value, float), (len(cl),))[rest]
            pre_ids = np.asarray(projection.pre.all_cells, dtype=np.int64)[pre[rest]]
            post_ids = np.asarray(projection.post.all_cells, dtype=np.int64)[post[rest]]
            try:
                nest.Connect(pre_ids, post_ids, "one_to_one",
                             {k: (np.ascontiguousarray(v) if isinstance(v, np.ndarray) else v)
                              for k, v in syn.items()})
            except nest.NESTError as err:
                raise PyNNConnectionError(f"{err} (bulk connect of projection "
                                          f"'{projection.label}')") from err
            projection._sources.update(np.unique(pre_ids).tolist())
            projection._connections = None
            projection._simulator.state.stale_connection_cache = True
            return None

    return BulkFromListConnector
