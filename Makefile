# The two commands of the README:  `make run`  and  `make test`.
# Each creates .venv (if needed) with the pinned versions of pyproject.toml, then runs.
PYTHON ?= python3
VENV   ?= .venv
CORES  ?= 2
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: run test test-slow test-slurm lint bench clean-results

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
# the neuron backend: compile PyNN's NMODL mechanisms (pyNN/neuron/nmodl) with the
# venv's nrnivmodl, then check that pyNN.neuron loads them
	cd "$$($(BIN)/python -c 'import os, pyNN; print(os.path.join(os.path.dirname(pyNN.__file__), "neuron", "nmodl"))')" \
	  && $(abspath $(BIN))/nrnivmodl > $(abspath $(VENV))/nrnivmodl.log 2>&1 && test -d x86_64 \
	  || { cat $(abspath $(VENV))/nrnivmodl.log; echo "nrnivmodl failed: PyNN's NEURON mechanisms are not compiled (a C compiler is needed)"; exit 1; }
	$(BIN)/python -c "import pyNN.neuron" > /dev/null
	touch $@

run: $(STAMP)                 ## the default workflow end to end -> results/default/
	$(BIN)/snakemake -c$(CORES) $(ARGS)

test: $(STAMP)                ## the test suite (what CI runs): the simulator-free tier first, then the rest, on $(CORES) workers
	$(BIN)/python -m pytest -m fast -n $(CORES) $(ARGS)
	$(BIN)/python -m pytest -m "not fast and not slow and not slurm" -n $(CORES) --dist loadscope $(ARGS)

test-slow: $(STAMP)           ## the slow, paper-scale checks (not in CI)
	$(BIN)/python -m pytest -m slow $(ARGS)

bench: $(STAMP)               ## every benchmark of docs/performance.md -> bench/results.json (by hand, ~3 h on 2 cores)
	$(BIN)/python bench/speed.py --scales paper --threads 2,1 --reps 3 --episodes 3
	$(BIN)/python bench/speed.py --scales default --threads 2,1 --reps 3 --episodes 4
	$(BIN)/python bench/step_resources.py config/paper.yaml --threads 2 --seeds 1 \
	  --steps theory simulate-nest analyze capacity
	$(BIN)/python bench/seeds_on_cores.py --config config/paper.yaml --episodes 15
	$(BIN)/python bench/seeds_on_cores.py --config config/default.yaml --episodes 20 --reps 3
	$(BIN)/python bench/scaling.py --threads 2 --reps 3 --episodes 2
	$(BIN)/python bench/theory_sweep.py
	$(BIN)/python bench/ccg.py
	$(BIN)/python bench/spinnaker_mapping.py
	$(BIN)/python bench/make_run.py
	$(BIN)/python bench/table.py

$(VENV)/.installed-hpc: $(STAMP)   # the [hpc] extra: snakemake-executor-plugin-slurm
	$(BIN)/python -m pip install --quiet -e ".[test,hpc]"
	touch $@

test-slurm: $(VENV)/.installed-hpc   ## the workflow through a real single-node SLURM (root; installs slurm-wlm with apt)
	$(BIN)/python -m pytest -m slurm -s $(ARGS)

lint: $(STAMP)
	$(BIN)/snakemake --lint

clean-results:
	rm -rf results/* .snakemake
