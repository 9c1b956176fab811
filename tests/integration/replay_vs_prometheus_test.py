#!/usr/bin/env python3
"""Alert states of ruleeval equal Prometheus's ALERTS at the same evaluation times.

A real Prometheus (Debian's) evaluates a rule file every second. The expressions depend on time()
only, so their results are exact at any evaluation time and no scrape race can make the two
disagree. Afterwards `ruleeval replay`, with that Prometheus as its datasource, evaluates the same
file over the same window; at every evaluation time its pending/firing alerts must equal the ALERTS
series Prometheus wrote at exactly that timestamp (which also proves both use the same slot times).

usage: replay_vs_prometheus_test.py RULEEVAL_BINARY      (exit 77 = skipped: prometheus missing)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from itest import free_port, get, start_prometheus

RULES = """groups:
  - name: clockwork
    interval: 1s
    rules:
      # Every 30 s there is a quiet phase ([25 s, 30 s)) where nothing is active, so a replay that
      # starts there begins from the same state as Prometheus.
      - alert: SecondHalf
        expr: label_replace(vector(time() % 30), "phase", "second-half", "", "") >= 12 and on() (vector(time() % 30) < 25)
        for: 3s
        labels: {severity: ticket}
        annotations: {summary: "phase {{ $value }}"}
      - alert: Blinky
        expr: vector(time() % 6) >= 3 and on() (vector(time() % 30) < 20)
        keep_firing_for: 2s
      - alert: TwoSeries
        expr: (label_replace(vector(1), "k", "a", "", "") or label_replace(vector(2), "k", "b", "", "")) and on() (vector(time() % 30) >= 5) and on() (vector(time() % 30) < 18)
        for: 2s
"""


def main():
    binary = sys.argv[1]
    prom = shutil.which("prometheus") or "/usr/bin/prometheus"
    if not os.path.exists(prom):
        print("prometheus not installed: skipped")
        sys.exit(77)
    work = tempfile.mkdtemp(prefix="ruleeval-vs-prom-")
    proc = None
    try:
        rules = os.path.join(work, "rules.yaml")
        with open(rules, "w") as f:
            f.write(RULES)
        with open(os.path.join(work, "prometheus.yml"), "w") as f:
            f.write(f"global: {{evaluation_interval: 1s}}\nrule_files: [{rules}]\n")
        port = free_port()
        proc, base = start_prometheus(prom, work, f"{work}/data", port,
                                      "--rules.alert.resend-delay=1s")
        started = time.time()
        # Replay from the first quiet phase after start-up ...
        t0 = (int(started) // 30) * 30 + 25
        if t0 < started + 2:
            t0 += 30
        # ... through more than one 30 s cycle, to a couple of seconds ago.
        time.sleep(max(0.0, t0 + 37 - time.time()))
        now = time.time()
        t1 = now - 2
        if t1 - t0 < 10:
            sys.exit(f"FAIL: window too short ({t0}..{t1})")

        with open(os.path.join(work, "ruleeval.yaml"), "w") as f:
            f.write(f"global: {{evaluation_interval: 1s}}\n"
                    f"datasources: {{prom: {{type: prometheus, url: '{base}'}}}}\n"
                    f"rule_files: [{rules}]\n")
        out = subprocess.run([binary, "replay", "--config", f"{work}/ruleeval.yaml",
                              "--from", f"{t0:.3f}", "--to", f"{t1:.3f}"],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        ours = {}
        for line in out.stdout.splitlines():
            r = json.loads(line)
            labels = dict(r["labels"], alertstate=r["state"])
            ours.setdefault(round(r["t"], 3), set()).add(tuple(sorted(labels.items())))
        evals = sorted(ours)
        # Compare at every evaluation slot of the window (1 s apart, at the replay's offset),
        # including the slots where nothing is active.
        slot_offset = (evals[0] % 1.0) if evals else None
        if slot_offset is None:
            sys.exit("FAIL: the replay produced no alerts at all:\n" + out.stderr)
        mismatches = []
        skipped = []
        checked = 0
        t = t0 - (t0 % 1.0) + slot_offset
        if t < t0:
            t += 1
        while t <= t1:
            t = round(t, 3)
            res = json.loads(get(base + "/api/v1/query?" + urllib.parse.urlencode(
                {"query": "ALERTS", "time": f"{t:.3f}"})))["data"]["result"]
            theirs = set()
            for s in res:
                m = dict(s["metric"])
                m.pop("__name__", None)
                theirs.add(tuple(sorted(m.items())))
            # ALERTS samples must carry exactly this timestamp: same slot times.
            stamps = json.loads(get(base + "/api/v1/query?" + urllib.parse.urlencode(
                {"query": "timestamp(ALERTS)", "time": f"{t:.3f}"})))["data"]["result"]
            off_slot = [s["value"][1] for s in stamps if abs(float(s["value"][1]) - t) > 0.0005]
            if stamps and len(off_slot) == len(stamps):
                # Prometheus skipped this slot (a missed iteration on a loaded machine): what the
                # query sees is the previous iteration's output, nothing to compare against.
                skipped.append(t)
                t += 1
                continue
            for v in off_slot:
                mismatches.append((t, "Prometheus evaluated at", v))
            if theirs != ours.get(t, set()):
                mismatches.append((t, sorted(theirs), sorted(ours.get(t, set()))))
            checked += 1
            t += 1
        if mismatches:
            for m in mismatches[:10]:
                print("MISMATCH at", m)
            sys.exit(f"FAIL: {len(mismatches)} of {checked} evaluation times differ")
        if skipped:
            print(f"note: Prometheus missed {len(skipped)} evaluation slot(s): {skipped}")
        if checked < 10 or len(skipped) * 4 > checked + len(skipped):
            sys.exit(f"FAIL: only {checked} comparable evaluation times ({len(skipped)} missed)")
        firing = sum(1 for s in ours.values() for a in s if ("alertstate", "firing") in a)
        print(f"replay vs Prometheus: {checked} evaluation times identical "
              f"({len(evals)} with active alerts, {firing} firing alert-samples)")
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
