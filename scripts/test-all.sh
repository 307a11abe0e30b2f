#!/usr/bin/env bash
# The code checks, then the whole test suite twice: on SQLite, then on a throw-away
# PostgreSQL cluster.
#
#   scripts/test-all.sh [PYTEST ARGS...]      e.g. scripts/test-all.sh -m "not browser"
#
# The checks (scripts/check-code.sh): ruff (lint and format), import-linter (the layers of
# docs/architecture.md) and mypy (services and selectors).
# Both runs include the browser tests (marker `browser`, real headless Chromium).
# Each run gets its own temporary JIEDAO_DATA_DIR, so nothing under var/ is touched.
# Exits non-zero if either run failed; "no tests collected" (pytest's exit 5)
# counts as a failure.
set -uo pipefail
cd "$(dirname "$0")/.."

PYTEST="${PYTEST:-.venv/bin/pytest}"
CHECK_CODE="${CHECK_CODE:-scripts/check-code.sh}"
ARGS=(-p no:cacheprovider -o console_output_style=count "$@")
WORK="$(mktemp -d "${TMPDIR:-/tmp}/jiedao-test.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

declare -A RESULT SECONDS_TAKEN
RUNS=(checks sqlite postgres)

header() {
    echo
    echo "======================================================================"
    echo "  $1"
    echo "======================================================================"
}

verdict() {  # exit status → word
    case "$1" in
        0) echo "passed" ;;
        3) echo "FAILED (code checks)" ;;
        1) echo "FAILED (some tests failed)" ;;
        5) echo "FAILED (no tests collected)" ;;
        *) echo "FAILED (pytest exit $1)" ;;
    esac
}

run_checks() {
    header "Code checks: ruff, import-linter, mypy"
    local start=$SECONDS
    bash "$CHECK_CODE"
    RESULT[checks]=$?
    SECONDS_TAKEN[checks]=$((SECONDS - start))
}

run_sqlite() {
    header "Run 1 of 2: SQLite (WAL mode)"
    local start=$SECONDS
    mkdir -p "$WORK/sqlite/static"
    env -u DATABASE_URL JIEDAO_DATA_DIR="$WORK/sqlite" "$PYTEST" "${ARGS[@]}"
    RESULT[sqlite]=$?
    SECONDS_TAKEN[sqlite]=$((SECONDS - start))
}

run_postgres() {
    header "Run 2 of 2: PostgreSQL (throw-away cluster)"
    local start=$SECONDS
    mkdir -p "$WORK/postgres/static"
    JIEDAO_DATA_DIR="$WORK/postgres" bash scripts/pg-throwaway.sh -- "$PYTEST" "${ARGS[@]}"
    RESULT[postgres]=$?
    SECONDS_TAKEN[postgres]=$((SECONDS - start))
}

run_checks
run_sqlite
run_postgres

header "Summary"
status=0
for db in "${RUNS[@]}"; do
    printf '  %-10s %-32s %4ss\n' "$db" "$(verdict "${RESULT[$db]}")" "${SECONDS_TAKEN[$db]}"
    [ "${RESULT[$db]}" -eq 0 ] || status=1
done
echo
exit "$status"
