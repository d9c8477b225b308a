# The two commands a new user needs are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install run test lint format clean bench reliability

install: $(STAMP)

# Re-installs only when the project definition changed, so a second `make install` is instant.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# The demo's simulators (simulators/) are development tooling: importable from this checkout
# only, never installed with the hub.
run: install
	PYTHONPATH=. $(BIN)/hub serve

test: install
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	PYTHONPATH=. $(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# `make bench SCALE=1` is the national offer (about 1.6 GB of LHEO); 0.01 is a quick run.
SCALE ?= 0.01
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	@command -v xmllint >/dev/null || (apt-get update -qq && apt-get install -y -qq libxml2-utils)
	$(BIN)/python bench/run.py --scale $(SCALE)

# The reliability and security suite in full (`make test` runs its quick part): longer
# fuzzing, more kill points, a PostgreSQL restart, 25 s of load; then its table of figures.
reliability: install
	$(BIN)/python -m tests.reliability.report $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
