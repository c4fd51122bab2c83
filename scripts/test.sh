#!/usr/bin/env bash
# The whole suite on a fresh Debian 12 machine: install what is missing, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
BUILD_DIR=${BUILD_DIR:-build} scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" -j "$(nproc)" --output-on-failure --timeout 600 "$@"
