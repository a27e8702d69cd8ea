# Gichul: `make run` brings the whole app up, `make test` runs every test.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTHON_BIN ?= $(shell pyenv which python3.12 2>/dev/null || command -v python3.12 || command -v python3)
STAMP := $(VENV)/.installed

.PHONY: setup run test lint format messages backup restore

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

# Operator backup (README, "Backup"): the database and uploaded files in one .tar.
#   make backup [OUT=path.tar]      make restore FILE=path.tar
backup: setup
	DEBUG=$${DEBUG:-true} $(PY) manage.py backup $(if $(OUT),--out $(OUT),)

restore: setup
	@test -n "$(FILE)" || { echo "usage: make restore FILE=var/backups/gichul-….tar"; exit 2; }
	DEBUG=$${DEBUG:-true} $(PY) manage.py restore $(FILE)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=true $(VENV)/bin/mypy

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The project catalogue (locale/): templates/, studyproj/ and static/js only; the
# study and publishing apps keep their own (study/locale, publishing/locale).
# Needs GNU gettext (apt-get install gettext); the .mo files are committed, so
# running the app and the tests does not.
messages: setup
	@tmp=$$(mktemp -d) && ln -s $(CURDIR)/templates $(CURDIR)/studyproj $(CURDIR)/static $$tmp/ && \
	cd $$tmp && export DEBUG=true PYTHONPATH=$(CURDIR) DJANGO_SETTINGS_MODULE=studyproj.settings && \
	$(CURDIR)/$(PY) -m django makemessages --symlinks --no-obsolete -l en -e html,txt,py -i 'static/*' && \
	$(CURDIR)/$(PY) -m django makemessages --symlinks --no-obsolete -d djangojs -l en -i 'static/vendor/*' -i 'static/js/htmx.min.js' -i 'templates/*' -i 'studyproj/*' && \
	cd $(CURDIR) && $(PY) manage.py compilemessages --ignore '.venv' --ignore 'var'; \
	status=$$?; rm -rf $$tmp; exit $$status
