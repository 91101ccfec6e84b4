#!/usr/bin/env bash
# Installs scalectl's build and test dependencies from Debian's packages.
# Does nothing when they are all present; when not root, prints the command to run.
set -euo pipefail

build_pkgs=(cmake make g++ pkg-config ccache
            libcli11-dev nlohmann-json3-dev libfmt-dev libtomlplusplus-dev doctest-dev
            libcurl4-openssl-dev libhiredis-dev libyaml-cpp-dev
            dpkg-dev)  # dpkg-shlibdeps, for the .deb's Depends
# droplet schedules: IANA time zones from the system tzdata (g++ 12 lacks C++20's tzdb).
build_pkgs+=(libhowardhinnant-date-dev tzdata)
# libssl-dev: rediss:// (TLS to Redis / DigitalOcean Managed Valkey); Debian 12's hiredis has no TLS.
build_pkgs+=(libssl-dev)
# autoscale run --listen: Debian's cpp-httplib (thread-pool HTTP server; no hand-written HTTP parsing).
build_pkgs+=(libcpp-httplib-dev)
# lintian checks the .deb, rpm provides rpmbuild for the .rpm, systemd gives systemd-analyze.
test_pkgs=(redis-server redis-tools python3 groff-base man-db hyperfine time lintian rpm systemd)
# The deployment examples' YAML is parsed by tests/e2e/test_deploy_examples.py.
test_pkgs+=(python3-yaml)
# Prism (the OpenAPI contract proxy) needs node and npm; any install of them will do.
if ! command -v npm >/dev/null 2>&1; then
  test_pkgs+=(nodejs npm)
fi
# TLS Redis tests: openssl makes the test CA and certificates; valkey-server 8 (bookworm-backports).
test_pkgs+=(openssl ca-certificates valkey-server faketime)
# Several pools per worker: strace's syscall-delay injection holds a real allocate between its two
# pools on the file backend (tests/e2e/test_capacity_pools.py), so a kill -9 lands exactly there.
test_pkgs+=(strace)
# Fuzzing (tests/fuzz, `make fuzz`): libFuzzer needs clang. clang-15, not bookworm's default
# clang-14, because the fuzz targets compile the core sources and clang-14 cannot instantiate
# libstdc++ 12's std::expected; libfuzzer-15-dev is the matching libFuzzer runtime.
test_pkgs+=(clang-15 libfuzzer-15-dev)
# Completion tests drive the real shells: bash (always there), zsh and fish, bash and zsh through tmux.
test_pkgs+=(zsh fish tmux)
pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}")
if [[ "${1:-}" == "--build-only" ]]; then
  pkgs=("${build_pkgs[@]}")
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "scalectl: missing packages: ${missing[*]}" >&2
  echo "scalectl: run as root: sudo sh -c '$cmd'" >&2
  exit 1
fi
echo "scalectl: installing ${missing[*]}" >&2
# valkey-server 8 is in bookworm-backports only.
if [[ " ${missing[*]} " == *" valkey-server "* ]] && ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "deb http://deb.debian.org/debian bookworm-backports main" >/etc/apt/sources.list.d/bookworm-backports.list
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "${missing[@]/#valkey-server/valkey-server/bookworm-backports}" >/dev/null
