#!/usr/bin/python3
"""Scrapes a Prometheus endpoint and parses it with the reference parser (python3-prometheus-client).

Usage: prometheus_scrape.py URL TOKEN. Prints {"metric_name": value, ...} as JSON, one key per sample:
the sample name, with its labels as name{k="v",...} (sorted by label name) when it has any; exits 1
with a message when the text does not parse.
"""
import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def main() -> int:
    url, token = sys.argv[1], sys.argv[2]
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=10) as resp:
        text = resp.read().decode("utf-8")
    out = {}
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                key = sample.name
                if sample.labels:
                    key += "{" + ",".join('%s="%s"' % (k, v) for k, v in sorted(sample.labels.items())) + "}"
                out[key] = sample.value
    except Exception as e:  # the parser raises ValueError and friends on bad exposition text
        print("unparseable exposition: %s" % e, file=sys.stderr)
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
