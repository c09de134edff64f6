# The two commands of the README: `make run` (build the sample graph and serve it) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
READY := $(VENV)/.installed

.PHONY: run test lint gate bench clean

$(READY): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --constraint constraints.txt --editable '.[test]'
	touch $@

run: $(READY)
	$(BIN)/kg load data/sample
	$(BIN)/kg stats
	$(BIN)/kg serve

lint: $(READY)
	$(BIN)/ruff check src tests bench

# Coverage follows `kg` and `kg serve` processes the tests start (see [tool.coverage.run]).
test: lint
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
