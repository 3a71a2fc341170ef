"""Configs combine by one rule (pipeline/config_sources.py) for the CLI and for Snakemake,
and every shipped config, profile and documented command plans a workflow (dry runs:
nothing is simulated)."""
from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.config import ConfigError, load_yaml
from pipeline.config_sources import DEFAULT_CONFIG, combine, load_config
from tests.conftest import ROOT

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
SHIPPED = sorted(p for p in (ROOT / "config").glob("*.yaml") if p.name != "schema.yaml")
PROFILES = sorted(p for p in (ROOT / "config" / "profiles").iterdir() if p.is_dir())
# the pages whose commands a newcomer copies: the README and everything under docs/
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _dry_run(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    """`snakemake -n` of this checkout's Snakefile with ``args``, results under ``tmp``
    (relative paths in ``args`` are read from the checkout, as a user in it would)."""
    return subprocess.run([SNAKEMAKE, "-n", "-s", str(ROOT / "Snakefile"), "--directory",
                           str(tmp), *args], capture_output=True, text=True, cwd=ROOT)


def _planned(r: subprocess.CompletedProcess) -> dict[str, int]:
    """The job counts of a dry run's "Job stats" table."""
    table = r.stdout.split("Job stats:")[1].split("total")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


# ------------------------------------------------------------------ the rule
def test_an_overlay_merges_sections_and_replaces_lists(tmp_path):
    over = tmp_path / "over.yaml"
    over.write_text("network: {n_exc: 2000}\nsimulation: {seeds: [7]}\n")
    cfg = combine([over])
    default = load_yaml(DEFAULT_CONFIG.read_text())
    assert cfg["network"]["n_exc"] == 2000
    assert cfg["network"]["n_inh"] == default["network"]["n_inh"]   # the rest of the section
    assert cfg["simulation"]["seeds"] == [7]                          # a list replaces
    assert cfg["simulation"]["backends"] == default["simulation"]["backends"]


def test_later_sources_win_and_both_override_forms_agree(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("inputs: {f_c: 0.2, m: 50}\n")
    b.write_text("inputs: {f_c: 0.15}\n")
    cfg = combine([a, b], ["inputs.m=60"])
    assert (cfg["inputs"]["f_c"], cfg["inputs"]["m"]) == (0.15, 60)
    # the CLI's --set and Snakemake's --config (nested values as strings) give one result
    cli = combine([a], ["noise.d_exc=1e-1", "simulation.seeds=[1, 2, 5]"])
    snake = combine([a], [{"noise": {"d_exc": "1e-1"}, "simulation": {"seeds": ["1", "2", "5"]}}])
    assert cli == snake
    assert cli["noise"]["d_exc"] == 0.1 and cli["simulation"]["seeds"] == [1, 2, 5]


@pytest.mark.parametrize("item, words", [
    ("noise.d_exc", "must look like section.key=VALUE"),
    ("a.b.c=1", "must look like section.key=VALUE"),
    ("noise.d_exc=[1,", "VALUE is not valid YAML"),
])
def test_bad_overrides_are_named(item, words):
    with pytest.raises(ConfigError, match=re.escape(words)):
        combine([], [item])


def test_bad_files_are_named(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        combine([tmp_path / "missing.yaml"])
    (tmp_path / "list.yaml").write_text("[1, 2]\n")
    with pytest.raises(ConfigError, match="must hold a mapping of sections"):
        combine([tmp_path / "list.yaml"])
    (tmp_path / "bad.yaml").write_text("inputs: {m: 5000000000000}\nnetwork: {n_exc: -1}\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml over default\.yaml: .*network\.n_exc"):
        load_config(tmp_path / "bad.yaml")


def test_shipped_overlays_are_small():
    """Every config but the default says only what it changes: no key equal to the
    default's (a copy of the default would drift from it)."""
    default = load_yaml(DEFAULT_CONFIG.read_text())
    for path in SHIPPED:
        if path == DEFAULT_CONFIG:
            continue
        over = load_yaml(path.read_text())
        same = [f"{s}.{k}" for s, sec in over.items() if isinstance(sec, dict)
                for k, v in sec.items() if default.get(s, {}).get(k) == v]
        assert not same, f"{path.name} restates the default's {same}"


# ------------------------------------------------------------------ the workflow, dry
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_config_plans_its_experiment_as_the_cli_reads_it(path, tmp_path):
    """A dry run with `--configfile` plans the experiment the CLI reads from the same file:
    the effective config Snakemake writes for the steps equals `load_config(path)`."""
    r = _dry_run(tmp_path, "--configfile", str(path.relative_to(ROOT)))
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    cli = load_config(path)
    eff = load_yaml((tmp_path / "results" / cli["experiment"] / "config.yaml").read_text())
    # Snakemake's own schema check also fills the null defaults inside list items
    # (validation comparisons' `episodes: null`), which mean the same as the key's absence
    for c in eff["validation"]["comparisons"]:
        for key in [k for k, v in c.items() if v is None]:
            del c[key]
    assert eff == cli
    jobs = _planned(r)
    seeds, backends = cli["simulation"]["seeds"], cli["simulation"]["backends"]
    spiking = [b for b in backends if b != "spinnaker"]
    assert jobs["simulate"] >= len(seeds) * len(spiking) and jobs["report"] == 1


def test_the_paper_command_plans_the_paper_experiment(tmp_path):
    r = _dry_run(tmp_path, "-c2", "--configfile", "config/paper.yaml")
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    eff = load_yaml((tmp_path / "results" / "paper" / "config.yaml").read_text())
    assert eff["network"]["n_exc"] == 4000 and eff["protocol"]["episodes"] == 300
    assert eff["readout"]["spiking"] is False and eff["validation"]["comparisons"] == []
    # one seed on NEST, its mapping on the virtual board, the theory on 6 values, no sweep
    # simulations and no validation: the paper experiment, nothing of the default's
    assert _planned(r) == {"map_spinnaker": 1, "simulate": 1, "theory": 6, "analyze": 1,
                           "capacity": 1, "sweep": 1, "report": 1, "all": 1}
    assert "results/default" not in r.stdout


def _profile_args(profile: Path) -> list[str]:
    """`--profile DIR`, and `--executor local` when the profile's executor plugin is not
    installed (the `hpc` extra; `make test` installs only `test`): the rest of the profile
    (resources, retries, latency) is still read and the same jobs are planned."""
    settings = yaml.safe_load((profile / "config.yaml").read_text())
    executor = settings.get("executor", "local")
    plugin = f"snakemake_executor_plugin_{executor.replace('-', '_')}"
    if executor not in ("local", "dryrun", "touch") and importlib.util.find_spec(plugin) is None:
        return ["--profile", str(profile.relative_to(ROOT)), "--executor", "local"]
    return ["--profile", str(profile.relative_to(ROOT))]


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_profile_plans_every_shipped_config(profile, path, tmp_path):
    r = _dry_run(tmp_path, *_profile_args(profile), "--configfile", str(path.relative_to(ROOT)))
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert _planned(r)["report"] == 1


def _shell_blocks(text: str) -> list[str]:
    """The fenced code blocks of a Markdown text tagged bash/sh/console or untagged."""
    blocks, lang, lines = [], None, []
    for line in text.splitlines():
        if line.startswith("```"):
            if lang is None:
                lang, lines = line[3:].strip(), []
            else:
                if lang in ("", "bash", "sh", "console"):
                    blocks.append("\n".join(lines))
                lang = None
        elif lang is not None:
            lines.append(line)
    return blocks


def _documented_commands() -> list[tuple[str, str]]:
    """(page, command) of every command in a fenced code block of the README or docs/
    that runs snakemake or `python -m pipeline` and names a config (continuation lines
    joined, comments dropped)."""
    out = []
    for page in PAGES:
        if not page.exists():
            continue
        for block in _shell_blocks(page.read_text()):
            for line in re.sub(r"\\\n\s*", " ", block).splitlines():
                if not re.match(r"\s*(\S*/)?(snakemake|python3?)\s", line):
                    continue                  # not a command (a file tree, a table)
                words = shlex.split(line, comments=True)
                runs = (words[0].endswith("snakemake")
                        or words[:3] == [words[0], "-m", "pipeline"] and "python" in words[0])
                if runs and any("config" in w for w in words):
                    out.append((page.name, line.split("#")[0].strip()))
    return out


COMMANDS = _documented_commands()


def test_the_readme_documents_config_commands():
    """The parser below finds the README's commands (else the next test checks nothing)."""
    assert any("--configfile config/paper.yaml" in c for _, c in COMMANDS), COMMANDS


@pytest.mark.parametrize("page, command", COMMANDS, ids=[c for _, c in COMMANDS])
def test_every_documented_config_command_works(page, command, tmp_path):
    """A snakemake command is dry-run as written (plus -n and a temporary --directory); a
    step's command has its arguments parsed by the step's own parser and its config
    loaded by the rule (a simulation is not started)."""
    words = shlex.split(command)
    if words[0].endswith("snakemake"):
        args = words[1:]
        if "--profile" in args:                  # the executor plugin may be absent
            i = args.index("--profile")
            args[i:i + 2] = _profile_args(ROOT / args[i + 1])
        r = _dry_run(tmp_path, *args)
        assert r.returncode == 0, f"{page}: {command}\n" + (r.stdout + r.stderr)[-3000:]
        assert "Job stats" in r.stdout, f"{page}: {command}: nothing planned"
        return
    from pipeline.cli import build_parser
    args = build_parser().parse_args(words[3:])
    cfg = load_config(ROOT / args.config, getattr(args, "set", None) or ())
    assert cfg["experiment"]
