#!/usr/bin/env python3
"""`ruleeval replay --summary-json --what-if --report` against a real Prometheus whose history was
backfilled with `promtool tsdb create-blocks-from openmetrics`.

The series are 10 except for episodes of known length at 100 (whole minutes, samples every 30 s),
so with a 1m group interval an episode of L minutes is above the threshold at exactly L/1m slots
whatever the group's slot offset is. Prometheus's state machine then gives, for `for: F`: a page
when L >= F + 1m (firing L - F, resolved at the first slot after the episode), otherwise a
pending-only episode. The expected numbers below follow from that, episode by episode.

usage: replay_report_test.py RULEEVAL_BINARY      (exit 77 = skipped: prometheus/promtool missing)
"""
import html.parser
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from itest import fail, free_port, get, start_prometheus

MIN = 60
# instance -> [(start minute, length minutes)] at 100
EPISODES = {
    "a": [(10, 1), (20, 12), (50, 20), (72, 10)],  # 70..72 below: the 10m episode is a flap
    "b": [(5, 2), (55, 30)],
}
GAP = (40, 60)  # fatigue_gappy has no samples in [40m, 60m)

RULES = """groups:
  - name: fatigue
    interval: 1m
    rules:
      - alert: ValueHigh
        expr: fatigue_value > 50
        for: 2m
        labels: {severity: page}
        annotations: {summary: "value {{ $value }} on {{ $labels.instance }}"}
      - record: fatigue:value:max
        expr: max(fatigue_value)
  - name: grafana-like
    interval: 1m
    rules:
      - alert: ValueHighGrafana
        query: fatigue_value
        threshold: {above: 50}
        for: 2m
      - alert: GappyNoData
        query: fatigue_gappy
        threshold: {above: 50}
        no_data: nodata
"""


def expect(what, got, want):
    if got != want:
        fail(f"{what}: got {got!r}, want {want!r}")


class Html(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []
        self.svgs = 0
        self.sections = 0
        self.rects = {}
        self.ranking_rows = 0
        self.in_ranking = False
        self.refs = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "svg":
            self.svgs += 1
        if tag == "section":
            self.sections += 1
        if tag == "rect":
            for c in (a.get("class") or "").split():
                self.rects[c] = self.rects.get(c, 0) + 1
        if tag == "table" and a.get("id") == "ranking":
            self.in_ranking = True
        if tag == "tr" and self.in_ranking:
            self.ranking_rows += 1
        for k in ("src", "href"):
            if a.get(k) and not a[k].startswith("#"):
                self.refs.append(a[k])

    def handle_endtag(self, tag):
        if tag == "table":
            self.in_ranking = False


def main():
    binary = sys.argv[1]
    prom = shutil.which("prometheus") or "/usr/bin/prometheus"
    promtool = shutil.which("promtool") or "/usr/bin/promtool"
    if not os.path.exists(prom) or not os.path.exists(promtool):
        print("prometheus/promtool not installed: skipped")
        sys.exit(77)
    work = tempfile.mkdtemp(prefix="ruleeval-replay-report-")
    proc = None
    try:
        t0 = (int(time.time()) // 3600) * 3600 - 4 * 3600
        lines = []
        for inst, eps in EPISODES.items():
            for s in range(0, 120 * MIN, 30):
                m = s / MIN
                v = 100 if any(a <= m < a + n for a, n in eps) else 10
                lines.append(f'fatigue_value{{instance="{inst}"}} {v} {t0 + s}')
        for s in range(0, 120 * MIN, 30):
            if not GAP[0] <= s / MIN < GAP[1]:
                lines.append(f'fatigue_gappy{{instance="g"}} 10 {t0 + s}')
        lines.append("# EOF")
        om = os.path.join(work, "backfill.om")
        with open(om, "w") as f:
            f.write("\n".join(lines) + "\n")
        data = os.path.join(work, "data")
        r = subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", om, data],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            fail("promtool backfill: " + r.stdout + r.stderr)
        with open(os.path.join(work, "prometheus.yml"), "w") as f:
            f.write("global: {scrape_interval: 1m}\n")
        port = free_port()
        proc, base = start_prometheus(prom, work, data, port)

        rules = os.path.join(work, "rules.yaml")
        with open(rules, "w") as f:
            f.write(RULES)
        with open(os.path.join(work, "ruleeval.yaml"), "w") as f:
            f.write(f"global: {{evaluation_interval: 1m}}\n"
                    f"datasources: {{prom: {{type: prometheus, url: '{base}'}}}}\n"
                    f"rule_files: [{rules}]\n")
        summary = os.path.join(work, "summary.json")
        report = os.path.join(work, "report.html")
        cmd = [binary, "replay", "--config", f"{work}/ruleeval.yaml", "--from", str(t0),
               "--to", str(t0 + 110 * MIN), "--summary-json", summary, "--report", report,
               "--what-if", "for=0s,5m,15m", "--what-if", "threshold=50,150", "--concurrency", "3"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            fail(f"replay exited {out.returncode}:\n{out.stderr}")
        with open(summary) as f:
            js = json.load(f)
        rules_by = {r["rule"]: r for r in js["rules"]}
        expect("rules in the summary", sorted(rules_by),
               ["GappyNoData", "ValueHigh", "ValueHighGrafana"])
        expect("from", js["from"], time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0)))

        for name in ("ValueHigh", "ValueHighGrafana"):
            r = rules_by[name]
            expect(f"{name} failed evaluations", r["failed_evaluations"], 0)
            expect(f"{name} pages", r["firing_starts"], 4)
            expect(f"{name} pending-only", r["pending_only"], 2)
            expect(f"{name} flaps", r["flaps"], 1)
            # Fired again 20m and 4m after a resolve: both within the default 4h repeat_interval.
            expect(f"{name} refires", r["refires_within_repeat_interval"], 2)
            expect(f"{name} firing seconds", r["firing_seconds"], (10 + 18 + 8 + 28) * MIN)
            expect(f"{name} per episode", r["firing_seconds_per_episode"],
                   {"count": 4, "median": 10 * MIN, "p90": 28 * MIN, "max": 28 * MIN})
            expect(f"{name} time to fire", r["time_to_fire_seconds"],
                   {"count": 4, "median": 2 * MIN, "p90": 2 * MIN, "max": 2 * MIN})
            expect(f"{name} peak", r["peak_concurrent_firing"], 2)
            inst = {i["labels"]["instance"]: i for i in r["instances"]}
            expect(f"{name} instance a", (inst["a"]["firing_starts"], inst["a"]["pending_only"],
                                          inst["a"]["flaps"], inst["a"]["firing_seconds"]),
                   (3, 1, 1, (10 + 18 + 8) * MIN))
            expect(f"{name} instance b", (inst["b"]["firing_starts"], inst["b"]["pending_only"],
                                          inst["b"]["flaps"], inst["b"]["firing_seconds"]),
                   (1, 1, 0, 28 * MIN))
            expect(f"{name} episodes", len(r["episodes"]), 6)
            wi = {w["for"]: w for w in r["what_if"] if "for" in w}
            expect(f"{name} what-if keys keep their spelling", sorted(wi), ["0s", "15m", "5m"])
            for value, pages, pending_only, firing, delay in (
                    ("0s", 6, 0, 75 * MIN, 0), ("5m", 4, 2, 52 * MIN, 5 * MIN),
                    ("15m", 2, 4, 20 * MIN, 15 * MIN)):
                w = wi[value]
                expect(f"{name} what-if for={value}",
                       (w["firing_starts"], w["pending_only"], w["firing_seconds"],
                        w["median_time_to_fire_seconds"]),
                       (pages, pending_only, firing, delay))
        # The slot offset of each group, from its first page (for the no-data period's length).
        a = rules_by["ValueHigh"]
        first = min(e["fired_at"] for e in a["episodes"] if e["fired_at"])
        expect("ValueHigh's first page (20m + for 2m, at the slot offset)", first[:16],
               time.strftime("%Y-%m-%dT%H:%M", time.gmtime(t0 + 22 * MIN)))
        g = rules_by["ValueHighGrafana"]
        tw = {w["threshold"]: w for w in g["what_if"] if "threshold" in w}
        expect("grafana what-if threshold=50", tw["50"]["firing_starts"], 4)
        expect("grafana what-if threshold=150", tw["150"]["firing_starts"], 0)
        # Without a for-equivalent, `for` what-ifs do not apply to the Prometheus-only knobs.
        n = rules_by["GappyNoData"]
        inst = n["instances"]
        nodata = [p for i in inst for p in i["nodata_periods"]]
        expect("GappyNoData no-data periods", len(nodata), 1)
        # The last sample before the gap (39m30s) is visible for 5 minutes (lookback, inclusive).
        start = time.strptime(nodata[0]["start"][:19], "%Y-%m-%dT%H:%M:%S")
        offset_s = int(nodata[0]["start"][17:19])
        frac = nodata[0]["start"][19:-1]
        off = offset_s + (float(frac) if frac else 0.0)
        want = (15 if off <= 30 else 16) * MIN
        expect("GappyNoData no-data seconds", n["nodata_seconds"], want)
        expect("GappyNoData pages (a NoData alert notifies)", n["firing_starts"], 1)
        expect("GappyNoData firing seconds", n["firing_seconds"], want)
        ntw = {w["threshold"]: w for w in n["what_if"] if "threshold" in w}
        expect("GappyNoData threshold=150 still pages for no data", ntw["150"]["firing_starts"], 1)
        del start

        # The what-if table on stderr.
        for row in ("for=0s", "for=5m", "for=15m", "threshold=150"):
            if row not in out.stderr:
                fail(f"what-if row {row} missing from the table:\n{out.stderr}")

        # The HTML report: parses, no script, no external references, one SVG timeline per rule.
        with open(report) as f:
            text = f.read()
        p = Html()
        p.feed(text)
        if "script" in p.tags:
            fail("the report contains a script")
        expect("external references in the report", p.refs, [])
        expect("SVG timelines", p.svgs, 3)
        expect("rule sections", p.sections, 3)
        expect("ranking rows (header + rules)", p.ranking_rows, 4)
        expect("firing bands (pages over both rules with timelines)",
               p.rects.get("firing", 0), 4 + 4 + 1)
        expect("flap bands", p.rects.get("flap", 0), 2)
        expect("no-data bands", p.rects.get("nodata", 0), 1)
        if p.rects.get("pending", 0) < 12:
            fail(f"pending bands: {p.rects}")

        # --rule narrows the replay; --quiet prints no progress.
        out2 = subprocess.run([binary, "replay", "--config", f"{work}/ruleeval.yaml", "--from",
                               str(t0), "--to", str(t0 + 110 * MIN), "--summary-json", summary,
                               "--rule", "^ValueHigh$", "--quiet", "--no-alert-lines"],
                              capture_output=True, text=True, timeout=120)
        if out2.returncode != 0:
            fail(out2.stderr)
        with open(summary) as f:
            js2 = json.load(f)
        expect("--rule", [r["rule"] for r in js2["rules"]], ["ValueHigh"])
        expect("--rule pages", js2["rules"][0]["firing_starts"], 4)
        if "progress" in out2.stderr or out2.stdout:
            fail("--quiet/--no-alert-lines still printed:\n" + out2.stderr + out2.stdout)
        print("replay report: every count, the what-if rows and the HTML report as expected")
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
