#!/usr/bin/env python3
"""kill -9 and restart of `ruleeval run`: a firing alert stays firing with its original activeAt,
no second page is sent and nothing is resolved by mistake; a corrupt state file is moved aside.

usage: run_restart_test.py RULEEVAL_BINARY TESTDATA_DIR
"""
import glob
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


def start(binary, work, log_name):
    log = os.path.join(work, log_name)
    proc = subprocess.Popen(
        [binary, "run", "--config", "steady.yaml", "--state-dir", "state",
         "--listen-address", "127.0.0.1:0", "--duration", "60"],
        cwd=work, stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    deadline = time.time() + 10
    while time.time() < deadline:
        m = re.search(r"listen=127\.0\.0\.1:(\d+)", open(log).read())
        if m:
            return proc, int(m.group(1)), log
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    sys.exit("FAIL: ruleeval run did not start:\n" + open(log).read())


def alerts(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/alerts", timeout=5) as r:
        return json.loads(r.read())["data"]["alerts"]


def wait_for(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    sys.exit("FAIL: timed out waiting for " + what)


def notifications(work):
    path = os.path.join(work, "notifications.jsonl")
    if not os.path.exists(path):
        return []
    return [json.loads(l) for l in open(path) if l.strip()]


def main():
    binary, data = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="ruleeval-restart-")
    procs = []
    try:
        for f in ("steady.yaml", "fast_rules.yaml", "steady.series"):
            shutil.copy(os.path.join(data, f), work)
        proc, port, _ = start(binary, work, "run1.log")
        procs.append(proc)
        firing = wait_for(lambda: [a for a in alerts(port) if a["state"] == "firing"], 20, "firing")
        active_at = firing[0]["activeAt"]
        wait_for(lambda: [n for n in notifications(work) if n["status"] == "firing"], 10,
                 "the firing notification")
        time.sleep(1.5)  # at least one state save after firing
        proc.send_signal(signal.SIGKILL)
        proc.wait()

        proc, port, log2 = start(binary, work, "run2.log")
        procs.append(proc)
        assert "restored alert state" in open(log2).read(), open(log2).read()
        # Right away, before the first evaluation, the restored alert is already firing.
        first = alerts(port)
        assert [a["state"] for a in first] == ["firing"], first
        assert first[0]["activeAt"] == active_at, (first, active_at)
        time.sleep(4)  # several evaluations and notification flushes
        after = alerts(port)
        assert [a["state"] for a in after] == ["firing"], after
        assert after[0]["activeAt"] == active_at, (after, active_at)
        statuses = [n["status"] for n in notifications(work)]
        assert statuses == ["firing"], f"a restart must not page again or resolve: {statuses}"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0

        # A corrupt state file is moved aside with an error, and ruleeval still starts.
        group_files = glob.glob(os.path.join(work, "state", "group-*.json"))
        assert len(group_files) == 1, os.listdir(os.path.join(work, "state"))
        with open(group_files[0], "w") as f:
            f.write("{ this is not json")
        proc, port, log3 = start(binary, work, "run3.log")
        procs.append(proc)
        text = open(log3).read()
        assert "level=error" in text and "unusable" in text, text
        assert glob.glob(group_files[0] + ".corrupt-*"), os.listdir(
            os.path.join(work, "state"))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        print("restart: firing kept across kill -9, activeAt", active_at, "notifications", statuses)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
