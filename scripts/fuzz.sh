#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang under ASan+UBSan (build dir build-fuzz/, its own
# CMake configuration: -DRDV_FUZZ=ON) and runs each for SECONDS (default 60) with its seed corpus.
# Prints the executions and any crash per target; exits non-zero when a target crashed.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      build, then run every target (or the ones named)
#   scripts/fuzz.sh --build-only               configure and build only (scripts/test.sh does this once)
#   scripts/fuzz.sh --run-only SECONDS T...    run what is built (exit 77 when the build is missing)
# Options: --build-dir DIR (default build-fuzz), --work-dir DIR (default DIR/work: corpus grown by the
# runs, crash artifacts, logs; the seed corpus in tests/fuzz/corpus is only read).
# Targets: stun_message channel_data turn_server enr envelope hub_frames http_api node_config.
set -euo pipefail
cd "$(dirname "$0")/.."
SOURCE_DIR=$PWD
BUILD_DIR=build-fuzz
WORK_DIR=
MODE=all
SECONDS_EACH=60
TARGETS=()
while (($#)); do
  case "$1" in
    --build-only) MODE=build ;;
    --run-only) MODE=run ;;
    --build-dir) BUILD_DIR=$2; shift ;;
    --work-dir) WORK_DIR=$2; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    [0-9]*) SECONDS_EACH=$1 ;;
    *) TARGETS+=("$1") ;;
  esac
  shift
done
WORK_DIR=${WORK_DIR:-$BUILD_DIR/work}
ALL_TARGETS=(stun_message channel_data turn_server enr envelope hub_frames http_api node_config)
((${#TARGETS[@]})) || TARGETS=("${ALL_TARGETS[@]}")

if [[ $MODE != run ]]; then
  if ! command -v clang++ >/dev/null; then
    echo "fuzz: clang++ is missing (scripts/install-deps.sh --test installs clang and libclang-rt-14-dev)" >&2
    exit 2
  fi
  launcher=()
  if command -v ccache >/dev/null 2>&1; then
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  # -O1 without NDEBUG: fast to build, and the code's own asserts stay on.
  start=$(date +%s)
  CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DRDV_FUZZ=ON -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS_RELEASE=-O1 -DCMAKE_CXX_FLAGS_RELEASE=-O1 -DRDV_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
  cmake --build "$BUILD_DIR" --target fuzz_targets -j "$(nproc)"
  echo "fuzz: targets built in $BUILD_DIR/fuzz ($(($(date +%s) - start)) s)"
  [[ $MODE == build ]] && exit 0
fi

status=0
for t in "${TARGETS[@]}"; do
  bin=$BUILD_DIR/fuzz/fuzz_$t
  if [[ ! -x $bin ]]; then
    echo "fuzz $t: $bin is not built (scripts/fuzz.sh --build-only)" >&2
    [[ $MODE == run ]] && exit 77
    status=1
    continue
  fi
  work=$WORK_DIR/$t
  mkdir -p "$work/corpus" "$work/artifacts"
  log=$work/fuzz.log
  rc=0
  # New inputs go to the work corpus; the seed corpus is read only. A hang of a few seconds is a finding.
  timeout --kill-after=10 $((SECONDS_EACH + 120)) "$bin" -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
    -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/artifacts/" \
    "$work/corpus" "$SOURCE_DIR/tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [[ -z $execs ]]; then execs=$(sed -n 's/.*#\([0-9]*\).*exec\/s.*/\1/p' "$log" | tail -1); fi
  corpus=$(find "$work/corpus" -type f | wc -l)
  if ((rc != 0)); then
    status=1
    echo "fuzz $t: CRASH after ${execs:-?} executions (exit $rc); log $log"
    grep -E "^(==[0-9]+==ERROR|SUMMARY|.*invariant broken|.*runtime error)" "$log" | head -5 | sed 's/^/  /' || true
    grep -E "Test unit written to" "$log" | sed 's/^/  /' || true
  else
    echo "fuzz $t: ${execs:-?} executions in ${SECONDS_EACH} s, no crash (work corpus: $corpus inputs)"
  fi
done
exit "$status"
