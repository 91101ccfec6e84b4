#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR for SECONDS each, starting from its seed corpus in
# tests/fuzz/corpus/<target>/ (copied to a scratch dir, so the tree is not changed), and prints
# the executions per second each reached. Targets run JOBS at a time (default: the number of
# CPUs). Exits non-zero if any target finds a crash, a leak or a broken invariant; the
# reproducer is left in the scratch dir that is printed.
# FUZZ_SEED=N fixes libFuzzer's random seed (CI's smoke run does, so a finding reproduces); unset,
# each run explores from a new seed.
#   tests/fuzz/run.sh build-fuzz 60 [JOBS]
set -euo pipefail
build_dir=$(cd "${1:?usage: run.sh BUILD_DIR SECONDS [JOBS]}" && pwd)
seconds=${2:-60}
jobs=${3:-$(nproc 2>/dev/null || echo 2)}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/scalectl-fuzz.XXXXXX")

# Runs one target; writes "target runs exec/s result" to $work/<target>/result.
run_one() {
  local target=$1 bin="$build_dir/$1" dir="$work/$1"
  mkdir -p "$dir/corpus"
  cp "$here/corpus/$target"/* "$dir/corpus/"
  local result=ok
  # -timeout: one input may not run for 10 s (a hang is a finding); -rss_limit_mb: nor use 2 GB.
  if ! (cd "$dir" && "$bin" corpus -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -seed="${FUZZ_SEED:-0}" \
          -print_final_stats=1 -artifact_prefix="$dir/" >"$dir/log" 2>&1); then
    result="FAILED (see $dir/log)"
  fi
  local runs secs
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  secs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
  printf '%-18s %10s %10s %s\n' "$target" "${runs:-?}" "${secs:-?}" "$result" >"$dir/result"
}
export -f run_one
export build_dir seconds here work FUZZ_SEED

targets=()
for corpus in "$here"/corpus/*/; do
  target=$(basename "$corpus")
  [[ -x "$build_dir/$target" ]] || { echo "missing fuzz target $build_dir/$target; run make build-fuzz" >&2; exit 1; }
  targets+=("$target")
done
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$1"' _ {}

printf '%-18s %10s %10s %s\n' target runs exec/s result
status=0
for target in "${targets[@]}"; do
  cat "$work/$target/result"
  grep -q ' ok$' "$work/$target/result" || status=1
done
if [[ $status -ne 0 ]]; then
  echo "fuzzing found problems; logs and reproducers in $work" >&2
else
  rm -rf "$work"
fi
exit $status
