#!/usr/bin/env python3
"""Chaos test of `ruleeval run`'s durability: a real Prometheus scrapes an exporter whose value the
test flaps, ruleeval evaluates an alert on it and pages a webhook sink, and the test kills ruleeval
with SIGKILL, at random moments and at chosen ones (right after a transition shows in the API,
during a state write, during a webhook delivery), then restarts it.

Invariants, checked after every restart:
  - the alert state is never older than what the API or the receiver had seen before the kill
    (a firing alert restarts firing with the same activeAt; a seen resolve is not undone; seen
    pending progress is not lost);
and at the end:
  - every firing episode seen in the API reached the receiver as firing, and every episode that
    fired reached it as resolved, at least once;
  - duplicates (a notification repeated for the same episode and status) are at most one per
    crash.

usage: run_chaos_test.py RULEEVAL_BINARY [--long] [--cycles N] [--seed S]
exit 77 = skipped (prometheus not installed)
"""
import argparse
import collections
import glob
import http.server
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from itest import free_port


def http_get(url, timeout=3):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def wait_for(pred, timeout, what, logs=()):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = pred()
            if last:
                return last
        except Exception as e:  # not up yet
            last = e
        time.sleep(0.05)
    for log in logs:
        if os.path.exists(log):
            sys.stderr.write(f"--- {log}\n" + open(log, errors="replace").read()[-4000:])
    sys.exit(f"FAIL: timed out waiting for {what} (last: {last})")


class Exporter:
    """/metrics with flap_value{job="chaos"} = self.value."""

    def __init__(self):
        self.value = 0
        exp = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = (f"# TYPE flap_value gauge\nflap_value{{job=\"chaos\"}} {exp.value}\n").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Sink:
    """Webhook receiver: records every notification; can be told to answer slowly."""

    def __init__(self):
        self.lock = threading.Lock()
        self.received = []  # (status, startsAt) per alert in each notification
        self.in_flight = 0
        self.delay = 0.0
        sink = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(n) or b"{}")
                with sink.lock:
                    sink.in_flight += 1
                    delay = sink.delay
                    # Recorded on receipt: a delivery the sender gave up on still arrived.
                    for a in body.get("alerts", []):
                        sink.received.append((a["status"], a["startsAt"]))
                try:
                    if delay:
                        time.sleep(delay)
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with sink.lock:
                        sink.in_flight -= 1

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def snapshot(self):
        with self.lock:
            return list(self.received)


class Ruleeval:
    def __init__(self, binary, work):
        self.binary, self.work = binary, work
        self.proc, self.port, self.starts = None, None, 0

    def start(self):
        self.starts += 1
        self.log = os.path.join(self.work, f"run{self.starts}.log")
        self.proc = subprocess.Popen(
            [self.binary, "run", "--config", "ruleeval.yaml", "--state-dir", "state",
             "--listen-address", "127.0.0.1:0", "--duration", "3600"],
            cwd=self.work, stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        m = wait_for(lambda: self.proc.poll() is None and re.search(
            r"listen=127\.0\.0\.1:(\d+)", open(self.log).read()), 15, "ruleeval to start",
            [self.log])
        self.port = int(m.group(1))
        return open(self.log).read()

    def alert(self):
        """(state, activeAt) of the Flap alert, or ("inactive", None)."""
        alerts = json.loads(http_get(f"http://127.0.0.1:{self.port}/api/v1/alerts"))
        for a in alerts["data"]["alerts"]:
            if a["labels"].get("alertname") == "Flap":
                return a["state"], a["activeAt"]
        return "inactive", None

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def restored_counts(log_text):
    m = re.search(r"restored alert state from [^:]*: (\d+) firing, (\d+) pending", log_text)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--long", action="store_true", help="500 cycles")
    ap.add_argument("--cycles", type=int, default=20)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    args = ap.parse_args()
    cycles = 500 if args.long else args.cycles
    rnd = random.Random(args.seed)
    prom_bin = shutil.which("prometheus")
    if not prom_bin:
        print("prometheus not installed: skipped")
        sys.exit(77)
    work = tempfile.mkdtemp(prefix="ruleeval-chaos-")
    procs = []
    exporter, sink = Exporter(), Sink()
    rv = Ruleeval(args.binary, work)
    ok = False
    try:
        prom_port = free_port()
        with open(os.path.join(work, "prometheus.yml"), "w") as f:
            f.write(f"""global: {{scrape_interval: 500ms, evaluation_interval: 1m}}
scrape_configs:
  - job_name: chaos
    honor_labels: true
    static_configs: [{{targets: ["127.0.0.1:{exporter.port}"]}}]
""")
        prom_log = os.path.join(work, "prometheus.log")
        procs.append(subprocess.Popen(
            [prom_bin, f"--config.file={work}/prometheus.yml", f"--storage.tsdb.path={work}/tsdb",
             f"--web.listen-address=127.0.0.1:{prom_port}"],
            stdout=open(prom_log, "w"), stderr=subprocess.STDOUT))
        prom = f"http://127.0.0.1:{prom_port}"
        wait_for(lambda: "Ready" in http_get(prom + "/-/ready"), 30, "prometheus", [prom_log])

        with open(os.path.join(work, "rules.yaml"), "w") as f:
            f.write("""groups:
  - name: chaos
    interval: 500ms
    rules:
      - alert: Flap
        expr: flap_value > 0
        for: 1s
        labels: {severity: page}
""")
        with open(os.path.join(work, "ruleeval.yaml"), "w") as f:
            f.write(f"""global: {{evaluation_interval: 500ms}}
datasources:
  default: {{type: prometheus, url: "{prom}", timeout: 2s}}
rule_files: [rules.yaml]
route:
  receiver: sink
  group_by: [alertname]
  group_wait: 0s
  group_interval: 500ms
  repeat_interval: 1h
receivers:
  - name: sink
    webhook_configs:
      - url: http://127.0.0.1:{sink.port}/hook
        send_resolved: true
""")
        wait_for(lambda: json.loads(http_get(
            prom + "/api/v1/query?query=flap_value"))["data"]["result"], 20,
            "the first scrape", [prom_log])

        seen_firing = set()   # activeAt of every firing the API showed
        kills = 0
        failures = []
        scenarios = ["random", "after-transition", "during-save", "during-delivery"]
        text = rv.start()
        for cycle in range(cycles):
            scenario = scenarios[cycle % len(scenarios)] if cycle < 8 else rnd.choice(scenarios)
            # The value is held long enough for the restored state to be re-sent and flushed
            # (group_interval 500ms): flapping faster than the notifier's grouping would merge a
            # resolve with the next firing of the same labels, as Alertmanager does, and no
            # receiver could see both, crash or not.
            hold_until = time.time() + 1.2 + rnd.uniform(0, 0.8)
            while time.time() < hold_until:
                last = rv.alert()
                if last[0] == "firing":
                    seen_firing.add(last[1])
                time.sleep(0.05)
            exporter.value = 1 - exporter.value
            if scenario == "random":
                end = time.time() + rnd.uniform(0.2, 3.0)
                while time.time() < end:
                    last = rv.alert()
                    if last[0] == "firing":
                        seen_firing.add(last[1])
                    time.sleep(0.03)
            elif scenario == "after-transition":
                start_state = last[0]
                end = time.time() + 5
                while time.time() < end:
                    last = rv.alert()
                    if last[0] != start_state:
                        break
                    time.sleep(0.01)
                if last[0] == "firing":
                    seen_firing.add(last[1])
            elif scenario == "during-save":
                state_dir = os.path.join(work, "state")

                def sizes():
                    out = {}
                    for p in glob.glob(os.path.join(state_dir, "*")):
                        try:
                            out[p] = os.path.getsize(p)
                        except OSError:
                            pass
                    return out
                before = sizes()
                end = time.time() + 6
                while time.time() < end:
                    now = sizes()
                    if now != before or any(p.endswith(".tmp") for p in now):
                        break
                    time.sleep(0.002)
                last = rv.alert()
                if last[0] == "firing":
                    seen_firing.add(last[1])
            else:  # during-delivery
                sink.delay = 1.5
                end = time.time() + 6
                while time.time() < end and sink.in_flight == 0:
                    time.sleep(0.005)
                last = rv.alert()
                if last[0] == "firing":
                    seen_firing.add(last[1])
            seen_notified = sink.snapshot()
            value_at_kill = exporter.value
            rv.kill()
            kills += 1
            sink.delay = 0.0
            # The value stays as it was until the restarted process has been checked.
            text = rv.start()
            firing, pending = restored_counts(text)
            now_state = rv.alert()
            last_notified = seen_notified[-1][0] if seen_notified else None
            ctx = (f"cycle {cycle} ({scenario}): seen {last}, last notified {last_notified}, "
                   f"value {value_at_kill}, restored {firing} firing {pending} pending, "
                   f"now {now_state}")
            if last[0] == "firing" and value_at_kill == 1:
                if firing != 1 or now_state != last:
                    failures.append("a firing alert was not restored as it was: " + ctx)
            if last[0] == "pending" and value_at_kill == 1 and firing + pending != 1:
                failures.append("pending progress was lost: " + ctx)
            if last[0] == "inactive" and value_at_kill == 0 and (firing or pending):
                failures.append("a resolved alert came back: " + ctx)
            if now_state[0] == "firing":
                seen_firing.add(now_state[1])
            if failures:
                break
            if cycle % 10 == 0:
                print(f"cycle {cycle}: {scenario}: {ctx}", flush=True)

        # Settle: resolve, and let every notification arrive.
        exporter.value = 0
        wait_for(lambda: rv.alert()[0] == "inactive", 20, "the alert to resolve", [rv.log])
        time.sleep(3)
        got = sink.snapshot()
        by_episode = collections.defaultdict(collections.Counter)
        for status, starts in got:
            by_episode[starts][status] += 1
        fired = [e for e, c in by_episode.items() if c["firing"]]
        for e in fired:
            if not by_episode[e]["resolved"]:
                failures.append(f"episode startsAt={e} fired but its resolve never arrived")
        if len(fired) < len(seen_firing):
            failures.append(f"{len(seen_firing)} firing episodes were seen in the API but only "
                            f"{len(fired)} reached the receiver")
        dups = sum(max(0, c["firing"] - 1) + max(0, c["resolved"] - 1)
                   for c in by_episode.values())
        if dups > kills:
            failures.append(f"{dups} duplicate notifications for {kills} crashes")
        rv.proc.send_signal(signal.SIGTERM)
        rv.proc.wait(timeout=30)
        if failures:
            for f in failures:
                print("FAIL:", f)
            print("seen firing (activeAt):", sorted(seen_firing))
            print("received:", got)
            print(f"seed {args.seed}; work dir kept: {work}")
            sys.exit(1)
        ok = True
        print(f"chaos: {kills} kills (seed {args.seed}), {len(fired)} firing episodes "
              f"({len(seen_firing)} seen in the API), {dups} duplicate notifications; "
              f"state never older than what was seen")
    finally:
        if rv.proc and rv.proc.poll() is None:
            rv.proc.kill()
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        exporter.server.shutdown()
        sink.server.shutdown()
        if ok:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
