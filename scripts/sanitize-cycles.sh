#!/usr/bin/env bash
# Start/stop cycles of rendezvousd under a sanitizer (issue 12, "Crash at stop, once"; docs/security.md
# "Sanitizer cycles").
#
#   scripts/sanitize-cycles.sh [asan|tsan] [CYCLES]     (default: tsan 20)
#
# Builds rendezvousd alone into build-asan/ (ASan+UBSan) or build-tsan/ (ThreadSanitizer) with ccache,
# then runs CYCLES cycles. Each cycle starts the node with every listener on (STUN/TURN over UDP, TCP and
# TLS, the HTTP API with the signalling hub, the admin API, the relay), optionally drives traffic at it,
# and stops it with SIGTERM at a random point: within its first second (before or just after it is
# ready), while idle, or in the middle of the traffic. Cycles alternate between loopback and a network
# namespace the script creates (198.18.0.1-2 on its loopback interface; removed on exit, also on failure),
# and between no traffic and traffic: rdv-loadgen (our TURN client: allocations and ChannelData through
# a peer), rdv register, rdv inbox + rdv send (hub login, an envelope), and a coturn turnutils_uclient
# burst over UDP and TLS. A cycle passes when the node exits 0 within STOP_TIMEOUT seconds of SIGTERM
# and the sanitizer wrote no report. Failing cycles keep their logs under $RESULTS.
#
# Environment: NETNS=mixed|on|off, TRAFFIC=mixed|on|off (default mixed), SEED (random), STOP_TIMEOUT
# (default 20), RESULTS (default build-<mode>/sanitize-results), NO_BUILD=1 (use the existing build),
# NODE_BIN (another rendezvousd), CLIENT_BIN (default build/bin: rdv and rdv-loadgen of the ordinary
# build, scripts/build.sh), STOP_AFTER (seconds of traffic before SIGTERM instead of 0-3 at random),
# KEEP=1 (keep every cycle's logs under $RESULTS, not only failing ones).
# Exit status: 0 when every cycle passed, 1 when one failed, 2 on a usage or set-up error.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

MODE=${1:-tsan}
CYCLES=${2:-20}
case "$MODE" in asan|tsan) ;; *) echo "usage: $0 [asan|tsan] [CYCLES]" >&2; exit 2 ;; esac
[[ "$CYCLES" =~ ^[0-9]+$ ]] || { echo "usage: $0 [asan|tsan] [CYCLES]" >&2; exit 2; }
NETNS=${NETNS:-mixed}
TRAFFIC=${TRAFFIC:-mixed}
STOP_TIMEOUT=${STOP_TIMEOUT:-20}
SEED=${SEED:-$RANDOM}
RANDOM=$SEED
BUILD="$ROOT/build-$MODE"
RESULTS=${RESULTS:-$BUILD/sanitize-results}
CLIENT_BIN=${CLIENT_BIN:-$ROOT/build/bin}

# --- build -----------------------------------------------------------------------------------------
if [[ -z "${NO_BUILD:-}" ]]; then
  flags=(-DRDV_BUILD_TESTS=OFF -DRDV_BUILD_BENCH=OFF)
  [[ $MODE == tsan ]] && flags+=(-DRDV_TSAN=ON) || flags+=(-DRDV_SANITIZE=ON)
  command -v ccache >/dev/null && flags+=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S . -B "$BUILD" -G Ninja "${flags[@]}" >/dev/null || exit 2
  cmake --build "$BUILD" -j "$(nproc)" --target rendezvousd >/dev/null || { echo "build failed" >&2; exit 2; }
fi
NODE_BIN=${NODE_BIN:-$BUILD/bin/rendezvousd}
[[ -x $NODE_BIN ]] || { echo "no $NODE_BIN" >&2; exit 2; }
if [[ $TRAFFIC != off ]]; then
  for b in rdv rdv-loadgen; do
    [[ -x $CLIENT_BIN/$b ]] || { echo "traffic needs $CLIENT_BIN/$b (scripts/build.sh), or TRAFFIC=off" >&2; exit 2; }
  done
  for b in turnutils_uclient openssl; do
    command -v $b >/dev/null || { echo "traffic needs $b (scripts/install-deps.sh)" >&2; exit 2; }
  done
fi

# --- shared set-up and cleanup ---------------------------------------------------------------------
WORK=$(mktemp -d /tmp/rdv-sanitize.XXXXXX)
NS=""
NODE_PID=""
TRAFFIC_PIDS=()
cleanup() {
  local pid
  for pid in "${TRAFFIC_PIDS[@]}" $NODE_PID; do kill -KILL "$pid" 2>/dev/null; done
  wait 2>/dev/null
  [[ -n $NS ]] && ip netns del "$NS" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if [[ $NETNS != off ]]; then
  [[ $(id -u) == 0 ]] || { echo "NETNS=$NETNS needs root (ip netns); NETNS=off runs on loopback only" >&2; exit 2; }
  NS="rdvsan$$"
  ip netns add "$NS" || exit 2
  ip -n "$NS" link set lo up &&
    ip -n "$NS" addr add 198.18.0.1/24 dev lo &&
    ip -n "$NS" addr add 198.18.0.2/24 dev lo || { echo "cannot set up namespace $NS" >&2; exit 2; }
fi

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$WORK/key.pem" \
  -out "$WORK/cert.pem" -days 2 -subj /CN=rendezvous-sanitize >/dev/null 2>&1 || { echo "openssl failed" >&2; exit 2; }
chmod 600 "$WORK/key.pem"
printf 'sanitize-cycles-secret-%s\n' "$SEED$RANDOM$RANDOM" >"$WORK/auth-secret"
printf 'sanitize-admin-token-%s\n' "$RANDOM$RANDOM$RANDOM" >"$WORK/admin-token"
printf 'alice:wonderland-%s\n' "$RANDOM" >"$WORK/users"
chmod 600 "$WORK/auth-secret" "$WORK/admin-token" "$WORK/users"
SECRET=$(head -1 "$WORK/auth-secret")
USERPASS=$(head -1 "$WORK/users")
if [[ $TRAFFIC != off ]]; then
  "$CLIENT_BIN/rdv" key new --out "$WORK/a.key" >/dev/null && "$CLIENT_BIN/rdv" key new --out "$WORK/b.key" >/dev/null &&
    "$CLIENT_BIN/rdv" enr encode --key "$WORK/b.key" --ip 127.0.0.1 --udp 9 >"$WORK/b.enr" || { echo "rdv key/enr failed" >&2; exit 2; }
fi
mkdir -p "$RESULTS"

# The prefix that runs a command in the cycle's place (inside the namespace or not). Not a shell
# function: a function in the background is a subshell, and $! would be the subshell, not the program.
PLACE=()

# Endpoint of a listener from the ready file: ready KEY [INDEX]
ready() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(v[int(sys.argv[3])] if isinstance(v,list) else v)' "$1" "$2" "${3:-0}"; }

# Starts the traffic of one cycle in the background (bounded: every client stops by itself in ~4 s).
start_traffic() {
  local rf=$1 dir=$2 addr=$3 peer=$4
  local udp tls http
  udp=$(ready "$rf" udp) tls=$(ready "$rf" tls) http=$(ready "$rf" http) || return 1
  local host=${udp%:*} uport=${udp##*:} tport=${tls##*:}
  # rdv-loadgen talks to loopback only: in the namespace, the node's second listener on its 127.0.0.1.
  local lo
  lo=$(ready "$rf" udp 1 2>/dev/null || echo "$udp")
  "${PLACE[@]}" timeout 8 "$CLIENT_BIN/rdv-loadgen" --scenario channel --server "$lo" --rest-secret "$SECRET" \
    --duration 2 --flows 4 --rate 2000 --payload 200 --peer-bind "${lo%:*}:0" --setup-timeout 3 >"$dir/loadgen.out" 2>&1 &
  TRAFFIC_PIDS+=($!)
  "${PLACE[@]}" timeout 8 "$CLIENT_BIN/rdv" register --node "http://$http" --namespace sanitize --key "$WORK/a.key" \
    --ip "$addr" --udp 9 --timeout 3000 >"$dir/register.out" 2>&1 &
  TRAFFIC_PIDS+=($!)
  "${PLACE[@]}" timeout 8 "$CLIENT_BIN/rdv" inbox --node "http://$http" --key "$WORK/b.key" --timeout 4 >"$dir/inbox.out" 2>&1 &
  TRAFFIC_PIDS+=($!)
  "${PLACE[@]}" timeout 8 "$CLIENT_BIN/rdv" send --node "http://$http" --key "$WORK/a.key" --to "$WORK/b.enr" \
    --timeout 3 hello >"$dir/send.out" 2>&1 &
  TRAFFIC_PIDS+=($!)
  # coturn's client, client to client (-y), over UDP and over TLS (-S).
  "${PLACE[@]}" timeout 8 turnutils_uclient -y -m 2 -n 20 -l 120 -u "${USERPASS%%:*}" -w "${USERPASS#*:}" -p "$uport" "$host" \
    >"$dir/uclient-udp.out" 2>&1 &
  TRAFFIC_PIDS+=($!)
  "${PLACE[@]}" timeout 8 turnutils_uclient -t -S -y -m 2 -n 20 -l 120 -u "${USERPASS%%:*}" -w "${USERPASS#*:}" -p "$tport" "$host" \
    >"$dir/uclient-tls.out" 2>&1 &
  TRAFFIC_PIDS+=($!)
}

stop_traffic() {
  local pid
  for pid in "${TRAFFIC_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${TRAFFIC_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  TRAFFIC_PIDS=()
}

# --- one cycle -------------------------------------------------------------------------------------
# cycle N NETNS(0|1) TRAFFIC(0|1); prints one line; returns 1 on a finding.
cycle() {
  local n=$1 ns=$2 traffic=$3
  local dir="$WORK/cycle-$n"
  mkdir -p "$dir/data" "$dir/san"
  local addr=127.0.0.1 peer=127.0.0.1 allow='"127.0.0.0/8"' listen='"127.0.0.1:0"'
  PLACE=()
  if [[ $ns == 1 ]]; then
    PLACE=(ip netns exec "$NS")
    addr=198.18.0.1 peer=198.18.0.2 allow='"198.18.0.0/15", "127.0.0.0/8"' listen='"198.18.0.1:0", "127.0.0.1:0"'
  fi
  cat >"$dir/node.json" <<EOF
{"listen": [$listen], "tls-listen": ["$addr:0"], "cert": "$WORK/cert.pem", "key": "$WORK/key.pem",
 "workers": 2, "auth-secret-file": "$WORK/auth-secret", "users-file": "$WORK/users",
 "allow-peer": [$allow], "http-listen": "$addr:0", "admin-listen": "$addr:0",
 "admin-token-file": "$WORK/admin-token", "data-dir": "$dir/data", "log-format": "json"}
EOF
  local san
  if [[ $MODE == tsan ]]; then
    san=(env "TSAN_OPTIONS=halt_on_error=0 exitcode=66 second_deadlock_stack=1 log_path=$dir/san/report suppressions=$ROOT/scripts/tsan-suppressions.txt")
  else
    san=(env "ASAN_OPTIONS=detect_leaks=1 exitcode=66 log_path=$dir/san/report"
         "UBSAN_OPTIONS=print_stacktrace=1 halt_on_error=1 log_path=$dir/san/report")
  fi
  "${PLACE[@]}" "${san[@]}" "$NODE_BIN" --config "$dir/node.json" --ready-file "$dir/ready.json" >"$dir/node.log" 2>&1 &
  NODE_PID=$!

  # Where to stop: early (within the first second of the process, ready or not), idle after ready, or
  # during traffic.
  local when
  if (( RANDOM % 4 == 0 )); then
    when="early"
    sleep "0.$(printf '%03d' $((RANDOM % 1000)))"
  else
    local deadline=$((SECONDS + 60))
    while [[ ! -s $dir/ready.json ]] && kill -0 "$NODE_PID" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
    if [[ ! -s $dir/ready.json ]]; then
      echo "cycle $n ns=$ns traffic=$traffic: FAIL not ready (see $RESULTS/$MODE-cycle-$n)"
      kill -KILL "$NODE_PID" 2>/dev/null; wait "$NODE_PID" 2>/dev/null; NODE_PID=""
      cp -r "$dir" "$RESULTS/$MODE-cycle-$n"
      return 1
    fi
    if [[ $traffic == 1 ]]; then
      when="traffic"
      start_traffic "$dir/ready.json" "$dir" "$addr" "$peer"
      sleep "${STOP_AFTER:-$((RANDOM % 3)).$(printf '%03d' $((RANDOM % 1000)))}"
    else
      when="idle"
      sleep "$((RANDOM % 2)).$(printf '%03d' $((RANDOM % 1000)))"
    fi
  fi

  local started=$SECONDS status
  kill -TERM "$NODE_PID" 2>/dev/null
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$NODE_PID" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
  local hung=""
  if kill -0 "$NODE_PID" 2>/dev/null; then
    hung=1
    kill -ABRT "$NODE_PID" 2>/dev/null  # the sanitizer prints every thread's stack on SIGABRT
    sleep 2
    kill -KILL "$NODE_PID" 2>/dev/null
  fi
  wait "$NODE_PID"
  status=$?
  NODE_PID=""
  stop_traffic

  local reports
  reports=$(find "$dir/san" -type f -size +0 | wc -l)
  local verdict="ok"
  if [[ $when == early && $status == 143 && ! -s $dir/node.log ]] && ((reports == 0)); then
    # SIGTERM before main() blocked the stop signals (it blocks them before its first log line): the
    # default action, as for any program killed that early. Not a finding; counted apart.
    verdict="ok (killed before start-up)"
    EARLY_KILLS=$((EARLY_KILLS + 1))
  elif [[ -n $hung ]]; then
    verdict="FAIL stop took more than ${STOP_TIMEOUT}s"
  elif ((reports > 0)); then
    verdict="FAIL sanitizer report"
  elif ((status != 0)); then
    verdict="FAIL exit status $status"
  fi
  local line="cycle $n ns=$ns traffic=$traffic stop=$when exit=$status stop_s=$((SECONDS - started)): $verdict"
  if [[ $verdict != ok* ]]; then
    rm -rf "$RESULTS/$MODE-cycle-$n"
    cp -r "$dir" "$RESULTS/$MODE-cycle-$n"
    echo "$line (logs in $RESULTS/$MODE-cycle-$n)"
    rm -rf "$dir"
    return 1
  fi
  echo "$line"
  [[ -n ${KEEP:-} ]] && { rm -rf "$RESULTS/$MODE-cycle-$n"; cp -r "$dir" "$RESULTS/$MODE-cycle-$n"; }
  rm -rf "$dir"
  return 0
}

echo "sanitize-cycles: $MODE, $CYCLES cycles, NETNS=$NETNS TRAFFIC=$TRAFFIC SEED=$SEED, node $NODE_BIN"
failed=0
EARLY_KILLS=0
declare -A count
for ((i = 1; i <= CYCLES; i++)); do
  case $NETNS in on) ns=1 ;; off) ns=0 ;; *) ns=$((i % 2)) ;; esac
  case $TRAFFIC in on) tr=1 ;; off) tr=0 ;; *) tr=$(((i / 2) % 2)) ;; esac
  if cycle "$i" "$ns" "$tr"; then :; else failed=$((failed + 1)); fi
  count["ns=$ns traffic=$tr"]=$((${count["ns=$ns traffic=$tr"]:-0} + 1))
done
for k in "${!count[@]}"; do echo "  $k: ${count[$k]} cycles"; done
echo "sanitize-cycles: $MODE $CYCLES cycles, $failed failed ($EARLY_KILLS killed before start-up by the early SIGTERM)"
((failed == 0))
