#!/usr/bin/env bash
# The checks that keep the code's shape (docs/architecture.md, "Tools that keep it so"):
#   ruff check            lint rules (pyproject.toml, [tool.ruff.lint])
#   ruff format --check   the one formatting
#   lint-imports          the import contracts: layers, selectors without services, pages
#   mypy                  types of every services and selectors module
# Exits 3 if any of them fails, after running all of them.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-.venv/bin}"
failed=0

step() {
    echo "--- $1"
    shift
    "$@" || failed=1
}

step "ruff check" "$BIN/ruff" check .
step "ruff format --check" "$BIN/ruff" format --check .
step "import contracts" "$BIN/lint-imports" --no-cache
mapfile -t TYPED < <(find src/jiedao -path '*/migrations' -prune -o \( -name services.py -o -name selectors.py -o -path '*/services/*.py' -o -path '*/selectors/*.py' \) -print | sort)
# A cache of its own for each run: a cache left by an earlier run can repeat old errors.
step "mypy (${#TYPED[@]} services and selectors modules)" env JIEDAO_DATA_DIR="$(mktemp -d)" \
    "$BIN/mypy" --cache-dir "$(mktemp -d)" "${TYPED[@]}"

[ "$failed" -eq 0 ] || exit 3
