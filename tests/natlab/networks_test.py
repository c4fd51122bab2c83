#!/usr/bin/python3
"""natlab_networks: the networks beyond a single NAT (docs/natlab.md "Wider networks").

- double NAT: home NATs (port-restricted) behind a carrier-grade NAT on 100.64.0.0/10, once with hairpinning
  at the CGNAT and once without; two peers behind the same CGNAT connect directly only through its hairpin;
- a UDP-blocked network (only TCP out): TURN over TCP carries the session, and the block really dropped the
  peer's UDP (its counter went up);
- an IPv6-only network behind NAT64 (tayga; the node's IPv4 address reached through the NAT64 prefix): the
  agent synthesises the node's STUN/TURN addresses into the prefix, and the relay carries the session;
- each against a public full-cone and a symmetric NAT.

Every case asserts the path RFC 4787 predicts, data both ways, and both ends agreeing; time to first byte,
path, candidate types and phases go to natlab-results.json (section "networks").
"""
import json
import os
import sys

import labtest
import matrix_test
import natlab
import peers

# (listener, connector, expected path, why)
CASES = [
    ("cgn-hp-a", "cgn-hp-b", "direct",
     "same CGNAT with hairpinning: each check to the other's srflx (CGNAT public:port) is reflected to the other "
     "home NAT from the sender's own srflx, which that home NAT's filter admits once it has sent there itself"),
    ("cgn-a", "cgn-b", "relay",
     "same CGNAT without hairpinning: a datagram to the CGNAT's own public address is dropped; only the relay works"),
    ("full-cone", "cgn-a", "direct", "EIM behind EIM is EIM with the inner filter: port-restricted vs full cone"),
    ("cgn-hp-a", "full-cone", "direct", "the same, the other way round"),
    ("symmetric", "cgn-b", "relay", "port-restricted (through the CGNAT) vs symmetric, as in the matrix"),
    ("full-cone", "udp-blocked", "relay", "no UDP out: only TURN over TCP reaches anything"),
    ("udp-blocked", "symmetric", "relay", "no UDP out, the other side symmetric"),
    ("full-cone", "tls-only", "relay", "only TLS out: TURN over TLS (the agent's local bridge) reaches the relay"),
    ("tls-only", "symmetric", "relay", "only TLS out, the other side symmetric"),
    ("v6only", "full-cone", "relay",
     "IPv6-only: its only IPv4 candidate is its TURN allocation (through NAT64); libnice pairs by address family"),
    ("full-cone", "v6only", "relay", "the same, the other way round"),
    ("v6only", "symmetric", "relay", "IPv6-only vs symmetric"),
]


def body(args, lab, checks):
    missing = peers.missing_commands(args.bin_dir)
    if not checks.expect(missing is None, "%s (docs/agent.md)" % missing):
        return
    lab.build([("eim-eif", "full-cone"), ("apdm-apdf", "symmetric")])
    lab.add_nat("eim-apdf", "udp-blocked", block_udp=True)
    lab.add_nat("eim-apdf", "tls-only", tls_only=True)
    lab.add_cgnat("cgnat-hairpin", True, [("eim-apdf", "cgn-hp-a"), ("eim-apdf", "cgn-hp-b")])
    lab.add_cgnat("cgnat-no-hairpin", False, [("eim-apdf", "cgn-a"), ("eim-apdf", "cgn-b")])
    v6 = lab.add_nat64("v6only")
    lab.start_node(tls=True)
    if not checks.expect(v6.wait_ready(), "the IPv6-only host cannot reach the node through NAT64 (%s)" % v6.node_url):
        return
    cases = [c for c in CASES if not args.only or "%s,%s" % (c[0], c[1]) in args.only.split(";")]
    rows = []
    for listener, connector, want, why in cases:
        name = "%s -> %s" % (listener, connector)
        natlab.log("pair %s (expect %s: %s)" % (name, want, why))
        blocked_label = "tls-only" if "tls-only" in (listener, connector) else "udp-blocked"
        blocked = lab.nat(blocked_label)
        dropped_before = blocked.udp_blocked_count()
        outcome = peers.connect_pair(lab, lab.nat(listener), lab.nat(connector), tag="%s_%s" % (listener, connector))
        row = {"listener": listener, "connector": connector, "expected": want, "connected": outcome.connected,
               "path": outcome.path, "local": outcome.local_type, "remote": outcome.remote_type,
               "listener_path": outcome.listener_path, "transport": outcome.transport,
               "time_to_first_byte_ms": outcome.time_to_first_byte_ms, "rtt_ms": outcome.rtt_ms,
               "phases": outcome.phases, "listener_phases": outcome.listener_phases}
        rows.append(row)
        natlab.log("  ->", json.dumps(row))
        if not checks.expect(outcome.connected, "%s: did not connect: %s; %s" % (
                name, outcome.error, outcome.describe())):
            continue
        checks.expect(outcome.both_ways, "%s: data did not flow both ways: %s; %s" % (
            name, outcome.error, outcome.describe()))
        checks.expect(outcome.listener_path == {"direct": "direct", "relay": "relayed"}.get(outcome.path),
                      "%s: rdv connect and rdv listen disagree on the path: %s" % (name, outcome.describe()))
        checks.expect(outcome.path == want, "%s: expected %s; %s" % (name, want, outcome.describe()))
        if blocked_label in (listener, connector):
            # The blocked side's end of the pair is its TURN-over-TCP (or TLS) allocation, and its UDP was really
            # refused.
            blocked_end = outcome.local_type if connector == blocked_label else outcome.remote_type
            checks.expect(blocked_end == "relay", "%s: the UDP-blocked side's candidate is %s; %s" % (
                name, blocked_end, outcome.describe()))
            checks.expect(blocked.udp_blocked_count() > dropped_before,
                          "%s: the UDP block dropped nothing: the agent sent no UDP at all?" % name)
        if "v6only" in (listener, connector):
            v6_end = outcome.local_type if connector == "v6only" else outcome.remote_type
            checks.expect(v6_end == "relay", "%s: the IPv6-only side's candidate is %s; %s" % (
                name, v6_end, outcome.describe()))
    if args.artifacts:
        matrix_test.record_results(os.path.join(args.artifacts, "natlab-results.json"), rows, section="networks")


def extra(ap):
    ap.add_argument("--only", default="", help="listener,connector pairs separated by ';' (default: every case)")


if __name__ == "__main__":
    sys.exit(labtest.run(__doc__, body, extra))
