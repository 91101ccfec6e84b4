#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR for SECONDS each, starting from its seed corpus in
# tests/fuzz/corpus/<target>/ (copied to a scratch dir, so the tree is not changed), and prints
# the executions per second each reached. Exits non-zero if any target finds a crash, a leak or
# a broken invariant; the reproducer is left in the scratch dir that is printed.
#   tests/fuzz/run.sh build-fuzz 60
set -euo pipefail
build_dir=${1:?usage: run.sh BUILD_DIR SECONDS}
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/scalectl-fuzz.XXXXXX")
status=0
printf '%-18s %10s %10s %s\n' target runs exec/s result
for corpus in "$here"/corpus/*/; do
  target=$(basename "$corpus")
  bin="$build_dir/$target"
  [[ -x "$bin" ]] || { echo "missing fuzz target $bin; run make build-fuzz" >&2; exit 1; }
  mkdir -p "$work/$target/corpus"
  cp "$corpus"/* "$work/$target/corpus/"
  log="$work/$target/log"
  result=ok
  # -timeout: one input may not run for 10 s (a hang is a finding); -rss_limit_mb: nor use 2 GB.
  if ! (cd "$work/$target" && "$bin" corpus -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
          -print_final_stats=1 -artifact_prefix="$work/$target/" >"$log" 2>&1); then
    result="FAILED (see $log)"
    status=1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  secs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  printf '%-18s %10s %10s %s\n' "$target" "${runs:-?}" "${secs:-?}" "$result"
done
if [[ $status -ne 0 ]]; then
  echo "fuzzing found problems; logs and reproducers in $work" >&2
else
  rm -rf "$work"
fi
exit $status
