# Jiedao — two commands do all the set-up on a fresh machine:
#   make demo   builds the demo street on SQLite and serves it on http://127.0.0.1:8000
#   make test   runs the whole test suite on SQLite and again on PostgreSQL
#
# Other targets:
#   make demo-reset      rebuild the demo database from scratch, then serve
#   make check           the code checks only: ruff, import contracts, mypy (scripts/check-code.sh)
#   make test-sqlite     the suite on SQLite only (quick, for daily work)
#   make test-postgres   the suite on a throw-away PostgreSQL cluster only
#   make bench           bench/intake.py: cases per second through the HTTP API
#   make bench-geo       bench/geo.py: points resolved to grids per second, index vs naive loop
#   make bench-import    bench/import.py: history import rows per second vs bare SQL
#   make bench-load      bench/load.py: mixed load for 2 minutes, server and worker killed twice, then counted
#   make system-deps     install chromium, postgresql and fonts-noto-cjk if missing
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
# Extra arguments for pytest, e.g. make test PYTEST_ARGS='-m "not browser"'
PYTEST_ARGS ?=

.PHONY: venv demo-fonts demo demo-reset check test test-sqlite test-postgres system-deps bench bench-geo bench-import bench-load clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

# The demo needs only the Chinese fonts (the hall's one-time notice PDF) from Debian.
demo-fonts:
	bash scripts/system-deps.sh fonts-noto-cjk

demo: venv demo-fonts
	$(BIN)/jiedao demo --port $(PORT)

demo-reset: venv demo-fonts
	$(BIN)/jiedao demo --reset --port $(PORT)

system-deps:
	bash scripts/system-deps.sh

test: venv system-deps
	bash scripts/test-all.sh $(PYTEST_ARGS)

check: venv
	bash scripts/check-code.sh

test-sqlite: venv
	env -u DATABASE_URL $(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS)

test-postgres: venv system-deps
	bash scripts/pg-throwaway.sh -- $(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS)

bench: venv system-deps
	$(BIN)/python bench/intake.py

bench-geo: venv
	$(BIN)/python bench/geo.py

bench-import: venv
	$(BIN)/python bench/import.py

bench-load: venv
	$(BIN)/python bench/load.py --seconds 120 --clients 6 --kill-at 40 --kill-at 80

clean:
	rm -rf $(VENV) var build
