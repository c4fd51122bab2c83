"""Driving the peer agent (`rdv listen` / `rdv connect`, docs/agent.md) inside the lab's LANs."""
import os
import subprocess

import labtest
import natlab

CONNECT_SECONDS = 30  # generous: a noisy CI machine; the measured time goes to the results, not an assert


def missing_commands(bin_dir):
    """None when rdv has the `listen` and `connect` subcommands, else what is missing. A missing command is
    a regression of rdv, never a reason to skip: callers report it as a failure."""
    p = subprocess.run([os.path.join(bin_dir, "rdv"), "--help"], capture_output=True, text=True)
    have = {line.split()[0] for line in p.stdout.splitlines() if line.startswith("  ") and line.split()}
    missing = [c for c in ("listen", "connect") if c not in have]
    return "rdv has no %s command" % " or ".join(missing) if missing else None


def new_key(lab, path):
    p = subprocess.run([lab.binary("rdv"), "key", "new", "--out", path], capture_output=True, text=True)
    if p.returncode != 0:
        raise natlab.LabError("rdv key new: " + p.stderr)
    return p.stdout.strip()[:64]


def candidate_path(local_type, remote_type):
    """'relay' when either end of the selected pair is a relayed candidate, 'direct' otherwise."""
    if local_type is None or remote_type is None:
        return None
    return "relay" if "relay" in (local_type, remote_type) else "direct"


class Outcome:
    def __init__(self):
        self.connected = False
        self.both_ways = False
        self.local_type = None
        self.remote_type = None
        self.listener_path = None
        self.time_to_first_byte_ms = None
        self.rtt_ms = None
        self.transport = None
        self.phases = None  # the connected line's phases (docs/agent.md "Where the time goes")
        self.listener_phases = None
        self.done = None
        self.events = []
        self.listener_events = []
        self.error = ""

    def describe(self):
        """What a failure shows: the path each peer reported and both peers' lines (without their ENRs)."""
        def lines(events):
            return [{k: v for k, v in e.items() if k != "enr"} for e in events]
        return "path: rdv connect %s (%s/%s over %s), rdv listen %s; rdv connect said %s; rdv listen said %s" % (
            self.path, self.local_type, self.remote_type, self.transport, self.listener_path, lines(self.events),
            lines(self.listener_events))

    @property
    def path(self):
        return candidate_path(self.local_type, self.remote_type)


LISTENER_VIEW_SECONDS = 20  # how long the listener may take to report the pair the connector reported


def listener_view(listen):
    """The path ("direct" / "relayed") of the listener's latest connected / pair-changed / restored line."""
    views = listen.matching(lambda e: e.get("event") in ("connected", "pair-changed", "restored"))
    return views[-1].get("path") if views else None


def is_event(name):
    return lambda e: e.get("event") == name


def node_url(lab, nat):
    """How a host behind `nat` names the node: its IPv4 URL, or (IPv6-only behind NAT64) the synthesised one."""
    return getattr(nat, "node_url", None) or lab.node_url


def agent_args(lab):
    """What every rdv listen/connect of the lab adds: trust the node's TLS certificate when it has one."""
    cert = getattr(lab, "node_cert", None)
    return ["--turn-ca", cert] if cert else []


def start_listener(lab, nat, key, tag):
    """rdv listen behind `nat`; returns once it says it is listening (registered at the node)."""
    listen = labtest.JsonLinesProcess(lab, nat.host_ns, [lab.binary("rdv"), "listen", "--node", node_url(lab, nat),
                                                         "--key", key] + agent_args(lab), "listen-" + tag)
    if listen.wait_for(lambda e: e.get("event") in ("listening", "error"), CONNECT_SECONDS) is None or \
            listen.matching(is_event("error")):
        lab.stop(listen.proc)
        raise natlab.LabError("rdv listen did not start: %s %s" % (listen.lines, lab.read_log("listen-" + tag)))
    return listen


def connect_pair(lab, listener_nat, connector_nat, tag, count=5, interval_ms=20):
    """rdv listen behind listener_nat, rdv connect --count behind connector_nat. The listener echoes every
    message, so `done` with received == sent == count means data went both ways."""
    out = Outcome()
    lkey = os.path.join(lab.workdir, "listen-%s.key" % tag)
    ckey = os.path.join(lab.workdir, "connect-%s.key" % tag)
    listener_id = new_key(lab, lkey)
    new_key(lab, ckey)
    listen = start_listener(lab, listener_nat, lkey, tag)
    try:
        connect = labtest.JsonLinesProcess(
            lab, connector_nat.host_ns,
            [lab.binary("rdv"), "connect", "--node", node_url(lab, connector_nat), "--key", ckey, "--to", listener_id,
             "--count", str(count), "--interval-ms", str(interval_ms), "--timeout", str(CONNECT_SECONDS)]
            + agent_args(lab),
            "connect-" + tag)
        code = connect.wait_exit(CONNECT_SECONDS + 10)
        if code is None:
            lab.stop(connect.proc)
        connect.thread.join(2)
        out.events = [e for e in connect.lines]
        connected = connect.matching(is_event("connected"))
        if connected:
            c = connected[0]
            out.connected = True
            out.local_type, out.remote_type = c.get("local"), c.get("remote")
            out.time_to_first_byte_ms = c.get("time_to_first_byte_ms")
            out.rtt_ms = c.get("rtt_ms")
            out.transport = c.get("transport")
            out.phases = c.get("phases")
        done = connect.matching(is_event("done"))
        if done:
            d = out.done = done[0]
            out.both_ways = d.get("sent") == count and d.get("received") == count and d.get("in_order") is True
        # The listener's view of the pair in use: its last connected / pair-changed / restored line (an
        # upgrade restart can replace a first relayed pair by a direct one). The listener writes its lines on
        # its own schedule, possibly after the connector exited (a loaded machine): wait, with a deadline, until
        # its latest view names the connector's path; on timeout the last view seen is reported as it is.
        want = {"direct": "direct", "relay": "relayed"}.get(out.path)
        out.listener_path = listener_view(listen)
        if want is not None:
            natlab.wait_until(lambda: listener_view(listen) == want, LISTENER_VIEW_SECONDS, step=0.05)
            out.listener_path = listener_view(listen)
        out.listener_events = list(listen.lines)
        seen = listen.matching(is_event("connected"))
        out.listener_phases = seen[0].get("phases") if seen else None
        if want is not None and out.listener_path != want:
            out.error = "rdv listen said %s; stderr: %s" % (listen.lines, lab.read_log("listen-" + tag)[-2000:])
        if not out.connected or not out.both_ways:
            out.error = "exit %s; rdv connect said %s; rdv listen said %s; stderr: %s" % (
                code, connect.lines, listen.lines, lab.read_log("connect-" + tag)[-3000:])
    finally:
        lab.stop(listen.proc)
    return out
