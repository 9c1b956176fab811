#!/usr/bin/env python3
"""`ruleeval run` survives SIGHUP at any moment and stops cleanly on SIGTERM at any moment.

systemd's unit (packaging/) is Type=simple with ExecReload=kill -HUP $MAINPID: a reload can come
while ruleeval is still starting, or while it is reloading. ruleeval takes these signals with
sigtimedwait in its main loop; every other thread must block them, else the kernel hands the
signal to a thread that does not block it and its default action kills the whole process (a
thread's mask is the one of the thread that created it, at creation). With a rules directory
large enough that loading it takes a while, this test:
  1. sends 50 SIGHUPs a few ms apart from the moment `run` has its signal mask (checked in
     /proc/PID/status, the earliest moment a process can handle a signal at all) through
     start-up, then 50 more while the reloads run; the process lives, /-/ready answers, the
     reloads happened (log and ruleeval_config_reloads_total), every thread (/proc/PID/task/*)
     blocks SIGHUP, SIGINT and SIGTERM, and SIGTERM then ends it with exit 0;
  2. sends one SIGTERM during start-up (at once, and after 0.3 s and 1 s): exit 0, never killed
     by the signal.
A notifier (file receiver) and remote write (to a closed port) are configured so that their
threads exist during start-up.

usage: run_signals_test.py RULEEVAL_BINARY
"""
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from itest import free_port  # noqa: E402

# Signal numbers as bits of the /proc/PID/status masks (bit n-1 for signal n).
HANDLED = (1 << (signal.SIGHUP - 1)) | (1 << (signal.SIGINT - 1)) | (1 << (signal.SIGTERM - 1))

SHAPES = [
    ('sum by (job) (rate(http_errors_total{{service="{svc}"}}[5m])) / '
     'sum by (job) (rate(http_requests_total{{service="{svc}"}}[5m])) > 0.0{n}'),
    ('histogram_quantile(0.99, sum by (le, job) (rate(request_seconds_bucket{{service="{svc}"}}'
     '[10m]))) > {n}'),
    'predict_linear(disk_free_bytes{{service="{svc}"}}[1h], 4 * 3600) < {n}',
    'up{{job="{svc}"}} == 0',
    'increase(restarts_total{{service="{svc}"}}[15m]) > {n}',
    ('(queue_depth{{service="{svc}"}} - queue_depth{{service="{svc}"}} offset 10m) > {n} '
     'unless on(job) maintenance{{service="{svc}"}} == 1'),
    'max_over_time(latency_seconds{{service="{svc}"}}[5m]) > {n}',
    'time() - last_success_timestamp_seconds{{service="{svc}"}} > {n}00',
]


def write_rules(work, files=20, groups_per_file=5, rules_per_group=200):
    """FILES rule files of GROUPS_PER_FILE groups of RULES_PER_GROUP alerting rules, with
    templated annotations: large enough that loading them takes a noticeable while."""
    os.makedirs(os.path.join(work, "rules"))
    n = 0
    for fi in range(files):
        out = ["groups:"]
        for gi in range(groups_per_file):
            out.append(f"  - name: team{fi}-group{gi}\n    interval: 1m\n    rules:")
            for ri in range(rules_per_group):
                n += 1
                svc = f"svc{fi}_{gi}"
                expr = SHAPES[n % len(SHAPES)].format(svc=svc, n=ri + 1)
                out.append(f"""      - alert: Alert{n}
        expr: '{expr}'
        for: {ri % 5}m
        labels: {{severity: {"page" if ri % 3 == 0 else "ticket"}, team: team{fi}}}
        annotations:
          summary: '{{{{ $labels.job }}}} of {svc}: {{{{ $value | humanize }}}} (rule {n})'
          description: 'Since {{{{ $value | humanizeDuration }}}} on {{{{ $labels.instance }}}}.'
          runbook_url: 'https://runbooks.example.com/{svc}/Alert{n}'""")
        with open(os.path.join(work, "rules", f"team{fi}.yaml"), "w") as f:
            f.write("\n".join(out) + "\n")
    return n


def write_config(work):
    with open(os.path.join(work, "data.series"), "w") as f:
        f.write('load 1m\n  up{job="svc0_0"} 1x30\n  http_requests_total{service="svc0_0",job="a"} '
                '0+10x30\n')
    with open(os.path.join(work, "ruleeval.yaml"), "w") as f:
        f.write(f"""global: {{evaluation_interval: 1m}}
datasources:
  default: {{type: embedded, series_files: [data.series]}}
rule_files: [rules/*.yaml]
remote_write: {{url: "http://127.0.0.1:{free_port()}/api/v1/write"}}
route: {{receiver: file, group_wait: 0s}}
receivers:
  - name: file
    file_configs: [{{path: notifications.jsonl}}]
""")


def masks(pid):
    """{tid: SigBlk} of every thread of PID (threads that ended meanwhile are skipped)."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return out
    for tid in tids:
        try:
            status = open(f"/proc/{pid}/task/{tid}/status").read()
        except (FileNotFoundError, ProcessLookupError):
            continue
        m = re.search(r"^SigBlk:\s*([0-9a-f]+)", status, re.M)
        if m:
            out[int(tid)] = int(m.group(1), 16)
    return out


class Sampler:
    """Reads every thread's SigBlk every millisecond or so from spawn on and keeps the threads
    other than the main one seen without the handled signals blocked: a thread started before
    the main thread blocked them (e.g. a rule loader or notifier thread), however short-lived."""

    def __init__(self, pid):
        self.pid, self.bad, self.samples = pid, {}, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stop.is_set():
            for tid, m in masks(self.pid).items():
                if tid != self.pid and m & HANDLED != HANDLED and tid not in self.bad:
                    try:
                        comm = open(f"/proc/{self.pid}/task/{tid}/comm").read().strip()
                    except OSError:
                        comm = "?"
                    self.bad[tid] = f"{comm} SigBlk={m:x}"
            self.samples += 1
            time.sleep(0.001)

    def finish(self):
        self.stop.set()
        self.thread.join()
        return self.bad


def wait_for_mask(proc, timeout=20):
    """Waits until PROC's main thread blocks the handled signals: from then on a signal can only
    wait for the main loop (before that, in the dynamic loader or main(), any program gets the
    default action). Returns False when the process ended first."""
    end = time.time() + timeout
    while time.time() < end and proc.poll() is None:
        m = masks(proc.pid).get(proc.pid)
        if m is not None and m & HANDLED == HANDLED:
            return True
        time.sleep(0.001)
    return False


def describe(rc):
    if rc is None:
        return "still running"
    if rc < 0:
        return f"killed by {signal.Signals(-rc).name}"
    return f"exit {rc}"


def fail(msg, log=None, proc=None):
    if proc and proc.poll() is None:
        proc.kill()
        proc.wait()
    if log and os.path.exists(log):
        sys.stderr.write(open(log, errors="replace").read()[-3000:])
    sys.exit("FAIL: " + msg)


def start(binary, work, name):
    log = os.path.join(work, name + ".log")
    proc = subprocess.Popen([binary, "run", "--config", "ruleeval.yaml", "--state-dir", "state",
                             "--listen-address", "127.0.0.1:0"],
                            cwd=work, stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    return proc, log


def get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.read().decode()


def sighup_storm(binary, work, rng):
    proc, log = start(binary, work, "storm")
    sampler = Sampler(proc.pid)
    if not wait_for_mask(proc):
        fail(f"ruleeval run ended before it blocked SIGHUP/SIGINT/SIGTERM: {describe(proc.poll())}",
             log)
    t0 = time.time()
    for _ in range(50):
        proc.send_signal(signal.SIGHUP)
        time.sleep(rng.uniform(0.002, 0.02))
    if proc.poll() is not None:
        fail(f"SIGHUP during start-up: {describe(proc.returncode)}", log)
    port = None
    end = time.time() + 60
    while port is None and time.time() < end and proc.poll() is None:
        m = re.search(r"listen=127\.0\.0\.1:(\d+)", open(log).read())
        port = int(m.group(1)) if m else None
        time.sleep(0.02)
    if port is None:
        fail(f"no listen address after SIGHUPs during start-up: {describe(proc.poll())}", log, proc)
    started = time.time() - t0
    api = f"http://127.0.0.1:{port}"
    unblocked = sampler.finish()
    if unblocked:
        fail(f"threads ran during start-up without SIGHUP/SIGINT/SIGTERM blocked: {unblocked}",
             log, proc)
    # The SIGHUPs that came during start-up waited (merged into one) and reload once it is up.
    end = time.time() + 60
    while "configuration reloaded" not in open(log).read() and time.time() < end:
        if proc.poll() is not None:
            fail(f"after start-up with SIGHUPs pending: {describe(proc.returncode)}", log)
        time.sleep(0.05)
    if "configuration reloaded" not in open(log).read():
        fail("the SIGHUPs sent during start-up did not reload", log, proc)
    # Now while reloads run (each takes about as long as loading did).
    for _ in range(50):
        proc.send_signal(signal.SIGHUP)
        time.sleep(rng.uniform(0.002, 0.02))
    time.sleep(0.5)
    if proc.poll() is not None:
        fail(f"SIGHUP during reloads: {describe(proc.returncode)}", log)
    status, body = get(api + "/-/ready")
    if status != 200:
        fail(f"/-/ready: {status} {body}", log, proc)
    # Every thread, including those started during start-up, blocks the handled signals. The
    # main thread's SigBlk lacks them while it waits in sigtimedwait (the kernel unblocks the
    # awaited signals for the wait): it is the one thread that is to take them.
    unblocked = {tid: hex(m) for tid, m in masks(proc.pid).items()
                 if tid != proc.pid and m & HANDLED != HANDLED}
    if unblocked:
        fail(f"threads that do not block SIGHUP/SIGINT/SIGTERM: {unblocked}", log, proc)
    threads = len(masks(proc.pid))
    # The last reload has finished: the counter stops moving; one start plus >= 2 reloads (one
    # for the start-up burst, at least one for the second). A reload takes about as long as
    # start-up did (seconds in CI's unoptimized coverage build), and the counter moves when one
    # ends, so "stopped" means unchanged for longer than that.
    settle = max(1.5, 2 * started)
    reloads, end = None, time.time() + 120
    while time.time() < end:
        m = re.search(r"^ruleeval_config_reloads_total (\d+)", get(api + "/metrics")[1], re.M)
        now = int(m.group(1))
        if now == reloads:
            break
        reloads = now
        time.sleep(settle)
    logged = open(log).read().count("configuration reloaded")
    if reloads < 3 or logged < 2 or logged != reloads - 1:
        fail(f"reloads: metric {reloads}, logged {logged}", log, proc)
    if "reload failed" in open(log).read():
        fail("a reload failed", log, proc)
    # A SIGTERM that comes with a SIGHUP during a reload: the stop wins over a second reload
    # (sigtimedwait would take the SIGHUP first), and the exit is clean.
    proc.send_signal(signal.SIGHUP)
    time.sleep(0.05)
    proc.send_signal(signal.SIGHUP)
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        fail("SIGTERM did not stop ruleeval within 60 s", log, proc)
    if rc != 0:
        fail(f"SIGTERM after the reloads: {describe(rc)}", log)
    extra = open(log).read().count("configuration reloaded") - logged
    if extra > 1:
        fail(f"{extra} reloads after SIGHUP, SIGHUP+SIGTERM: the SIGTERM waited for a reload", log)
    return started, reloads - 1, logged, threads


def sigterm_during_startup(binary, work, delay):
    shutil.rmtree(os.path.join(work, "state"), ignore_errors=True)
    proc, log = start(binary, work, f"term{delay}")
    sampler = Sampler(proc.pid)
    if not wait_for_mask(proc):
        fail(f"ruleeval run ended before it blocked SIGHUP/SIGINT/SIGTERM: {describe(proc.poll())}",
             log)
    time.sleep(delay)
    up = "ruleeval started" in open(log).read()
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        fail(f"SIGTERM {delay}s into start-up did not stop ruleeval within 60 s", log, proc)
    if rc != 0:
        fail(f"SIGTERM {delay}s into start-up: {describe(rc)} (want exit 0)", log)
    unblocked = sampler.finish()
    if unblocked:
        fail(f"threads ran during start-up without SIGHUP/SIGINT/SIGTERM blocked: {unblocked}", log)
    text = open(log).read()
    if "shutting down" not in text:
        fail(f"SIGTERM {delay}s into start-up: exit 0 but no shutdown logged", log)
    return "after start-up" if up else "during start-up"


def main():
    binary = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="ruleeval-signals-")
    ok = False
    try:
        n = write_rules(work)
        write_config(work)
        rng = random.Random(int(os.environ.get("SIGNALS_SEED", "0")) or None)
        t0 = time.time()
        p = subprocess.run([binary, "run", "--check-config", "--config", "ruleeval.yaml"],
                           cwd=work, capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            fail(f"--check-config: {p.returncode}\n{p.stdout}{p.stderr}")
        load = time.time() - t0
        started, reloads, logged, threads = sighup_storm(binary, work, rng)
        terms = [f"{d}s: {sigterm_during_startup(binary, work, d)}" for d in (0, 0.3, 1.0)]
        ok = True
        print(f"signals: {n} rules (check-config {load:.2f}s); 50 SIGHUPs through start-up "
              f"({started:.2f}s) and 50 during reloads: alive, ready, {reloads} reloads, "
              f"{threads} threads all blocking; SIGTERM exit 0 at {', '.join(terms)}")
    finally:
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("work dir kept:", work)


if __name__ == "__main__":
    main()
