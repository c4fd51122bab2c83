#!/usr/bin/python3
"""natlab_fallback: a conversation survives losing its direct path.

Two peers behind endpoint-independent NATs connect directly. While `rdv connect --count N --interval-ms M`
is sending (the listener echoes every message), the lab drops UDP between the two NATs on the listener's
NAT (iptables DROP in FORWARD for the other NAT's public address; the hub's TCP and the node's relay are
untouched). Asserted from the JSON lines of rdv: the agent falls back to the hub, every message arrives,
in order and without loss (done: received == sent == N, in_order), some went over the fast path and some
over the hub, and after an ICE restart the agent is back on a fast path, which can only be the relay now.
"""
import sys

import labtest
import natlab
import peers

COUNT = 150
INTERVAL_MS = 40
CUT_AFTER = 30  # datagrams from the connector's NAT over the direct path before the cut


def body(args, lab, checks):
    # Only a missing kernel feature skips (labtest.run); an rdv without listen/connect is a failure.
    missing = peers.missing_commands(args.bin_dir)
    if not checks.expect(missing is None, "%s (docs/agent.md)" % missing):
        return
    lab.build([("eim-adf", "listener"), ("eim-apdf", "connector")])
    lab.start_node()
    ln, cn = lab.nat("listener"), lab.nat("connector")
    lkey, ckey = lab.workdir + "/listen.key", lab.workdir + "/connect.key"
    listener_id = peers.new_key(lab, lkey)
    peers.new_key(lab, ckey)
    listen = peers.start_listener(lab, ln, lkey, "fallback")
    timeout = peers.CONNECT_SECONDS + COUNT * INTERVAL_MS // 1000
    connect = labtest.JsonLinesProcess(
        lab, cn.host_ns,
        [lab.binary("rdv"), "connect", "--node", lab.node_url, "--key", ckey, "--to", listener_id, "--count",
         str(COUNT), "--interval-ms", str(INTERVAL_MS), "--timeout", str(timeout)], "connect-fallback")
    connected = connect.wait_for(peers.is_event("connected"), peers.CONNECT_SECONDS)
    if not checks.expect(connected is not None, "did not connect: %s %s" % (connect.lines, listen.lines)):
        return
    checks.expect(connected.get("path") == "direct", "first path is %s, expected direct (%s)" % (
        connected.get("path"), connected))
    # Mid-conversation: once the connector's NAT has sent CUT_AFTER more datagrams over the direct path
    # (messages, echoes' acks, pings), cut it.
    ln.count_from(cn.public_ip)
    if not checks.expect(natlab.wait_until(lambda: ln.counted_from(cn.public_ip) >= CUT_AFTER, 20, step=0.02),
                         "the direct path carried fewer than %d datagrams in 20 s" % CUT_AFTER):
        return
    natlab.log("cutting the direct path: DROP UDP %s <-> %s on the listener's NAT" % (ln.public_ip, cn.public_ip))
    ln.drop_from(cn.public_ip)
    fallback = connect.wait_for(peers.is_event("fallback"), 15) or listen.wait_for(peers.is_event("fallback"), 1)
    checks.expect(fallback is not None, "no fallback event after the cut: %s" % connect.lines)
    restored = connect.wait_for(peers.is_event("restored"), timeout)
    checks.expect(restored is not None, "never back on a fast path: %s" % connect.lines)
    if restored:
        checks.expect(restored.get("path") == "relayed",
                      "restored path %s, but only the relay can carry it now: %s" % (restored.get("path"), restored))
    done = connect.wait_for(peers.is_event("done"), timeout)
    code = connect.wait_exit(10)
    if not checks.expect(done is not None, "no done event: %s\n%s" % (connect.lines, lab.read_log("connect-fallback"))):
        return
    for e in connect.lines:
        natlab.log("  rdv connect at %.2f s: %s" % (e["_t"], {k: v for k, v in e.items() if k not in ("_t", "peer")}))
    checks.expect(done.get("sent") == COUNT and done.get("received") == COUNT,
                  "lost messages: sent %s, received %s of %d" % (done.get("sent"), done.get("received"), COUNT))
    checks.expect(done.get("in_order") is True, "messages out of order: %s" % done)
    checks.expect(done.get("via_hub", 0) > 0, "nothing went over the hub: %s" % done)
    checks.expect(done.get("via_fast", 0) > 0, "nothing went over the fast path: %s" % done)
    checks.expect(code == 0, "rdv connect exit code %s" % code)
    lab.stop(listen.proc)


if __name__ == "__main__":
    sys.exit(labtest.run(__doc__, body))
