# stdp-capacity: simulate -> analyze -> capacity -> validate (-> sweep) -> report
# Run: `snakemake -c2` (default config), `snakemake -c2 --configfile config/paper.yaml`.
# Every rule is a thin call of `python -m pipeline STEP`; see README.md.
import copy
import os
import sys

import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, validate

min_version("9.0")


# The experiment's config: config/default.yaml, then each --configfile, then --config, by
# the one rule of pipeline/config_sources.py (the rule `python -m pipeline STEP --config`
# uses too; no `configfile:` directive, whose merge would be a second rule). Nested
# --config values arrive as strings and are read as YAML there.
sys.path.insert(0, workflow.basedir)
from pipeline.config import ConfigError, config_hash, validate_config  # noqa: E402
from pipeline.config_sources import combine  # noqa: E402
from backends import MAPPING_ONLY  # noqa: E402

# Our check first: it reads numbers that arrive as text (Snakemake's --config hands nested
# values over as strings, YAML 1.1 reads 1e-3 as a string), refuses NaN and infinity and the
# cross-key rules, and names the key; then Snakemake's own schema validation.
try:
    _checked = validate_config(combine(workflow.config_settings.configfiles,
                                       [workflow.config_settings.config]))
except ConfigError as _err:
    raise WorkflowError(f"invalid config: {_err}") from None
config.clear()
config.update(_checked)
validate(config, "config/schema.yaml")


report: "report/workflow.rst"


from pipeline.resources import request   # noqa: E402  (SLURM requests sized from measured runs)

EXP = config.get("experiment", "default")
OUT = f"results/{EXP}"
SEEDS = config["simulation"]["seeds"]
SPIKING = [b for b in config["simulation"]["backends"] if b not in MAPPING_ONLY]
MAPPED = "spinnaker" in config["simulation"]["backends"]   # virtual board: mapping only
SWEEP = config["sweep"]
SWEEP_KEY = SWEEP["parameter"]
# Steps run with the interpreter that runs Snakemake, and find this checkout's packages
# even when --directory points elsewhere.
PY = f"PYTHONPATH={workflow.basedir} {sys.executable} -m pipeline"


# Prefix -> config hash of its runs (pipeline.config.config_hash: the model, not the
# validation section, seeds or backends). Simulations and the theory take their config as
# ancient() input and this hash as a param: Snakemake's params trigger reruns them when the
# model changes, and an edited tolerance or comparison reruns no simulation.
RUN_HASH = {}


def write_if_changed(path, cfg):
    """Write a config atomically, only when its content changes (so mtimes stay put)."""
    RUN_HASH[os.path.dirname(path)] = config_hash(cfg)
    text = yaml.safe_dump(cfg, sort_keys=True)
    if not os.path.exists(path) or open(path).read() != text:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(f"{path}.partial", "w") as fh:
            fh.write(text)
        os.replace(f"{path}.partial", path)


def point_config(value):
    """The experiment's config with the swept parameter set to ``value``."""
    cfg = copy.deepcopy(dict(config))
    section, key = SWEEP_KEY.split(".")
    cfg[section][key] = value
    cfg["simulation"]["seeds"] = SWEEP["seeds"]
    cfg["validation"] = dict(cfg["validation"], comparisons=[])   # validated: the experiment
    return cfg


# Every run prefix (the experiment, and each sweep point) gets its effective config
# (config file + --config overrides) as the one file its steps read.
PREFIX_SEEDS = {OUT: SEEDS}
write_if_changed(f"{OUT}/config.yaml", dict(config))
SWEEP_THEORY, SWEEP_SIM = [], []
SWEEP_BACKENDS = [b for b in SPIKING if b in SWEEP.get("backends", SPIKING)]
for _v in sorted(set(SWEEP["theory_values"]) | set(SWEEP["simulation_values"])):
    _main = _v == config[SWEEP_KEY.split(".")[0]][SWEEP_KEY.split(".")[1]]
    _prefix = OUT if _main else f"{OUT}/sweep/{SWEEP_KEY}-{_v}"
    if not _main:
        write_if_changed(f"{_prefix}/config.yaml", point_config(_v))
        PREFIX_SEEDS[_prefix] = SWEEP["seeds"]
    SWEEP_THEORY.append(f"{_v}={_prefix}/theory.json")
    if _v in SWEEP["simulation_values"] or _main:
        SWEEP_SIM += [f"{_v}={_prefix}/{b}/capacity/capacity.json"
                      for b in (SPIKING if _main else SWEEP_BACKENDS)]


# Cross-backend validation (docs/validation.md): each comparison validates the runs of side
# A against side B, from the experiment's own runs or from a sub-experiment: shorter
# (`episodes: N`) and/or, for side B, another replicate of the same seeds (`replicate_b: R`:
# only the simulator's own random streams change).
VALIDATION = config["validation"]["comparisons"]
VAL_RUNS = {}


def side_prefix(episodes, replicate):
    """The run prefix of one side of a comparison; a sub-experiment gets its own config."""
    if not episodes and not replicate:
        return OUT
    parts = ([f"episodes-{episodes}"] if episodes else []) + \
        ([f"replicate-{replicate}"] if replicate else [])
    prefix = f"{OUT}/validation/{'-'.join(parts)}"
    cfg = copy.deepcopy(dict(config))
    cfg["validation"] = dict(cfg["validation"], comparisons=[])
    # the validation reads no spiking recall (and the neuron backend builds one simulator
    # per process, so it cannot hold a recall session)
    cfg["readout"] = dict(cfg["readout"], spiking=False)
    if replicate:
        cfg["simulation"] = dict(cfg["simulation"], replicate=replicate)
    if episodes:
        cfg["protocol"]["episodes"] = episodes
        cfg["recording"]["full_weights_at"] = sorted(
            {e for e in cfg["recording"]["full_weights_at"] if e < episodes} | {0, episodes - 1})
    write_if_changed(f"{prefix}/config.yaml", cfg)
    return prefix


for _c in VALIDATION:
    _pre = {"a": side_prefix(_c.get("episodes"), 0),
            "b": side_prefix(_c.get("episodes"), _c.get("replicate_b", 0))}
    VAL_RUNS[_c["name"]] = {
        side: [f"{_pre[side]}/{_c[side]}/seed-{s}" for s in _c.get(f"seeds_{side}", SEEDS)]
        for side in ("a", "b")}


wildcard_constraints:
    prefix="results/.+?",
    backend="[a-z][a-z-]*",
    seed=r"\d+",


onstart:
    print(f"stdp-capacity: experiment '{EXP}', backends {config['simulation']['backends']}, "
          f"seeds {SEEDS}, sweep over {SWEEP_KEY} -> {OUT}/ (report: {OUT}/report.html)")


onerror:
    print(f"stdp-capacity: a step failed; its log is under {OUT}/logs/ (or the sweep "
          f"point's logs/). Fix the cause and rerun the same command: finished steps are kept.")


rule all:
    input:
        f"{OUT}/report.md",


rule validate:
    conda:
        "environment.yml"
    wildcard_constraints:
        name="[A-Za-z0-9_.-]+",
    input:
        a=lambda w: [f"{r}/provenance.json" for r in VAL_RUNS[w.name]["a"]],
        b=lambda w: [f"{r}/provenance.json" for r in VAL_RUNS[w.name]["b"]],
    output:
        json=f"{OUT}/validation/{{name}}/validation.json",
        md=f"{OUT}/validation/{{name}}/validation.md",
    log:
        f"{OUT}/logs/validate-{{name}}.log",
    params:
        py=PY,
        a=lambda w: " ".join(VAL_RUNS[w.name]["a"]),
        b=lambda w: " ".join(VAL_RUNS[w.name]["b"]),
        out=lambda w, output: os.path.dirname(output.json),
        alpha=config["validation"]["alpha"],
        tolerances=str(config["validation"].get("tolerances")),   # an edit reruns validate
        config=f"{OUT}/config.yaml",                               # whose tolerances it uses
    threads: 1
    resources:
        **request("validate", config),
    shell:
        "{params.py} validate --a {params.a} --b {params.b} --name {wildcards.name} "
        "--alpha {params.alpha} --config {params.config} --out {params.out} > {log} 2>&1"


rule simulate:
    conda:
        "environment.yml"
    wildcard_constraints:
        backend="nest[a-z-]*|neuron",
    input:
        config=ancient("{prefix}/config.yaml"),
    output:
        weights="{prefix}/{backend}/seed-{seed}/weights.npz",
        spikes="{prefix}/{backend}/seed-{seed}/spikes.nix",
        episodes="{prefix}/{backend}/seed-{seed}/episodes.csv",
        provenance="{prefix}/{backend}/seed-{seed}/provenance.json",
    log:
        "{prefix}/logs/simulate-{backend}-seed-{seed}.log",
    params:
        py=PY,
        model=lambda w: RUN_HASH[w.prefix],
        out=lambda w: f"{w.prefix}/{w.backend}/seed-{w.seed}",
    threads: config["simulation"]["threads"]      # NEST threads = the cores SLURM grants
    resources:
        **request("simulate", config),
    shell:
        "{params.py} simulate --config {input.config} --backend {wildcards.backend} "
        "--seed {wildcards.seed} --out {params.out} > {log} 2>&1"


rule map_spinnaker:
    conda:
        "environment.yml"
    input:
        config=ancient("{prefix}/config.yaml"),
    output:
        resources="{prefix}/spinnaker/seed-{seed}/resources.json",
        translation="{prefix}/spinnaker/seed-{seed}/translation.json",
    log:
        "{prefix}/logs/map-spinnaker-seed-{seed}.log",
    params:
        py=PY,
        model=lambda w: RUN_HASH[w.prefix],
        out=lambda w: f"{w.prefix}/spinnaker/seed-{w.seed}",
    threads: 1
    resources:
        **request("map-spinnaker", config),
    shell:
        "{params.py} simulate --config {input.config} --backend spinnaker "
        "--seed {wildcards.seed} --out {params.out} > {log} 2>&1"


rule analyze:
    conda:
        "environment.yml"
    input:
        "{prefix}/{backend}/seed-{seed}/provenance.json",
    output:
        json="{prefix}/{backend}/seed-{seed}/analysis/analysis.json",
        ccg=report("{prefix}/{backend}/seed-{seed}/analysis/ccg.png", caption="report/ccg.rst",
                   category="Cross-correlograms", subcategory="{prefix}",
                   labels={"backend": "{backend}", "seed": "{seed}"}),
    log:
        "{prefix}/logs/analyze-{backend}-seed-{seed}.log",
    params:
        py=PY,
        run=lambda w: f"{w.prefix}/{w.backend}/seed-{w.seed}",
        out=lambda w: f"{w.prefix}/{w.backend}/seed-{w.seed}/analysis",
    threads: 1
    resources:
        **request("analyze", config),
    shell:
        "{params.py} analyze --run {params.run} --out {params.out} > {log} 2>&1"


rule theory:
    conda:
        "environment.yml"
    input:
        config=ancient("{prefix}/config.yaml"),
    output:
        "{prefix}/theory.json",
    log:
        "{prefix}/logs/theory.log",
    params:
        py=PY,
        model=lambda w: RUN_HASH[w.prefix],
    threads: 1
    resources:
        **request("theory", config),
    shell:
        "{params.py} theory --config {input.config} --out {output} > {log} 2>&1"


rule capacity:
    conda:
        "environment.yml"
    input:
        runs=lambda w: expand("{prefix}/{backend}/seed-{seed}/provenance.json",
                              prefix=w.prefix, backend=w.backend, seed=PREFIX_SEEDS[w.prefix]),
        theory="{prefix}/theory.json",
    output:
        json=report("{prefix}/{backend}/capacity/capacity.json", caption="report/capacity.rst",
                    category="Memory capacity", subcategory="{prefix}",
                    labels={"backend": "{backend}", "file": "capacity.json"}),
        png=report("{prefix}/{backend}/capacity/forgetting_curve.png",
                   caption="report/forgetting_curve.rst", category="Memory capacity",
                   subcategory="{prefix}", labels={"backend": "{backend}", "file": "forgetting curve"}),
    log:
        "{prefix}/logs/capacity-{backend}.log",
    params:
        py=PY,
        runs=lambda w, input: " ".join(f"--run {os.path.dirname(p)}" for p in input.runs),
        out=lambda w: f"{w.prefix}/{w.backend}/capacity",
    threads: 1
    resources:
        **request("capacity", config),
    shell:
        "{params.py} capacity {params.runs} --theory {input.theory} --out {params.out} > {log} 2>&1"


rule sweep:
    conda:
        "environment.yml"
    input:
        theory=[p.split("=", 1)[1] for p in SWEEP_THEORY],
        sim=[p.split("=", 1)[1] for p in SWEEP_SIM],
    output:
        csv=report(f"{OUT}/sweep/sweep.csv", caption="report/sweep_table.rst",
                   category="Sweep", labels={"file": "table"}),
        png=report(f"{OUT}/sweep/sweep.png", caption="report/sweep_figure.rst",
                   category="Sweep", labels={"file": "figure"}),
    log:
        f"{OUT}/logs/sweep.log",
    params:
        py=PY,
        args=" ".join([f"--theory {p}" for p in SWEEP_THEORY] + [f"--capacity {p}" for p in SWEEP_SIM]),
        out=lambda w, output: os.path.dirname(output.csv),
        key=SWEEP_KEY,
    threads: 1
    resources:
        **request("sweep", config),
    shell:
        "{params.py} sweep --parameter {params.key} {params.args} --out {params.out} > {log} 2>&1"


rule report:
    conda:
        "environment.yml"
    input:
        theory=f"{OUT}/theory.json",
        capacity=expand(f"{OUT}/{{backend}}/capacity/capacity.json", backend=SPIKING),
        analysis=expand(f"{OUT}/{{backend}}/seed-{{seed}}/analysis/analysis.json",
                        backend=SPIKING, seed=SEEDS),
        sweep=f"{OUT}/sweep/sweep.csv",
        mapping=[f"{OUT}/spinnaker/seed-{SEEDS[0]}/resources.json"] if MAPPED else [],
        validation=expand(f"{OUT}/validation/{{name}}/validation.json", name=list(VAL_RUNS)),
    output:
        md=f"{OUT}/report.md",
        html=report(f"{OUT}/report.html", caption="report/report_page.rst",
                    category="Report page", labels={"file": "report.html"}),
    log:
        f"{OUT}/logs/report.log",
    params:
        py=PY,
        capacity=lambda w, input: " ".join(f"--capacity {p}" for p in input.capacity),
        analysis=lambda w, input: " ".join(f"--analysis {p}" for p in input.analysis),
        experiment=EXP,
        mapping=lambda w, input: " ".join(f"--mapping {os.path.dirname(p)}" for p in input.mapping),
        validation=lambda w, input: " ".join(f"--validation {p}" for p in input.validation),
    threads: 1
    resources:
        **request("report", config),
    shell:
        "{params.py} report --experiment {params.experiment} --theory {input.theory} {params.capacity} "
        "{params.analysis} {params.mapping} {params.validation} --sweep {input.sweep} "
        "--out {output.md} > {log} 2>&1"
