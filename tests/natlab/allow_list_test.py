#!/usr/bin/python3
"""natlab_allow_list: the lab's relay works only because the node allows 198.18.0.0/15 explicitly.

The lab's "public" addresses are RFC 2544 benchmarking addresses, which the relay refuses as peers by
default (docs/turn.md). Two peers behind full-cone NATs connect with the connector forced onto the relay
(`rdv connect --relay-only`), so the relay must reach the listener's public address:
  1. node without --allow-peer: the relay answers CreatePermission for the lab's addresses with 403 (the
     node's rendezvous_relay_policy_rejected_total goes up); if the peers connect at all, it is relay to
     relay (the node's own relay ports need no allow-list), never the relay reaching a lab address;
  2. node restarted with --allow-peer 198.18.0.0/15: they connect over the relay, echo messages, and the
     relay refuses nothing.
"""
import sys

import labtest
import natlab
import peers

REJECTED = "rendezvous_relay_policy_rejected_total"


def attempt(lab, tag, listener_id, lkey, ckey, seconds):
    listen = peers.start_listener(lab, lab.nat("listener"), lkey, tag)
    try:
        connect = labtest.JsonLinesProcess(
            lab, lab.nat("connector").host_ns,
            [lab.binary("rdv"), "connect", "--node", lab.node_url, "--key", ckey, "--to", listener_id,
             "--relay-only", "--count", "3", "--interval-ms", "20", "--timeout", str(seconds)], "connect-" + tag)
        code = connect.wait_exit(seconds + 10)
        if code is None:
            lab.stop(connect.proc)
        connect.thread.join(2)
        return code, connect.lines
    finally:
        lab.stop(listen.proc)


def body(args, lab, checks):
    # Only a missing kernel feature skips (labtest.run); an rdv without listen/connect is a failure.
    missing = peers.missing_commands(args.bin_dir)
    if not checks.expect(missing is None, "%s (docs/agent.md)" % missing):
        return
    lab.build([("eim-eif", "listener"), ("eim-eif", "connector")])
    lkey, ckey = lab.workdir + "/listen.key", lab.workdir + "/connect.key"
    listener_id = peers.new_key(lab, lkey)
    peers.new_key(lab, ckey)

    lab.start_node(allow_peer=False, name="rendezvousd-default-policy")
    code, lines = attempt(lab, "denied", listener_id, lkey, ckey, 8)
    natlab.log("default policy: exit %s, %s" % (code, [e.get("event") for e in lines]))
    # Relay to relay needs no allow-list (the node's own relay ports are always reachable), so a connection
    # may still come up, but only with both ends relayed: no path where the relay reaches a lab address.
    for e in lines:
        if e.get("event") in ("connected", "restored"):
            checks.expect(e.get("local") == "relay" and e.get("remote") == "relay",
                          "default policy, yet the relay reached a 198.18.0.0/15 peer: %s" % e)
    rejected = lab.node_metric(REJECTED)
    checks.expect(rejected > 0, "the relay never refused a peer (%s = %s)" % (REJECTED, rejected))

    lab.start_node(allow_peer=True, name="rendezvousd-allow-peer")
    code, lines = attempt(lab, "allowed", listener_id, lkey, ckey, peers.CONNECT_SECONDS)
    natlab.log("--allow-peer 198.18.0.0/15: exit %s, %s" % (code, [e.get("event") for e in lines]))
    connected = [e for e in lines if e.get("event") == "connected"]
    if checks.expect(connected, "no connection with --allow-peer 198.18.0.0/15: %s" % lines):
        checks.expect(connected[0].get("path") == "relayed", "path %s with --relay-only" % connected[0])
    done = [e for e in lines if e.get("event") == "done"]
    checks.expect(done and done[0].get("received") == 3 and done[0].get("in_order") is True,
                  "messages did not come back: %s" % lines)
    checks.expect(code == 0, "rdv connect exit %s" % code)
    checks.expect(lab.node_metric(REJECTED) == 0, "the relay refused a peer although the lab's range is allowed")


if __name__ == "__main__":
    sys.exit(labtest.run(__doc__, body))
