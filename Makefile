# Jiedao — two commands do all the set-up on a fresh machine:
#   make demo   builds the demo street on SQLite and serves it on http://127.0.0.1:8000
#   make test   runs the whole test suite on SQLite and again on PostgreSQL
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: venv demo demo-reset test test-sqlite test-postgres system-deps bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(BIN)/jiedao demo --port $(PORT)

demo-reset: venv
	$(BIN)/jiedao demo --reset --port $(PORT)

system-deps:
	bash scripts/system-deps.sh

test: venv system-deps
	bash scripts/test-all.sh

test-sqlite: venv
	$(BIN)/pytest

clean:
	rm -rf $(VENV) var build
