"""The Snakemake workflow runs end to end on a tiny config in a temporary directory."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, tiny_config_dict


def _snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("snakemake")
    return subprocess.run([str(exe), "-s", str(ROOT / "Snakefile"), "--directory", str(workdir),
                           "-c2", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def tiny_workflow(tmp_path_factory):
    """The whole workflow on a tiny config (2 seeds, NEST, the emulation, the SpiNNaker
    mapping, two validations): (workdir, config path, config, the snakemake result)."""
    tmp = tmp_path_factory.mktemp("workflow")
    cfg = tiny_config_dict(**{"simulation.seeds": [1, 2],
                              "simulation.backends": ["nest", "nest-spinnaker", "spinnaker"]})
    cfg["validation"]["comparisons"] = [
        {"name": "nest-vs-emulation", "a": "nest", "b": "nest-spinnaker"},
        {"name": "nest-replicate", "a": "nest", "b": "nest", "replicate_b": 1, "episodes": 3}]
    path = tmp / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return tmp, path, cfg, _snakemake(tmp, "--configfile", str(path))


def test_workflow_end_to_end(tiny_workflow):
    tmp_path, path, cfg, r = tiny_workflow
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = tmp_path / "results" / "tiny"
    for seed in (1, 2):
        run = out / "nest" / f"seed-{seed}"
        for f in ("spikes.nix", "weights.npz", "episodes.csv", "provenance.json"):
            assert (run / f).stat().st_size > 0
    cap = json.loads((out / "nest" / "capacity" / "capacity.json").read_text())
    assert cap["capacity_simulation"]["n_seeds"] == 2
    assert len(cap["forgetting_curve"]["accuracy"]) == cfg["protocol"]["episodes"]
    assert (out / "nest" / "capacity" / "forgetting_curve.png").stat().st_size > 1000
    # spiking recall (on in the default config): its own curve, capacity and prediction
    sp = cap["spiking"]
    assert sp["capacity_simulation"]["n_seeds"] == 2 and "capacity_theory_full" in sp
    assert sp["forgetting_curve"]["accuracy"][0] is not None
    emu = json.loads((out / "nest-spinnaker" / "capacity" / "capacity.json").read_text())
    assert emu["backend"] == ["nest-spinnaker"]
    assert (out / "spinnaker" / "seed-1" / "resources.json").exists()
    report = (out / "report.md").read_text()
    for words in ("Memory capacity", "theory, rate only", "nest-spinnaker", "emulation",
                  "virtual board", "Capacity against the coding level", "from CCG",
                  "spiking recall"):
        assert words in report, words
    assert (out / "report.html").exists() and (out / "sweep" / "sweep.png").exists()
    # cross-backend validation: on the experiment's runs, and on a 3-episode sub-experiment
    assert "Cross-backend validation" in report
    for name in ("nest-vs-emulation", "nest-replicate"):
        v = json.loads((out / "validation" / name / "validation.json").read_text())
        assert v["verdict"] in ("equivalent", "different", "inconclusive")
        assert f"[{name}]" in report and v["design"] == "paired"
        assert (out / "validation" / name / "forest.png").stat().st_size > 1000
    v = json.loads((out / "validation" / "nest-replicate" / "validation.json").read_text())
    assert v["a"]["seeds"] == v["b"]["seeds"] == [1, 2] and v["b"]["replicate"] == 1
    # side A of the 3-episode sub-experiment, and side B: the same seeds, replicate 1
    for sub in ("episodes-3", "episodes-3-replicate-1"):
        assert all((out / "validation" / sub / "nest" / f"seed-{s}" / "provenance.json").exists()
                   for s in (1, 2)), sub
    # nothing left to do: a rerun is a no-op
    r2 = _snakemake(tmp_path, "--configfile", str(path), "-n")
    assert "Nothing to be done" in r2.stdout + r2.stderr


def test_workflow_rejects_a_bad_config(tmp_path, write_config):
    path = write_config(tiny_config_dict(**{"inputs.nu1_hz": -1.0}), "bad.yaml")
    r = _snakemake(tmp_path, "--configfile", str(path))
    assert r.returncode != 0
    assert "nu1_hz" in r.stdout + r.stderr
    assert not (tmp_path / "results" / "tiny" / "nest").exists()


# What the page shows, read in the browser: its text, every image (loaded or not, shown
# size), every link's target and whether an in-page anchor exists.
PAGE_FACTS = """
const imgs = [...document.images].map(i => ({src: i.getAttribute('src'), complete: i.complete,
    natural: i.naturalWidth, shown: i.getBoundingClientRect().width}));
const links = [...document.querySelectorAll('a[href]')].map(a => ({href: a.getAttribute('href'),
    url: a.href, anchor: a.hash ? !!document.getElementById(a.hash.slice(1)) : null}));
return {text: document.body.innerText, title: document.title, imgs: imgs, links: links,
        width: document.body.clientWidth, tables: document.querySelectorAll('table').length};
"""
# Markdown that a renderer left as text: link or image syntax, bold, code spans, heading
# marks, table rows
RAW_MARKDOWN = re.compile(r"\]\(|!\[|\*\*|`|^#{1,6} |^\s*\|", re.M)


def test_report_page_renders_in_a_browser(tiny_workflow):
    """report.html in headless Chromium: no raw Markdown in the rendered text, every image
    loads and fits the page, every link resolves (files exist, anchors exist)."""
    from urllib.parse import unquote, urlparse

    from tests.browser import Browser

    tmp_path, _, cfg, r = tiny_workflow
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    page = tmp_path / "results" / "tiny" / "report.html"
    browser = Browser.find()
    if browser is None:
        pytest.skip(Browser.missing)
    with browser:
        browser.open(page)
        facts = browser.run(PAGE_FACTS)
    raw = RAW_MARKDOWN.findall(facts["text"])
    assert not raw, f"raw Markdown in the rendered page: {raw[:10]}"
    assert facts["title"] == cfg["experiment"]
    assert facts["tables"] >= 3                                  # capacity, rates, mapping...
    assert len(facts["imgs"]) >= 4, facts["imgs"]                # curves, sweep, CCG, ...
    for img in facts["imgs"]:
        assert img["complete"] and img["natural"] > 0, f"image did not load: {img['src']}"
        assert img["shown"] <= facts["width"] + 1, f"image wider than the page: {img['src']}"
    assert facts["links"], "the report links its validation pages"
    for link in facts["links"]:
        url = urlparse(link["url"])
        if link["href"].startswith("#"):
            assert link["anchor"], f"anchor without a target: {link['href']}"
        else:
            assert url.scheme == "file", f"link leaves the results: {link['href']}"
            assert Path(unquote(url.path)).exists(), f"link to a missing file: {link['href']}"
