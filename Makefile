# Developer and CI entry points. `make install` is the only target that touches the network,
# and only when pyproject.toml or constraints.txt changed since the last install.

SHELL := /bin/bash
.DEFAULT_GOAL := test

VENV := .venv
PY := $(VENV)/bin/python
# Touched after a successful install, so that a second `make install` has nothing to do.
STAMP := $(VENV)/.installed

# Recursively expanded (=), so it is only looked for when a venv has to be created.
BOOTSTRAP_PYTHON = $(shell command -v python3.11 2>/dev/null || \
	(python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && command -v python3))

PYTEST_ARGS ?=

.PHONY: install run test lint bench

# The gettext catalogs of the application's labels (scoring/render/i18n.py), compiled from the
# translators' .po files whenever one changes.
PO_FILES := $(wildcard scoring/render/locale/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

install: $(STAMP) $(MO_FILES)

$(STAMP): pyproject.toml constraints.txt
	@if [ ! -x $(PY) ]; then \
		if [ -z "$(BOOTSTRAP_PYTHON)" ]; then echo "Python 3.11 or newer is needed (python3.11 or python3)" >&2; exit 1; fi; \
		echo "creating $(VENV) with $(BOOTSTRAP_PYTHON)"; \
		"$(BOOTSTRAP_PYTHON)" -m venv $(VENV); \
	fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test,lint]'
	@touch $(STAMP)

scoring/render/locale/%/LC_MESSAGES/messages.mo: scoring/render/locale/%/LC_MESSAGES/messages.po $(STAMP)
	$(VENV)/bin/pybabel compile --directory scoring/render/locale --locale $* --domain messages

run: install
	$(VENV)/bin/recentre serve

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# Style and import order (ruff), types (mypy: strict for the language and scoring), and the
# layers of the code (import-linter, whose contracts are in pyproject.toml).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: install
	$(PY) -m bench
