#!/usr/bin/env python3
"""layout: the include graph follows the arrows of docs/architecture.md (cores depend on base and on the
cores below them only; the daemon and the client side on cores; nothing includes the daemon or the client
side except what sits above them), stun/ holds only STUN, and no file under rendezvous/node is over 300
lines (issue 19). Exits 1 naming every include that points the wrong way."""
import os
import re
import sys

# Each area may include itself and the areas listed here (and nothing else of ours).
ALLOWED = {
    "rendezvous/base": [],
    "stun": ["rendezvous/base"],
    "relay": ["rendezvous/base", "stun"],
    "rendezvous/identity": ["rendezvous/base"],
    "rendezvous/enr": ["rendezvous/base", "rendezvous/identity"],
    "rendezvous/registry": ["rendezvous/base", "rendezvous/identity", "rendezvous/enr"],
    "rendezvous/storage": ["rendezvous/base", "rendezvous/identity", "rendezvous/enr", "rendezvous/registry"],
    "signalling/envelope": ["rendezvous/base", "rendezvous/identity", "rendezvous/enr"],
    "signalling/cbor": ["rendezvous/base"],
    "signalling/hub": ["rendezvous/base", "rendezvous/identity", "rendezvous/enr", "rendezvous/registry",
                       "rendezvous/storage", "signalling/envelope", "signalling/cbor"],
    "rendezvous/client": ["rendezvous/base"],
    "signalling/agent": ["rendezvous/base", "stun", "rendezvous/identity", "rendezvous/enr", "rendezvous/registry",
                         "signalling/envelope", "signalling/hub", "rendezvous/client"],
    "rendezvous/cli": ["rendezvous/base", "stun", "rendezvous/identity", "rendezvous/enr", "rendezvous/registry",
                       "signalling/envelope", "signalling/hub", "signalling/agent", "rendezvous/client"],
    "rendezvous/node": ["rendezvous/base", "stun", "relay", "rendezvous/identity", "rendezvous/enr",
                        "rendezvous/registry", "rendezvous/storage", "signalling/envelope", "signalling/hub"],
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def area_of(path):
    best = None
    for a in ALLOWED:
        if path.startswith(a + "/") and (best is None or len(a) > len(best)):
            best = a
    return best


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    os.chdir(root)
    problems = []
    for a in ALLOWED:
        if not os.path.isdir(a):
            problems.append(f"{a}/: missing (docs/architecture.md names it)")
            continue
        for dirpath, _, files in os.walk(a):
            for f in sorted(files):
                if not f.endswith((".h", ".cpp")):
                    continue
                path = os.path.join(dirpath, f)
                if area_of(path) != a:
                    continue  # a nested area is checked on its own
                text = open(path, encoding="utf-8").read()
                for inc in INCLUDE.findall(text):
                    b = area_of(inc)
                    if b is not None and b != a and b not in ALLOWED[a]:
                        problems.append(f"{path}: includes {inc} ({a} may not use {b})")
                if a == "rendezvous/node" and text.count("\n") > 300:
                    problems.append(f"{path}: {text.count(chr(10))} lines (rendezvous/node keeps files at or under 300)")
    for shared in ("bytes", "result", "address", "constant_time", "token_bucket"):
        for ext in (".h", ".cpp"):
            if os.path.exists(f"stun/{shared}{ext}"):
                problems.append(f"stun/{shared}{ext}: shared types live in rendezvous/base, stun/ holds only STUN")
    for p in problems:
        print(p)
    print(f"layout: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
