# LeadCRM developer entry points. `make demo` and `make test` need only Python 3.11 and make.
#   make demo               the whole product with demo data on http://127.0.0.1:8000/
#   make test [ARGS=...]    the test suite (ARGS go to pytest, e.g. ARGS="-k intake -x")
#   make bench [ARGS=...]   performance figures
#   make lint | make lock | make install

PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
ARGS   ?=

.DEFAULT_GOAL := help
.PHONY: help install demo test bench lint lock

help:
	@sed -n '2,5p' Makefile | sed 's/^# *//'

install: $(STAMP)

# Reinstalls only when a lock file changed (or the venv is new).
$(STAMP): requirements.lock requirements-dev.lock
	@test -x $(PY) || { echo "creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --disable-pip-version-check --quiet --require-hashes -r requirements.lock -r requirements-dev.lock
	@touch $@

demo: install
	$(PY) -m tools.devtools demo

test: install
	$(PY) -m tools.devtools test $(ARGS)

bench: install
	$(PY) -m tools.devtools bench $(ARGS)

lint: install
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m mypy

# Pin requirements.in and requirements-dev.in, transitive dependencies included, with hashes
# (uv's pip-compile). After editing a *.in file: `make lock`, then `make install`.
# UPGRADE=1 moves every pin to the newest allowed version.
lock: install
	$(VENV)/bin/uv pip compile --quiet --generate-hashes --python-version 3.11 $(if $(UPGRADE),--upgrade) requirements.in -o requirements.lock
	$(VENV)/bin/uv pip compile --quiet --generate-hashes --python-version 3.11 $(if $(UPGRADE),--upgrade) requirements-dev.in -o requirements-dev.lock
