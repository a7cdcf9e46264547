# The two commands of the README: `make run` and `make test`.
#   make run                      # install, migrate, seed demo data, serve http://127.0.0.1:8000
#   make test PYTEST_ARGS="-x"    # install (with Chromium for the browser tests), run pytest
#   make lint                     # ruff, mypy (services, selectors, life cycle), djLint
# Needs only python3 (3.11+); PYTHON=python3.12 picks another interpreter.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Touched after a successful pip install; pip runs again only when pyproject.toml changes.
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

# Prerequisites run in the order written: system packages before the venv that needs them.
.NOTPARALLEL:
.PHONY: install run test lint bench clean sysdeps-run sysdeps-test

install: sysdeps-run $(STAMP)

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	scripts/run.sh

test: sysdeps-test $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

TEMPLATE_DIRS := templates claims/templates partners/templates approvals/templates customers/templates

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/djlint $(wildcard $(TEMPLATE_DIRS)) --lint

bench: install
	$(BIN)/python bench/pages.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles artifacts build .pytest_cache .ruff_cache *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# WeasyPrint's libraries (and python3-venv where Debian lacks it); with `test`, Chromium.
sysdeps-run sysdeps-test: sysdeps-%:
	@PYTHON="$(PYTHON)" scripts/system-deps.sh $*

# A failed venv (no ensurepip) would leave bin/python behind and look done: remove it.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip

# `packages = []`: this installs the dependencies and the dev extras (pytest, playwright,
# ruff) and nothing of the code, which runs from this directory. Not editable (-e), which
# would only add setuptools' warning about the claims_portal folder.
$(STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing Python dependencies into $(VENV) ..."
	$(BIN)/python -m pip install --quiet ".[dev]"
	touch $(STAMP)
