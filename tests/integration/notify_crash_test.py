#!/usr/bin/env python3
"""A page survives a kill -9 of ruleeval while its receiver is down: the notification waits in the
durable outbox, and after the restart (receiver back) it is delivered exactly once.

usage: notify_crash_test.py RULEEVAL_BINARY TESTDATA_DIR
"""
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time


class Receiver(http.server.BaseHTTPRequestHandler):
    healthy = False
    received = []  # (notification id, status) of every accepted delivery
    attempts = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Receiver.attempts += 1
        if not Receiver.healthy:
            self.send_response(503)
            self.end_headers()
            return
        doc = json.loads(body)
        Receiver.received.append((self.headers.get("X-Ruleeval-Notification-Id"), doc["status"]))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a):
        pass


def start(binary, work, name):
    log = os.path.join(work, name)
    p = subprocess.Popen([binary, "run", "--config", "ruleeval.yaml", "--state-dir", "state",
                          "--listen-address", "127.0.0.1:0", "--duration", "60"],
                         cwd=work, stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    deadline = time.time() + 10
    while time.time() < deadline and not re.search(r"listen=", open(log).read()):
        time.sleep(0.1)
    return p, log


def wait_for(pred, timeout, what, log):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.1)
    sys.exit(f"FAIL: timed out waiting for {what}\n" + open(log).read()[-3000:])


def main():
    binary, data = sys.argv[1], sys.argv[2]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    work = tempfile.mkdtemp(prefix="ruleeval-crash-")
    procs = []
    try:
        for f in ("fast_rules.yaml", "steady.series"):
            shutil.copy(os.path.join(data, f), work)
        with open(os.path.join(work, "ruleeval.yaml"), "w") as f:
            f.write(f"""global: {{evaluation_interval: 1s}}
datasources: {{default: {{type: embedded, series_files: [steady.series]}}}}
rule_files: [fast_rules.yaml]
route: {{receiver: hook, group_by: [alertname], group_wait: 0s, group_interval: 1s, repeat_interval: 1h}}
receivers:
  - name: hook
    webhook_configs: [{{url: "http://127.0.0.1:{server.server_port}/hook"}}]
""")
        p, log = start(binary, work, "run1.log")
        procs.append(p)
        # The alert fires and the first delivery attempts fail (503): the page is in the outbox.
        wait_for(lambda: Receiver.attempts >= 2, 20, "failed delivery attempts", log)
        outbox = os.path.join(work, "state", "notify", "outbox")
        journal = b"".join(open(os.path.join(outbox, f), "rb").read() for f in os.listdir(outbox)
                           if f.startswith("outbox-") and f.endswith(".log"))
        assert b"FastErrors" in journal, "the undelivered notification must be in the durable outbox"
        p.send_signal(signal.SIGKILL)
        p.wait()

        Receiver.healthy = True
        p, log = start(binary, work, "run2.log")
        procs.append(p)
        wait_for(lambda: Receiver.received, 20, "the delivery after restart", log)
        time.sleep(4)  # more evaluations and flushes: nothing may be delivered twice
        firing = [r for r in Receiver.received if r[1] == "firing"]
        ids = [r[0] for r in firing]
        assert len(firing) == 1, f"expected exactly one firing page, got {Receiver.received}"
        assert len(set(ids)) == len(ids), Receiver.received
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=15) == 0
        print(f"crash: page delivered exactly once after kill -9 "
              f"({Receiver.attempts} attempts, {len(Receiver.received)} accepted)")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
