#!/usr/bin/env python3
"""`ruleeval run` against a real VictoriaMetrics (Debian's victoria-metrics) on 127.0.0.1: rules are
queried over the Prometheus HTTP API, the alert fires, and recording results plus ALERTS are
remote-written back into the same server.

usage: run_backend_test.py RULEEVAL_BINARY     (exit 77 = skipped: victoria-metrics missing)
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from itest import free_port


def http(url, data=None, timeout=5):
    with urllib.request.urlopen(url, data=data, timeout=timeout) as r:
        return r.read().decode()


def wait_for(pred, timeout, what, logs=()):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = pred()
            if last:
                return last
        except Exception as e:  # server not up yet
            last = e
        time.sleep(0.3)
    for log in logs:
        sys.stderr.write(f"--- {log}\n" + open(log).read()[-3000:])
    sys.exit(f"FAIL: timed out waiting for {what} (last: {last})")


def main():
    binary = sys.argv[1]
    vm_bin = shutil.which("victoria-metrics") or "/usr/bin/victoria-metrics"
    if not os.path.exists(vm_bin):
        print("victoria-metrics not installed: skipped")
        sys.exit(77)
    work = tempfile.mkdtemp(prefix="ruleeval-backend-")
    procs = []
    try:
        vm_port = free_port()
        vm_log = os.path.join(work, "vm.log")
        procs.append(subprocess.Popen(
            [vm_bin, f"-storageDataPath={work}/vm", f"-httpListenAddr=127.0.0.1:{vm_port}",
             "-retentionPeriod=100y", "-search.latencyOffset=1s", "-search.disableCache",
             "-dedup.minScrapeInterval=1ms"],
            stdout=open(vm_log, "w"), stderr=subprocess.STDOUT))
        vm = f"http://127.0.0.1:{vm_port}"
        wait_for(lambda: http(vm + "/health").strip() == "OK", 20, "victoria-metrics", [vm_log])

        now_ms = int(time.time() * 1000)
        ts = list(range(now_ms - 600_000, now_ms + 1, 5_000))
        lines = [json.dumps({"metric": {"__name__": "queue_depth", "job": "worker", "instance": i},
                             "values": [v] * len(ts), "timestamps": ts})
                 for i, v in (("a", 120), ("b", 3))]
        http(vm + "/api/v1/import", "\n".join(lines).encode())
        http(vm + "/internal/force_flush")

        with open(os.path.join(work, "rules.yaml"), "w") as f:
            f.write("""groups:
  - name: queues
    interval: 1s
    rules:
      - record: job:queue_depth:max
        expr: max by (job) (queue_depth)
      - alert: QueueDeep
        expr: queue_depth > 50
        for: 2s
        labels: {severity: ticket}
        annotations: {summary: "{{ $labels.instance }} holds {{ $value }} items"}
""")
        with open(os.path.join(work, "ruleeval.yaml"), "w") as f:
            f.write(f"""global: {{evaluation_interval: 1s, external_labels: {{ruler: ruleeval}}}}
datasources:
  default: {{type: prometheus, url: "{vm}", timeout: 5s}}
rule_files: [rules.yaml]
remote_write: {{url: "{vm}/api/v1/write"}}
""")
        log = os.path.join(work, "run.log")
        run = subprocess.Popen([binary, "run", "--config", "ruleeval.yaml", "--state-dir", "state",
                                "--listen-address", "127.0.0.1:0", "--duration", "60"],
                               cwd=work, stdout=subprocess.DEVNULL, stderr=open(log, "w"))
        procs.append(run)
        port = wait_for(lambda: re.search(r"listen=127\.0\.0\.1:(\d+)", open(log).read()), 10,
                        "ruleeval to start", [log]).group(1)
        api = f"http://127.0.0.1:{port}"

        def firing():
            alerts = json.loads(http(api + "/api/v1/alerts"))["data"]["alerts"]
            return [a for a in alerts if a["state"] == "firing"]
        alerts = wait_for(firing, 20, "QueueDeep to fire", [log])
        assert len(alerts) == 1 and alerts[0]["labels"]["instance"] == "a", alerts
        assert alerts[0]["annotations"]["summary"] == "a holds 120 items", alerts
        rules = json.loads(http(api + "/api/v1/rules"))["data"]["groups"][0]["rules"]
        assert [r["health"] for r in rules] == ["ok", "ok"], rules

        def written(query):
            def check():
                http(vm + "/internal/force_flush")
                q = urllib.parse.urlencode({"query": query, "time": f"{time.time():.3f}"})
                res = json.loads(http(vm + "/api/v1/query?" + q))["data"]["result"]
                return res
            return check
        rec = wait_for(written('job:queue_depth:max{job="worker"}'), 20,
                       "the recording rule's result in VictoriaMetrics", [log])
        assert rec[0]["value"][1] == "120", rec
        alerts_series = wait_for(written('ALERTS{alertname="QueueDeep",alertstate="firing"}'), 20,
                                 "ALERTS in VictoriaMetrics", [log])
        assert alerts_series[0]["metric"]["instance"] == "a", alerts_series
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=15) == 0
        print("run against victoria-metrics: alert fired, recording + ALERTS remote-written")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
