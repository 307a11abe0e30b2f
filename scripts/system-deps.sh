#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only when they are missing:
#   chromium        the real headless browser for the end-to-end tests
#   postgresql      server binaries (initdb, pg_ctl) for the throw-away test cluster
#   fonts-noto-cjk  Chinese fonts for screenshots and PDF exports
# Quick and silent-ish when everything is present; runs `apt-get update` once
# before installing. Needs root (or sudo) only when something is missing.
set -euo pipefail

# Arguments name a subset (e.g. `scripts/system-deps.sh fonts-noto-cjk` for `make demo`).
if [ $# -gt 0 ]; then
    PACKAGES=("$@")
else
    PACKAGES=(chromium postgresql fonts-noto-cjk)
fi

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=()
for pkg in "${PACKAGES[@]}"; do
    if installed "$pkg"; then
        echo "system-deps: $pkg is installed"
    else
        missing+=("$pkg")
    fi
done

# The server binaries are what the tests use; the meta package alone is not enough.
if [[ " ${PACKAGES[*]} " == *" postgresql "* ]] && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    installed postgresql && missing+=(postgresql)
fi

if [ ${#missing[@]} -eq 0 ]; then
    echo "system-deps: nothing to install"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "system-deps: missing ${missing[*]} and not root (and no sudo): install them and retry" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "system-deps: installing ${missing[*]}"
echo "system-deps: apt-get update"
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "system-deps: done"
