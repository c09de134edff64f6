# The two commands of the README: `make run` (build the graph of the sample pages and the AI Atlas
# Nexus data, and serve it) and `make test`. `make run NEXUS=0` serves the sample pages alone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
READY := $(VENV)/.installed
NEXUS ?= 1
# The pinned wheel of requirements-nexus.txt, fetched without its dependencies (see the README).
NEXUS_VERSION := $(shell sed -n 's/^ai-atlas-nexus==\([^ ]*\).*/\1/p' requirements-nexus.txt)
NEXUS_WHEEL := .kg/nexus/ai_atlas_nexus-$(NEXUS_VERSION)-py3-none-any.whl
ifeq ($(NEXUS),1)
NEXUS_DATA := $(NEXUS_WHEEL)
IMPORT_NEXUS := $(BIN)/kg import-nexus $(NEXUS_WHEEL)
else
NEXUS_DATA :=
IMPORT_NEXUS := $(BIN)/kg import-nexus --remove
endif

.PHONY: run test lint gate bench clean

$(READY): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --constraint constraints.txt --editable '.[test]'
	touch $@

$(NEXUS_WHEEL): requirements-nexus.txt | $(READY)
	$(BIN)/python -m pip download --quiet --no-deps --require-hashes --only-binary :all: \
		--dest $(dir $@) --requirement requirements-nexus.txt
	touch $@

run: $(READY) $(NEXUS_DATA)
	$(BIN)/kg load data/sample
	$(IMPORT_NEXUS)
	$(BIN)/kg stats
	$(BIN)/kg serve

lint: $(READY)
	$(BIN)/ruff check src tests bench

# Coverage follows `kg` and `kg serve` processes the tests start (see [tool.coverage.run]);
# the Nexus wheel is what the tests of its schema read.
test: lint $(NEXUS_WHEEL)
	$(BIN)/python -m pytest --cov=kg --cov-report=term --cov-fail-under=90
	$(MAKE) gate

# The data gates: the ontology, taxonomies and bundled data must conform to the shapes, and no
# data-quality check (queries/checks/*-violation.rq) may return a row (exit 1 if not).
gate: $(READY)
	$(BIN)/kg validate data/sample --max-results 20
	$(BIN)/kg check data/sample

bench: $(READY)
	$(BIN)/python bench/load_bench.py
	$(BIN)/python bench/validate_bench.py
	$(BIN)/python bench/serve_bench.py

clean:
	rm -rf $(VENV) .kg
