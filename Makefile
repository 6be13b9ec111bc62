# Two commands: `make demo` and `make test`. Both create the venv when needed.
# `make quick` is the local loop: the tests without the `slow` ones (pyproject).
# The venv installs the locked versions (requirements-dev.lock, hashes checked);
# `make lock` refreshes both lock files from pyproject.toml's lower bounds.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

LOCK_FLAGS := --quiet --generate-hashes --strip-extras --allow-unsafe \
	--no-emit-index-url --no-emit-find-links

.PHONY: demo test quick lint types audit unit bench lock env-example clean

$(STAMP): pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	# The project itself; a dependency added to pyproject.toml but not yet locked is
	# installed unpinned here, and tests/test_lock.py fails until `make lock`.
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/weeklybot demo

test: lint types audit unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

# Skipped, with the reason printed, when the vulnerability database cannot be reached.
audit: $(STAMP)
	$(BIN)/python -m bot.ops.audit requirements-dev.lock

unit: $(STAMP)
	$(BIN)/pytest -q

quick: $(STAMP)
	$(BIN)/pytest -q -m "not slow"

# Every bench/*.py in one table (bench/results.json); non-zero when a goal is missed.
# BENCH_ARGS passes flags on: `make bench BENCH_ARGS="--quick"`, `BENCH_ARGS="--only chaos"`.
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

# The image installs requirements.lock; make and CI install requirements-dev.lock
# (the same versions, and the dev tools). Needs the package index.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile $(LOCK_FLAGS) -o requirements.lock pyproject.toml
	$(BIN)/pip-compile $(LOCK_FLAGS) --extra dev -c requirements.lock \
		-o requirements-dev.lock pyproject.toml
	touch $(STAMP)

# .env.example is written from bot/config.py (tests/test_env_example.py checks it).
env-example: $(STAMP)
	$(BIN)/python -m bot.ops.env_example > .env.example

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build *.egg-info
