"""The backend contract (docs/design.md section 7.1): every registered backend declares
it by subclassing backends.interface, and implements every member the pipeline calls."""
from __future__ import annotations

import inspect

import pytest

from backends import MAPPING_ONLY, REGISTRY, get_backend
from backends.interface import Backend, EpisodeBackend


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_registered_backend_implements_the_contract(name):
    cls = get_backend(name)
    assert issubclass(cls, Backend)
    # an abstract member left unimplemented makes the class abstract (not constructible)
    assert not inspect.isabstract(cls), sorted(cls.__abstractmethods__)
    if name not in MAPPING_ONLY:
        assert issubclass(cls, EpisodeBackend)


def test_pipeline_does_not_probe_backends():
    """The pipeline calls declared members; it does not ask a backend what it has."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "pipeline"
    probes = [f"{f.relative_to(root.parent)}:{i}" for f in root.rglob("*.py")
              for i, line in enumerate(f.read_text().splitlines(), 1)
              if re.search(r"(getattr|hasattr)\(\s*backend\b", line)]
    assert probes == []
