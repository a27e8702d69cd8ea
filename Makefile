# Gichul: `make run` brings the whole app up, `make test` runs every test.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTHON_BIN ?= $(shell pyenv which python3.12 2>/dev/null || command -v python3.12 || command -v python3)
STAMP := $(VENV)/.installed

.PHONY: setup run test lint format

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt .python-version
	@test -x $(PY) || $(PYTHON_BIN) -m venv $(VENV)
	@$(PY) -c 'import sys; assert sys.version_info[:2] == (3, 12), f"Python 3.12 needed, got {sys.version}"'
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	@touch $(STAMP)

run: setup
	DEBUG=$${DEBUG:-true} $(PY) manage.py devrun

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
