"""Helpers shared by the Python integration tests (imported from the scripts' own folder):
free ports on 127.0.0.1, plain HTTP GETs, failing with a message, and a real Prometheus that is
ready before the test talks to it."""
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
