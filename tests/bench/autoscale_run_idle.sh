#!/usr/bin/env bash
# CPU time and RSS of `scalectl autoscale run` idling: 10 policies at 10 s periods whose metric
# keeps them at their count (noop applies on the file state backend). Runs for SECONDS (default 600,
# the 10 minutes issue 14 asks for), then prints the CPU time used, the CPU time extrapolated
# linearly to 10 minutes, and the RSS (current and peak). With `listen` as third argument the
# daemon also serves --listen 127.0.0.1 (the HTTP module loaded) and /status is polled every 10 s.
# Prints figures for notes; asserts nothing.
#
# usage: tests/bench/autoscale_run_idle.sh [path/to/scalectl] [seconds] [listen]
set -euo pipefail

bin=${1:-build/scalectl}
seconds=${2:-600}
mode=${3:-}
if [[ ! -x $bin ]]; then
  echo "autoscale_run_idle.sh: '$bin' is not an executable; build first or pass the scalectl path" >&2
  exit 2
fi
bin=$(realpath "$bin")
work=$(mktemp -d)
pid=
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

{
  for i in $(seq 1 10); do
    cat <<EOT
[autoscale.policies.idle$i]
metric = { value = 5 }
units_per_worker = 10
min = 1
max = 10
every = "10s"

EOT
  done
} >"$work/config.toml"

export SCALECTL_CONFIG=$work/config.toml SCALECTL_STATE_DIR=$work/state HOME=$work
listen=()
if [[ $mode == listen ]]; then
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  listen=(--listen "127.0.0.1:$port")
fi
"$bin" autoscale run --log-format json "${listen[@]}" 2>"$work/log" &
pid=$!
if [[ $mode == listen ]]; then
  # One GET /status every 10 s, as a health probe or a dashboard would.
  end=$((SECONDS + seconds))
  while ((SECONDS + 10 <= end)); do
    sleep 10
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5).read()' \
      "http://127.0.0.1:$port/status" || echo "GET /status failed" >&2
  done
  sleep $((end - SECONDS))
else
  sleep "$seconds"
fi
ticks=$(getconf CLK_TCK)
read -r utime stime < <(awk '{print $14, $15}' "/proc/$pid/stat")
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
threads=$(awk '/^Threads/ {print $2}' "/proc/$pid/status")
kill -TERM "$pid"
wait "$pid" && rc=0 || rc=$?
pid=
applies=$(grep -c '"msg":"no change"' "$work/log" || true)
cpu_ms=$(( (utime + stime) * 1000 / ticks ))
echo "autoscale run idle: 10 policies, 10 s periods, measured over ${seconds} s${mode:+ (with --listen, GET /status every 10 s)}"
echo "  applies (noop)      ${applies}"
echo "  CPU time            ${cpu_ms} ms (user $((utime * 1000 / ticks)) ms, system $((stime * 1000 / ticks)) ms)"
echo "  CPU per 10 minutes  $(( cpu_ms * 600 / seconds )) ms (extrapolated linearly from ${seconds} s)"
echo "  RSS                 ${rss} kB (peak ${hwm} kB), ${threads} thread(s)"
echo "  exit after SIGTERM  ${rc}"
