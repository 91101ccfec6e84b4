#!/usr/bin/env bash
# One `scalectl capacity allocate` process over rediss:// against one `redis-cli --tls` EVALSHA
# process, in the same run, against a TLS-only redis-server on loopback (CA and certificate made
# here with openssl, ACL user with a password). Prints hyperfine figures; asserts nothing.
#
# usage: tests/bench/redis_tls.sh [path/to/scalectl] [runs]
set -euo pipefail

bin=$(realpath "${1:-build/scalectl}")
runs=${2:-100}
for tool in hyperfine redis-server redis-cli openssl python3; do
  command -v "$tool" >/dev/null || { echo "redis_tls.sh: $tool is required" >&2; exit 2; }
done

work=$(mktemp -d)
pid=
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"

openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj "/CN=bench CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 \
  -extfile server.ext 2>/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port 0 --tls-port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" \
  --tls-cert-file server.crt --tls-key-file server.key --tls-ca-cert-file ca.crt --tls-auth-clients no \
  --user bench on ">bench-pw" "~*" "&*" "+@all" --user default off >redis.log 2>&1 &
pid=$!
cli=(redis-cli --tls --cacert ca.crt -h 127.0.0.1 -p "$port" --user bench --pass bench-pw --no-auth-warning)
for _ in $(seq 100); do
  [[ $("${cli[@]}" PING 2>/dev/null) == PONG ]] && break
  sleep 0.05
done

cat >config.toml <<TOML
[capacity]
max_cpu = 1000
max_ram_gb = 1000
[capacity.worker_types.unit]
cpu = 1
ram_gb = 0.25
[state]
redis_url = "rediss://bench:bench-pw@localhost:$port/0"
redis_ca_file = "$work/ca.crt"
TOML
chmod 600 config.toml
export SCALECTL_CONFIG=$work/config.toml HOME=$work XDG_CONFIG_HOME=$work/.config
"$bin" capacity allocate unit --id bench >/dev/null
sha=$("${cli[@]}" SCRIPT LOAD "return redis.call('HGET', KEYS[1], ARGV[1])")

# `allocate` of an id already held runs the whole path (config, TLS, AUTH, the allocate script).
hyperfine -N --warmup 5 --runs "$runs" --export-markdown "$work/result.md" \
  -n "scalectl capacity allocate (rediss://)" "$bin capacity allocate unit --id bench" \
  -n "redis-cli --tls EVALSHA" "${cli[*]} EVALSHA $sha 1 server:workers bench"
cat "$work/result.md"
