# The two commands of the README are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PURE_CORES := kernel/errors.py kernel/markers.py kernel/amounts.py kernel/parallel.py kernel/images.py audit/core audit/cli.py tally ballot/core proposals/core reports/core

.PHONY: demo test lint typecheck catalogs bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

## demo: install into .venv, make fresh demo data and serve it at http://$(HOST):$(PORT)
demo: $(VENV)/.installed
	$(BIN)/veche demo --host $(HOST) --port $(PORT)

## test: install the test extras and system packages, lint, type-check, run the whole suite
## (on two processes, which share the one demo the browser tests read)
test: $(VENV)/.installed-test
	./scripts/system-deps.sh
	$(MAKE) lint typecheck
	$(BIN)/pytest -n 2

# ruff, then the layers of docs/architecture.md (.importlinter): one way down, pure cores, no cycles.
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# mypy --strict on the pure cores (auditors run them on their own machines) and the wiring.
typecheck: $(VENV)/.installed-test
	$(BIN)/mypy $(PURE_CORES) veche/wiring.py

## catalogs: re-extract translatable messages and merge them into the .po files
catalogs: $(VENV)/.installed-test
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k NP_:1,2 -o kernel/locale/messages.pot --no-location --sort-output --project Veche .
	$(BIN)/pybabel update -i kernel/locale/messages.pot -d kernel/locale -D messages -N -w 100 --ignore-obsolete

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache .mypy_cache .ruff_cache
