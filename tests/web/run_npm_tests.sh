#!/usr/bin/env bash
# CTest's web_npm_test: install the locked dependencies (npm ci, package-lock.json), build
# dist/rendezvous.js and run `npm test` (node's test runner) in signalling/web.
set -euo pipefail
cd "$1"
node_major=$(node -p 'process.versions.node.split(".")[0]')
if (( node_major < 20 )); then
  echo "web tests: node $(node --version) is too old; the package needs node >= 20.19" >&2
  exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
npm run build
npm test
