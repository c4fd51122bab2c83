#!/usr/bin/python3
"""Time to first byte of `rdv connect` on plain loopback (no namespaces, no root): a rendezvousd on
127.0.0.1 (ports picked by the kernel), one `rdv listen`, then --runs connects with --count 1, each with a
fresh key. Prints every run's `connected` line phases and the median of each phase (docs/agent.md "Where
the time goes"). A benchmark, not a test: nothing is asserted; the numbers go to --out as JSON if given.

    tests/natlab/loopback_bench.py --bin-dir build/bin --runs 15 [--relay-only] [--out results.json]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import natlab  # noqa: E402


AUTH_METRICS = ("rendezvous_relay_unauthorized_total", "rendezvous_relay_stale_nonce_total",
                "rendezvous_relay_unauthorized_rate_limited_total")


def auth_counters(admin):
    """The node's TURN authentication answers (401, 438) and those its per-source limiter refused."""
    req = urllib.request.Request("http://%s/metrics" % admin,
                                 headers={"Authorization": "Bearer " + natlab.ADMIN_TOKEN})
    totals = {name: 0.0 for name in AUTH_METRICS}
    for line in urllib.request.urlopen(req, timeout=5).read().decode().splitlines():
        for name in AUTH_METRICS:
            if line.startswith(name + " ") or line.startswith(name + "{"):
                totals[name] += float(line.rsplit(" ", 1)[1])
    return {name.replace("rendezvous_relay_", ""): int(v) for name, v in totals.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--relay-only", action="store_true", help="both peers --relay-only (through the node's TURN)")
    ap.add_argument("--out", help="write the runs and medians here (JSON)")
    a = ap.parse_args()
    rdv, node = os.path.join(a.bin_dir, "rdv"), os.path.join(a.bin_dir, "rendezvousd")
    work = tempfile.mkdtemp(prefix="rdv-loopback-bench-")
    procs = []
    try:
        ready = os.path.join(work, "ready.json")
        procs.append(subprocess.Popen(
            [node, "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--data-dir", os.path.join(work, "data"),
             "--ready-file", ready, "--auth-secret", natlab.AUTH_SECRET, "--allow-peer", "127.0.0.0/8",
             "--admin-listen", "127.0.0.1:0", "--admin-token", natlab.ADMIN_TOKEN,
             "--ice-servers-burst", "1000", "--ice-servers-per-minute", "100000", "--log-level", "warn"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "node.log"), "w")))
        if not natlab.wait_until(lambda: os.path.exists(ready), 15):
            raise SystemExit("rendezvousd did not start: " + open(os.path.join(work, "node.log")).read())
        bound = json.load(open(ready))
        url, admin = "http://" + bound["http"], bound["admin"]

        def key(name):
            path = os.path.join(work, name + ".key")
            return path, subprocess.run([rdv, "key", "new", "--out", path], capture_output=True, text=True,
                                        check=True).stdout.strip()[:64]
        extra = ["--local-address", "127.0.0.1"] + (["--relay-only"] if a.relay_only else [])
        lkey, lid = key("listen")
        listen = subprocess.Popen([rdv, "listen", "--node", url, "--key", lkey] + extra, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        procs.append(listen)
        line = listen.stdout.readline()
        if '"listening"' not in line:
            raise SystemExit("rdv listen did not start: " + line)
        heard = []  # the listener's lines, drained by a thread (shown for a failed run)
        threading.Thread(target=lambda: heard.extend(iter(listen.stdout.readline, "")), daemon=True).start()
        runs = []
        for i in range(a.runs):
            ckey, _ = key("connect%d" % i)
            p = subprocess.run([rdv, "connect", "--node", url, "--key", ckey, "--to", lid, "--count", "1",
                                "--timeout", "20"] + extra, capture_output=True, text=True, timeout=40)
            if '"connected"' not in p.stdout:
                print(json.dumps({"failed": i, "exit": p.returncode, "stdout": p.stdout[-2000:],
                                  "stderr": p.stderr[-2000:], "listener": heard[-4:],
                                  "node_auth": auth_counters(admin)}), flush=True)
            for out in p.stdout.splitlines():
                e = json.loads(out)
                if e.get("event") == "connected":
                    runs.append(e)
                    print(json.dumps({"ttfb_ms": e["time_to_first_byte_ms"], "path": e.get("path"),
                                      "phases": e.get("phases")}), flush=True)
        medians = {"time_to_first_byte_ms": statistics.median(r["time_to_first_byte_ms"] for r in runs) if runs else None}
        for name in (runs[0].get("phases") or {}) if runs else {}:
            values = [r["phases"][name] for r in runs if r["phases"].get(name) is not None]
            medians[name] = statistics.median(values) if values else None
        summary = {"runs": len(runs), "of": a.runs, "relay_only": a.relay_only, "median": medians,
                   "load_average": os.getloadavg(), "node_auth": auth_counters(admin),
                   "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        print(json.dumps(summary))
        if a.out:
            with open(a.out, "w") as f:
                json.dump(dict(summary, connected=runs), f, indent=2)
        return 0 if len(runs) == a.runs else 1
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(3)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
