#!/usr/bin/env python3
"""`ruleeval run` end to end on the embedded backend: an alert goes pending, fires and resolves,
the API reports each state, and the file receiver gets one firing and one resolved notification.

usage: run_lifecycle_test.py RULEEVAL_BINARY TESTDATA_DIR
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
import urllib.request


def fail(msg, proc=None, log=None):
    if proc and proc.poll() is None:
        proc.kill()
    if log:
        sys.stderr.write(open(log).read()[-4000:])
    sys.exit("FAIL: " + msg)


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
        return r.status, r.read().decode()


def main():
    binary, data = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="ruleeval-run-")
    try:
        for f in ("fast.yaml", "fast_rules.yaml", "fast.series"):
            shutil.copy(os.path.join(data, f), work)
        log = os.path.join(work, "run.log")
        proc = subprocess.Popen(
            [binary, "run", "--config", "fast.yaml", "--state-dir", "state",
             "--listen-address", "127.0.0.1:0", "--duration", "60"],
            cwd=work, stdout=subprocess.DEVNULL, stderr=open(log, "w"))
        port = None
        deadline = time.time() + 10
        while port is None and time.time() < deadline:
            m = re.search(r"listen=127\.0\.0\.1:(\d+)", open(log).read())
            if m:
                port = int(m.group(1))
            time.sleep(0.1)
        if port is None:
            fail("ruleeval run did not report its listen address", proc, log)

        status, body = get(port, "/-/healthy")
        assert status == 200, body

        # Silences API (Alertmanager v2 shapes): create, list, expire.
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v2/silences", method="POST",
            data=json.dumps({"matchers": [{"name": "alertname", "value": "Other", "isRegex": False}],
                             "startsAt": "2020-01-01T00:00:00Z", "endsAt": "2100-01-01T00:00:00Z",
                             "createdBy": "test", "comment": "maintenance"}).encode())
        with urllib.request.urlopen(req, timeout=5) as r:
            sid = json.loads(r.read())["silenceID"]
        _, body = get(port, "/api/v2/silences")
        listed = json.loads(body)
        assert [s["status"]["state"] for s in listed if s["id"] == sid] == ["active"], listed
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v2/silence/{sid}", method="DELETE")
        urllib.request.urlopen(req, timeout=5).read()
        _, body = get(port, "/api/v2/silences")
        assert [s["status"]["state"] for s in json.loads(body) if s["id"] == sid] == ["expired"], body
        seen = []
        deadline = time.time() + 45
        while time.time() < deadline:
            _, body = get(port, "/api/v1/alerts")
            alerts = json.loads(body)["data"]["alerts"]
            state = alerts[0]["state"] if alerts else "inactive"
            if not seen or seen[-1] != state:
                seen.append(state)
            if seen[-3:] == ["pending", "firing", "inactive"]:
                break
            time.sleep(0.2)
        if seen[-3:] != ["pending", "firing", "inactive"]:
            fail(f"alert states seen: {seen}", proc, log)

        _, body = get(port, "/api/v1/rules?type=alert")
        groups = json.loads(body)["data"]["groups"]
        assert groups[0]["rules"][0]["name"] == "FastErrors", body
        assert groups[0]["rules"][0]["health"] == "ok", body
        _, metrics = get(port, "/metrics")
        assert "ruleeval_rule_group_iterations_total" in metrics, metrics[:500]
        assert "receiver=\"file\"" in metrics, metrics[-1500:]  # the notifiers' counters
        # Build info as Prometheus components export it: the same version --version prints.
        version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
        build = [l for l in metrics.splitlines() if l.startswith("ruleeval_build_info{")]
        assert len(build) == 1 and build[0].endswith(" 1"), build
        assert f'version="{version.split()[2]}"' in build[0], (build, version)

        # Resolved notifications are sent at the next group flush.
        notes = []
        deadline = time.time() + 15
        path = os.path.join(work, "notifications.jsonl")
        while time.time() < deadline:
            if os.path.exists(path):
                notes = [json.loads(l) for l in open(path) if l.strip()]
                if [n["status"] for n in notes] == ["firing", "resolved"]:
                    break
            time.sleep(0.2)
        statuses = [n["status"] for n in notes]
        if statuses != ["firing", "resolved"]:
            fail(f"notifications: {statuses}", proc, log)
        firing = notes[0]
        assert firing["version"] == "4", firing
        alert = firing["alerts"][0]
        assert alert["labels"]["alertname"] == "FastErrors", alert
        assert alert["labels"]["cluster"] == "test", alert  # external labels are added
        assert alert["annotations"]["summary"].startswith("errors on api: "), alert

        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=15)
        if rc != 0:
            fail(f"exit code after SIGTERM: {rc}", None, log)
        print("run lifecycle: states", seen, "notifications", statuses)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
