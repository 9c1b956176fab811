#!/usr/bin/env python3
"""gen_test_suite: a large rule unit-test suite in the shape of public promtool suites (the
kubernetes/node mixins' tests.yaml, team repos' *_tests.yml): one rule file of mixin-style
alerts (`for:`, severity labels, description/summary/runbook_url annotations with $labels and
$value) and one test file with hundreds of small test groups, each with a few input series in
expanding notation, `alert_rule_test` cases at several eval_times (before `for` elapses: no
alert; after: the alert with its labels and rendered annotations) and some `promql_expr_test`s.
Expected results are computed here so that the suite PASSES under promtool.

usage: gen_test_suite.py OUT_DIR [--services 15] [--groups 300]
Writes OUT_DIR/alerts.yml and OUT_DIR/alerts_tests.yml. Deterministic. Stdlib only.
"""
import argparse
import os

SHAPES = ("TargetDown", "DiskAlmostFull", "HighErrorRate", "JobAbsent")


def rules_yaml(services):
    out = ["groups:"]
    for s in range(services):
        job = f"svc-{s:02d}"
        pct = 5 + s % 10  # disk threshold, percent
        out += [
            f"  - name: {job}.rules",
            "    rules:",
            f"      - alert: {job.replace('-', '_').title()}TargetDown",
            f"        expr: up{{job=\"{job}\"}} == 0",
            "        for: 5m",
            "        labels:",
            "          severity: critical",
            "        annotations:",
            "          summary: Target is down.",
            "          description: '{{ $labels.instance }} of job {{ $labels.job }} has been "
            "down for more than 5 minutes.'",
            f"          runbook_url: https://runbooks.example.org/{job}/targetdown",
            f"      - alert: {job.replace('-', '_').title()}DiskAlmostFull",
            "        expr: |",
            f"          node_filesystem_avail_bytes{{job=\"{job}\",fstype!=\"tmpfs\"}}",
            f"            / node_filesystem_size_bytes{{job=\"{job}\",fstype!=\"tmpfs\"}} * 100 < {pct}",
            "        for: 10m",
            "        labels:",
            "          severity: warning",
            "        annotations:",
            "          summary: Filesystem has less than " + str(pct) + "% space left.",
            "          description: 'Filesystem on {{ $labels.device }} at {{ $labels.instance }} "
            "has only {{ printf \"%.0f\" $value }}% available space left.'",
            f"      - alert: {job.replace('-', '_').title()}HighErrorRate",
            "        expr: |",
            f"          sum by (job, route) (rate(http_requests_total{{job=\"{job}\",code=~\"5..\"}}[5m]))",
            "            > 1",
            "        for: 2m",
            "        labels:",
            "          severity: warning",
            "        annotations:",
            "          description: '{{ $labels.route }} of {{ $labels.job }} serves "
            "{{ $value | humanize }} errors per second.'",
            f"      - alert: {job.replace('-', '_').title()}JobAbsent",
            f"        expr: absent(up{{job=\"{job}\"}})",
            "        for: 3m",
            "        labels:",
            "          severity: critical",
            "        annotations:",
            "          summary: Job has disappeared from discovery.",
            f"      - record: job_route:http_errors:rate5m",
            f"        expr: sum by (job, route) (rate(http_requests_total{{job=\"{job}\",code=~\"5..\"}}[5m]))",
        ]
    return "\n".join(out) + "\n"


def alert_name(job, shape):
    return job.replace("-", "_").title() + shape


def test_group(g, services):
    s = g % services
    job = f"svc-{s:02d}"
    shape = SHAPES[(g // services) % len(SHAPES)]
    inst = f"10.0.{g // 250}.{g % 250}:9100"
    lines = [f"  - name: {shape} {job} #{g}", "    interval: 1m", "    input_series:"]
    cases = []  # (eval_time, [(labels dict, annotations dict)])
    exprs = []  # (expr, eval_time, [(labels str, value)])
    name = alert_name(job, shape)
    if shape == "TargetDown":
        up_for = 3 + g % 5
        lines += [f"      - series: 'up{{job=\"{job}\",instance=\"{inst}\"}}'",
                  f"        values: '1x{up_for} 0x25'",
                  f"      - series: 'up{{job=\"{job}\",instance=\"other:9100\"}}'",
                  "        values: '1x30'"]
        down_at = up_for + 1  # minutes
        cases.append((f"{down_at + 2}m", []))  # pending, not firing
        cases.append((f"{down_at + 6}m", [(
            {"severity": "critical", "job": job, "instance": inst},
            {"summary": "Target is down.",
             "description": f"{inst} of job {job} has been down for more than 5 minutes.",
             "runbook_url": f"https://runbooks.example.org/{job}/targetdown"})]))
        cases.append(("2m", []))
        exprs.append((f"up{{job=\"{job}\"}} == 0", f"{down_at + 1}m",
                      [(f"up{{instance=\"{inst}\", job=\"{job}\"}}", "0")]))
    elif shape == "DiskAlmostFull":
        pct = 5 + s % 10
        free = max(1, pct - 1 - g % 3)
        dev = f"/dev/sd{chr(97 + g % 4)}1"
        lab = f"job=\"{job}\",instance=\"{inst}\",device=\"{dev}\",fstype=\"ext4\",mountpoint=\"/\""
        lines += [f"      - series: 'node_filesystem_avail_bytes{{{lab}}}'",
                  f"        values: '50x5 {free}x30'",
                  f"      - series: 'node_filesystem_size_bytes{{{lab}}}'",
                  "        values: '100x35'",
                  f"      - series: 'node_filesystem_avail_bytes{{job=\"{job}\",instance=\"{inst}\","
                  f"device=\"tmpfs\",fstype=\"tmpfs\",mountpoint=\"/run\"}}'",
                  "        values: '0x35'",
                  f"      - series: 'node_filesystem_size_bytes{{job=\"{job}\",instance=\"{inst}\","
                  f"device=\"tmpfs\",fstype=\"tmpfs\",mountpoint=\"/run\"}}'",
                  "        values: '100x35'"]
        cases.append(("10m", []))
        cases.append(("20m", [(
            {"severity": "warning", "job": job, "instance": inst, "device": dev,
             "fstype": "ext4", "mountpoint": "/"},
            {"summary": f"Filesystem has less than {pct}% space left.",
             "description": f"Filesystem on {dev} at {inst} has only {free}% available space "
                            "left."})]))
    elif shape == "HighErrorRate":
        per_min = 120 * (2 + g % 3)  # increase per minute: a rate of 4, 6 or 8 per second
        route = f"/api/v{1 + g % 3}/items"
        lines += [f"      - series: 'http_requests_total{{job=\"{job}\",instance=\"{inst}\","
                  f"route=\"{route}\",code=\"500\"}}'",
                  f"        values: '0x10 0+{per_min}x30'",
                  f"      - series: 'http_requests_total{{job=\"{job}\",instance=\"{inst}\","
                  f"route=\"{route}\",code=\"200\"}}'",
                  "        values: '0+6000x40'"]
        rate = per_min // 60
        cases.append(("8m", []))
        cases.append(("25m", [(
            {"severity": "warning", "job": job, "route": route},
            {"description": f"{route} of {job} serves {rate} errors per second."})]))
        exprs.append((f"job_route:http_errors:rate5m{{job=\"{job}\"}}", "25m",
                      [(f"job_route:http_errors:rate5m{{job=\"{job}\", route=\"{route}\"}}",
                        str(rate))]))
    else:  # JobAbsent: only another job's series exist
        lines += [f"      - series: 'up{{job=\"other-{g}\",instance=\"{inst}\"}}'",
                  "        values: '1x20'"]
        cases.append(("1m", []))
        cases.append(("10m", [({"severity": "critical", "job": job},
                                {"summary": "Job has disappeared from discovery."})]))
    lines.append("    alert_rule_test:")
    for t, alerts in cases:
        lines += [f"      - eval_time: {t}", f"        alertname: {name}"]
        if not alerts:
            lines.append("        exp_alerts: []")
            continue
        lines.append("        exp_alerts:")
        for labels, ann in alerts:
            lines.append("          - exp_labels:")
            lines += [f"              {k}: \"{v}\"" for k, v in labels.items()]
            lines.append("            exp_annotations:")
            lines += [f"              {k}: \"{v}\"" for k, v in ann.items()]
    if exprs:
        lines.append("    promql_expr_test:")
        for expr, t, samples in exprs:
            lines += [f"      - expr: '{expr}'", f"        eval_time: {t}", "        exp_samples:"]
            for lab, val in samples:
                lines += [f"          - labels: '{lab}'", f"            value: {val}"]
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--services", type=int, default=15)
    ap.add_argument("--groups", type=int, default=300)
    a = ap.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    with open(os.path.join(a.out_dir, "alerts.yml"), "w") as f:
        f.write(rules_yaml(a.services))
    out = ["rule_files:", "  - alerts.yml", "", "evaluation_interval: 1m", "", "tests:"]
    for g in range(a.groups):
        out += test_group(g, a.services)
    with open(os.path.join(a.out_dir, "alerts_tests.yml"), "w") as f:
        f.write("\n".join(out) + "\n")
    n_alert = sum(1 for l in out if l.startswith("      - eval_time:"))
    print(f"gen_test_suite: {a.services * 5} rules, {a.groups} test groups, {n_alert} alert tests")


if __name__ == "__main__":
    main()
