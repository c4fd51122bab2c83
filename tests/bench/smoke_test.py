#!/usr/bin/env python3
"""bench-smoke: bench/run.py --smoke against rendezvousd, coturn and the baseline must produce a table with
a row per scenario and no error cell. Every row has a number for rendezvousd (its TURN relay is wired: an
"n/a" there means a scenario stopped measuring it); coturn has numbers for the TURN rows and "n/a" for the
registry and signalling rows (scenario 6, rdv-apibench), which it has no equivalent of."""
import argparse
import os
import subprocess
import sys
import tempfile
import time

ROWS = ["binding", "allocate", "allocate-rest", "channel-100", "channel-1200", "channel-1200 Mbit/s", "send-100",
        "send-1200", "send-1200 Mbit/s", "latency p50", "latency p99", "latency p999", "memory RSS idle",
        "memory RSS @50 alloc", "memory bytes/alloc @50"]
NO_BASELINE = ("allocate", "allocate-rest", "memory")
# Scenario 6 (rendezvousd only): a number for ours, coturn "n/a (no equivalent)", no baseline.
API_ROWS = ["registry registrations", "registry reg per CPU-second", "registry discover p50", "registry discover p99",
            "signal envelopes", "signal env per CPU-second", "signal latency p50", "signal latency p99",
            "signal bytes/idle conn"]


def cells(table, label):
    for line in table.splitlines():
        parts = [c.strip() for c in line.strip().strip("|").split("|")]
        if parts and parts[0] == label:
            return parts
    return None


def is_number(text):
    try:
        float(text.split()[0])
        return True
    except (ValueError, IndexError):
        return False


def check(table):
    problems = []
    for label in ROWS:
        row = cells(table, label)
        if row is None:
            problems.append("no row '%s'" % label)
            continue
        _name, _unit, ours, coturn, baseline = row[:5]
        if any(c.startswith("error") for c in row):
            problems.append("%s: %s" % (label, row))
        if not is_number(coturn):
            problems.append("%s: coturn cell '%s'" % (label, coturn))
        if not label.startswith(NO_BASELINE) and not is_number(baseline):
            problems.append("%s: baseline cell '%s'" % (label, baseline))
        if not is_number(ours):
            problems.append("%s: rendezvousd cell '%s'" % (label, ours))
    for label in API_ROWS:
        row = cells(table, label)
        if row is None:
            problems.append("no row '%s'" % label)
            continue
        _name, _unit, ours, coturn, _baseline = row[:5]
        if not is_number(ours):
            problems.append("%s: rendezvousd cell '%s'" % (label, ours))
        if not coturn.startswith("n/a"):
            problems.append("%s: coturn cell '%s' (coturn has no equivalent)" % (label, coturn))
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--run", required=True)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="rdv-bench-smoke-") as tmp:
        out = os.path.join(tmp, "results.md")
        t0 = time.time()
        p = subprocess.run([sys.executable, a.run, "--smoke", "--bin-dir", a.bin_dir, "--out", out],
                           capture_output=True, text=True, timeout=110)
        print(p.stdout, p.stderr, "took %.1f s" % (time.time() - t0), sep="\n")
        if not os.path.exists(out):
            print("FAIL: no results file")
            return 1
        with open(out) as f:
            problems = check(f.read())
    if p.returncode != 0:
        problems.append("run.py exit code %d" % p.returncode)
    for pr in problems:
        print("FAIL:", pr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
