"""The kernel fast path's rows of bench/run.py (--veth): the channel scenarios over veth between network
namespaces, where forwarding in the kernel can show (on loopback the relay's socket work and the load
generator's share one path; docs/benchmarks.md, "Kernel fast path").

  load namespace  198.18.1.2 --veth-- 198.18.1.1  relay namespace  (listen address)
                  198.18.2.2 --veth-- 198.18.2.1                   (relay address)

rdv-loadgen runs in the load namespace: its TURN clients on 198.18.1.2, its echoing peer on 198.18.2.2.
Each target runs in the relay namespace: rendezvousd in user space, rendezvousd with kernel-fast-path on,
coturn, and the raw forwarder (rdv-baseline forward, no TURN). Every row gives round trips/s and CPU per
relayed packet twice: the server process's (utime+stime) and the machine's, all cores summed from
/proc/stat (user+nice+system+irq+softirq+steal over the timed phase), since the kernel fast path forwards
in softirq, charged to no process. The machine figure includes the load generator and everything else the
machine runs: read it beside the load average printed with the table. Needs root (namespaces, BPF). The
namespaces (and their veths) are removed on exit, even on failure. Standard library only.

Two loads (--veth-load, default both, one table each):
  loadgen    rdv-loadgen: TURN clients and the echoing peer in user space, every answer verified. The load
             generator shares the machine with the relay: with the kernel fast path it is most of the CPU.
  reflector  rdv-reflector (bench/reflector): the same set-up (allocations, ChannelBind to the same peer),
             then a TC ingress BPF program on the load namespace's two veth ends bounces every datagram back
             with addresses and ports swapped (the peer's echo; a client's next ChannelData on the same
             channel). A window injected once circulates with no user space on the load side, so the load
             costs the same softirq time for every target and the rows measure the relay. Counts come from
             the reflectors' per-CPU map; at the end the datagrams still in flight are drained up to the
             client sockets and verified (framing, channel, every payload byte, no duplicate).
"""
import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time

USER, PASSWORD, REALM = "bench", "benchpass", "bench"
SCENARIOS = [("channel-100", "100"), ("channel-1200", "1200")]
TARGETS = ["rendezvousd", "rendezvousd+kernel", "coturn", "baseline"]
# The reflector rows' control: no relay at all, a reflector at the relay's listen address too (rdv-reflector
# --serve), so every datagram bounces between the two namespaces. Its CPU per bounce is what the load costs
# per relayed packet in the other rows (one bounce in the load namespace each).
NULL = "load alone"


def sh(cmd, check=True):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()[-300:]))
    return r


class Lab:
    """Two namespaces joined by two veth pairs; removed by close()."""

    def __init__(self):
        tag = "%d" % (os.getpid() % 100000)
        self.relay, self.load = "rdvb-relay-" + tag, "rdvb-load-" + tag
        self.made = []
        for ns in (self.relay, self.load):
            sh(["ip", "netns", "add", ns])
            self.made.append(ns)
            sh(["ip", "-n", ns, "link", "set", "lo", "up"])
        self.load_devs = []
        for side, net in (("a", 1), ("b", 2)):
            load_dev = "rdvb%s%s" % (side, tag)
            self.load_devs.append(load_dev)
            sh(["ip", "link", "add", load_dev, "netns", self.load, "type", "veth", "peer", "name", "r" + side,
                "netns", self.relay])
            sh(["ip", "-n", self.load, "addr", "add", "198.18.%d.2/24" % net, "dev", load_dev])
            sh(["ip", "-n", self.relay, "addr", "add", "198.18.%d.1/24" % net, "dev", "r" + side])
            sh(["ip", "-n", self.load, "link", "set", load_dev, "up"])
            # The relay's datagrams leave as datagrams: a UDP GSO batch (rendezvousd sends runs to one
            # client with UDP_SEGMENT) is segmented at the relay's device, in the sender's context, as for a
            # NIC without UDP segmentation offload; else it would cross the veth as one packet and the
            # reflector would bounce it back as one, a batch no real client sends.
            sh(["ip", "-n", self.relay, "link", "set", "r" + side, "gso_max_segs", "1"])
            sh(["ip", "-n", self.relay, "link", "set", "r" + side, "up"])

    def close(self):
        for ns in self.made:
            sh(["ip", "netns", "del", ns], check=False)
        self.made = []

    def exec_in(self, ns):
        return ["ip", "netns", "exec", ns]


def taskset(core):
    return ["taskset", "-c", str(core)] if (os.cpu_count() or 1) >= 2 and shutil.which("taskset") else []


def wait_file(path, proc, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path):
            try:
                with open(path) as f:
                    return json.load(f)
            except ValueError:
                pass
        if proc.poll() is not None:
            return None
        time.sleep(0.05)
    return None


def wait_udp_port(lab, port, proc, timeout):
    end = time.time() + timeout
    while time.time() < end:
        out = sh(lab.exec_in(lab.relay) + ["ss", "-Huln", "sport", "= :%d" % port], check=False).stdout
        if out.strip():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def stop(p):
    if p and p.poll() is None:
        p.terminate()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


class VethBench:
    def __init__(self, args, spawn):
        self.args, self.spawn = args, spawn
        self.tmp = tempfile.mkdtemp(prefix="rdv-veth-")
        self.peer_port = random.randrange(20000, 30000)
        self.admin_token = "%032x" % random.getrandbits(128)
        self.admin = {}  # rendezvousd pid -> its admin listener (the relay's own counters, /metrics)

    def relay_counters(self, lab, pid):
        """rendezvousd's relayed packets and payload bytes by direction (/metrics: user space and what it
        folded from the kernel), or None."""
        if pid not in self.admin:
            return None
        out = sh(lab.exec_in(lab.relay) + ["curl", "-sf", "-m", "5", "-H", "Authorization: Bearer " + self.admin_token,
                                           "http://%s/metrics" % self.admin[pid]], check=False).stdout
        found = {}
        for line in out.splitlines():
            for metric in ("rendezvous_relay_packets_total", "rendezvous_relay_bytes_total"):
                for direction in ("to_peer", "to_client"):
                    if line.startswith('%s{direction="%s"} ' % (metric, direction)):
                        found[(metric.split("_")[2], direction)] = int(float(line.split()[-1]))
        return found if len(found) == 4 else None

    def start(self, lab, target):
        """The target in the relay namespace on core 0; returns (process, server address)."""
        ns = lab.exec_in(lab.relay) + taskset(0)
        if target.startswith("rendezvousd"):
            ready = os.path.join(self.tmp, "ready-%d.json" % random.randrange(1 << 30))
            cmd = ns + [self.args.rendezvousd, "--listen", "198.18.1.1:0", "--relay-address", "198.18.2.1",
                        "--workers", "1", "--ready-file", ready, "--log-level", "warn", "--realm", REALM,
                        "--user", "%s:%s" % (USER, PASSWORD), "--allow-peer", "198.18.0.0/15",
                        "--relay-ports", "40000-49999", "--data-dir", tempfile.mkdtemp(dir=self.tmp),
                        "--http-listen", "127.0.0.1:0", "--max-allocations", "0",
                        # no node-wide byte rate (as run.py's loopback rows): the default, derived from the
                        # veth's 10 Gbit/s, drops 1200-byte channels over it (coturn and the forwarder have none)
                        "--bps-capacity", "0",
                        "--admin-listen", "127.0.0.1:0", "--admin-token", self.admin_token,
                        "--kernel-fast-path", "on" if target.endswith("+kernel") else "off"]
            p = self.spawn(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            info = wait_file(ready, p, 15)
            if not info:
                err = p.stderr.read().decode(errors="replace")[-300:] if p.poll() is not None else "no ready file"
                stop(p)
                raise RuntimeError("rendezvousd did not start: " + err.strip())
            if info.get("admin"):
                self.admin[p.pid] = info["admin"]
            return p, info["udp"][0]
        port = random.randrange(3000, 9000)
        if target == NULL:
            ready = os.path.join(self.tmp, "ready-%d.json" % random.randrange(1 << 30))
            cmd = ns + [os.path.join(self.args.bin_dir, "rdv-reflector"), "--serve", "198.18.1.1:%d" % port,
                        "--device", "ra", "--ready-file", ready]
            p = self.spawn(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if not wait_file(ready, p, 15):
                err = p.stderr.read().decode(errors="replace")[-300:] if p.poll() is not None else "no ready file"
                stop(p)
                raise RuntimeError("rdv-reflector --serve did not start: " + err.strip())
            return p, "198.18.1.1:%d" % port
        if target == "coturn":
            cmd = ns + ["turnserver", "-n", "--listening-ip", "198.18.1.1", "--relay-ip", "198.18.2.1",
                        "--listening-port", str(port), "--relay-threads", "1", "--min-port", "40000",
                        "--max-port", "49999", "--no-cli", "--no-tls", "--no-dtls", "--no-rfc5780",
                        "--log-file", "stdout", "--simple-log", "--pidfile", os.path.join(self.tmp, "coturn.pid"),
                        "--realm", REALM, "--lt-cred-mech", "--user", "%s:%s" % (USER, PASSWORD)]
        else:
            cmd = ns + [os.path.join(self.args.bin_dir, "rdv-baseline"), "forward", "--listen",
                        "198.18.1.1:%d" % port, "--peer", "198.18.2.2:%d" % self.peer_port]
        p = self.spawn(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_udp_port(lab, port, p, 15):
            stop(p)
            raise RuntimeError("%s did not bind 198.18.1.1:%d" % (target, port))
        return p, "198.18.1.1:%d" % port

    def loadgen(self, lab, target, server, payload, pid):
        cmd = lab.exec_in(lab.load) + taskset(1) + [
            os.path.join(self.args.bin_dir, "rdv-loadgen"), "--server", server, "--label", target,
            "--scenario", "channel", "--flows", "16", "--window", "16", "--payload", payload,
            "--duration", str(self.args.duration), "--user", USER, "--password", PASSWORD,
            "--client-ip", "198.18.1.2", "--peer-bind", "198.18.2.2:%d" % self.peer_port, "--server-pid", str(pid)]
        cmd += ["--cpu", "1"] if taskset(1) else []
        if target == "baseline":
            cmd.append("--raw")
        try:
            out = subprocess.run(cmd, capture_output=True, timeout=self.args.duration + 60, text=True)
        except subprocess.TimeoutExpired:
            return {"ok": False, "error": "rdv-loadgen timed out"}
        lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
        if not lines:
            return {"ok": False, "error": "rdv-loadgen: " + out.stderr.strip()[-300:]}
        return json.loads(lines[-1])

    def udp_rcvbuf_errors(self, lab):
        """The relay namespace's UDP receive-buffer drops so far (/proc/net/snmp, Udp RcvbufErrors)."""
        text = sh(lab.exec_in(lab.relay) + ["cat", "/proc/net/snmp"], check=False).stdout
        rows = [l.split()[1:] for l in text.splitlines() if l.startswith("Udp:")]
        if len(rows) == 2 and "RcvbufErrors" in rows[0]:
            return int(rows[1][rows[0].index("RcvbufErrors")])
        return None

    def reflector(self, lab, target, server, payload, pid):
        """One reflector row: rdv-reflector in the load namespace (not pinned: it sleeps through the timed
        phase; the flows are injected from --veth-inject-cpus, where their softirq then runs)."""
        cpus = self.args.veth_inject_cpus or ",".join(str(c) for c in range(os.cpu_count() or 1))
        cmd = lab.exec_in(lab.load) + [
            os.path.join(self.args.bin_dir, "rdv-reflector"), "--server", server, "--client-ip", "198.18.1.2",
            "--peer", "198.18.2.2:%d" % self.peer_port, "--flows", "16", "--window", "16", "--payload", payload,
            "--duration", str(self.args.duration), "--user", USER, "--password", PASSWORD,
            "--server-pid", str(pid), "--inject-cpus", cpus, "--warmup", str(min(0.5, self.args.duration / 2))]
        for dev in lab.load_devs:
            cmd += ["--device", dev]
        if target in ("baseline", NULL):
            cmd.append("--raw")
        drops = self.udp_rcvbuf_errors(lab)
        metered = self.relay_counters(lab, pid)
        try:
            out = subprocess.run(cmd, capture_output=True, timeout=self.args.duration + 60, text=True)
        except subprocess.TimeoutExpired:
            return {"ok": False, "error": "rdv-reflector timed out"}
        after = self.udp_rcvbuf_errors(lab)
        lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
        if not lines:
            return {"ok": False, "error": "rdv-reflector: " + out.stderr.strip()[-300:]}
        r = json.loads(lines[-1])
        r["load"] = "reflector"
        r["label_null"] = target == NULL
        # The relay's own count of this run against the reflectors' (rdv-reflector released the
        # allocations before it exited, which collects what the kernel forwarded at once).
        after_metered = self.relay_counters(lab, pid) if metered is not None else None
        if after_metered is not None and r.get("ok"):
            d = {k: after_metered[k] - metered[k] for k in metered}
            size = int(payload)
            want = {("packets", "to_peer"): r.get("run_to_peer_packets"),
                    ("packets", "to_client"): r.get("run_to_client_packets")}
            want[("bytes", "to_peer")] = want[("packets", "to_peer")] * size
            want[("bytes", "to_client")] = want[("packets", "to_client")] * size
            r["metered"] = "= bounced" if d == want else "MISMATCH relay %s, reflectors %s" % (
                sorted(d.items()), sorted(want.items()))
        if drops is not None and after is not None:
            r["relay_rcvbuf_drops"] = after - drops
        return r

    def run(self):
        results = {}
        loads = ["reflector", "loadgen"] if self.args.veth_load == "both" else [self.args.veth_load]
        targets = [t for t in TARGETS if t in self.args.veth_targets.split(",")]
        if "reflector" in loads:
            targets.append(NULL)
        lab = Lab()
        try:
            for rnd in range(self.args.rounds):
                order = targets[rnd % len(targets):] + targets[:rnd % len(targets)]
                for target in order:
                    p = None
                    try:
                        p, server = self.start(lab, target)
                        for name, payload in SCENARIOS:
                            for load in (["reflector"] if target == NULL else loads):
                                run = self.reflector if load == "reflector" else self.loadgen
                                r = run(lab, target, server, payload, p.pid)
                                results.setdefault((load, name, target), []).append(r)
                    except RuntimeError as e:
                        for name, _ in SCENARIOS:
                            for load in (["reflector"] if target == NULL else loads):
                                results.setdefault((load, name, target), []).append({"ok": False, "error": str(e)})
                    finally:
                        stop(p)
        finally:
            lab.close()
            shutil.rmtree(self.tmp, ignore_errors=True)
        return results


def median(rs, key):
    vals = [r[key] for r in rs if r.get("ok") and r.get(key) is not None]
    return statistics.median(vals) if vals else None


def attributed(r):
    """CPU per relayed packet of this run's parts: the server, the load generator and the machine's irq +
    softirq (where a TC program forwards), us."""
    parts = [r.get("server_cpu_us"), r.get("loadgen_cpu_us"), r.get("irq_cpu_us")]
    if r.get("ok") and r.get("units") and all(p is not None for p in parts):
        r["attributed_us_per"] = sum(parts) / r["units"]
    return r


def render_loadgen(results):
    """The rdv-loadgen table (results keyed (scenario, target))."""
    lines = ["| scenario | target | round trips/s | vs forwarder | server CPU us/pkt | server + loadgen + softirq "
             "us/pkt | vs forwarder | machine CPU us/pkt (all cores) | vs forwarder | lost |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, _ in SCENARIOS:
        base = results.get((name, "baseline"), [])
        for rs in results.values():
            for r in rs:
                attributed(r)
        fwd_rtt, fwd_att, fwd_m = (median(base, k) for k in ("value", "attributed_us_per", "machine_cpu_us_per"))
        for target in TARGETS:
            if (name, target) not in results:
                continue
            rs = results[(name, target)]
            if not any(r.get("ok") for r in rs):
                lines.append(error_row(name, target, rs, 8))
                continue
            rtt, scpu, att, mcpu = (median(rs, k) for k in ("value", "cpu_us_per", "attributed_us_per",
                                                              "machine_cpu_us_per"))
            lost = sum(int(r.get("lost", 0)) for r in rs if r.get("ok"))
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %d |" % (
                name, target, num(rtt, "%.0f"), ratio(rtt, fwd_rtt), num(scpu, "%.2f"), num(att, "%.2f"),
                ratio(att, fwd_att), num(mcpu, "%.2f"), ratio(mcpu, fwd_m), lost))
    lines += ["", "Medians over the rounds. Round trips/s: answers verified at the clients per second (each is "
              "two relayed packets). CPU per relayed packet: over the timed phase, divided by the packets "
              "relayed both ways. Server CPU: the target process's utime+stime (the kernel fast path's "
              "forwarding runs in softirq, in no process). Server + loadgen + softirq: that, the load "
              "generator's own CPU and the machine's irq+softirq time (/proc/stat), the parts of the run "
              "itself. Machine CPU: every core's busy time from /proc/stat, whatever else the machine runs "
              "included.", ""]
    return lines


def expected_bytes(target, payload):
    """Bytes per relayed packet a verified rdv-loadgen run relays: (to the peer, to a client)."""
    return payload, payload + (0 if target == "baseline" else 4)


def render_reflector(results):
    """The reflector table (results keyed (scenario, target))."""
    lines = ["| scenario | target | round trips/s | vs forwarder | relayed pkt/s | machine CPU us/pkt (all cores) "
             "| vs forwarder | minus the load | vs forwarder | server CPU us/pkt | cores busy (softirq) | "
             "B/pkt to peer, to client | relay's /metrics | in flight start -> end |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for rs in results.values():
        for r in rs:
            if r.get("label_null") and r.get("ok") and r.get("to_client_packets"):
                # two bounces per round trip, one in each namespace: per bounce
                r["relayed_per_s"] = 2 * r["value"]
                r["machine_cpu_us_per"] = r["machine_cpu_us"] / (2 * r["to_client_packets"])
    for name, payload in SCENARIOS:
        base = results.get((name, "baseline"), [])
        load = median(results.get((name, NULL), []), "machine_cpu_us_per")
        net = lambda m: m - load if m is not None and load is not None else None
        fwd_rtt, fwd_m = median(base, "value"), median(base, "machine_cpu_us_per")
        for target in TARGETS + [NULL]:
            if (name, target) not in results:
                continue
            rs = results[(name, target)]
            if not any(r.get("ok") for r in rs):
                lines.append(error_row(name, target, rs, 12))
                continue
            rtt, pps, mcpu, scpu = (median(rs, k) for k in ("value", "relayed_per_s", "machine_cpu_us_per",
                                                              "cpu_us_per"))
            ok = [r for r in rs if r.get("ok")]
            mid = min(ok, key=lambda r: abs(r.get("value", 0) - rtt))
            cores = "%s (%s)" % (mid.get("core_busy", "?"), mid.get("core_softirq", "?"))
            if target == NULL:
                lines.append("| %s | %s (a reflector at the relay) | %s | | %s bounces/s | %s per bounce | | | | | %s "
                             "| | | |" % (name, target, num(rtt, "%.0f"), num(pps, "%.0f"), num(mcpu, "%.2f"), cores))
                continue
            want = expected_bytes(target, int(payload))
            seen = [(r.get("to_peer_bytes_per_packet"), r.get("to_client_bytes_per_packet")) for r in ok]
            bytes_ok = all(abs(a - want[0]) < 1e-9 and abs(b - want[1]) < 1e-9 for a, b in seen)
            flight = "%s -> %s" % ("+".join(str(int(r.get("in_flight_start", 0))) for r in ok),
                                   "+".join(str(int(r.get("in_flight_end", 0))) for r in ok))
            drops = [r["relay_rcvbuf_drops"] for r in ok if r.get("relay_rcvbuf_drops")]
            if drops:
                flight += " (%s dropped by full socket buffers at the relay)" % "+".join(str(d) for d in drops)
            metered = sorted(set(r.get("metered", "") for r in ok))
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d, %d %s | %s | %s |" % (
                name, target, num(rtt, "%.0f"), ratio(rtt, fwd_rtt), num(pps, "%.0f"), num(mcpu, "%.2f"),
                ratio(mcpu, fwd_m), num(net(mcpu), "%.2f"), ratio(net(mcpu), net(fwd_m)), num(scpu, "%.2f"),
                cores, want[0], want[1],
                "(as loadgen)" if bytes_ok else "MISMATCH %s" % seen, " / ".join(m for m in metered if m), flight))
    lines += ["", "Medians over the rounds. The load: rdv-reflector sets up 16 allocations with a channel (or 16 "
              "flows through the raw forwarder), injects 16 datagrams per flow and BPF reflectors at TC ingress "
              "of the load namespace's veth ends bounce them back (bench/reflector). Round trips/s: datagrams "
              "bounced at the clients per second (each round trip is two relayed packets); relayed pkt/s: "
              "bounced at the clients and at the peer. Machine CPU: every core's busy time from /proc/stat "
              "over the timed phase (user+nice+system+irq+softirq+steal, whatever else the machine runs "
              "included) per relayed packet; it holds the reflectors' softirq, the same per packet for every "
              "target. Server CPU: the target process's utime+stime. Cores busy: each core's busy share of the "
              "timed phase, its irq+softirq share in brackets (the round nearest the median). B/pkt: UDP "
              "payload bytes per datagram as the reflectors counted them over the run, checked against what "
              "rdv-loadgen relays and verifies (payload to the peer, + the 4-byte ChannelData header to a TURN "
              "client). Relay's /metrics: rendezvousd's rendezvous_relay_packets_total and _bytes_total over "
              "the run (what user space relayed and what it collected from the kernel) against what the "
              "reflectors bounced each way, set-up to release. In flight: datagrams injected, and those drained up to the client sockets at the end "
              "and verified byte for byte (the rest were lost; UDP RcvbufErrors of the relay's namespace "
              "in brackets), per round. Load alone: the control, no relay: a reflector at the relay's listen "
              "address too, so datagrams bounce between the namespaces; its machine CPU per bounce is what "
              "the load costs per relayed packet in the other rows (one bounce each), and 'minus the load' "
              "subtracts it: the relay's own cost per packet, its veth receive and send included.", ""]
    return lines


ratio = lambda a, b: "%.2fx" % (a / b) if a and b else ""
num = lambda v, f: f % v if v is not None else ""


def error_row(name, target, rs, empty):
    err = next((r.get("error", "") for r in rs if r.get("error")), "no result")
    return "| %s | %s | error: %s |%s" % (name, target, err.replace("|", "/")[:120], "|" * empty)


def render(results, args, started, loads):
    lines = ["# Kernel fast path over veth (bench/run.py --veth)", "",
             "%s; %d round(s) of %.1f s; load average before/after: %s / %s; %d cores" % (
                 started.strftime("%Y-%m-%d %H:%M"), args.rounds, args.duration, loads[0], loads[1],
                 os.cpu_count() or 1), ""]
    by_load = {}
    for (load, name, target), rs in results.items():
        by_load.setdefault(load, {})[(name, target)] = rs
    if "reflector" in by_load:
        lines += ["## Load: BPF reflectors (rdv-reflector)", ""] + render_reflector(by_load["reflector"])
    if "loadgen" in by_load:
        lines += ["## Load: rdv-loadgen (user space)", ""] + render_loadgen(by_load["loadgen"])
    return "\n".join(lines)


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def main(args, spawn):
    import datetime
    if os.geteuid() != 0:
        raise SystemExit("run.py --veth: needs root (network namespaces, the kernel fast path's BPF program)")
    started = datetime.datetime.now()
    before = loadavg()
    results = VethBench(args, spawn).run()
    text = render(results, args, started, (before, loadavg()))
    print(text, end="")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(text)
    return 0 if all(any(r.get("ok") for r in rs) for rs in results.values()) else 1
