#!/usr/bin/env python3
"""netns: bench/run.py --veth --veth-load both with tiny runs against rendezvousd (user space), rendezvousd with
the kernel fast path and the raw forwarder. The reflector rows (bench/reflector: BPF reflectors in the load
namespace) must circulate traffic through every target, drain the datagrams still in flight up to the client
sockets with every byte verified, and count the same bytes per relayed packet as the rdv-loadgen rows relay
and verify (the payload to the peer, + the 4-byte ChannelData header to a TURN client); the kernel fast path's
reflector rows must cost the daemon next to no CPU (the forwarding is in softirq), and rendezvousd's /metrics
must count exactly the packets and bytes the reflectors bounced each way. Needs root and BPF: exit 77
(CTest SKIP) with the reason otherwise. The namespaces are the harness's (198.18.1.0/24, 198.18.2.0/24),
removed even on failure."""
import argparse
import os
import re
import subprocess
import sys
import tempfile

TARGETS = ["rendezvousd", "rendezvousd+kernel", "baseline"]
SCENARIOS = [("channel-100", 100), ("channel-1200", 1200)]


def skip(reason):
    print("SKIP: " + reason)
    sys.exit(77)


def section(text, title):
    """The table lines under '## title'."""
    out, inside = [], False
    for line in text.splitlines():
        if line.startswith("## "):
            inside = line[3:].startswith(title)
            continue
        if inside and line.startswith("| ") and not line.startswith("| scenario"):
            out.append([c.strip() for c in line.strip().strip("|").split("|")])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--run", required=True)
    a = ap.parse_args()
    if os.geteuid() != 0:
        skip("needs root (network namespaces, BPF)")
    probe = subprocess.run([os.path.join(a.bin_dir, "rdv-reflector"), "--probe"], capture_output=True, text=True)
    if probe.returncode == 77:
        skip("BPF unavailable: " + probe.stdout.strip())
    if probe.returncode != 0:
        print("rdv-reflector --probe failed (%d): %s %s" % (probe.returncode, probe.stdout, probe.stderr))
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "veth.md")
        p = subprocess.run([sys.executable, a.run, "--veth", "--veth-load", "both", "--veth-targets", ",".join(TARGETS),
                            "--rounds", "1", "--duration", "0.2", "--bin-dir", a.bin_dir, "--out", out],
                           capture_output=True, text=True, timeout=240)
        text = p.stdout
    print(text)
    problems = []
    if p.returncode != 0:
        problems.append("run.py --veth exit code %d: %s" % (p.returncode, p.stderr.strip()[-500:]))
    reflector, loadgen = section(text, "Load: BPF reflectors"), section(text, "Load: rdv-loadgen")
    for name, payload in SCENARIOS:
        for target in TARGETS:
            row = next((r for r in reflector if r[0] == name and r[1] == target), None)
            lrow = next((r for r in loadgen if r[0] == name and r[1] == target), None)
            where = "%s %s" % (name, target)
            if not row or row[2].startswith("error"):
                problems.append("reflector row %s: %s" % (where, row))
                continue
            if not lrow or lrow[2].startswith("error"):
                problems.append("loadgen row %s: %s" % (where, lrow))
            if float(row[2]) <= 0 or float(row[4]) <= 0:
                problems.append("reflector row %s: no traffic: %s" % (where, row))
            want = "%d, %d (as loadgen)" % (payload, payload + (0 if target == "baseline" else 4))
            if row[11] != want:
                problems.append("reflector row %s: bytes per packet %r, want %r" % (where, row[11], want))
            start, end = (int(x) for x in re.match(r"(\d+) -> (\d+)", row[13]).groups())
            # A user-space relay may lose some to full socket buffers (or all, starved on a busy machine);
            # the kernel path has no socket to overflow.
            if start != 16 * 16 or end > start or (target == "rendezvousd+kernel" and end <= 0):
                problems.append("reflector row %s: in flight %s (16 x 16 injected)" % (where, row[13]))
            # rendezvousd's own counters (user space, and the kernel's folded in) against the reflectors'
            if target.startswith("rendezvousd") and row[12] != "= bounced":
                problems.append("reflector row %s: the relay's /metrics %r" % (where, row[12]))
            if target == "rendezvousd+kernel" and float(row[9]) > 0.5:
                problems.append("reflector row %s: the daemon spent %s us/pkt: not the kernel path" % (where, row[9]))
    for name, _ in SCENARIOS:  # the control: the load alone, a reflector in place of the relay
        row = next((r for r in reflector if r[0] == name and r[1].startswith("load alone")), None)
        if not row or row[2].startswith("error") or not row[5].endswith("per bounce") or float(row[2]) <= 0:
            problems.append("reflector row %s load alone: %s" % (name, row))
    for msg in problems:
        print("FAIL: " + msg)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
