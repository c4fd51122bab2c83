"""The results table of bench/run.py: medians, min-max, ratios, machine facts, as Markdown."""
import os
import platform
import statistics
import subprocess

TARGETS = ["rendezvousd", "coturn", "baseline"]
NA = "n/a (not supported yet)"
# Derived rows: (row name, scenario, result key, unit).
EXTRA_ROWS = [("channel-1200 Mbit/s", "channel-1200", "mbps", "Mbit/s"),
              ("send-1200 Mbit/s", "send-1200", "mbps", "Mbit/s")]
# Server CPU time per unit of work (cpu_us_per from rdv-loadgen --server-pid): the row after each scenario.
CPU_SUFFIX = {"binding": "CPU/answer", "allocate": "CPU/alloc", "allocate-rest": "CPU/alloc"}  # others: CPU/pkt
LATENCY_KEYS = [("latency p50", "p50_us"), ("latency p99", "p99_us"), ("latency p999", "p999_us")]
# latency-paired (kernel timestamps, the server and the raw forwarder in one run; docs/benchmarks.md): the
# kernel round trip of each path (the baseline column: the forwarder's half of the same runs), then the
# relay-added latency = the server's percentile - the forwarder's, within each run, and its 95 % interval.
PAIRED_KEYS = [("latency (kernel timestamps) p50", "k_rtt_p50_us"),
               ("latency (kernel timestamps) p99", "k_rtt_p99_us"),
               ("latency (kernel timestamps) p999", "k_rtt_p999_us"),
               ("relay-added (paired) p50", "added_p50_us"),
               ("relay-added (paired) p50 95% CI +-", "added_p50_ci_us"),
               ("relay-added (paired) p99", "added_p99_us"),
               ("relay-added (paired) p99 95% CI +-", "added_p99_ci_us"),
               ("relay-added (paired) p999", "added_p999_us"),
               ("relay-added (paired) median of pair differences", "pair_diff_p50_us"),
               ("relay-added (paired, uncontended) p50", "uncontended_added_p50_us"),
               ("relay-added (paired, uncontended) p99", "uncontended_added_p99_us"),
               ("relay-added (paired, uncontended) p99 95% CI +-", "uncontended_added_p99_ci_us")]


def summary(runs, key):
    """(text, median) for one cell: 'median (min-max)', n/a or the first error."""
    if not runs:
        return "-", None
    if any(r.get("na") for r in runs):
        return next(r.get("na_text", NA) for r in runs if r.get("na")), None
    bad = [r for r in runs if not r.get("ok")]
    if bad:
        return "error: " + str(bad[0].get("error") or bad[0].get("last_error") or "failed")[:120], None
    values = [float(r[key]) for r in runs if key in r]
    if not values:
        return "-", None
    med = statistics.median(values)
    fmt = (lambda v: "%.0f" % v) if med >= 100 else (lambda v: "%.1f" % v)
    text = fmt(med) if len(values) == 1 else "%s (%s-%s)" % (fmt(med), fmt(min(values)), fmt(max(values)))
    return text, med


def ratio(a, b):
    return "%.2f" % (a / b) if a is not None and b else "-"


def derived(runs, fn):
    """Copies of runs with a computed 'v' field (memory rows)."""
    out = []
    for r in runs:
        r = dict(r)
        if r.get("ok") and not r.get("na"):
            r["v"] = fn(r)
        out.append(r)
    return out


def table_rows(results, args, scenarios, api_rows=()):
    rows = []
    specs = []
    for name, _a, key, unit, _b, _t in scenarios:
        base = name.split(" @")[0]
        if base not in args.scenarios:
            continue
        if name == "latency-paired":  # no CPU row: the latency row's CPU/pkt is the one at this rate
            specs += [(label, name, k, unit) for label, k in PAIRED_KEYS]
            continue
        if name == "latency":
            specs += [(label, name, k, unit) for label, k in LATENCY_KEYS]
        else:
            specs.append((name, name, key, unit))
        specs += [x for x in EXTRA_ROWS if x[1] == name]
        specs.append(("%s %s" % (name, CPU_SUFFIX.get(base, "CPU/pkt")), name, "cpu_us_per", "us"))
    for label, name, key, unit in specs:
        rows.append(row(label, unit, {t: (results.get((name, t), []), key) for t in TARGETS}))
    if "memory" in args.scenarios:
        levels = [int(x) for x in args.memory_levels.split(",")]
        for lvl in levels:
            runs = {t: results.get(("memory-%d" % lvl, t), []) for t in TARGETS}
            if lvl == levels[0]:
                rows.append(row("memory RSS idle", "KiB", {t: (v, "idle_kib") for t, v in runs.items()}))
            rows.append(row("memory RSS @%d alloc" % lvl, "KiB", {t: (v, "rss_kib") for t, v in runs.items()}))
            per = {t: (derived(v, lambda r: (r["rss_kib"] - r["idle_kib"]) * 1024.0 / max(1, r["held"])), "v")
                   for t, v in runs.items()}
            rows.append(row("memory bytes/alloc @%d" % lvl, "B", per))
    for label, name, key, unit in api_rows:
        if name.split("-")[0] in args.scenarios:
            rows.append(row(label, unit, {t: (results.get((name, t), []), key) for t in TARGETS}))
    return rows


def row(label, unit, cells):
    texts, meds = {}, {}
    for t in TARGETS:
        texts[t], meds[t] = summary(*cells[t])
    return [label, unit, texts["rendezvousd"], texts["coturn"], texts["baseline"],
            ratio(meds["rendezvousd"], meds["coturn"]), ratio(meds["rendezvousd"], meds["baseline"])]


def added_latency(results):
    """Relay-added latency: each server's median percentile minus the baseline forwarder's."""
    lines = []
    base = {k: summary(results.get(("latency", "baseline"), []), k)[1] for _, k in LATENCY_KEYS}
    for t in ("rendezvousd", "coturn"):
        parts = []
        for label, k in LATENCY_KEYS:
            v = summary(results.get(("latency", t), []), k)[1]
            parts.append("%s %s" % (label.split()[1], "%.1f us" % (v - base[k]) if v is not None and
                                    base[k] is not None else "n/a"))
        lines.append("- relay-added latency, %s: %s" % (t, ", ".join(parts)))
    return lines


def paired_latency(results):
    """latency-paired, per server: one-way percentiles of both paths and the counts (medians over rounds)."""
    def med(runs, key):
        v = summary(runs, key)[1]
        return "n/a" if v is None else "%.1f" % v
    lines = []
    for t in ("rendezvousd", "coturn"):
        runs = results.get(("latency-paired", t), [])
        if not runs:
            continue
        if not all(r.get("ok") for r in runs):
            lines.append("- latency-paired, %s: %s" % (t, summary(runs, "value")[0]))
            continue
        lines.append(
            "- latency-paired, %s (kernel timestamps, us): client->relay->peer p50 %s / p99 %s (forwarder %s / %s), "
            "peer->relay->client p50 %s / p99 %s (forwarder %s / %s); relay-added one-way: to the peer p50 %s p99 %s, "
            "back p50 %s p99 %s; pairs %s, late slots %s, missing stamps %s, lost %s; the load generator's own view "
            "(user-space round trip) p50 %s / p99 %s (forwarder %s / %s); run-queue wait around a packet p99 %s "
            "(forwarder %s), pairs with no wait on either path %s" % (
                t, med(runs, "k_out_p50_us"), med(runs, "k_out_p99_us"), med(runs, "fwd_k_out_p50_us"),
                med(runs, "fwd_k_out_p99_us"), med(runs, "k_back_p50_us"), med(runs, "k_back_p99_us"),
                med(runs, "fwd_k_back_p50_us"), med(runs, "fwd_k_back_p99_us"), med(runs, "added_out_p50_us"),
                med(runs, "added_out_p99_us"), med(runs, "added_back_p50_us"), med(runs, "added_back_p99_us"),
                med(runs, "pairs"), med(runs, "late_slots"), med(runs, "missing_stamps"), med(runs, "lost"),
                med(runs, "user_rtt_p50_us"), med(runs, "user_rtt_p99_us"), med(runs, "fwd_user_rtt_p50_us"),
                med(runs, "fwd_user_rtt_p99_us"), med(runs, "run_wait_p99_us"), med(runs, "fwd_run_wait_p99_us"),
                med(runs, "uncontended_pairs")))
    return lines


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), model)
    except OSError:
        pass
    coturn = subprocess.run(["turnserver", "--version"], capture_output=True, text=True).stdout.strip()
    return "nproc %d, CPU %s, kernel %s, load average %s, coturn %s" % (
        os.cpu_count() or 0, model, platform.release(), " ".join("%.2f" % x for x in os.getloadavg()),
        coturn or "?")


def render(rows, results, args, started, pinned, ours_turn):
    head = ["scenario", "unit", "rendezvousd", "coturn", "baseline", "ours/coturn", "ours/baseline"]
    out = ["# rendezvous benchmarks, %s" % started.strftime("%Y-%m-%d %H:%M"), "",
           "- machine: " + machine(),
           "- CPU pinning: %s" % ("server on core 0, rdv-loadgen on core 1 (taskset)" if pinned else "none (1 core)"),
           "- rounds %d, %.2f s per run%s, latency at %d packets/s; medians, (min-max) over rounds" % (
               args.rounds, args.duration, (", count %d" % args.count) if args.count else "", args.latency_rate),
           "- latency-paired: %g s per run at the same rate, the server and rdv-baseline forward both on core 0, "
           "packets alternating between them; kernel software timestamps (send and receive), round trip without "
           "the load generator's turnaround; relay-added = the server's percentile - the forwarder's in the same "
           "run, +- the half-width of its 95%% bootstrap interval" % getattr(args, "paired_duration", 0),
           "- rendezvousd TURN: %s" % ("yes" if ours_turn else NA),
           "- server CPU rows (`CPU/answer`, `CPU/pkt`, `CPU/alloc`): the server's utime+stime (all threads) over "
           "the timed phase / verified answers, packets it relayed (each round trip is two) or Allocates; lower "
           "is better, and they do not depend on the load generator's core",
           "- fixed-rate rows (`@R/s`): R packets/s sent in total%s" % (
               "" if args.rate else " (none this run: --rate 0)"),
           "- load generators: %d%s" % (args.procs, "" if args.procs == 1 else
                                        " for binding/allocate/channel/send (cores %s), results summed" %
                                        ",".join(str(1 + i % max(1, (os.cpu_count() or 1) - 1))
                                                 for i in range(args.procs))),
           "- registry/signalling (rdv-apibench, rendezvousd only): %d WebSocket clients, window %d, latency at %d "
           "envelopes/s; %d signed records, discover pages of 100%s" % (
               args.signal_clients, args.signal_window, args.signal_rate, args.registry_records,
               "" if getattr(args, "nodes", 1) <= 1 else
               "; registry on a fleet of %d nodes on one redis-server (docs/fleet.md), one rdv-apibench per "
               "node, registrations/s summed" % args.nodes), "",
           "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    if "latency" in args.scenarios:
        out += [""] + added_latency(results)
    if "latency-paired" in args.scenarios:
        out += [""] + paired_latency(results)
    return "\n".join(out) + "\n"


