#!/usr/bin/env python3
"""`ruleeval lint --datasource` (online checks) against a real Prometheus: it scrapes itself every
second (series that exist now, a measurable scrape interval) and holds a backfilled past
(`promtool tsdb create-blocks-from openmetrics`): a metric that disappeared 3 hours ago and a
series with four episodes above 50 that page with `for: 2m`.

usage: lint_online_test.py RULEEVAL_BINARY      (exit 77 = skipped: prometheus/promtool missing)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from itest import fail, free_port, get, start_prometheus

MIN = 60
EPISODES = [(10, 1), (20, 12), (50, 20), (72, 10)]  # minutes: 3 pages with for: 2m

RULES = """groups:
  - name: online
    rules:
      - alert: Missing
        expr: fatigue_never_existed_total > 0
      - alert: WrongVersion
        expr: prometheus_build_info{version="0.0.0-nope"} == 1
      - alert: Gone
        expr: fatigue_gone > 0
      - alert: FastRate
        expr: rate(prometheus_http_requests_total[2s]) > 100
      - alert: SlowRate
        expr: rate(prometheus_http_requests_total[1m]) > 100
      - alert: Templates
        expr: prometheus_build_info == 1
        annotations:
          summary: "{{ $labels.version }} on {{ $labels.no_such_label }}"
      - alert: ValueHigh
        expr: fatigue_value > 50
        for: 2m
      - record: fatigue:recorded
        expr: sum(fatigue_value)
      - alert: UsesRecorded
        expr: fatigue:recorded > 1
"""


def lint(binary, *args):
    out = subprocess.run([binary, "lint", "--format", "json", *args], capture_output=True,
                         text=True, timeout=120)
    try:
        diags = json.loads(out.stdout)
    except ValueError:
        fail(f"lint output is not JSON (exit {out.returncode}):\n{out.stdout}\n{out.stderr}")
    return out.returncode, diags, out.stderr


def find(diags, check, rule):
    return [d for d in diags if d.get("check") == check and d.get("rule") == rule]


def main():
    binary = sys.argv[1]
    prom = shutil.which("prometheus") or "/usr/bin/prometheus"
    promtool = shutil.which("promtool") or "/usr/bin/promtool"
    if not os.path.exists(prom) or not os.path.exists(promtool):
        print("prometheus/promtool not installed: skipped")
        sys.exit(77)
    work = tempfile.mkdtemp(prefix="ruleeval-lint-online-")
    proc = None
    try:
        now = int(time.time())
        t0 = (now // 3600) * 3600 - 5 * 3600  # the episodes, 5 hours ago
        lines = []
        for s in range(0, 120 * MIN, 30):
            m = s / MIN
            v = 100 if any(a <= m < a + n for a, n in EPISODES) else 10
            lines.append(f'fatigue_value{{instance="a"}} {v} {t0 + s}')
        for s in range(0, 60 * MIN, 60):
            lines.append(f'fatigue_gone{{instance="a"}} 1 {t0 + s}')
        lines.append("# EOF")
        om = os.path.join(work, "backfill.om")
        with open(om, "w") as f:
            f.write("\n".join(lines) + "\n")
        data = os.path.join(work, "data")
        r = subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", om, data],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            fail("promtool backfill: " + r.stdout + r.stderr)
        port = free_port()
        with open(os.path.join(work, "prometheus.yml"), "w") as f:
            f.write("global: {scrape_interval: 1s}\n"
                    f"scrape_configs: [{{job_name: self, static_configs: [{{targets: "
                    f"['127.0.0.1:{port}']}}]}}]\n")
        proc, base = start_prometheus(prom, work, data, port)
        time.sleep(12)  # a few self-scrapes, so the scrape interval can be measured
        rules = os.path.join(work, "rules.yaml")
        with open(rules, "w") as f:
            f.write(RULES)
        with open(os.path.join(work, "ruleeval.yaml"), "w") as f:
            f.write(f"datasources: {{prom: {{type: prometheus, url: '{base}'}}}}\nrule_files: []\n")

        rc, diags, err = lint(binary, rules, "--datasource", "prom", "--run-config",
                              os.path.join(work, "ruleeval.yaml"), "--lookback", "6h",
                              "--pages-per-day", "20")
        if rc not in (0, 1):
            fail(f"lint exited {rc}: {err}")
        d = find(diags, "promql/series", "Missing")
        if len(d) != 1 or d[0]["severity"] != "error" or "not been seen in the last 6h" not in d[0]["message"]:
            fail(f"Missing: {d}")
        d = find(diags, "promql/series", "WrongVersion")
        if len(d) != 1 or "version has" not in d[0]["message"]:
            fail(f"WrongVersion: {d}")
        actual = json.loads(get(base + "/api/v1/query?query=prometheus_build_info"))["data"]["result"][0]["metric"]["version"]
        if f'"{actual}"' not in d[0]["message"]:
            fail(f"WrongVersion does not list the existing version {actual}: {d}")
        d = find(diags, "promql/series", "Gone")
        if len(d) != 1 or "last seen around" not in d[0]["message"]:
            fail(f"Gone: {d}")
        for rule in ("FastRate", "SlowRate", "Templates", "UsesRecorded"):
            if find(diags, "promql/series", rule):
                fail(f"{rule}: unexpected promql/series {find(diags, 'promql/series', rule)}")
        d = find(diags, "promql/rate_range", "FastRate")
        if len(d) != 1 or "4x the scrape interval" not in d[0]["message"] or "(1s measured" not in d[0]["message"]:
            fail(f"FastRate: {d}")
        if find(diags, "promql/rate_range", "SlowRate"):
            fail("SlowRate: unexpected promql/rate_range")
        d = find(diags, "alerts/template", "Templates")
        if len(d) != 1 or "no_such_label" not in d[0]["message"] or "$labels.version" in d[0]["message"]:
            fail(f"Templates: {d}")
        d = find(diags, "alerts/count", "ValueHigh")
        if len(d) != 1 or d[0]["severity"] != "info" or "would have fired 3 time(s) in the last 6h" not in d[0]["message"]:
            fail(f"ValueHigh count: {d}")
        if "1 pending-only" not in d[0]["message"] or "1 flap(s)" not in d[0]["message"]:
            fail(f"ValueHigh count details: {d}")
        # 3 pages in 6 h = 12 per day: above a budget of 10 -> warning.
        rc, diags, err = lint(binary, rules, "--datasource", base, "--lookback", "6h",
                              "--pages-per-day", "10")
        d = find(diags, "alerts/count", "ValueHigh")
        if len(d) != 1 or d[0]["severity"] != "warning" or "above the budget of 10" not in d[0]["message"]:
            fail(f"ValueHigh budget: {d}")
        # An unreachable backend: one clear error, offline checks still reported.
        rc, diags, err = lint(binary, rules, "--datasource", "http://127.0.0.1:1")
        if rc != 2 or "cannot reach the datasource http://127.0.0.1:1" not in err:
            fail(f"unreachable: exit {rc}, {err}")
        if err.count("cannot reach") != 1:
            fail(f"unreachable: more than one error: {err}")
        if any(x["check"] in ("promql/series", "alerts/count") for x in diags):
            fail("unreachable: online findings without a backend")
        print("lint --datasource: promql/series, promql/rate_range, alerts/template and "
              "alerts/count as expected")
    finally:
        if proc:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
