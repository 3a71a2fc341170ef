"""The README stays short and the documentation's links and images point at files that
exist in the repository."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# [text](target) and ![alt](target), outside code spans; the target up to a space or ')'
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)[^)]*\)")


def test_readme_is_under_200_lines():
    n = len((ROOT / "README.md").read_text().splitlines())
    assert n < 200, f"README.md has {n} lines: move detail into docs/"


def _targets(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)   # code blocks
    text = re.sub(r"`[^`\n]*`", "", text)                              # code spans
    return LINK.findall(text)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_links_and_images_resolve_in_the_repository(page):
    for target in _targets(page):
        if re.match(r"[a-z]+://|mailto:", target):
            continue                                  # external: not checked offline
        path = target.split("#")[0]
        if path:
            assert (page.parent / path).exists(), f"{page.name}: link to a missing {target}"
        anchor = target.partition("#")[2]
        if anchor:                                    # GitHub's heading ids
            dest = page.parent / path if path else page
            ids = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
                   for h in re.findall(r"^#+ (.*)$", dest.read_text(), re.M)}
            assert anchor in ids, f"{page.name}: no heading '{anchor}' in {dest.name}"


def test_performance_tables_are_those_of_the_benchmark_results():
    """docs/performance.md's tables are generated from bench/results.json (bench/table.py
    --write), never edited by hand."""
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location("bench_table", ROOT / "bench" / "table.py")
    table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table)
    res = json.loads((ROOT / "bench" / "results.json").read_text())
    page = (ROOT / "docs" / "performance.md").read_text()
    assert table.tables_block(page) == table.expected_block(res)
