#!/usr/bin/env python3
"""Side-by-side benchmarks: rendezvousd vs coturn vs the raw-socket baseline (rdv-baseline).

Every scenario runs against each target, several rounds, the targets' order rotating each round; the
server is pinned to core 0 and rdv-loadgen to core 1 (taskset; with --procs N, N load generators on
cores 1..N, results summed). Every traffic scenario also gives the server's CPU time per answer, relayed
packet or allocation (utime+stime over the timed phase), and --rate adds fixed-rate runs below
saturation. Prints one table (median, min-max, ratios) and writes it to a results file. Every process
started here is killed on exit, even on failure. Standard library only. See docs/benchmarks.md.
"""
import argparse
import atexit
import concurrent.futures
import datetime
import json
import os
import random
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import NA, TARGETS, render, table_rows  # noqa: E402

USER, PASSWORD, REALM, SECRET = "bench", "benchpass", "bench", "bench-rest-secret"
REST_ID = "bench"  # rdv-loadgen --rest-secret: username EXPIRY:bench (its --user, default "bench")

# name, loadgen arguments, the result key shown, unit, which baseline (None: no baseline), TURN or not.
SCENARIOS = [
    ("binding", ["--scenario", "binding", "--flows", "4", "--window", "32"], "value", "req/s", "echo", False),
    ("allocate", ["--scenario", "allocate", "--flows", "32"], "value", "alloc/s", None, True),
    ("allocate-rest", ["--scenario", "allocate", "--flows", "32", "--rest-secret", SECRET], "value", "alloc/s",
     None, True),
    ("channel-100", ["--scenario", "channel", "--flows", "16", "--window", "16", "--payload", "100"], "value",
     "pkt/s", "forward", True),
    ("channel-1200", ["--scenario", "channel", "--flows", "16", "--window", "16", "--payload", "1200"], "value",
     "pkt/s", "forward", True),
    ("send-100", ["--scenario", "send", "--flows", "16", "--window", "16", "--payload", "100"], "value",
     "pkt/s", "forward", True),
    ("send-1200", ["--scenario", "send", "--flows", "16", "--window", "16", "--payload", "1200"], "value",
     "pkt/s", "forward", True),
    ("latency", ["--scenario", "latency", "--flows", "4", "--window", "64", "--payload", "100"], "latency", "us",
     "forward", True),
    # The server and the raw forwarder at once (both on core 0), packets alternating between them, kernel
    # timestamps (docs/benchmarks.md, "latency-paired"); the baseline column comes from the forwarder's half.
    ("latency-paired", ["--scenario", "latency-paired", "--flows", "2", "--payload", "100"], "value", "us", None,
     True),
]
# Scenarios with a fixed-rate variant (--rate): "NAME @R/s", the same traffic at R packets/s in total.
RATE_VARIANTS = ("binding", "channel-100", "channel-1200", "send-100", "send-1200")
# Scenarios --procs spreads over several load generators (the others always run one).
MULTI_PROC = ("binding", "allocate", "allocate-rest", "channel", "send")


def base_name(name):
    """The scenario a row or variant belongs to: "channel-100 @5000/s" -> "channel-100"."""
    return name.split(" @")[0]


def with_rate_variants(rate):
    """SCENARIOS plus, when rate > 0, a fixed-rate copy of each RATE_VARIANTS scenario."""
    out = list(SCENARIOS)
    if rate > 0:
        for name, args, key, unit, base, turn in SCENARIOS:
            if name in RATE_VARIANTS:
                out.append(("%s @%d/s" % (name, rate), args + ["--rate", str(rate)], key, unit, base, turn))
    return out


# Scenario 6 (registry and signalling, rdv-apibench against rendezvousd's HTTP API; coturn has no
# equivalent): (row, scenario key in results, result key, unit).
API_ROWS = [
    ("registry registrations", "registry", "value", "reg/s"),
    ("registry reg per CPU-second", "registry", "per_core", "reg/s"),
    ("registry discover p50", "registry", "discover_p50_us", "us"),
    ("registry discover p99", "registry", "discover_p99_us", "us"),
    ("signal envelopes", "signal", "value", "env/s"),
    ("signal env per CPU-second", "signal", "per_core", "env/s"),
    ("signal latency p50", "signal-latency", "p50_us", "us"),
    ("signal latency p99", "signal-latency", "p99_us", "us"),
    ("signal bytes/idle conn", "signal", "bytes_per_connection", "B"),
    # --nodes 2 or more (docs/fleet.md): a fleet of two nodes on one redis-server, latency at the same rate
    # with both clients of each pair at node A, then with the second one at node B (the envelope crosses).
    ("signal fleet same-node p50", "signal-fleet-same", "p50_us", "us"),
    ("signal fleet same-node p99", "signal-fleet-same", "p99_us", "us"),
    ("signal fleet cross-node p50", "signal-fleet-cross", "p50_us", "us"),
    ("signal fleet cross-node p99", "signal-fleet-cross", "p99_us", "us"),
    # --nodes N: N nodes at once, one rdv-apibench per node whose pairs' second clients sit at the next
    # node, so every envelope crosses; envelopes/s summed over the nodes (compare "signal envelopes").
    ("signal fleet envelopes, all cross-node", "signal-fleet-rate", "value", "env/s"),
    ("topic fan-out deliveries", "fanout", "deliveries_per_s", "msg/s"),
    ("topic fan-out p99", "fanout", "p99_us", "us"),
    ("presence offline p99", "fanout", "presence_offline_p99_us", "us"),
    ("publish frame (32 B body)", "fanout", "publish_frame_bytes", "B"),
    ("publish frame JSON, same message", "fanout", "publish_frame_bytes_json", "B"),
    ("publish frame CBOR (rdv.cbor.1)", "fanout", "publish_frame_bytes_cbor", "B"),
    ("publish frame v2 JSON", "fanout", "publish_frame_bytes_json_v2", "B"),
    ("publish frame v2 CBOR", "fanout", "publish_frame_bytes_cbor_v2", "B"),
]
# The hub's per-connection token bucket (signal-rate, 50 frames/s by default) would measure the limit,
# not the hub: the benchmark node lifts it.
# The load generators come from one address with many keys: lift the per-IP and per-sender abuse limits
# (docs/operator.md, "Running a public node"), which are not what these scenarios measure.
API_NODE_FLAGS = ["--signal-rate", "10000000", "--signal-burst", "10000000",
                  "--registry-writes-per-minute", "1000000", "--registry-write-burst", "1000000",
                  "--signal-mailbox-per-sender", "100000000", "--signal-mailbox-per-sender-bytes", "4000000000",
                  "--signal-mailbox-per-sender-recipient", "10000000",
                  # thousands of connections from 127.0.0.1, idle between phases, with no pong
                  # handling in rdv-apibench's client
                  "--http-max-connections", "1000000", "--http-max-connections-per-ip", "1000000",
                  "--http-idle-timeout", "3600", "--signal-ping-interval", "3600",
                  # one publisher at 50 messages/s to 1,000 subscribers (scenario fanout)
                  "--signal-topic-publish-rate", "100000", "--signal-topic-rate", "100000"]
PROCS = []  # every child process, killed at exit


def verify_thread_counts(args):
    return [int(x) for x in args.verify_threads.split(",") if x.strip()] if args.verify_threads else []


def api_rows(args):
    """API_ROWS plus one pair of rows per --verify-threads count."""
    rows = list(API_ROWS)
    for n in verify_thread_counts(args):
        key = "signal-verify-%d" % n
        rows.append(("signal envelopes, %d verifier thread%s" % (n, "" if n == 1 else "s"), key, "value", "env/s"))
        rows.append(("signal env per CPU-second, %d verifier%s" % (n, "" if n == 1 else "s"), key, "per_core", "env/s"))
    return rows


def kill_all():
    for p in PROCS:
        if p.poll() is None:
            p.terminate()
    deadline = time.time() + 3
    for p in PROCS:
        try:
            p.wait(max(0.05, deadline - time.time()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    PROCS.clear()


def on_signal(signum, _frame):
    kill_all()
    sys.exit(128 + signum)


def spawn(cmd, **kw):
    p = subprocess.Popen(cmd, start_new_session=True, **kw)
    PROCS.append(p)
    return p


def stop(p):
    if p and p.poll() is None:
        p.terminate()
        try:
            p.wait(3)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in PROCS:
        PROCS.remove(p)


def free_port(ip="127.0.0.1", tcp_too=True):
    """A port free for UDP (and TCP) on ip right now: bound to 0, then released."""
    for _ in range(50):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((ip, 0))
        port = u.getsockname()[1]
        try:
            if tcp_too:
                t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                t.bind((ip, port))
                t.close()
            return port
        except OSError:
            continue
        finally:
            u.close()
    raise RuntimeError("no free port")


def stun_ready(port, timeout):
    """Waits until a STUN Binding request to 127.0.0.1:port is answered."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.05)
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            s.sendto(struct.pack("!HHI12s", 1, 0, 0x2112A442, os.urandom(12)), ("127.0.0.1", port))
            try:
                if len(s.recv(2048)) >= 20:
                    return True
            except OSError:
                pass
        return False
    finally:
        s.close()


def wait_ready_file(path, proc, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        try:
            with open(path) as f:
                return json.load(f)
        except (OSError, ValueError):
            time.sleep(0.02)
    return None


def raise_nofile(n):
    """preexec: lift the open-file limit to n (the hard limit too when allowed)."""
    def apply():
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, n), max(hard, n)))
        except (ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return apply


class LineReader:
    """Lines from a child's stdout pipe with a deadline each (never blocks past it)."""

    def __init__(self, pipe):
        self.fd = pipe.fileno()
        self.buf = b""

    def line(self, timeout):
        deadline = time.time() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.time()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return ""
            chunk = os.read(self.fd, 65536)
            if not chunk:
                break
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode(errors="replace").strip()


def parse_result(line, missing):
    try:
        return json.loads(line) if line.startswith("{") else {"ok": False, "error": missing}
    except ValueError:
        return {"ok": False, "error": missing}


SUMMED = ("value", "mbps", "sent", "received", "invalid", "lost", "relayed", "units", "allocations", "cycles",
          "challenges", "turn_errors", "timeouts", "mismatches")


def summed(parts, nodes):
    """One rdv-apibench result per fleet node: the first failure, or their values summed."""
    bad = [r for r in parts if not r.get("ok")]
    if bad:
        return bad[0]
    out = dict(parts[0])
    out["value"] = sum(r["value"] for r in parts)
    out["nodes"] = nodes
    return out


def combine(results):
    """One result from several load generators' (--procs): rates and counts summed; the server's CPU
    time from the first start to the last end of their timed phases, over the summed units."""
    if len(results) == 1:
        return results[0]
    bad = [r for r in results if not r.get("ok")]
    if bad:
        return dict(bad[0], procs=len(results))
    out = {k: v for k, v in results[0].items() if not k.startswith(("p50", "p99", "p999"))}
    for k in SUMMED:
        if all(k in r for r in results):
            out[k] = sum(r[k] for r in results)
    if all("server_cpu_start_us" in r for r in results):
        cpu = max(r["server_cpu_end_us"] for r in results) - min(r["server_cpu_start_us"] for r in results)
        out["server_cpu_us"] = cpu
        out["cpu_us_per"] = cpu / out["units"] if out.get("units") else 0
    out["procs"] = len(results)
    return out


class Bench:
    def __init__(self, args):
        self.args = args
        self.bin = args.bin_dir
        self.tmp = tempfile.mkdtemp(prefix="rdv-bench-")
        self.pin = (os.cpu_count() or 1) >= 2
        self.ours_turn = False
        self.ours_flags = ""
        self.scenarios = with_rate_variants(args.rate)

    def taskset(self, core):
        return ["taskset", "-c", str(core)] if self.pin and shutil.which("taskset") else []

    def server_cores(self, extra):
        """Core 0, plus `extra` cores after the load generators' (1..procs) when the machine has them:
        the verifier-pool rows give the node room to scale."""
        first = 1 + max(1, self.args.procs)
        more = [c for c in range(first, first + extra) if c < (os.cpu_count() or 1)]
        return ",".join(str(c) for c in [0] + more)

    def relay_range(self, size):
        # Below the kernel's ephemeral ports (32768-) where possible. Large by default: coturn keeps a freed
        # relay port a while, so a small range ends in 508 under the allocate scenario.
        lo = random.randrange(10000, max(10001, 32000 - size))
        return lo, min(65000, lo + size)

    # --- servers -------------------------------------------------------------------------------------
    def start_ours(self, auth, relay_size=20000, api=False, extra=(), cores="0"):
        ready = os.path.join(self.tmp, "rdv-%d.json" % random.randrange(1 << 30))
        cmd = self.taskset(cores) + [self.args.rendezvousd, "--listen", "127.0.0.1:0", "--workers", "1",
                                 "--ready-file", ready, "--log-level", "warn"]
        if "--http-listen" in self.ours_flags:
            cmd += ["--http-listen", "127.0.0.1:0"]
        if "--data-dir" in self.ours_flags:
            cmd += ["--data-dir", tempfile.mkdtemp(dir=self.tmp)]
        if api:
            cmd += API_NODE_FLAGS
        cmd += list(extra)
        if self.ours_turn:
            if "--allocations-per-user" in self.ours_flags:
                cmd += ["--allocations-per-user", "0"]  # unlimited, as coturn's default user-quota
            if "--allocate-rate-per-ip" in self.ours_flags:
                # One load generator address makes every Allocate: no per-IP rate, no derived node caps
                # (coturn's defaults have none either).
                cmd += ["--allocate-rate-per-ip", "100000", "--allocate-burst-per-ip", "1000000",
                        "--max-allocations", "0", "--bps-capacity", "0"]
            lo, hi = self.relay_range(relay_size)
            cmd += ["--realm", REALM, "--relay-ports", "%d-%d" % (lo, hi), "--allow-peer", "127.0.0.0/8"]
            cmd += ["--auth-secret", SECRET] if auth == "rest" else ["--user", "%s:%s" % (USER, PASSWORD)]
            if auth == "rest" and "--quota-members" in self.ours_flags:
                # REST identities not listed are in the "limited" class (16 concurrent allocations, 2 min,
                # 128 KiB): the bench identity is unlimited, like coturn's default.
                cmd += ["--quota-members", json.dumps({REST_ID: "unlimited"})]
        p = spawn(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                  preexec_fn=raise_nofile(relay_size + 4096))
        info = wait_ready_file(ready, p, 10)
        if not info:
            err = p.stderr.read().decode(errors="replace")[-300:] if p.poll() is not None else "no ready file"
            stop(p)
            raise RuntimeError("rendezvousd did not start: " + err.strip())
        if api:
            return p, info.get("http")
        return p, info["udp"][0]

    def start_coturn(self, auth, relay_size=20000):
        port = free_port()
        lo, hi = self.relay_range(relay_size)
        cmd = self.taskset(0) + [
            "turnserver", "-n", "--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1",
            "--listening-port", str(port), "--relay-threads", "1", "--min-port", str(lo), "--max-port", str(hi),
            "--no-cli", "--no-tls", "--no-dtls", "--no-rfc5780", "--allow-loopback-peers",
            "--log-file", "stdout", "--simple-log", "--pidfile", os.path.join(self.tmp, "coturn.pid"),
            "--realm", REALM]
        cmd += ["--use-auth-secret", "--static-auth-secret", SECRET] if auth == "rest" else \
            ["--lt-cred-mech", "--user", "%s:%s" % (USER, PASSWORD)]
        p = spawn(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                  preexec_fn=raise_nofile(relay_size + 4096))
        if not stun_ready(port, 10):
            stop(p)
            raise RuntimeError("turnserver did not answer on port %d" % port)
        return p, "127.0.0.1:%d" % port

    def start_baseline(self, mode, peer_port):
        ready = os.path.join(self.tmp, "base-%d.json" % random.randrange(1 << 30))
        cmd = self.taskset(0) + [os.path.join(self.bin, "rdv-baseline"), mode, "--ready-file", ready]
        if mode == "forward":
            cmd += ["--peer", "127.0.0.2:%d" % peer_port]
        p = spawn(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        info = wait_ready_file(ready, p, 10)
        if not info:
            stop(p)
            raise RuntimeError("rdv-baseline %s did not start" % mode)
        return p, info["udp"][0]

    # --- load ----------------------------------------------------------------------------------------
    def load_cores(self, n):
        """Cores for n load generators: 1..n, wrapping over the cores after the server's core 0."""
        cores = max(1, (os.cpu_count() or 1) - 1)
        return [1 + i % cores for i in range(n)]

    def loadgen_cmd(self, server, label, extra, duration, core=1):
        cmd = self.taskset(core) + [os.path.join(self.bin, "rdv-loadgen"), "--server", server, "--label", label,
                                    "--duration", str(duration), "--user", USER, "--password", PASSWORD]
        cmd += ["--cpu", str(core)] if self.pin else []
        cmd += extra
        if self.args.count:
            cmd += ["--count", str(self.args.count)]
        return cmd

    def loadgen(self, server, label, extra, duration=None, timeout=None):
        duration = self.args.duration if duration is None else duration
        cmd = self.loadgen_cmd(server, label, extra, duration)
        try:
            out = subprocess.run(cmd, capture_output=True, timeout=timeout or duration + 60, text=True)
        except subprocess.TimeoutExpired:
            return {"ok": False, "error": "rdv-loadgen timed out"}
        lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
        if not lines:
            return {"ok": False, "error": "rdv-loadgen: " + out.stderr.strip()[-300:]}
        return json.loads(lines[-1])

    def loadgen_procs(self, server, label, extra, n):
        """n load generators (--slice K/N, each on its own core from load_cores), set up apart, then started
        together (--sync) and their results summed (combine)."""
        duration = self.args.duration
        cores = self.load_cores(n)
        procs, readers = [], []
        try:
            for k in range(n):
                cmd = self.loadgen_cmd(server, label, extra + ["--sync", "--slice", "%d/%d" % (k, n)], duration,
                                       cores[k])
                p = spawn(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                procs.append(p)
                readers.append(LineReader(p.stdout))
            firsts = [r.line(60 + duration) for r in readers]  # {"event":"ready"}, or a result on failure
            bad = [line for line in firsts if not line.startswith('{"event":"ready"')]
            if bad:
                return parse_result(bad[0], "rdv-loadgen --sync: no ready line")
            for p in procs:
                p.stdin.write(b"\n")
                p.stdin.flush()
            results = []
            for r in readers:
                line = r.line(60 + duration)  # {"event":"done"}
                results.append(parse_result(r.line(30) if line.startswith('{"event":"done"') else line,
                                            "rdv-loadgen --sync: no result"))
            return combine(results)
        finally:
            for p in procs:
                stop(p)

    def scenario_args(self, name, args, target):
        args = list(args)
        if name in ("latency", "latency-paired"):
            args += ["--rate", str(self.args.latency_rate)]
        if target == "baseline":
            args = [a for a in args if a not in ("--rest-secret", SECRET)] + ["--raw"]
        if self.args.procs > 1 and base_name(name).split("-")[0] in MULTI_PROC and "--rate" in args:
            i = args.index("--rate") + 1  # the total rate, shared by the load generators
            args[i] = "%g" % (float(args[i]) / self.args.procs)
        return args

    def probe_ours_turn(self):
        """TURN on rendezvousd: flags present in --help and an authenticated Allocate answered."""
        try:
            self.ours_flags = subprocess.run([self.args.rendezvousd, "--help"], capture_output=True, text=True,
                                             timeout=10).stdout
        except (OSError, subprocess.TimeoutExpired):
            self.ours_flags = ""
        if not all(f in self.ours_flags for f in ("--user", "--relay-ports", "--allow-peer", "--auth-secret")):
            return False
        self.ours_turn = True
        try:
            p, server = self.start_ours("user")
        except RuntimeError:
            self.ours_turn = False
            return False
        r = self.loadgen(server, "probe", ["--scenario", "allocate", "--flows", "1", "--count", "1"], duration=3)
        stop(p)
        self.ours_turn = bool(r.get("ok"))
        return self.ours_turn

    def run_target_round(self, target, results):
        """All traffic scenarios against one target, one server per authentication mode."""
        for auth in ("user", "rest"):
            todo = [s for s in self.scenarios if (s[0] == "allocate-rest") == (auth == "rest")]
            todo = [s for s in todo if base_name(s[0]) in self.args.scenarios]
            if target == "baseline":
                todo = [s for s in todo if s[4]]
            if not todo:
                continue
            if target == "rendezvousd" and not self.ours_turn:
                for s in [s for s in todo if s[5]]:
                    results.setdefault((s[0], target), []).append({"ok": False, "na": True})
                todo = [s for s in todo if not s[5]]
            self.run_on_server(target, auth, todo, results)

    def run_on_server(self, target, auth, todo, results):
        procs = []
        try:
            peer_port = free_port("127.0.0.2", tcp_too=False)
            if target == "baseline":
                servers, pids = {}, {}
                for mode in sorted({s[4] for s in todo}):
                    p, servers[mode] = self.start_baseline(mode, peer_port)
                    pids[mode] = p.pid
                    procs.append(p)
            else:
                p, addr = self.start_ours(auth) if target == "rendezvousd" else self.start_coturn(auth)
                procs.append(p)
                servers = {"echo": addr, "forward": addr}
                pids = {"echo": p.pid, "forward": p.pid}
            for name, args, _key, _unit, base, _turn in todo:
                mode = base or "echo"
                extra = self.scenario_args(name, args, target) + ["--peer-bind", "127.0.0.2:%d" % peer_port,
                                                                  "--server-pid", str(pids[mode])]
                if name == "latency-paired":
                    self.run_paired(target, servers["forward"], extra, peer_port, procs, results)
                    continue
                if self.args.procs > 1 and base_name(name).split("-")[0] in MULTI_PROC:
                    r = self.loadgen_procs(servers[mode], target, extra, self.args.procs)
                else:
                    r = self.loadgen(servers[mode], target, extra)
                results.setdefault((name, target), []).append(r)
        except RuntimeError as e:
            for name, *_ in todo:
                results.setdefault((name, target), []).append({"ok": False, "error": str(e)})
        finally:
            for p in procs:
                stop(p)

    def run_paired(self, target, server, extra, peer_port, procs, results):
        """latency-paired: a raw forwarder started beside the server (core 0 too, the same peer), both in one
        run; the forwarder's half of the result also goes to the baseline column."""
        fwd, fwd_addr = self.start_baseline("forward", peer_port)
        procs.append(fwd)
        r = self.loadgen(server, target, extra + ["--forwarder", fwd_addr, "--forwarder-pid", str(fwd.pid)],
                         duration=self.args.paired_duration)
        results.setdefault(("latency-paired", target), []).append(r)
        view = {k[len("fwd_"):]: v for k, v in r.items() if k.startswith("fwd_")}
        results.setdefault(("latency-paired", "baseline"), []).append(dict(view, ok=r.get("ok", False),
                                                                          error=r.get("error")))

    # --- scenario 6: registry and signalling (rendezvousd only) ----------------------------------------
    def apibench(self, server, extra, timeout):
        cmd = self.taskset(1) + [os.path.join(self.bin, "rdv-apibench"), "--server", server]
        cmd += (["--cpu", "1"] if self.pin else []) + extra
        try:
            out = subprocess.run(cmd, capture_output=True, timeout=timeout, text=True,
                                 preexec_fn=raise_nofile(self.args.signal_clients + 4096))
        except subprocess.TimeoutExpired:
            return {"ok": False, "error": "rdv-apibench timed out"}
        lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
        if not lines:
            return {"ok": False, "error": "rdv-apibench: " + out.stderr.strip()[-300:]}
        return json.loads(lines[-1])

    def run_api(self, results, rnd):
        """One fresh node: signalling (memory per idle connection, envelopes/s, latency at a fixed rate),
        then the registry (registrations/s, discover latency)."""
        todo = [x for x in ("signal", "registry", "fanout") if x in self.args.scenarios]
        if not todo:
            return
        keys = ["signal", "signal-latency"] if "signal" in todo else []
        keys += ["registry"] if "registry" in todo else []
        keys += ["fanout"] if "fanout" in todo else []
        for k in keys:
            results.setdefault((k, "coturn"), []).append({"ok": False, "na": True, "na_text": "n/a (no equivalent)"})
        if not all(f in self.ours_flags for f in ("--http-listen", "--signal-rate")):
            for k in keys:
                results.setdefault((k, "rendezvousd"), []).append({"ok": False, "na": True})
            return
        a = self.args
        p = None
        try:
            p, http = self.start_ours("user", api=True)
            timeout = 120 + 3 * a.duration
            if "signal" in todo:
                common = ["--scenario", "signal", "--clients", str(a.signal_clients), "--duration", str(a.duration)]
                results.setdefault(("signal", "rendezvousd"), []).append(self.apibench(
                    http, common + ["--window", str(a.signal_window), "--server-pid", str(p.pid),
                                    "--key-offset", str(rnd * 100000)], timeout))
                results.setdefault(("signal-latency", "rendezvousd"), []).append(self.apibench(
                    http, common + ["--rate", str(a.signal_rate), "--key-offset", str(rnd * 100000 + 50000),
                                    "--server-pid", str(p.pid)], timeout))
            if "signal" in todo and a.nodes > 1:
                same, cross, rate = self.signal_fleet(rnd, timeout)
                results.setdefault(("signal-fleet-same", "rendezvousd"), []).append(same)
                results.setdefault(("signal-fleet-cross", "rendezvousd"), []).append(cross)
                results.setdefault(("signal-fleet-rate", "rendezvousd"), []).append(rate)
                for k in ("signal-fleet-same", "signal-fleet-cross", "signal-fleet-rate"):
                    results.setdefault((k, "coturn"), []).append({"ok": False, "na": True, "na_text": "n/a (no equivalent)"})
            if "registry" in todo and a.nodes > 1:
                results.setdefault(("registry", "rendezvousd"), []).append(self.registry_fleet(rnd, timeout))
            elif "registry" in todo:
                results.setdefault(("registry", "rendezvousd"), []).append(self.apibench(
                    http, ["--scenario", "registry", "--records", str(a.registry_records), "--duration",
                           str(a.duration), "--discover-requests", str(a.discover_requests),
                           "--key-offset", str(rnd * 1000000), "--server-pid", str(p.pid)], timeout))
            if "fanout" in todo:
                # One publisher, signal-clients subscribers (1,000): deliveries/s and p99, then presence
                # event latency (docs/signalling.md, "Topics" and "Presence").
                results.setdefault(("fanout", "rendezvousd"), []).append(self.apibench(
                    http, ["--scenario", "fanout", "--subscribers", str(a.signal_clients), "--messages", "50",
                           "--interval-ms", "20", "--body", "32", "--key-offset", str(rnd * 1000000 + 500000)],
                    timeout))
        except RuntimeError as e:
            for k in keys:
                results.setdefault((k, "rendezvousd"), []).append({"ok": False, "error": str(e)})
        finally:
            stop(p)
        if "signal" in todo:
            self.run_verify_threads(results, rnd)

    def run_verify_threads(self, results, rnd):
        """The hub's signature-verifier pool (issue 13, item 5): envelopes/s with N verifier threads, each on
        a fresh node given N more cores than the load generators use, where the machine has them."""
        a = self.args
        for n in verify_thread_counts(a):
            key = "signal-verify-%d" % n
            p = None
            try:
                p, http = self.start_ours("user", api=True, extra=["--signal-verify-threads", str(n)],
                                          cores=self.server_cores(n))
                results.setdefault((key, "rendezvousd"), []).append(self.apibench(
                    http, ["--scenario", "signal", "--clients", str(a.signal_clients), "--duration",
                           str(a.duration), "--window", str(a.signal_window), "--server-pid", str(p.pid),
                           "--key-offset", str(rnd * 100000 + 20000 + n * 1000)], 120 + 3 * a.duration))
            except RuntimeError as e:
                results.setdefault((key, "rendezvousd"), []).append({"ok": False, "error": str(e)})
            finally:
                stop(p)
            results.setdefault((key, "coturn"), []).append({"ok": False, "na": True, "na_text": "n/a (no equivalent)"})

    def start_redis(self):
        """A redis-server of our own on a free loopback port (appendonly yes): (process, port)."""
        port = free_port(tcp_too=True)
        rdir = tempfile.mkdtemp(dir=self.tmp)
        redis = spawn(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", rdir, "--appendonly", "yes",
                       "--save", ""], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as c:
                    c.sendall(b"PING\r\n")
                    if c.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                time.sleep(0.05)
        return redis, port

    def signal_fleet(self, rnd, timeout):
        """The added latency of a cross-node envelope (docs/fleet.md): two nodes on one redis-server, the
        signal scenario at --signal-rate with every pair at node A, then with each pair's second client at
        node B (rdv-apibench --server2), so every envelope goes A -> Redis pub/sub -> B and its ack back."""
        a = self.args
        if not shutil.which("redis-server") or "--redis" not in self.ours_flags:
            na = {"ok": False, "na": True, "na_text": "n/a (no redis-server or no fleet support)"}
            return na, na, na
        redis, port = self.start_redis()
        nodes = []
        try:
            for i in range(max(2, a.nodes)):
                nodes.append(self.start_ours("user", api=True, extra=["--redis", "redis://127.0.0.1:%d" % port],
                                             cores=str(i % max(1, os.cpu_count() or 1))))
            (pa, http_a), (_, http_b) = nodes[:2]
            common = ["--scenario", "signal", "--clients", str(min(a.signal_clients, 200)), "--duration",
                      str(a.duration), "--rate", str(a.signal_rate), "--server-pid", str(pa.pid)]
            same = self.apibench(http_a, common + ["--key-offset", str(rnd * 100000 + 70000)], timeout)
            cross = self.apibench(http_a, common + ["--server2", http_b, "--key-offset", str(rnd * 100000 + 80000)],
                                  timeout)
            return same, cross, self.signal_fleet_rate(nodes, rnd, timeout)
        finally:
            for p, _ in nodes:
                stop(p)
            stop(redis)

    def signal_fleet_rate(self, nodes, rnd, timeout):
        """Envelopes/s of the whole fleet: one rdv-apibench per node at once (window mode), each pair's
        second client at the next node, so every envelope and its ack cross Redis; the rates summed."""
        a = self.args
        clients = max(2, a.signal_clients // len(nodes) // 2 * 2)  # pairs
        with concurrent.futures.ThreadPoolExecutor(len(nodes)) as pool:
            futures = [pool.submit(self.apibench, http, [
                "--scenario", "signal", "--clients", str(clients), "--duration", str(a.duration),
                "--window", str(a.signal_window), "--server-pid", str(p.pid),
                "--server2", nodes[(i + 1) % len(nodes)][1],
                "--key-offset", str(rnd * 100000 + 90000 + i * 2000)], timeout) for i, (p, http) in enumerate(nodes)]
            parts = [f.result() for f in futures]
        return summed(parts, len(nodes))

    def registry_fleet(self, rnd, timeout):
        """Registry writes/s of a fleet (docs/fleet.md): a redis-server of our own (appendonly yes), --nodes
        rendezvousd nodes on it, one rdv-apibench per node at once; registrations/s summed."""
        a = self.args
        if not shutil.which("redis-server") or "--redis" not in self.ours_flags:
            return {"ok": False, "na": True, "na_text": "n/a (no redis-server or no fleet support)"}
        redis, port = self.start_redis()
        nodes = []
        try:
            for _ in range(a.nodes):
                nodes.append(self.start_ours("user", api=True, extra=["--redis", "redis://127.0.0.1:%d" % port]))
            with concurrent.futures.ThreadPoolExecutor(len(nodes)) as pool:
                futures = [pool.submit(self.apibench, http, [
                    "--scenario", "registry", "--records", str(a.registry_records), "--duration", str(a.duration),
                    "--discover-requests", str(a.discover_requests), "--key-offset", str(rnd * 10000000 + i * 1000000),
                    "--server-pid", str(p.pid)], timeout) for i, (p, http) in enumerate(nodes)]
                parts = [f.result() for f in futures]
            return summed(parts, a.nodes)
        finally:
            for p, _ in nodes:
                stop(p)
            stop(redis)

    # --- memory --------------------------------------------------------------------------------------
    def rss_kib(self, pid):
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def settled_rss_kib(self, pid, window=1.25, limit=6.0):
        """RSS once it holds still: two samples `window` s apart (longer than rendezvousd's 1 s ledger flush,
        which frees a burst's queued events) within 64 KiB, at most `limit` s after the first."""
        time.sleep(0.5)
        samples = [(time.monotonic(), self.rss_kib(pid))]
        while True:
            time.sleep(0.25)
            now, rss = time.monotonic(), self.rss_kib(pid)
            samples.append((now, rss))
            earlier = [r for t, r in samples if t <= now - window]
            if earlier and abs(rss - earlier[-1]) <= 64:
                return rss
            if now - samples[0][0] >= limit:
                return rss

    def memory_level(self, target, level):
        """Fresh server, RSS idle, then RSS with `level` allocations held by rdv-loadgen."""
        start = self.start_ours if target == "rendezvousd" else self.start_coturn
        p, server = start("user", relay_size=level + 1000)
        try:
            time.sleep(0.3)
            idle = self.rss_kib(p.pid)
            cmd = self.taskset(1) + [os.path.join(self.bin, "rdv-loadgen"), "--scenario", "memory", "--server",
                                     server, "--allocations", str(level), "--hold", "120", "--label", target,
                                     "--user", USER, "--password", PASSWORD]
            lg = spawn(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                       preexec_fn=raise_nofile(level + 4096))
            line = lg.stdout.readline()  # {"event":"holding",...} once every allocation is made
            held = json.loads(line).get("allocations", 0) if line.startswith("{") else 0
            rss = self.settled_rss_kib(p.pid)
            lg.stdin.close()
            final = lg.stdout.read()
            stop(lg)
            last = [l for l in final.splitlines() if l.startswith("{")]
            r = json.loads(last[-1]) if last else {"ok": False, "error": "rdv-loadgen memory gave no result"}
            r.update({"idle_kib": idle, "rss_kib": rss, "held": held})
            return r
        finally:
            stop(p)

    def memory_level_blocker(self, level):
        """Why `level` allocations cannot be held on this machine (the row then says so), or None."""
        reasons = []
        need = level + 256  # a relay socket per allocation in the server, a client socket each in rdv-loadgen
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and hard < need:
            probe = "import resource; resource.setrlimit(resource.RLIMIT_NOFILE, (%d, %d))" % (need, need)
            if subprocess.run([sys.executable, "-c", probe], capture_output=True).returncode != 0:
                reasons.append("open-file hard limit %d < %d needed, and raising it needs CAP_SYS_RESOURCE" % (hard, need))
        lo, hi = self.relay_range(level + 1000)
        if hi - lo < level + 1000:
            reasons.append("needs %d relay ports, one relay address gives the harness %d" % (level + 1000, hi - lo))
        return "n/a (%s)" % "; ".join(reasons) if reasons else None

    def run_memory(self, results, rounds):
        levels = [int(x) for x in self.args.memory_levels.split(",")]
        blockers = {lvl: self.memory_level_blocker(lvl) for lvl in levels}
        for rnd in range(rounds):
            for target in (["rendezvousd", "coturn"] if rnd % 2 == 0 else ["coturn", "rendezvousd"]):
                if target == "rendezvousd" and not self.ours_turn:
                    for lvl in levels:
                        results.setdefault(("memory-%d" % lvl, target), []).append({"ok": False, "na": True})
                    continue
                for lvl in levels:
                    if blockers[lvl]:
                        results.setdefault(("memory-%d" % lvl, target), []).append(
                            {"ok": False, "na": True, "na_text": blockers[lvl]})
                        continue
                    try:
                        r = self.memory_level(target, lvl)
                    except (RuntimeError, OSError, ValueError) as e:
                        r = {"ok": False, "error": str(e)}
                    results.setdefault(("memory-%d" % lvl, target), []).append(r)


def parse_args(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 round, 1 s runs, memory at 1000 only")
    ap.add_argument("--smoke", action="store_true", help="tiny runs (CI): 1 round, 0.2 s, memory at 50")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--duration", type=float, default=None, help="seconds per run (default 3)")
    ap.add_argument("--count", type=int, default=0, help="also stop each run after this many packets")
    ap.add_argument("--rate", type=int, default=None,
                    help="packets/s of the fixed-rate runs of %s (below saturation; 0: none; default 5000, "
                         "smoke 1000)" % ", ".join(RATE_VARIANTS))
    ap.add_argument("--procs", type=int, default=1,
                    help="load generators for binding, allocate, channel and send (cores 1..N, results summed)")
    ap.add_argument("--latency-rate", type=int, default=None, help="packets/s in the latency scenario")
    ap.add_argument("--paired-duration", type=float, default=None,
                    help="seconds per latency-paired run (default 10, quick 3, smoke 0.5)")
    ap.add_argument("--memory-levels", default=None, help="allocation counts, default 1000,10000")
    ap.add_argument("--with-50k", action="store_true", help="add 50000 to the memory levels")
    ap.add_argument("--scenarios", default=",".join([s[0] for s in SCENARIOS] + ["memory", "registry", "signal", "fanout"]))
    ap.add_argument("--signal-clients", type=int, default=None, help="WebSocket clients (default 1000)")
    ap.add_argument("--signal-window", type=int, default=4, help="unacknowledged envelopes per client")
    ap.add_argument("--verify-threads", default="",
                    help="also run the signal scenario with these signal-verify-threads counts, e.g. 1,2,4 "
                         "(each node gets that many cores beyond the load generators' where the machine has them)")
    ap.add_argument("--signal-rate", type=int, default=None, help="envelopes/s for signal latency (default 1000)")
    ap.add_argument("--registry-records", type=int, default=None, help="distinct signed records (default 5000)")
    ap.add_argument("--nodes", type=int, default=1,
                    help="scenario 6's registry on a fleet of this many nodes on one redis-server, and (2 or more) the "
                         "signal latency with envelopes between two nodes of a fleet (docs/fleet.md)")
    ap.add_argument("--discover-requests", type=int, default=None, help="discover GETs (default 2000)")
    ap.add_argument("--bin-dir", default=os.environ.get("RDV_BIN_DIR", os.path.join(root, "build-bench", "bin")))
    ap.add_argument("--rendezvousd", default=None, help="default: BIN_DIR/rendezvousd")
    ap.add_argument("--out", default=None, help="results file (default bench/results/<date>.md)")
    ap.add_argument("--veth", action="store_true",
                    help="instead: the kernel fast path's rows, channel scenarios over veth between namespaces "
                         "(bench/veth_bench.py; needs root)")
    ap.add_argument("--veth-load", choices=("both", "reflector", "loadgen"), default="both",
                    help="--veth: the load of its rows: rdv-reflector (BPF reflectors in the load namespace, "
                         "the load nearly free), rdv-loadgen (clients and echoing peer in user space), or both tables")
    ap.add_argument("--veth-targets", default="rendezvousd,rendezvousd+kernel,coturn,baseline",
                    help="--veth: the targets to run (baseline: the raw forwarder)")
    ap.add_argument("--veth-inject-cpus", default=None,
                    help="--veth reflector rows: the cores the flows are injected from, where their softirq "
                         "runs (default: every core, flows spread over them)")
    a = ap.parse_args(argv)
    tiny = a.smoke or a.quick
    a.rounds = a.rounds or (1 if tiny else 5)
    a.duration = a.duration or (0.2 if a.smoke else 1.0 if a.quick else 3.0)
    a.latency_rate = a.latency_rate or (500 if a.smoke else 2000)
    a.paired_duration = a.paired_duration or (0.5 if a.smoke else 3.0 if a.quick else 10.0)
    a.rate = (1000 if a.smoke else 5000) if a.rate is None else a.rate
    if a.procs < 1 or a.procs > 64 or a.rate < 0:
        ap.error("--procs must be 1..64 and --rate >= 0")
    a.memory_levels = a.memory_levels or ("50" if a.smoke else "1000" if a.quick else "1000,10000")
    a.signal_clients = a.signal_clients or (20 if a.smoke else 1000)
    a.signal_rate = a.signal_rate or (200 if a.smoke else 1000)
    a.registry_records = a.registry_records or (50 if a.smoke else 5000)
    a.discover_requests = a.discover_requests or (20 if a.smoke else 2000)
    if a.with_50k:
        a.memory_levels += ",50000"
    a.scenarios = a.scenarios.split(",")
    a.rendezvousd = a.rendezvousd or os.path.join(a.bin_dir, "rendezvousd")
    a.out = a.out or os.path.join(here, "results", datetime.date.today().isoformat() + ("-veth" if a.veth else "") + ".md")
    return a


def main(argv):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    atexit.register(kill_all)
    for tool in ("rdv-loadgen", "rdv-baseline") + (() if args.veth else ("rdv-apibench",)) + \
            (("rdv-reflector",) if args.veth and args.veth_load != "loadgen" else ()):
        if not os.access(os.path.join(args.bin_dir, tool), os.X_OK):
            sys.exit("run.py: %s not found in %s (build the bench targets)" % (tool, args.bin_dir))
    if not shutil.which("turnserver") and (not args.veth or "coturn" in args.veth_targets.split(",")):
        sys.exit("run.py: coturn's turnserver is not installed")
    if args.veth:
        import veth_bench  # noqa: E402 (bench/, on sys.path above)
        return veth_bench.main(args, spawn)
    started = datetime.datetime.now()
    bench = Bench(args)
    try:
        bench.probe_ours_turn()
        results = {}
        for rnd in range(args.rounds):
            order = TARGETS[rnd % 3:] + TARGETS[:rnd % 3]
            for target in order:
                bench.run_target_round(target, results)
        if "memory" in args.scenarios:
            bench.run_memory(results, args.rounds)
        for rnd in range(args.rounds):
            bench.run_api(results, rnd)
        rows = table_rows(results, args, bench.scenarios, api_rows(args))
        text = render(rows, results, args, started, bench.pin, bench.ours_turn)
    finally:
        kill_all()
        shutil.rmtree(bench.tmp, ignore_errors=True)
    print(text, end="")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(text)
    errors = [r for r in rows if any(c.startswith("error") for c in r)]
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
