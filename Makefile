# Two commands: `make demo` and `make test`. Both create the venv when needed.
# `make quick` is the local loop: the tests without the `slow` ones (pyproject).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test quick lint types unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/weeklybot demo

test: lint types unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

quick: $(STAMP)
	$(BIN)/pytest -q -m "not slow"

# Every bench/*.py in one table (bench/results.json); non-zero when a goal is missed.
# BENCH_ARGS passes flags on: `make bench BENCH_ARGS="--quick"`, `BENCH_ARGS="--only chaos"`.
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build *.egg-info
