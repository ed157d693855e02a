#!/usr/bin/env python3
"""Runs every query of a Grafana dashboard against a Prometheus and checks
that each returns data.

Usage: check-dashboard.py PROMETHEUS_URL DASHBOARD.json [--expect-empty REGEX]

Grafana's $__rate_interval / $__interval / $__range become 1m. A query whose
expression matches --expect-empty may be empty (reported as skipped, e.g.
metrics no client of the test exercises yet). Prints one line per query and
"N passed, N failed, N skipped"; exits 1 when any query fails.
"""
import json
import re
import sys
import urllib.parse
import urllib.request


def query(base, expr):
    url = base.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError(body.get("error", "query failed"))
    return body["data"]["result"]


def main():
    args = sys.argv[1:]
    expect_empty = None
    if "--expect-empty" in args:
        i = args.index("--expect-empty")
        expect_empty = re.compile(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    base, path = args
    with open(path) as f:
        dashboard = json.load(f)
    passed = failed = skipped = 0
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = re.sub(r"\$__(rate_interval|interval|range)", "1m", target["expr"])
            try:
                result = query(base, expr)
                error = None
            except Exception as e:  # HTTP 400 for a bad expression, timeouts
                result, error = [], str(e)
            name = f'{panel["title"]} [{target["refId"]}]'
            if result:
                passed += 1
                print(f"ok: {name}: {len(result)} series")
            elif error is None and expect_empty and expect_empty.search(expr):
                skipped += 1
                print(f"skipped (expected empty): {name}")
            else:
                failed += 1
                print(f"FAILED: {name}: {error or 'no data'}\n    {expr}")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
