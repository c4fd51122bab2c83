#!/usr/bin/python3
"""natlab_matrix_*: every ordered pair of the five RFC 4787 behaviours, `rdv listen` behind NAT A and
`rdv connect` behind NAT B. Asserts that the peers connect, exchange data both ways, and that the selected
candidate pair is direct where the behaviours allow hole punching and relayed exactly where they do not.
Time to first byte per pair goes to <artifacts>/natlab-results.json (reported in docs/natlab.md, not asserted).

--listeners picks which listener behaviours this case covers (each against all four connector behaviours),
so the 16 pairs can be split across CTest cases that run in parallel on distinct slots.
"""
import fcntl
import json
import os
import statistics
import sys
import time

import labtest
import natlab
import peers

SYMMETRIC = "apdm-apdf"
ADDRESS_DEPENDENT = "adm-adf"


def expected_path(listener, connector):
    """'direct' or 'relay' for a pair, from RFC 4787 reasoning about what a connectivity check meets.

    A peer's server-reflexive (srflx) candidate is its mapping towards the STUN server. ICE checks go from
    each host candidate to the other side's srflx candidate; both sides send at once and retransmit, so a
    filter opened by one side's outgoing check admits the other side's next retransmission.
    """
    a, b = listener, connector
    if ADDRESS_DEPENDENT in (a, b):
        other = b if a == ADDRESS_DEPENDENT else a
        # The address-dependent NAT's check to the other side's srflx leaves through its mapping for the other
        # NAT's IP: a public IP of its own (arbitrary pooling), unlike the srflx mapping (for the node's IP).
        # The other side's checks go to that srflx, whose filter admits only the node's IP: dropped. So only
        # the address-dependent side's check can open the path, and it arrives from an IP the other side has
        # never sent to: only endpoint-independent filtering admits it (the other side learns it as a
        # peer-reflexive candidate and answers with an exact reply, which the address-dependent NAT admits).
        return "direct" if other == "eim-eif" else "relay"
    if SYMMETRIC not in (a, b):
        # Both mappings are endpoint-independent: a check from either host leaves through the same public
        # endpoint as its srflx candidate. Each side's outgoing check opens its own filter for exactly the
        # other's srflx (address and port), whichever filtering it has, so the retransmitted checks meet.
        return "direct"
    if a == SYMMETRIC and b == SYMMETRIC:
        # Each check leaves through a new mapping (new port) that the other side has never sent to, and
        # each side's filters admit only the exact endpoints it sent to: neither check ever gets in.
        return "relay"
    other = b if a == SYMMETRIC else a
    if other == "eim-eif":
        # Full cone admits the symmetric side's check from its fresh mapping; it learns that mapping as a
        # peer-reflexive candidate and answers to it, which the symmetric NAT admits (exact 5-tuple reply).
        return "direct"
    if other == "eim-adf":
        # Address-dependent filtering: the cone side's own checks went to the symmetric side's srflx, i.e.
        # to its public IP, so the filter admits any port of that IP, including the fresh mapping of the
        # symmetric side's check. Peer-reflexive again; the answer is an exact reply. The race-prone pair:
        # the symmetric side's first check arrives before the cone side has sent anything and is dropped,
        # while the relayed pair is valid at once; the agent's "upgrade" ICE restart (docs/agent.md) is
        # what makes it end direct every time.
        return "direct"
    # eim-apdf: the port-restricted side admits only the exact srflx endpoint it sent to, but the symmetric
    # side's check comes from a fresh port; the port-restricted side's checks go to the srflx mapping, which
    # the symmetric NAT opened only for the STUN server. No direct path: the relay carries it.
    return "relay"


def record_results(path, rows, section="pairs"):
    """Merges rows into the JSON results file (two CTest cases may write at once: flock). The medians are over
    every section's pairs."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        text = f.read()
        try:
            data = json.loads(text) if text.strip() else {}
        except ValueError:
            data = {}
        pairs = data.get(section, {})
        for row in rows:
            pairs["%s -> %s" % (row["listener"], row["connector"])] = row
        data[section] = dict(sorted(pairs.items()))
        data["updated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        data["load_average"] = os.getloadavg()
        every = [r for name in ("pairs", "networks") for r in data.get(name, {}).values()]
        direct = [r["time_to_first_byte_ms"] for r in every if r.get("path") == "direct" and
                  r.get("time_to_first_byte_ms") is not None]
        relay = [r["time_to_first_byte_ms"] for r in every if r.get("path") == "relay" and
                 r.get("time_to_first_byte_ms") is not None]
        data["median_time_to_first_byte_ms"] = {"direct": statistics.median(direct) if direct else None,
                                                "relay": statistics.median(relay) if relay else None}
        f.seek(0)
        f.truncate()
        json.dump(data, f, indent=2)
        f.write("\n")


def body(args, lab, checks):
    # Only a missing kernel feature skips (labtest.run); an rdv without listen/connect is a failure.
    missing = peers.missing_commands(args.bin_dir)
    if not checks.expect(missing is None, "%s (docs/agent.md)" % missing):
        return
    listeners = args.listeners.split(",")
    connectors = list(natlab.BEHAVIOURS)
    specs = [(b, "L-" + natlab.SHORT[b]) for b in listeners] + [(b, "C-" + natlab.SHORT[b]) for b in connectors]
    lab.build(specs)
    lab.start_node()
    rows = []
    for a in listeners:
        for b in connectors:
            want = expected_path(a, b)
            natlab.log("pair %s -> %s (expect %s)" % (a, b, want))
            outcome = peers.connect_pair(lab, lab.nat("L-" + natlab.SHORT[a]), lab.nat("C-" + natlab.SHORT[b]),
                                         tag="%s_%s" % (natlab.SHORT[a], natlab.SHORT[b]))
            name = "%s -> %s" % (a, b)
            row = {"listener": a, "connector": b, "expected": want, "connected": outcome.connected,
                   "path": outcome.path, "local": outcome.local_type, "remote": outcome.remote_type,
                   "listener_path": outcome.listener_path, "transport": outcome.transport,
                   "time_to_first_byte_ms": outcome.time_to_first_byte_ms, "rtt_ms": outcome.rtt_ms,
                   "phases": outcome.phases, "listener_phases": outcome.listener_phases}
            rows.append(row)
            natlab.log("  ->", json.dumps(row))
            if not checks.expect(outcome.connected, "%s: did not connect: %s; %s" % (name, outcome.error,
                                                                                    outcome.describe())):
                continue
            checks.expect(outcome.both_ways, "%s: data did not flow both ways: %s; %s" % (name, outcome.error,
                                                                                         outcome.describe()))
            # The listener reports its own view of the same pair ("direct" or "relayed").
            checks.expect(outcome.listener_path == {"direct": "direct", "relay": "relayed"}.get(outcome.path),
                          "%s: rdv connect and rdv listen disagree on the path: %s; %s" % (
                              name, outcome.error, outcome.describe()))
            checks.expect(outcome.path == want, "%s: expected %s; %s" % (name, want, outcome.describe()))
    # Each listener NAT's address starts one session per connector, each with 401 challenges: honest clients
    # behind one address must never meet the node's per-source limit on authentication answers (it once
    # refused them: relay/rate_limiter.h, credit).
    refused = lab.node_metric("rendezvous_relay_unauthorized_rate_limited_total")
    natlab.log("node: %d TURN challenges answered, %d refused by the per-source limit" % (
        lab.node_metric("rendezvous_relay_unauthorized_total"), refused))
    checks.expect(refused == 0, "the node refused %d TURN authentication answers to honest peers" % refused)
    if args.artifacts:
        record_results(os.path.join(args.artifacts, "natlab-results.json"), rows)


def extra(ap):
    ap.add_argument("--listeners", default=",".join(natlab.BEHAVIOURS),
                    help="comma-separated listener behaviours (each runs against every connector behaviour)")


if __name__ == "__main__":
    sys.exit(labtest.run(__doc__, body, extra))
