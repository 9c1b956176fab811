#!/usr/bin/env python3
"""`ruleeval run` whose standard output is a pipe nobody reads any more lives on.

A file receiver with `path: "-"` writes notifications to standard output. When that is a pipe
whose reader has gone (`ruleeval run | some-filter` and the filter died), the write raises
SIGPIPE, whose default action ends the whole process: every other receiver's pages, the rule
state and the API with it. `ruleeval run` ignores SIGPIPE, so the write fails with EPIPE, which is
that one delivery's error, retried from the outbox and counted, while the process and the other
integrations carry on. This test runs the fast embedded demo with two file integrations on one
receiver (standard output, closed at once, and a file), then checks that:
  - the file integration gets the firing and the resolved notification;
  - the process is alive and healthy, and the standard-output integration's attempts are
    counted as failures (ruleeval_notifications_failed_total), not as sent notifications, and
    logged with the reason;
  - SIGTERM then ends it with exit 0.

usage: run_sigpipe_test.py RULEEVAL_BINARY TESTDATA_DIR
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from itest import wait_for  # noqa: E402


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
        return r.status, r.read().decode()


def metric(text, name, **labels):
    """The sum of NAME's samples whose labels include LABELS."""
    total = 0.0
    for line in text.splitlines():
        m = re.match(r"^" + re.escape(name) + r"\{(.*)\} (\S+)$", line)
        if m and all(f'{k}="{v}"' in m.group(1) for k, v in labels.items()):
            total += float(m.group(2))
    return total


def main():
    binary, data = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="ruleeval-sigpipe-")
    proc = None
    try:
        for f in ("fast_rules.yaml", "fast.series"):
            shutil.copy(os.path.join(data, f), work)
        cfg = open(os.path.join(data, "fast.yaml")).read()
        file_cfg = "    file_configs:\n      - path: notifications.jsonl\n        send_resolved: true\n"
        assert file_cfg in cfg, cfg
        cfg = cfg.replace(file_cfg, "    file_configs:\n"
                                    "      - path: \"-\"\n        send_resolved: true\n"
                                    "      - path: notifications.jsonl\n        send_resolved: true\n")
        open(os.path.join(work, "fast.yaml"), "w").write(cfg)
        log = os.path.join(work, "run.log")
        proc = subprocess.Popen(
            [binary, "run", "--config", "fast.yaml", "--state-dir", "state",
             "--listen-address", "127.0.0.1:0", "--duration", "60"],
            cwd=work, stdout=subprocess.PIPE, stderr=open(log, "w"))
        proc.stdout.close()  # the reader goes away before the first notification

        port = int(wait_for(lambda: re.search(r"listen=127\.0\.0\.1:(\d+)", open(log).read()).group(1),
                            15, "the listen address in the log", [log]))
        path = os.path.join(work, "notifications.jsonl")

        def statuses():
            if proc.poll() is not None:
                sys.stderr.write(open(log).read()[-4000:])
                sys.exit(f"FAIL: ruleeval run ended (exit {proc.returncode}; -13 is SIGPIPE)")
            if not os.path.exists(path):
                return None
            seen = [json.loads(l)["status"] for l in open(path) if l.strip()]
            return seen if seen == ["firing", "resolved"] else None

        wait_for(statuses, 45, "a firing and a resolved notification in the file", [log])

        # Both notifications were tried on standard output too: each attempt failed with EPIPE.
        def failed_attempts():
            _, text = get(port, "/metrics")
            return metric(text, "ruleeval_notifications_failed_total", receiver="file") >= 2
        wait_for(failed_attempts, 15, "two failed attempts on standard output", [log])
        assert proc.poll() is None, "ruleeval run ended"
        status, _ = get(port, "/-/healthy")
        assert status == 200, status
        text = open(log).read()
        assert "cannot write to standard output" in text, text[-3000:]

        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=30)
        proc = None
        if rc != 0:
            sys.stderr.write(open(log).read()[-3000:])
            sys.exit(f"FAIL: exit code after SIGTERM: {rc}")
        print("run sigpipe: alive after EPIPE on standard output; the file got firing and resolved")
    finally:
        if proc and proc.poll() is None:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
