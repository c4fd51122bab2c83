#!/bin/bash
# bench/profile.sh SCENARIO [BIN_DIR]: perf profile of rendezvousd under one benchmark scenario, pinned
# like the harness (server core 0, load core 1): 3 s of warm-up, 10 s recorded with the software
# clock (works in VMs without hardware counters), then the split by library and the top symbols.
# SCENARIO: binding | allocate | channel | send | signal | registry. Needs perf (Debian: linux-perf).
set -euo pipefail
SCENARIO=${1:?usage: bench/profile.sh binding|allocate|channel|send|signal|registry [BIN_DIR]}
BIN=${2:-$(cd "$(dirname "$0")/.." && pwd)/build/bin}
D=$(mktemp -d /tmp/rdv-profile.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$D"; }
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"
NODE=(--listen 127.0.0.1:0 --workers 1 --ready-file "$D/ready.json" --log-level warn --data-dir "$D/data")
case $SCENARIO in
  signal|registry) NODE+=(--http-listen 127.0.0.1:0 --signal-rate 10000000 --signal-burst 10000000
                          --registry-writes-per-minute 1000000 --registry-write-burst 1000000
                          --signal-mailbox-per-sender 100000000 --signal-mailbox-per-sender-bytes 4000000000
                          --signal-mailbox-per-sender-recipient 10000000) ;;
  *) NODE+=(--http-listen "" --realm bench --relay-ports 20000-30000 --allow-peer 127.0.0.0/8 --user bench:benchpass
            --allocations-per-user 0) ;;
esac
taskset -c 0 "$BIN/rendezvousd" "${NODE[@]}" > "$D/node.log" 2>&1 &
NODE_PID=$!
PIDS+=("$NODE_PID")
for _ in $(seq 100); do [ -s "$D/ready.json" ] && break; sleep 0.1; done
field() { python3 -c "import json,sys; r=json.load(open('$D/ready.json')); v=r['$1']; print(v[0] if isinstance(v, list) else v)"; }
case $SCENARIO in
  signal) LOAD=("$BIN/rdv-apibench" --scenario signal --server "$(field http)" --clients 1000 --duration 20) ;;
  registry) LOAD=("$BIN/rdv-apibench" --scenario registry --server "$(field http)" --duration 16) ;;
  binding) LOAD=("$BIN/rdv-loadgen" --scenario binding --server "$(field udp)" --flows 4 --window 32 --duration 16) ;;
  allocate) LOAD=("$BIN/rdv-loadgen" --scenario allocate --server "$(field udp)" --flows 32 --duration 16
                  --user bench --password benchpass) ;;
  channel|send) LOAD=("$BIN/rdv-loadgen" --scenario "$SCENARIO" --server "$(field udp)" --flows 16 --window 16
                      --payload 100 --duration 16 --user bench --password benchpass --peer-bind 127.0.0.2:0) ;;
  *) echo "unknown scenario $SCENARIO" >&2; exit 2 ;;
esac
taskset -c 1 "${LOAD[@]}" --cpu 1 > "$D/load.json" &
LOAD_PID=$!
PIDS+=("$LOAD_PID")
# The signal scenario seals its envelopes and connects first: start recording once the load runs.
sleep $([ "$SCENARIO" = signal ] && echo 12 || echo 3)
perf record -e cpu-clock -F 1999 -g -o "$D/perf.data" -p "$NODE_PID" -- sleep 10 > /dev/null 2>&1
wait "$LOAD_PID" || true
cut -c1-300 "$D/load.json"
perf report -i "$D/perf.data" --no-children --stdio --sort dso -g none 2>/dev/null | grep -E '^ +[0-9]' | head -8
perf report -i "$D/perf.data" --no-children --stdio --sort sym -g none 2>/dev/null | grep -E '^ +[0-9]' | cut -c1-140 | head -30
