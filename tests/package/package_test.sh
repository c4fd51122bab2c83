#!/usr/bin/env bash
# The Debian package: cpack builds it from the existing build directory, the test checks its control data
# and file list, extracts it into a scratch root (dpkg -x: nothing is installed on this machine) and starts
# the installed rendezvousd on the installed /etc/rendezvous/node.json, with the data dir, the certificate and
# the listen addresses overridden to a temp dir and free loopback ports, until /healthz answers; the
# installed rdv then gets TURN credentials from it. Everything started is stopped, the scratch root removed.
set -euo pipefail
build=$(cd "${1:?usage: package_test.sh BUILD_DIR}" && pwd)
tmp=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "package_test: $*" >&2; exit 1; }

# 1. Build the .deb (strip, dpkg-shlibdeps) into the scratch dir, not into the build tree.
if ! cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1; then
  cat "$tmp/cpack.log"; fail "cpack failed"
fi
deb=$(ls "$tmp"/out/rendezvous_*.deb 2>/dev/null | head -n1)
[[ -f "$deb" ]] || { cat "$tmp/cpack.log"; fail "no rendezvous_*.deb made"; }
echo "package: $(basename "$deb") ($(stat -c %s "$deb") bytes)"

# 2. Control data: name, dependencies from the binaries' libraries, the maintainer scripts, the conffile.
[[ "$(dpkg-deb -f "$deb" Package)" == rendezvous ]] || fail "package name is not rendezvous"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for lib in adduser libc6 libuv1 libssl3 libsqlite3-0 libwebsockets17; do
  [[ ",$depends" == *", $lib"* || ",$depends" == *",$lib"* ]] || fail "Depends lacks $lib: $depends"
done
dpkg-deb -e "$deb" "$tmp/control"
grep -qx /etc/rendezvous/node.json "$tmp/control/conffiles" || fail "node.json is not a conffile"
[[ -x "$tmp/control/postinst" ]] || fail "no executable postinst"
sh -n "$tmp/control/postinst" && sh -n "$tmp/control/postrm"
grep -q "adduser --system" "$tmp/control/postinst" || fail "postinst does not create the system user"
grep -q "/var/lib/rendezvous" "$tmp/control/postinst" || fail "postinst does not create /var/lib/rendezvous"

# 3. The file list.
dpkg-deb -c "$deb" | awk '{print $NF}' > "$tmp/files"
for f in ./usr/bin/rendezvousd ./usr/bin/rdv ./etc/rendezvous/node.json ./usr/lib/systemd/system/rendezvousd.service \
         ./usr/share/doc/rendezvous/grafana-dashboard.json ./usr/share/doc/rendezvous/prometheus-alerts.yml; do
  grep -qx -- "$f" "$tmp/files" || { cat "$tmp/files"; fail "$f is not in the package"; }
done
if grep -E '^\./usr/local/|/build/' "$tmp/files"; then fail "build or /usr/local paths in the package"; fi

# 4. Extract into a scratch root and check the unit.
root="$tmp/root"
dpkg -x "$deb" "$root"
unit="$root/usr/lib/systemd/system/rendezvousd.service"
grep -qx "User=rendezvous" "$unit" || fail "the unit does not run as rendezvous"
grep -qx "ExecStart=/usr/bin/rendezvousd --config /etc/rendezvous/node.json" "$unit" || fail "unexpected ExecStart"
grep -qx "StateDirectory=rendezvous" "$unit" || fail "the unit has no StateDirectory"
grep -q '"data-dir": "/var/lib/rendezvous"' "$root/etc/rendezvous/node.json" || fail "node.json's data-dir is not /var/lib/rendezvous"
# systemd's own check of the unit (directives, paths), with ExecStart pointing at the extracted binary.
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$tmp/unit"
  sed "s|/usr/bin/rendezvousd|$root/usr/bin/rendezvousd|g" "$unit" > "$tmp/unit/rendezvousd.service"
  out=$(systemd-analyze verify "$tmp/unit/rendezvousd.service" 2>&1) || fail "systemd-analyze verify: $out"
  [[ -z "$out" ]] || fail "systemd-analyze verify: $out"
fi

# 5. The installed binary on the installed config, overridden to a temp dir and loopback.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" \
  -days 1 -subj /CN=127.0.0.1 >/dev/null 2>&1
overrides=(--config "$root/etc/rendezvous/node.json" --listen 127.0.0.1:0 --tls-listen 127.0.0.1:0
           --cert "$tmp/cert.pem" --key "$tmp/key.pem" --http-listen 127.0.0.1:0 --data-dir "$tmp/data"
           --ready-file "$tmp/ready.json")
check=$("$root/usr/bin/rendezvousd" "${overrides[@]}" --check-config) || fail "--check-config refused the installed config"
[[ "$check" == ok ]] || fail "--check-config said: $check"
"$root/usr/bin/rendezvousd" "${overrides[@]}" >"$tmp/node.log" 2>&1 &
pid=$!
for _ in $(seq 300); do [[ -f "$tmp/ready.json" ]] || ! kill -0 "$pid" 2>/dev/null && break; sleep 0.1; done
[[ -f "$tmp/ready.json" ]] || { cat "$tmp/node.log"; fail "the installed rendezvousd did not become ready in 30 s"; }
http=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"])' "$tmp/ready.json")
health=$(python3 -c 'import sys,urllib.request; print(urllib.request.urlopen("http://"+sys.argv[1]+"/healthz", timeout=10).read().decode())' "$http")
[[ "$health" == *'"ok"'* ]] || fail "/healthz answered: $health"
echo "healthz: $health"
"$root/usr/bin/rdv" key new --out "$tmp/peer.key" >/dev/null
"$root/usr/bin/rdv" ice-servers --node "http://$http" --key "$tmp/peer.key" | grep -q '"credential"' \
  || { cat "$tmp/node.log"; fail "the installed rdv got no TURN credential from the installed node"; }
kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then fail "rendezvousd did not stop within 10 s of SIGTERM"; fi
wait "$pid" || fail "rendezvousd exited non-zero after SIGTERM"
pid=""
echo "package_test: ok"
