#!/usr/bin/env bash
# `make demo`: the main job on embedded defaults -- the file state backend and the local
# DigitalOcean simulator on loopback. Starts the simulator with a 4 GB droplet, then runs
# droplet status, up, status and down with visible progress, and stops the simulator.
set -euo pipefail

bin=${1:-build/scalectl}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/scalectl-demo.XXXXXX")
sim_pid=""
meta_pid=""
cleanup() {
  if [[ -n "$meta_pid" ]]; then
    kill "$meta_pid" 2>/dev/null || true
    wait "$meta_pid" 2>/dev/null || true
  fi
  if [[ -n "$sim_pid" ]]; then
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

python3 "$repo/tests/sim/do_sim.py" --host 127.0.0.1 --port 0 --port-file "$work/port" \
  --token demo-token --action-seconds 2 --quiet > "$work/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 100); do
  [[ -s "$work/port" ]] && break
  sleep 0.1
done
[[ -s "$work/port" ]] || { echo "demo: the simulator did not start; see $work/sim.log" >&2; exit 1; }
port=$(cat "$work/port")
curl_json() { python3 -c 'import json,sys,urllib.request as u; r=u.Request(sys.argv[1], data=sys.argv[2].encode(), headers={"Content-Type":"application/json"}); print(json.load(u.urlopen(r))["id"])' "$@"; }
droplet=$(curl_json "http://127.0.0.1:$port/_sim/droplets" '{"name":"pdf-worker","size_slug":"s-2vcpu-4gb","region":"fra1"}')

# Everything scalectl reaches is on loopback; nothing of the user's own config is read.
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config"
export DIGITALOCEAN_TOKEN=demo-token DIGITALOCEAN_API_URL="http://127.0.0.1:$port"
export SCALECTL_STATE_DIR="$work/state" SCALECTL_DROPLET_DMI_PATH=/dev/null
export DROPLET_ID=$droplet
mkdir -p "$HOME"

run() {
  printf '\n\033[1m$ scalectl %s\033[0m\n' "$*"
  "$bin" "$@"
}
echo "scalectl demo: simulator on 127.0.0.1:$port with droplet $droplet (4 GB); each action takes 2 s"
run droplet status
run droplet up
run droplet status
run droplet down
run droplet up --dry-run

# --- act 2: the seed's pipeline on the droplet claims 16 GB; a reconciler elsewhere resizes -----
# The "droplet" identity: a DMI vendor file saying DigitalOcean and a loopback metadata server
# answering the droplet id. The reconciler is the other identity (DMI /dev/null: not a droplet).
echo DigitalOcean > "$work/droplet_sys_vendor"
python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        b = sys.argv[1].encode(); self.send_response(200)
        self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[2], "w").write(str(s.server_address[1])); s.serve_forever()
' "$droplet" "$work/meta_port" &
meta_pid=$!
for _ in $(seq 1 100); do
  [[ -s "$work/meta_port" ]] && break
  sleep 0.1
done
meta="http://127.0.0.1:$(cat "$work/meta_port")/metadata/v1/id"
export SCALECTL_DROPLET_DOWN_DELAY=3s
pipeline() {
  printf '\n\033[1m[pipeline on the droplet]$ scalectl %s\033[0m\n' "$*"
  SCALECTL_DROPLET_DMI_PATH="$work/droplet_sys_vendor" SCALECTL_DROPLET_METADATA_URL="$meta" "$bin" "$@"
}
reconciler() {
  printf '\n\033[1m[reconciler on a control host]$ scalectl %s\033[0m\n' "$*"
  "$bin" "$@"
}
echo
echo "act 2: the PDF pipeline runs ON the droplet; it claims 16 GB, a reconciler elsewhere resizes"
pipeline droplet claim up --id pdf-42 --ttl 1h
reconciler droplet reconcile
pipeline droplet claim up --id pdf-42 --ttl 1h
pipeline droplet claims
pipeline droplet unclaim pdf-42
reconciler droplet reconcile
sleep 3
reconciler droplet reconcile
reconciler droplet status
echo
echo "demo finished: the droplet went 4 GB -> 16 GB -> 4 GB twice, the second time driven by a claim;"
echo "state was kept in $work/state (removed now)"
