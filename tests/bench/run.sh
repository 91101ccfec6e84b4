#!/usr/bin/env bash
# `make bench`: every benchmark, printing figures for the issue notes. Nothing here asserts.
set -euo pipefail
bin=${1:-build/scalectl}
here=$(cd "$(dirname "$0")" && pwd)
for script in "$here"/*.sh "$here"/*.py; do
  case "$(basename "$script")" in run.sh) continue ;; esac
  echo "== $(basename "$script")"
  case "$script" in
    *.py) python3 "$script" "$bin" ;;
    *) bash "$script" "$bin" ;;
  esac
  echo
done
