"""Backends: one module per simulator, found through a registry.

A backend turns the model's parameters into its simulator's terms (a translation table,
reported in every output's provenance), runs the phases of an episode, and reads and
writes the feed-forward weights. It never re-describes the network: that is
``pipeline.model.build``.
"""
from __future__ import annotations

import importlib

# name -> (module, class). Modules are imported lazily: a NEST user needs no sPyNNaker.
REGISTRY: dict[str, tuple[str, str]] = {
    "nest": ("backends.nest", "NestBackend"),
    "nest-spinnaker": ("backends.nest_spinnaker", "NestSpinnakerBackend"),
    "nest-spinnaker-hw": ("backends.nest_spinnaker", "NestSpinnakerHwBackend"),
    "spinnaker": ("backends.spinnaker", "SpinnakerBackend"),
    "spinnaker-hw": ("backends.spinnaker", "SpinnakerHwBackend"),
    "neuron": ("backends.neuron", "NeuronBackend"),
}

#: Backends that map the network on the (virtual) board and run no episodes: no spikes, no
#: weights, nothing to analyse (config/schema.yaml lists the workflow's backends).
MAPPING_ONLY: tuple[str, ...] = ("spinnaker",)


class UnknownBackendError(ValueError):
    """A backend name that is not in the registry."""


def get_backend(name: str):
    """Return the backend class registered as ``name``; UnknownBackendError lists the known."""
    if name not in REGISTRY:
        raise UnknownBackendError(f"unknown backend '{name}': choose one of "
                                  f"{', '.join(sorted(REGISTRY))}")
    module, cls = REGISTRY[name]
    return getattr(importlib.import_module(module), cls)
