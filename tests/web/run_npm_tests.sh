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
# The tests talk to 127.0.0.1 only. As root, run them in a network namespace of their own whose only
# interface is loopback: nothing can leave it, and the Chromium test can then let the browser gather
# host candidates for its direct-path case (it skips that case when other interfaces exist).
if [[ $(id -u) -eq 0 ]] && command -v unshare >/dev/null 2>&1 && unshare -n true 2>/dev/null; then
  exec unshare -n sh -c 'ip link set lo up && npm test'
fi
npm test
