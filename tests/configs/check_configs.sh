#!/usr/bin/env bash
# configs/: the Prometheus alert rules pass `promtool check rules` and their unit tests (`promtool test rules`),
# and every PromQL expression of the Grafana dashboard parses (promtool checks it as a recording rule, with
# Grafana's variables replaced). The metric names both use are checked on a live node by
# tests/integration/operator_test.cpp.
set -euo pipefail
src=${1:?usage: check_configs.sh SOURCE_DIR}
command -v promtool >/dev/null || { echo "promtool is missing: scripts/install-deps.sh --test (Debian package prometheus)"; exit 1; }
promtool check rules "$src/configs/prometheus-alerts.yml"
promtool test rules "$src/tests/configs/prometheus-alerts.test.yml"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$src/configs/grafana-dashboard.json" "$tmp/dashboard-rules.yml" <<'PY'
import json, sys
dash = json.load(open(sys.argv[1]))
exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
assert dash["uid"] and dash["title"] and exprs, "dashboard without uid, title or queries"
with open(sys.argv[2], "w") as out:
    out.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, e in enumerate(exprs):
        e = e.replace("$__rate_interval", "5m").replace("$instance", ".*")
        out.write("      - record: dashboard:expr%d\n        expr: %s\n" % (i, json.dumps(e)))
print("dashboard: %d panels, %d queries" % (len(dash["panels"]), len(exprs)))
PY
promtool check rules "$tmp/dashboard-rules.yml"
