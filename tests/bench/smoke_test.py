#!/usr/bin/env python3
"""bench-smoke: bench/run.py --smoke against rendezvousd, coturn and the baseline must produce a table with
a row per scenario and no error cell, and a number in every rendezvousd cell (a TURN row saying n/a fails):
the traffic rows, the server-CPU rows (CPU/answer, CPU/pkt, CPU/alloc: positive for every target) and the
fixed-rate rows (--rate); the registry and signalling rows (scenario 6, rdv-apibench) must have numbers for
rendezvousd; the latency-paired rows (kernel timestamps: a positive round trip in every column; relay-added
rows for both servers). A second short run with --procs 2 (two load generators, results summed) must give
numbers too."""
import argparse
import os
import subprocess
import sys
import tempfile
import time

ROWS = ["binding", "allocate", "allocate-rest", "channel-100", "channel-1200", "channel-1200 Mbit/s", "send-100",
        "send-1200", "send-1200 Mbit/s", "latency p50", "latency p99", "latency p999", "memory RSS idle",
        "memory RSS @50 alloc", "memory bytes/alloc @50"]
SMOKE_RATE = 1000
CPU_ROWS = ["binding CPU/answer", "allocate CPU/alloc", "allocate-rest CPU/alloc", "channel-100 CPU/pkt",
            "channel-1200 CPU/pkt", "send-100 CPU/pkt", "send-1200 CPU/pkt", "latency CPU/pkt"]
RATE_ROWS = ["binding @%d/s" % SMOKE_RATE, "binding @%d/s CPU/answer" % SMOKE_RATE] + [
    "%s @%d/s%s" % (s, SMOKE_RATE, suffix) for s in ("channel-100", "channel-1200", "send-100", "send-1200")
    for suffix in ("", " CPU/pkt")]
ROWS += CPU_ROWS + RATE_ROWS
# latency-paired: the kernel-timestamp round trips (the baseline column: the forwarder run beside each server)
# and the relay-added rows (no baseline column: they are the server minus the forwarder).
PAIRED_ROWS = ["latency (kernel timestamps) p50", "latency (kernel timestamps) p99", "latency (kernel timestamps) p999",
               "relay-added (paired) p50", "relay-added (paired) p50 95% CI +-", "relay-added (paired) p99",
               "relay-added (paired) p99 95% CI +-", "relay-added (paired) median of pair differences",
               "relay-added (paired, uncontended) p50", "relay-added (paired, uncontended) p99"]
ROWS += PAIRED_ROWS
# Present, but "-" allowed: a short smoke run on a busy machine may have no pair in which neither server waited
# on a run queue (and a kernel without schedstat gives none).
MAY_BE_EMPTY = ("relay-added (paired, uncontended) p50", "relay-added (paired, uncontended) p99")
PROCS_SCENARIOS = "binding,allocate,channel-100"
PROCS_ROWS = ["binding", "binding CPU/answer", "allocate", "allocate CPU/alloc", "channel-100", "channel-100 CPU/pkt"]
NO_BASELINE = ("allocate", "allocate-rest", "memory", "relay-added")
# Scenario 6 (rendezvousd only): a number for ours, coturn "n/a (no equivalent)", no baseline.
API_ROWS = ["registry registrations", "registry reg per CPU-second", "registry discover p50", "registry discover p99",
            "signal envelopes", "signal env per CPU-second", "signal latency p50", "signal latency p99",
            "signal bytes/idle conn",
            # --verify-threads 2: the verifier-pool rows (issue 13, item 5)
            "signal envelopes, 2 verifier threads", "signal env per CPU-second, 2 verifiers"]


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


def check(table, rows=ROWS, api_rows=API_ROWS):
    problems = []
    for label in rows:
        row = cells(table, label)
        if row is None:
            problems.append("no row '%s'" % label)
            continue
        _name, _unit, ours, coturn, baseline = row[:5]
        if any(c.startswith("error") for c in row):
            problems.append("%s: %s" % (label, row))
        if label in MAY_BE_EMPTY:
            continue
        if not is_number(coturn):
            problems.append("%s: coturn cell '%s'" % (label, coturn))
        if not label.startswith(NO_BASELINE) and not is_number(baseline):
            problems.append("%s: baseline cell '%s'" % (label, baseline))
        if not is_number(ours):
            problems.append("%s: rendezvousd cell '%s'" % (label, ours))
        if label.startswith("latency (kernel") and not all(float(c.split()[0]) > 0 for c in (ours, coturn, baseline)
                                                            if is_number(c)):
            problems.append("%s: a kernel round trip of 0? %s" % (label, row))
        if "CPU/" in label and not all(float(c.split()[0]) > 0 for c in (ours, coturn, baseline) if is_number(c)):
            problems.append("%s: a server used no CPU? %s" % (label, row))
    for label in api_rows:
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
    problems = []
    with tempfile.TemporaryDirectory(prefix="rdv-bench-smoke-") as tmp:
        runs = [(["--rate", str(SMOKE_RATE), "--verify-threads", "2"], 150, ROWS, API_ROWS),
                (["--procs", "2", "--rate", "0", "--scenarios", PROCS_SCENARIOS], 60, PROCS_ROWS, [])]
        for i, (extra, timeout, rows, api_rows) in enumerate(runs):
            out = os.path.join(tmp, "results-%d.md" % i)
            t0 = time.time()
            p = subprocess.run([sys.executable, a.run, "--smoke", "--bin-dir", a.bin_dir, "--out", out] + extra,
                               capture_output=True, text=True, timeout=timeout)
            print(p.stdout, p.stderr, "took %.1f s" % (time.time() - t0), sep="\n")
            if not os.path.exists(out):
                print("FAIL: no results file", extra)
                return 1
            with open(out) as f:
                problems += ["%s: %s" % (" ".join(extra), pr) for pr in check(f.read(), rows, api_rows)]
            if p.returncode != 0:
                problems.append("run.py %s exit code %d" % (" ".join(extra), p.returncode))
    for pr in problems:
        print("FAIL:", pr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
