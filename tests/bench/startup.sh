#!/usr/bin/env bash
# Start-up cost of `scalectl --version` next to three hello-worlds, two of them linked against
# libcurl or OpenSSL: median wall time (hyperfine) and peak RSS. Prints figures for notes; asserts nothing.
#
# Figures (issue 11, lazy OpenSSL; 2-core shared build machine, RelWithDebInfo, 200 runs / 20 for RSS):
#   OpenSSL linked (DT_NEEDED libssl.so.3):   --version median 30.9 ms, peak RSS 7.6 MB
#   OpenSSL dlopen()ed at the first rediss://: --version median 22.1 ms, peak RSS 5.5 MB
#
# usage: tests/bench/startup.sh [path/to/scalectl] [runs]
set -euo pipefail

bin=${1:-build/scalectl}
runs=${2:-200}
rss_runs=20

if [[ ! -x $bin ]]; then
  echo "startup.sh: '$bin' is not an executable; build first or pass the scalectl path" >&2
  exit 2
fi
for tool in hyperfine python3 g++; do
  command -v "$tool" >/dev/null || { echo "startup.sh: $tool is required" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Two comparison programs built the same way; only the second needs libcurl at start-up.
cat >"$work/hello.cpp" <<'EOF'
#include <cstdio>
int main() { std::puts("hello"); return 0; }
EOF
cat >"$work/hello_curl.cpp" <<'EOF'
#include <cstdio>
#include <curl/curl.h>
int main(int argc, char**) {
  // The libcurl call is never made, but it makes libcurl a DT_NEEDED dependency.
  if (argc > 99) { std::puts(curl_version()); }
  std::puts("hello");
  return 0;
}
EOF
cat >"$work/hello_ssl.cpp" <<'EOF'
#include <cstdio>
#include <openssl/ssl.h>
int main(int argc, char**) {
  // Never called, but it makes libssl (and libcrypto) DT_NEEDED, as scalectl was before issue 11.
  if (argc > 99) { std::printf("%p\n", static_cast<void*>(SSL_CTX_new(TLS_client_method()))); }
  std::puts("hello");
  return 0;
}
EOF
g++ -O2 -o "$work/hello" "$work/hello.cpp"
g++ -O2 -Wl,--no-as-needed -o "$work/hello_ssl" "$work/hello_ssl.cpp" -lssl -lcrypto
g++ -O2 -Wl,--no-as-needed -o "$work/hello_curl" "$work/hello_curl.cpp" -lcurl

# Median of `runs` wall times, in milliseconds.
median_ms() {
  local name=$1; shift
  hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/$name.json" --style none "$*" >/dev/null 2>&1
  python3 - "$work/$name.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
ms = {k: r[k] * 1000 for k in ("median", "mean", "stddev", "min")}
print("{median:.2f} ms (mean {mean:.2f} +- {stddev:.2f} ms, min {min:.2f} ms)".format(**ms))
EOF
}

# Median peak RSS of `rss_runs` runs, in MB. GNU time (or, without it, a tiny fork/exec/wait4
# helper) reports the child's ru_maxrss; both add the measuring process's own ~1 MB as a floor.
peak_rss() {
  local samples=()
  for ((i = 0; i < rss_runs; i++)); do
    samples+=("$("${rss_probe[@]}" "$@" 2>&1 >/dev/null | tail -n 1)")
  done
  printf '%s\n' "${samples[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f MB\n", v[int((NR + 1) / 2)] / 1024 }'
}
if /usr/bin/time -f '%M' true >/dev/null 2>&1; then
  rss_probe=(/usr/bin/time -f '%M')
else
  cat >"$work/rss_probe.cpp" <<'EOF'
#include <cstdio>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char** argv) {
  if (argc < 2) { return 2; }
  const pid_t pid = fork();
  if (pid == 0) { execv(argv[1], argv + 1); _exit(127); }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  std::fprintf(stderr, "%ld\n", usage.ru_maxrss);
  return 0;
}
EOF
  g++ -O2 -o "$work/rss_probe" "$work/rss_probe.cpp"
  rss_probe=("$work/rss_probe")
fi

row() {
  local label=$1 name=$2; shift 2
  printf '%-34s time %s\n' "$label" "$(median_ms "$name" "$@")"
  printf '%-34s peak RSS %s\n' "" "$(peak_rss "$@")"
}

echo "start-up: median of $runs runs after 5 warm-ups (hyperfine -N); peak RSS median of $rss_runs runs"
row "$bin --version" scalectl "$bin" --version
row "hello-world (no libcurl)" hello "$work/hello"
row "hello-world linked with -lcurl" hello_curl "$work/hello_curl"
row "hello-world linked with -lssl" hello_ssl "$work/hello_ssl"

echo
echo "ldd $bin:"
ldd "$bin" | sed 's/^/  /'
if readelf -d "$bin" | grep -q 'NEEDED.*libcurl'; then
  echo "libcurl is a DT_NEEDED dependency of $bin (it should be dlopen()ed on first use)"
else
  echo "libcurl is not a DT_NEEDED dependency of $bin"
fi
if readelf -d "$bin" | grep -q 'NEEDED.*lib\(ssl\|crypto\)'; then
  echo "OpenSSL is a DT_NEEDED dependency of $bin (it should be dlopen()ed at the first rediss:// connection)"
else
  echo "OpenSSL is not a DT_NEEDED dependency of $bin"
fi
