#!/bin/bash
# bench/allocate_counts.sh TOOL [CYCLES] [BIN_DIR]: deterministic per-cycle counts of rendezvousd's Allocate
# cycle (Allocate -> 401 -> Allocate with MESSAGE-INTEGRITY -> success -> Refresh LIFETIME 0), which a shared
# machine does not disturb the way it disturbs rates and CPU time. The daemon runs as in bench/profile.sh
# (one worker, the usage ledger on), rdv-loadgen drives CYCLES cycles (default 4000), then SIGTERM.
# Each tool runs twice, with CYCLES and with CYCLES/4, and the per-cycle figure is the difference divided
# by the difference of cycles, so start-up and shutdown cancel out. KEEP=DIR keeps the tools' outputs there.
#   strace:    syscalls per cycle, by name (strace -c -f)
#   malloc:    heap allocation calls per cycle (heaptrack's "calls to allocation functions")
#   callgrind: instructions per cycle (valgrind --tool=callgrind), and the top functions of the long run
set -euo pipefail
TOOL=${1:?usage: bench/allocate_counts.sh strace|malloc|callgrind [CYCLES] [BIN_DIR]}
CYCLES=${2:-4000}
BIN=${3:-$(cd "$(dirname "$0")/.." && pwd)/build/bin}
D=$(mktemp -d /tmp/rdv-alloc-counts.XXXXXX)
NODE_PID=
cleanup() { [ -n "$NODE_PID" ] && kill "$NODE_PID" 2>/dev/null; rm -rf "$D"; }
trap cleanup EXIT
# As bench/run.py starts it: a random relay range, no per-IP Allocate rate, no derived node caps.
LO=$((10000 + RANDOM % 12000))

# run N OUT: one daemon under TOOL, N cycles; prints the number of allocations the load generator made.
run() {
  local n=$1 out=$2
  rm -rf "$D/data" "$D/ready.json"
  local node=("$BIN/rendezvousd" --listen 127.0.0.1:0 --workers 1 --ready-file "$D/ready.json" --log-level warn
              --data-dir "$D/data" --http-listen "" --realm bench --relay-ports "$LO-$((LO + 20000))"
              --allow-peer 127.0.0.0/8 --user bench:benchpass --allocations-per-user 0 --allocate-rate-per-ip 100000
              --allocate-burst-per-ip 1000000 --max-allocations 0 --bps-capacity 0)
  case $TOOL in
    strace) strace -f -c -o "$out" "${node[@]}" > "$D/node.log" 2>&1 & ;;
    malloc) heaptrack -o "$out" "${node[@]}" > "$D/node.log" 2>&1 & ;;
    callgrind) valgrind --tool=callgrind --callgrind-out-file="$out" "${node[@]}" > "$D/node.log" 2>&1 & ;;
    *) echo "unknown tool $TOOL" >&2; exit 2 ;;
  esac
  NODE_PID=$!
  for _ in $(seq 600); do [ -s "$D/ready.json" ] && break; sleep 0.1; done
  [ -s "$D/ready.json" ] || { cat "$D/node.log" >&2; exit 1; }
  local server
  server=$(python3 -c "import json; v=json.load(open('$D/ready.json'))['udp']; print(v[0] if isinstance(v, list) else v)")
  "$BIN/rdv-loadgen" --scenario allocate --server "$server" --flows 8 --count "$n" --duration 600 \
    --setup-timeout 60 --user bench --password benchpass > "$D/load.json" || true
  # heaptrack and strace wrap the daemon: signal the daemon itself (the tool's child)
  local target=$NODE_PID
  if [ "$TOOL" != callgrind ]; then target=$(pgrep -P "$NODE_PID" -x rendezvousd | head -1 || echo "$NODE_PID"); fi
  kill -TERM "$target"
  wait "$NODE_PID" || true
  NODE_PID=
  python3 -c "import json,sys; j=json.load(open('$D/load.json')); print(j['allocations']); j['ok'] or sys.exit(j.get('error'))" || { grep -v "^==" "$D/node.log" | tail -5 >&2; exit 1; }
}

small=$((CYCLES / 4))
a_small=$(run "$small" "$D/small.out")
a_big=$(run "$CYCLES" "$D/big.out")
cycles=$((a_big - a_small))
echo "cycles: $a_big - $a_small = $cycles"
[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp "$D"/*.out* "$KEEP"/
case $TOOL in
  strace)
    python3 - "$D/small.out" "$D/big.out" "$cycles" <<'EOF'
import sys
def read(p):
    calls = {}
    for line in open(p):
        f = line.split()
        if len(f) >= 5 and f[0][0].isdigit() and f[-1] != 'total':
            calls[f[-1]] = int(f[3])
    return calls
a, b, n = read(sys.argv[1]), read(sys.argv[2]), int(sys.argv[3])
rows = sorted(((b.get(k, 0) - a.get(k, 0)) / n, k) for k in set(a) | set(b))
print("syscalls per cycle: %.2f" % sum(r for r, _ in rows))
for r, k in reversed(rows):
    if r >= 0.01: print("  %-20s %.2f" % (k, r))
EOF
    ;;
  malloc)
    count() { heaptrack_print -f "$1"* 2>/dev/null | sed -n 's/^calls to allocation functions: \([0-9]*\).*/\1/p'; }
    s=$(count "$D/small.out"); b=$(count "$D/big.out")
    python3 -c "print('allocation calls per cycle: %.2f' % (($b - $s) / $cycles))"
    heaptrack_print -f "$D/big.out"* --print-allocators 1 --print-peaks 0 --print-leaks 0 --print-temporary 0 \
      -n 15 2>/dev/null | sed -n '/MOST CALLS TO ALLOCATION FUNCTIONS/,/^$/p' | head -60
    ;;
  callgrind)
    total() { callgrind_annotate "$1" 2>/dev/null | sed -n 's/^\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,; }
    s=$(total "$D/small.out"); b=$(total "$D/big.out")
    python3 -c "print('instructions per cycle: %.0f' % (($b - $s) / $cycles))"
    callgrind_annotate "$D/big.out" 2>/dev/null | sed -n '/file:function/,$p' | head -40 | cut -c1-150
    ;;
esac
