#!/usr/bin/env bash
# Builds rendezvous and its Debian package: build/package/rendezvous_<version>_<arch>.deb
# (docs/operator.md, "Install from the package").
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
BUILD_DIR=$BUILD_DIR scripts/build.sh
cpack -G DEB --config "$BUILD_DIR/CPackConfig.cmake" -B "$BUILD_DIR/package"
ls -l "$BUILD_DIR"/package/rendezvous_*.deb
