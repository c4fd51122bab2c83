#!/usr/bin/env bash
# Install what is missing, build, and start a node on the embedded default configuration
# (STUN/TURN on 127.0.0.1:3478, HTTP API on 127.0.0.1:8080; no secrets needed). Extra arguments go to rendezvousd.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build} scripts/build.sh
exec "${BUILD_DIR:-build}/bin/rendezvousd" "$@"
