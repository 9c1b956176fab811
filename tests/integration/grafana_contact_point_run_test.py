#!/usr/bin/env python3
"""`ruleeval run` on Grafana provisioning files delivers through mapped contact point types: an
OpsGenie and a VictorOps integration of one contact point post to a local HTTP sink, with the
secrets and the sink's address taken from the environment ($VAR, ${VAR}, $__env{}) as Grafana's
provisioning interpolates them. Checks the requests' paths, headers and JSON bodies.

usage: grafana_contact_point_run_test.py RULEEVAL_BINARY DATA_DIR
"""
import http.server
import json
import os
import re
import signal
import shutil
import subprocess
import sys
import tempfile
import threading
import time


class Sink(http.server.BaseHTTPRequestHandler):
    received = []  # (method, path, headers, body)
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with Sink.lock:
            Sink.received.append(("POST", self.path, dict(self.headers), body))
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"result":"Request will be processed","requestId":"r1"}')

    def log_message(self, *a):
        pass


def fail(msg, log):
    sys.exit(f"FAIL: {msg}\n--- ruleeval stderr ---\n{open(log).read()[-4000:]}")


def sighup_and_wait(p, log, pattern, what):
    """Sends SIGHUP and waits for a new log line matching `pattern`."""
    seen = len(re.findall(pattern, open(log).read()))
    p.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while time.time() < deadline:
        if len(re.findall(pattern, open(log).read())) > seen:
            return
        time.sleep(0.1)
    fail(f"no log line for {what} after SIGHUP", log)


def reload_checks(p, work, log):
    """SIGHUP: the Grafana notification files are validated with the rules; a change is
    reported (the notifier keeps its configuration until a restart); a broken contact point or
    a notification_settings receiver the running notifier lacks fails the reload."""
    alerting = os.path.join(work, "alerting.yaml")
    rules = os.path.join(work, "rules.yaml")
    original = open(alerting).read()
    # Unchanged files: reloaded without the warning.
    sighup_and_wait(p, log, r"configuration reloaded", "an unchanged reload")
    time.sleep(0.3)
    if "notifier keeps the ones it started with" in open(log).read():
        fail("warned about a change on an unchanged reload", log)
    # A changed contact point: reloaded, with the warning.
    with open(alerting, "w") as f:
        f.write(original.replace("messageType: WARNING", "messageType: CRITICAL"))
    sighup_and_wait(p, log, r"notifier keeps the ones it started with until ruleeval restarts",
                    "the changed contact point warning")
    # A contact point type that cannot be mapped: the reload fails at file:line:col.
    with open(alerting, "w") as f:
        f.write(original.replace("type: victorops", "type: googlechat"))
    sighup_and_wait(p, log, r"reload failed.*alerting\.yaml:20:9: contact point type "
                    r"\\?\"googlechat\\?\" is not supported", "the unmapped type")
    with open(alerting, "w") as f:
        f.write(original)
    # A rule naming a contact point the running notifier does not have: the reload fails.
    text = open(rules).read()
    with open(rules, "w") as f:
        f.write(text + "        notification_settings:\n          receiver: storage-oncall-2\n")
    with open(alerting, "w") as f:
        f.write(original.replace("policies:", "  - orgId: 1\n    name: storage-oncall-2\n"
                                 "    receivers:\n      - uid: so2\n        type: webhook\n"
                                 "        settings: {url: 'http://127.0.0.1:9/x'}\npolicies:"))
    sighup_and_wait(p, log, r"reload failed.*storage-oncall-2.*is not a receiver of the running "
                    r"notifier", "the new receiver")
    with open(rules, "w") as f:
        f.write(text)
    with open(alerting, "w") as f:
        f.write(original)
    sighup_and_wait(p, log, r"configuration reloaded", "the restored files")


def main():
    binary, data = sys.argv[1], sys.argv[2]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    work = tempfile.mkdtemp(prefix="ruleeval-grafana-cp-")
    try:
        for f in ("ruleeval.yaml", "alerting.yaml", "rules.yaml", "disk.series"):
            shutil.copy(os.path.join(data, f), work)
        env = dict(os.environ)
        env["RULEEVAL_TEST_OPSGENIE_KEY"] = "og-secret-from-env"
        env["RULEEVAL_TEST_SINK"] = f"127.0.0.1:{server.server_port}"
        log = os.path.join(work, "run.log")
        p = subprocess.Popen([binary, "run", "--config", "ruleeval.yaml", "--state-dir", "state",
                              "--listen-address", "127.0.0.1:0", "--duration", "40"],
                             cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=open(log, "w"))
        try:
            deadline = time.time() + 35
            while time.time() < deadline:
                with Sink.lock:
                    paths = [r[1] for r in Sink.received]
                if any(x.startswith("/v2/alerts") for x in paths) and \
                        any(x.startswith("/victorops/") for x in paths):
                    break
                if p.poll() is not None:
                    fail(f"ruleeval exited with {p.returncode}", log)
                time.sleep(0.2)
            reload_checks(p, work, log)
        finally:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        with Sink.lock:
            got = list(Sink.received)
        og = [r for r in got if r[1] == "/v2/alerts"]
        vo = [r for r in got if r[1].startswith("/victorops/")]
        if not og:
            fail(f"no OpsGenie request; got {[r[1] for r in got]}", log)
        if not vo:
            fail(f"no VictorOps request; got {[r[1] for r in got]}", log)

        _, _, headers, body = og[0]
        if headers.get("Authorization") != "GenieKey og-secret-from-env":
            fail(f"OpsGenie Authorization header {headers.get('Authorization')!r}", log)
        doc = json.loads(body)
        expect = {
            "message": "DiskAlmostFull on /var",
            "source": "Grafana",
            "priority": "P2",
            "responders": [{"name": "storage", "type": "team"}],
        }
        for k, v in expect.items():
            if doc.get(k) != v:
                fail(f"OpsGenie {k}: {doc.get(k)!r}, want {v!r}; body {body!r}", log)
        if not doc.get("description", "").startswith("disk /var is 0.95 full"):
            fail(f"OpsGenie description {doc.get('description')!r}", log)
        tags = doc.get("tags", [])
        for t in ("alertname:DiskAlmostFull", "grafana_folder:Infrastructure", "mountpoint:/var",
                  "og_priority:P2", "team:storage"):
            if t not in tags:
                fail(f"OpsGenie tag {t} missing from {tags}", log)
        if tags != sorted(tags):
            fail(f"OpsGenie tags not sorted: {tags}", log)
        if any(t.startswith("__") for t in tags):
            fail(f"Grafana's private labels leaked into the tags: {tags}", log)
        details = doc.get("details", {})
        if details.get("url") != "http://ruleeval.example/alerting/list":
            fail(f"OpsGenie details.url {details.get('url')!r}", log)
        if details.get("mountpoint") != "/var":  # sendTagsAs: both
            fail(f"OpsGenie details {details}", log)
        if len(doc.get("alias", "")) != 64:
            fail(f"OpsGenie alias {doc.get('alias')!r} is not a SHA-256 of the group key", log)

        method, path, headers, body = vo[0]
        if path != "/victorops/alert/vo-api-key/storage":
            fail(f"VictorOps path {path!r}", log)
        doc = json.loads(body)
        for k, v in {"message_type": "WARNING", "entity_display_name": "DiskAlmostFull",
                     "alert_url": "http://ruleeval.example/alerting/list"}.items():
            if doc.get(k) != v:
                fail(f"VictorOps {k}: {doc.get(k)!r}, want {v!r}; body {body!r}", log)
        print("OK: opsgenie and victorops contact points delivered with Grafana's settings")
    finally:
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
