#!/usr/bin/env bash
# Install Prism (pinned in package-lock.json) into tests/contract/node_modules.
# Does nothing when node_modules/.bin/prism already runs; fails loudly otherwise.
# Install scripts are skipped (--ignore-scripts): Prism needs none, and one of
# its dependencies has a telemetry postinstall that must not phone home.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
prism="node_modules/.bin/prism"

fail() {
    echo "install-prism.sh: error: $*" >&2
    exit 1
}

prism_works() {
    [[ -x "$prism" ]] && "$prism" --version >/dev/null 2>&1
}

if prism_works; then
    exit 0
fi

command -v npm >/dev/null 2>&1 \
    || fail "npm is not installed; install Node.js and npm (Debian: apt-get install -y nodejs npm)"

# Two test runs may start at once: let one install while the other waits.
exec 9>"$here/.install-prism.lock"
flock -w 600 9 || fail "timed out waiting for another install-prism.sh to finish"
if prism_works; then
    exit 0
fi

export SCARF_ANALYTICS=false DO_NOT_TRACK=1
echo "install-prism.sh: installing Prism into $here/node_modules" >&2
if ! npm ci --no-audit --no-fund --ignore-scripts --loglevel=error; then
    fail "'npm ci' failed in $here (is the npm registry reachable? does package-lock.json match package.json?)"
fi
prism_works || fail "'npm ci' succeeded but $here/$prism does not run"
echo "install-prism.sh: Prism $("$prism" --version) ready" >&2
