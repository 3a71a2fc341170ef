# stdp-capacity: simulate -> capacity (-> analyze -> validate -> report)
# Run: `snakemake -c2` (default config), `snakemake -c2 --configfile config/paper.yaml`.
# Every rule is a thin call of `python -m pipeline STEP`; see README.md.
import os
import sys

import yaml
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/default.yaml"


validate(config, "config/schema.yaml")

EXP = config.get("experiment", "default")
OUT = f"results/{EXP}"
SEEDS = config["simulation"]["seeds"]
SPIKING = [b for b in config["simulation"]["backends"] if b != "spinnaker"]
# The effective config (config file + --config overrides), written only when it changes,
# is the one input every step reads, so `--config ...` reruns exactly what it affects.
CONFIG_FILE = f"{OUT}/config.yaml"
_text = yaml.safe_dump(dict(config), sort_keys=True)
if not os.path.exists(CONFIG_FILE) or open(CONFIG_FILE).read() != _text:
    os.makedirs(OUT, exist_ok=True)
    with open(f"{CONFIG_FILE}.partial", "w") as _fh:
        _fh.write(_text)
    os.replace(f"{CONFIG_FILE}.partial", CONFIG_FILE)
# Steps run with the interpreter that runs Snakemake, and find this checkout's packages
# even when --directory points elsewhere.
PY = f"PYTHONPATH={workflow.basedir} {sys.executable} -m pipeline"


onstart:
    print(f"stdp-capacity: experiment '{EXP}', backends {config['simulation']['backends']}, "
          f"seeds {SEEDS} -> {OUT}/")


onerror:
    print(f"stdp-capacity: a step failed; its log is under {OUT}/logs/. Fix the cause and "
          f"rerun the same command: finished steps are kept.")


rule all:
    input:
        expand(f"{OUT}/{{backend}}/capacity/capacity.json", backend=SPIKING),
        f"{OUT}/theory.json",


rule simulate:
    conda:
        "environment.yml"
    input:
        config=CONFIG_FILE,
    output:
        weights=f"{OUT}/{{backend}}/seed-{{seed}}/weights.npz",
        spikes=f"{OUT}/{{backend}}/seed-{{seed}}/spikes.nix",
        episodes=f"{OUT}/{{backend}}/seed-{{seed}}/episodes.csv",
        provenance=f"{OUT}/{{backend}}/seed-{{seed}}/provenance.json",
    log:
        f"{OUT}/logs/simulate-{{backend}}-seed-{{seed}}.log",
    params:
        py=PY,
        out=lambda w: f"{OUT}/{w.backend}/seed-{w.seed}",
    threads: config["simulation"]["threads"]
    resources:
        mem_mb=lambda w: 2000 + config["network"]["n_exc"] * config["inputs"]["m"] // 100,
        runtime=lambda w: 30 + config["protocol"]["episodes"] * config["network"]["n_exc"] // 1000,
    shell:
        "{params.py} simulate --config {input.config} --backend {wildcards.backend} "
        "--seed {wildcards.seed} --out {params.out} > {log} 2>&1"


rule theory:
    conda:
        "environment.yml"
    input:
        config=CONFIG_FILE,
    output:
        f"{OUT}/theory.json",
    log:
        f"{OUT}/logs/theory.log",
    params:
        py=PY,
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "{params.py} theory --config {input.config} --out {output} > {log} 2>&1"


rule capacity:
    conda:
        "environment.yml"
    input:
        runs=expand(f"{OUT}/{{{{backend}}}}/seed-{{seed}}/provenance.json", seed=SEEDS),
        theory=f"{OUT}/theory.json",
    output:
        json=f"{OUT}/{{backend}}/capacity/capacity.json",
        png=f"{OUT}/{{backend}}/capacity/forgetting_curve.png",
    log:
        f"{OUT}/logs/capacity-{{backend}}.log",
    params:
        py=PY,
        runs=lambda w, input: " ".join(f"--run {os.path.dirname(p)}" for p in input.runs),
        out=lambda w: f"{OUT}/{w.backend}/capacity",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "{params.py} capacity {params.runs} --theory {input.theory} --out {params.out} > {log} 2>&1"
