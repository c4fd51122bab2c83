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
# Files tests leave for people to look at (e.g. rdv report's page and its Chromium screenshot).
artifacts="${BUILD_DIR:-build}/test-artifacts"
if [[ -d "$artifacts" ]]; then
  echo "test artifacts in $artifacts:"
  find "$artifacts" -type f -printf '  %p (%s bytes)\n'
fi
exit "$status"
