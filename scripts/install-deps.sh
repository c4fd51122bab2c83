#!/usr/bin/env bash
# Installs the Debian 12 packages rendezvous needs to build and test, only those that are missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libuv1-dev libssl-dev openssl libsecp256k1-dev nlohmann-json3-dev
  libnice-dev libglib2.0-dev libsrtp2-dev libusrsctp-dev libwebsockets-dev libwebsockets-evlib-uv libsqlite3-dev
  libcli11-dev libspdlog-dev libgtest-dev libgmock-dev libbenchmark-dev
  libhiredis-dev
)
# clang and libclang-rt-14-dev: the libFuzzer build of tests/fuzz (scripts/fuzz.sh). prometheus: promtool checks
# configs/prometheus-alerts.yml (tests/configs). redis-server: the fleet tests' own Redis (tests/fleet). dpkg-dev: dpkg-shlibdeps for cpack's .deb (tests/package).
# sqlite3: the ledger privacy test reads the ledger with the sqlite3 command. tayga: the NAT lab's NAT64.
# libbpf-dev and bpftool (with clang): the kernel fast path's BPF program and its skeleton (rendezvous/node/fastpath);
# without them the daemon builds without it.
TEST_PACKAGES=(coturn sqlite3 iproute2 iptables ipset procps python3 python3-prometheus-client chromium clang libclang-rt-14-dev
               prometheus dpkg-dev tayga redis-server libbpf-dev bpftool)
# The JavaScript package (signalling/web) is built and tested with node and npm; its own dependencies come
# from the npm registry through `npm ci` (package-lock.json) in tests/web/run_npm_tests.sh. A node that is
# already installed (e.g. a newer one whose package provides npm itself) is kept.
NODE_PACKAGES=(nodejs npm)

want=("${PACKAGES[@]}")
if [[ "${1:-}" == "--test" ]]; then
  want+=("${TEST_PACKAGES[@]}")
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then want+=("${NODE_PACKAGES[@]}"); fi
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#want[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
# coturn's and prometheus' packages must not start system daemons that would hold our test ports.
DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
