#!/usr/bin/env bash
# The whole suite on a fresh Debian 12 machine: install what is missing, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
BUILD_DIR=${BUILD_DIR:-build} scripts/build.sh
# The clang libFuzzer build (build-fuzz/) that the fuzz_smoke.* tests run (label fuzz): built once here.
scripts/fuzz.sh --build-only --build-dir "${FUZZ_BUILD_DIR:-build-fuzz}"
status=0
ctest --test-dir "${BUILD_DIR:-build}" -j "$(nproc)" --output-on-failure --timeout 600 "$@" || status=$?
# The relay, quota, ledger and metering suites once more with the kernel fast path forced on (issue 14:
# the results must not change when the kernel forwards). Only where BPF programs can load (root, a kernel
# with BPF, a build with the fast path), and only for a whole-suite run.
if [[ $# -eq 0 ]] && "${BUILD_DIR:-build}/bin/rendezvousd" --help 2>/dev/null | grep -q 'kernel-fast-path' &&
   [[ $(id -u) -eq 0 ]] && bpftool prog list >/dev/null 2>&1; then
  echo "relay suites again with kernel-fast-path on (RDV_TEST_KERNEL_FAST_PATH=on)"
  RDV_TEST_KERNEL_FAST_PATH=on ctest --test-dir "${BUILD_DIR:-build}" -j "$(nproc)" --output-on-failure --timeout 600 \
    -L integration -R 'Relay|Quota|Ledger|Metering|CoturnUclient|Modes|Turn|Metrics|AdminApi|IceServers|Burst|Hoarding|Garbage|Credential' ||
    status=$?
else
  echo "relay suites with kernel-fast-path on: skipped (needs root, bpftool and BPF; or a test selection was given)"
fi
# Files tests leave for people to look at (e.g. rdv report's page and its Chromium screenshot).
artifacts="${BUILD_DIR:-build}/test-artifacts"
if [[ -d "$artifacts" ]]; then
  echo "test artifacts in $artifacts:"
  find "$artifacts" -type f -printf '  %p (%s bytes)\n'
fi
exit "$status"
