"""Shared frame for the natlab CTest scripts: argument parsing, the skip rule, failure reporting."""
import argparse
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import natlab  # noqa: E402


class Checks:
    """Collects failures so that one run reports every broken expectation, not just the first."""

    def __init__(self):
        self.failures = []

    def expect(self, condition, message):
        if not condition:
            self.failures.append(message)
            natlab.log("FAIL:", message)
        return condition


def arguments(description, extra=None):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--slot", type=int, default=0, help="0..7: picks the lab's subnets (parallel CTest cases differ)")
    ap.add_argument("--artifacts", default=None, help="directory for results and, on failure, logs")
    if extra:
        extra(ap)
    return ap.parse_args()


def run(description, body, extra=None):
    """Parses arguments, skips (exit 77) when the lab cannot run here, builds nothing itself: body(args, lab,
    checks) does. Exit 0 when every check passed, 1 otherwise; the lab is always torn down."""
    args = arguments(description, extra)
    reason = natlab.skip_reason()
    if reason:
        print("SKIP:", reason)
        return natlab.SKIP
    # A run killed with SIGKILL (a CTest timeout) could not tear down; its namespaces name a dead pid.
    for name in natlab.cleanup_stale():
        natlab.log("removed a dead run's namespace", name)
    lab = natlab.Lab(args.bin_dir, slot=args.slot)
    checks = Checks()
    started = time.monotonic()
    try:
        result = body(args, lab, checks)
        if result == natlab.SKIP:
            return natlab.SKIP
    except Exception as e:  # noqa: BLE001 - reported as a failure with its traceback
        traceback.print_exc()
        checks.failures.append("%s: %s" % (type(e).__name__, e))
    finally:
        if checks.failures:
            dump_logs(lab, args.artifacts)
        lab.close()
        leftovers = [ns for ns in list_namespaces() if ns.startswith(lab.run_id + "-")]
        checks.expect(not leftovers, "namespaces left after teardown: %s" % leftovers)
    natlab.log("took %.1f s" % (time.monotonic() - started))
    if checks.failures:
        print("\n%d failure(s):" % len(checks.failures))
        for f in checks.failures:
            print("  -", f)
        return 1
    print("PASS")
    return 0


def list_namespaces():
    import subprocess
    p = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    return [line.split()[0] for line in p.stdout.splitlines() if line.split()]


def dump_logs(lab, artifacts):
    try:
        names = sorted(f for f in os.listdir(lab.workdir) if f.endswith(".log"))
    except OSError:
        return
    for name in names:
        text = lab.read_log(name[:-4], limit=6000)
        print("\n----- %s (last 6000 chars) -----\n%s" % (name, text))
    if artifacts:
        import shutil
        dest = os.path.join(artifacts, "natlab-logs-%s-slot%d" % (lab.run_id, lab.slot))
        shutil.copytree(lab.workdir, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("node-data"))
        print("logs copied to", dest)


class JsonLinesProcess:
    """A process started in a lab namespace whose stdout is JSON lines, read by a thread as they come.
    Non-JSON lines are kept as {"text": line}. wait_for(predicate, seconds) returns the first matching line."""

    def __init__(self, lab, ns, argv, name):
        import subprocess
        import threading
        self.name = name
        self.lines = []
        self.cond = threading.Condition()
        self.started = time.monotonic()
        self.proc = lab.spawn(ns, argv, name, stdout=subprocess.PIPE)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        import json
        for raw in iter(self.proc.stdout.readline, b""):
            text = raw.decode(errors="replace").rstrip("\n")
            try:
                item = json.loads(text)
                if not isinstance(item, dict):
                    item = {"value": item}
            except ValueError:
                item = {"text": text}
            item["_t"] = time.monotonic() - self.started
            with self.cond:
                self.lines.append(item)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, predicate, seconds):
        deadline = time.monotonic() + seconds
        seen = 0
        with self.cond:
            while True:
                for item in self.lines[seen:]:
                    if predicate(item):
                        return item
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.thread.is_alive()):
                    return None
                self.cond.wait(min(left, 0.2))

    def matching(self, predicate):
        with self.cond:
            return [item for item in self.lines if predicate(item)]

    def wait_exit(self, seconds):
        import subprocess
        try:
            return self.proc.wait(seconds)
        except subprocess.TimeoutExpired:
            return None
