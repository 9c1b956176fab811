"""Helpers shared by the Python integration tests (imported from the scripts' own folder):
free ports on 127.0.0.1, plain HTTP GETs, failing with a message, waiting for a condition,
stopping a child process, and a real Prometheus that is ready before the test talks to it."""
import os
import socket
import subprocess
import sys
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def wait_for(pred, timeout, what, logs=(), every=0.05):
    """pred()'s first true value within TIMEOUT seconds (an exception counts as not yet). Exits
    the test, with the tails of the LOGS files, when it does not come."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = pred()
            if last:
                return last
        except Exception as e:  # not up yet
            last = e
        time.sleep(every)
    for log in logs:
        if os.path.exists(log):
            sys.stderr.write(f"--- {log}\n" + open(log, errors="replace").read()[-4000:])
    sys.exit(f"FAIL: timed out waiting for {what} (last: {last})")


def stop_process(proc, timeout=10):
    """SIGTERM, then SIGKILL when PROC has not exited within TIMEOUT seconds; None is ignored."""
    if not proc:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()


def start_prometheus(prom, work, data, port, *extra_args):
    """Starts Prometheus with WORK/prometheus.yml, DATA as its TSDB and 127.0.0.1:PORT, logging to
    WORK/prom.log; returns (process, base URL) once /-/ready answers. Fails (after stopping it)
    with the log's tail when it is not ready within 30 s."""
    log = os.path.join(work, "prom.log")
    proc = subprocess.Popen(
        [prom, f"--config.file={work}/prometheus.yml", f"--storage.tsdb.path={data}",
         f"--web.listen-address=127.0.0.1:{port}", *extra_args],
        stdout=open(log, "w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if "Ready" in get(base + "/-/ready"):
                return proc, base
        except Exception:
            pass
        time.sleep(0.3)
    proc.kill()
    proc.wait()
    fail("prometheus did not start:\n" + open(log).read()[-3000:])
