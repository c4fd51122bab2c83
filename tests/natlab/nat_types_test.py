#!/usr/bin/python3
"""natlab_nat_types: every NAT the lab builds is what it claims, measured from inside its LAN.

For each of the five RFC 4787 behaviours, `rdv nat-type` (RFC 5780 discovery against the lab's rendezvousd,
which has an --alt-address) must report the configured mapping and filtering, and the mapped address must
be the NAT's public address. Hairpinning is checked with a real datagram to the host's own STUN-learned
mapping, in the configured state and again after toggling it. The matrix and fallback tests rely on this.
"""
import json
import subprocess
import time
import sys

import labtest
import natlab


def body(args, lab, checks):
    # Hairpinning starts on for two NATs and off for the other two; the EIM ones are toggled below.
    lab.build(list(natlab.BEHAVIOURS), hairpin=[0, 2])
    lab.start_node()
    # All four discoveries at once: the address-and-port-dependent ones wait out unanswered transactions.
    # rdv nat-type's default schedule (no --rto): every test gives up after 1 s, the run ends within 5 s
    # (checked with 3 s of slack for process start-up on a loaded machine).
    running = []
    started = time.monotonic()
    for nat in lab.nats:
        argv = ["ip", "netns", "exec", nat.host_ns, lab.binary("rdv"), "nat-type", "--json", lab.stun_server]
        running.append((nat, subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    for nat, p in running:
        out, err = p.communicate(timeout=60)
        took = time.monotonic() - started
        natlab.log("%s: rdv nat-type (%.2f s) -> %s %s" % (nat.label, took, out.strip(), err.strip()))
        checks.expect(took < 8.0, "%s: rdv nat-type took %.2f s (default schedule: within 5 s)" % (nat.label, took))
        if not checks.expect(p.returncode == 0, "%s: rdv nat-type exit %d: %s" % (nat.label, p.returncode, err)):
            continue
        r = json.loads(out)
        mapping, filtering = natlab.BEHAVIOURS[nat.behaviour]
        checks.expect(r["mapping"] == mapping, "%s: mapping %s, configured %s" % (nat.label, r["mapping"], mapping))
        checks.expect(r["filtering"] == filtering,
                      "%s: filtering %s, configured %s" % (nat.label, r["filtering"], filtering))
        ips = {m.rsplit(":", 1)[0] for m in r["mapped"]}
        # One public address; adm-adf: the one of its mapping towards each of the node's two addresses.
        want = {nat.mapped_ip(lab.node_ip)}
        if nat.behaviour == "adm-adf":
            want.add(nat.mapped_ip(lab.node_alt_ip))
            checks.expect(len(want) == 2, "%s: one mapping IP for two remote IPs" % nat.label)
        checks.expect(ips == want, "%s: mapped %s, NAT mapping addresses %s" % (nat.label, r["mapped"], sorted(want)))
        ports = {m.rsplit(":", 1)[1] for m in r["mapped"]}
        if nat.behaviour == "apdm-apdf":
            checks.expect(len(r["mapped"]) == 3 and len(ports) == 3, "%s: symmetric NAT reused a port: %s" % (
                nat.label, r["mapped"]))
    for nat in lab.nats:
        states = [nat.hairpin] + ([not nat.hairpin] if nat.behaviour not in natlab.NON_EIM else [])
        for state in states:
            nat.set_hairpin(state)
            works = natlab.hairpin_works(lab, nat)
            natlab.log("%s: hairpin %s -> datagram %s" % (nat.label, "on" if state else "off",
                                                          "reflected" if works else "dropped"))
            checks.expect(works == state, "%s: hairpinning configured %s but %s" % (
                nat.label, "on" if state else "off", "works" if works else "does not work"))


if __name__ == "__main__":
    sys.exit(labtest.run(__doc__, body))
