#!/usr/bin/env python3
"""Regression tests for `ruleeval run` hardening (issue 13), against a fake Prometheus backend:
  - --check-config rejects a directory in rule_files, /dev/zero and a FIFO as series files,
    invalid receiver URLs, basic_auth with bearer_token, and repeated YAML keys;
  - credentials in a datasource URL are redacted in lastError and on the status page, and a
    query string in the URL is kept at the end of the request URL;
  - 1,000 idle connections do not starve /-/healthy, keep-alive works, a flood of slow clients
    beyond the workers and the queue gets fast 503s without more threads or memory;
  - a 100,000-deep JSON body is a 400 and the process lives on; an invalid silence is a 400;
  - a failed state write is logged, counted in ruleeval_state_write_failures_total and retried;
  - SIGTERM returns within 30 s while remote write fails.

usage: run_hardening_test.py RULEEVAL_BINARY
"""
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from itest import free_port


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def post(url, body, timeout=10):
    req = urllib.request.Request(url, data=body.encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class FakeProm:
    """Answers instant queries: `fail_metric` -> a proxy error page, anything else -> one sample."""

    def __init__(self):
        self.paths = []
        fake = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                form = urllib.parse.parse_qs(self.rfile.read(n).decode())
                fake.paths.append(self.path)
                q = form.get("query", [""])[0]
                if "fail_metric" in q:  # not JSON, with control bytes (a terminal escape)
                    body, code = b"<html>\x1b[31mproxy\x00error\r\nX-Injected: 1</html>", 502
                else:
                    body, code = json.dumps({"status": "success", "data": {
                        "resultType": "vector",
                        "result": [{"metric": {"job": "x"}, "value": [time.time(), "1"]}]}}
                    ).encode(), 200
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def check_config(binary, work, cfg_text, expect):
    path = os.path.join(work, "check.yaml")
    with open(path, "w") as f:
        f.write(cfg_text)
    p = subprocess.run([binary, "run", "--check-config", "--config", path], cwd=work,
                       capture_output=True, text=True, timeout=20)
    assert p.returncode == 2, (cfg_text, p.returncode, p.stdout, p.stderr)
    assert expect in p.stderr, (expect, p.stderr)


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="ruleeval-hardening-")
    proc = None
    ok = False
    try:
        # --- --check-config: files that cannot be read as files.
        with open(os.path.join(work, "rules.yaml"), "w") as f:
            f.write("""groups:
  - name: g
    interval: 500ms
    rules:
      - alert: Broken
        expr: fail_metric > 0
      - alert: Up
        expr: up_metric > 0
""")
        os.mkdir(os.path.join(work, "adir"))
        with open(os.path.join(work, "empty.series"), "w") as f:
            f.write("load 1m\n")
        ds = "datasources:\n  default: {type: embedded, series_files: [empty.series]}\n"
        check_config(binary, work, ds + "rule_files: [adir]\n", "is a directory")
        os.mkfifo(os.path.join(work, "fifo.yaml"))
        check_config(binary, work, ds + "rule_files: [fifo.yaml]\n", "not a regular file")
        check_config(binary, work, """datasources:
  default: {type: embedded, series_files: [/dev/zero]}
rule_files: [rules.yaml]
""", "not a regular file")
        # Receiver URLs, auth combinations and repeated keys, as Alertmanager/Prometheus refuse.
        base = ds + "rule_files: [rules.yaml]\nroute: {receiver: r}\nreceivers:\n  - name: r\n"
        check_config(binary, work, base + "    webhook_configs: [{url: 'localhost:9/x'}]\n",
                     "unsupported scheme")
        check_config(binary, work, base + "    webhook_configs: [{url: 'http:///x'}]\n",
                     "missing host for URL")  # Alertmanager's wording
        check_config(binary, work, base + """    webhook_configs:
      - url: http://127.0.0.1:9/x
        http_config: {basic_auth: {username: u, password: p}, bearer_token: t}
""", "at most one of basic_auth")
        check_config(binary, work, base.replace("route:", "fallback_receiver: nope\nroute:") +
                     "    webhook_configs: [{url: 'http://127.0.0.1:9/x'}]\n",
                     'fallback_receiver: receiver "nope" is not defined')
        check_config(binary, work, ds + "rule_files: [rules.yaml]\nrule_files: [other.yaml]\n",
                     'key "rule_files" already set in map')
        check_config(binary, work, base + "    webhook_configs: [{url: 'http://a/', url: 'http://b/'}]\n",
                     'key "url" already set in map')

        # --- A running instance against the fake backend.
        fake = FakeProm()
        dead_port = free_port()
        with open(os.path.join(work, "ruleeval.yaml"), "w") as f:
            f.write(f"""global: {{evaluation_interval: 500ms}}
datasources:
  default: {{type: prometheus, url: "http://user:s3cr3t@127.0.0.1:{fake.port}/?token=T0K", timeout: 2s}}
rule_files: [rules.yaml]
remote_write: {{url: "http://127.0.0.1:{dead_port}/api/v1/write"}}
route: {{receiver: hook, group_wait: 0s, group_interval: 1s}}
receivers:
  - name: hook
    webhook_configs: [{{url: "http://127.0.0.1:{fake.port}/hook"}}]
""")
        state = os.path.join(work, "state")
        os.makedirs(state)
        # The first journal segment cannot be created: state writes fail until it goes away.
        blocker = os.path.join(state, "journal-0000000000000001.log")
        os.mkdir(blocker)
        log = os.path.join(work, "run.log")
        proc = subprocess.Popen([binary, "run", "--config", "ruleeval.yaml", "--state-dir", "state",
                                 "--listen-address", "127.0.0.1:0", "--duration", "120"],
                                cwd=work, stdout=subprocess.DEVNULL, stderr=open(log, "w"))
        deadline = time.time() + 15
        port = None
        while time.time() < deadline and port is None:
            m = re.search(r"listen=127\.0\.0\.1:(\d+)", open(log).read())
            port = int(m.group(1)) if m else None
            time.sleep(0.1)
        assert port, open(log).read()
        api = f"http://127.0.0.1:{port}"

        def wait(pred, what, timeout=15):
            end = time.time() + timeout
            while time.time() < end:
                v = pred()
                if v:
                    return v
                time.sleep(0.2)
            sys.exit(f"FAIL: {what}\n" + open(log).read()[-3000:])

        # Credentials redacted, query string kept.
        def last_error():
            rules = json.loads(get(api + "/api/v1/rules")[1])["data"]["groups"][0]["rules"]
            return [r.get("lastError", "") for r in rules if r["name"] == "Broken"][0]
        err = wait(last_error, "lastError of the failing rule")
        assert "s3cr3t" not in err and "user:xxxxx@" in err, err
        assert "T0K" not in err, err
        assert "\x1b" not in err and "\x00" not in err and "\r\n" not in err, err
        assert "\\x1b" in err, err  # escaped, still readable
        page = get(api + "/")[1]
        assert "s3cr3t" not in page and "user:xxxxx@" in page, page[-2000:]
        assert "s3cr3t" not in open(log).read()
        assert "/api/v1/query?token=T0K" in fake.paths, fake.paths[:5]

        # A failed state write: logged, counted, retried once possible.
        def failures():
            m = re.search(r"^ruleeval_state_write_failures_total (\d+)", get(api + "/metrics")[1],
                          re.M)
            return int(m.group(1)) if m else 0
        wait(lambda: failures() > 0, "ruleeval_state_write_failures_total > 0")
        assert "cannot write alert state" in open(log).read()
        os.rmdir(blocker)
        time.sleep(3)
        settled = failures()
        time.sleep(2)
        assert failures() == settled, "state writes still fail after the cause went away"

        # Idle connections do not starve the API: 1,000 connections that send nothing wait
        # without a worker thread; /-/healthy answers at once.
        def threads():
            return len(os.listdir(f"/proc/{proc.pid}/task"))
        threads_before = threads()
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(1000)]
        time.sleep(0.3)
        t0 = time.time()
        status, _ = get(api + "/-/healthy", timeout=3)
        took = time.time() - t0
        assert status == 200 and took < 1, (status, took)
        # Keep-alive: two requests on one connection, then the connection idles without a worker.
        ka = socket.create_connection(("127.0.0.1", port))
        ka.sendall(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\nGET /-/ready HTTP/1.1\r\nHost: x\r\n\r\n")
        got = b""
        end = time.time() + 5
        while got.count(b"HTTP/1.1 200") < 2 and time.time() < end:
            got += ka.recv(4096)
        assert got.count(b"HTTP/1.1 200") == 2, got
        # A flood of slow clients (requests that never finish) beyond the workers (64) and the
        # queue (256): the rest get an immediate 503, threads do not grow, memory stays bounded.
        rss_before = int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{proc.pid}/status").read()).group(1))
        slow = []
        for _ in range(600):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"GET /-/healthy HTTP/1.1\r\n")
            slow.append(s)
        time.sleep(0.5)
        t0 = time.time()
        try:
            status, _ = get(api + "/-/healthy", timeout=3)
        except urllib.error.HTTPError as e:
            status = e.code
        took = time.time() - t0
        assert status == 503 and took < 1, ("a full queue answers 503 at once", status, took)
        busy = [s for s in slow[-50:]]
        answers = []
        for s in busy:
            s.settimeout(2)
            try:
                answers.append(s.recv(200))
            except OSError as e:
                answers.append(repr(e).encode())
        assert sum(a.startswith(b"HTTP/1.1 503") for a in answers) >= 40, answers[:3]
        assert threads() <= threads_before + 2, (threads_before, threads())
        rss = int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{proc.pid}/status").read()).group(1))
        assert rss < rss_before + 50_000, (rss_before, rss)
        for s in slow:
            s.close()
        time.sleep(0.5)
        metrics = get(api + "/metrics")[1]
        m = re.search(r"^ruleeval_http_connections_rejected_total (\d+)", metrics, re.M)
        assert m and int(m.group(1)) >= 200, m
        assert get(api + "/-/healthy")[0] == 200
        for s in idle + [ka]:
            s.close()

        # Hostile JSON bodies.
        deep = "[" * 100000 + "]" * 100000
        status, body = post(api + "/api/v2/silences", '{"matchers":' + deep + "}")
        assert status == 400, (status, body[:200])
        assert get(api + "/-/healthy")[0] == 200
        status, body = post(api + "/api/v2/silences", json.dumps({
            "matchers": [{"name": "a b", "value": "x", "isRegex": False}],
            "startsAt": "2020-01-01T00:00:00Z", "endsAt": "2099-01-01T00:00:00Z",
            "createdBy": "t", "comment": "c"}))
        assert status == 400 and "invalid label name" in body, (status, body)

        # The status page's silence form (no JavaScript): same-origin only (CSRF), validated as
        # the API, a 303 back to the page.
        import http.client

        def form(path, fields, headers):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("POST", path, urllib.parse.urlencode(fields),
                      {"Content-Type": "application/x-www-form-urlencoded", **headers})
            r = c.getresponse()
            return r.status, r.getheader("Location"), r.read().decode()
        fields = {"matchers": "alertname=Up", "hours": "1", "createdBy": "me", "comment": "c"}
        before = len(json.loads(get(api + "/api/v2/silences")[1]))
        status, _, body = form("/silences", fields, {"Origin": "http://evil.example"})
        assert status == 403 and "another site" in body, (status, body[:300])
        status, _, body = form("/silences", fields, {})
        assert status == 403, status
        assert len(json.loads(get(api + "/api/v2/silences")[1])) == before
        status, _, body = form("/silences", {**fields, "comment": ""}, {"Origin": api})
        assert status == 400 and "comment: required" in body, (status, body[:300])
        status, loc, _ = form("/silences", fields, {"Origin": api})
        assert status == 303 and loc == "/#silences", (status, loc)
        created = [x for x in json.loads(get(api + "/api/v2/silences")[1])
                   if x["createdBy"] == "me" and x["status"]["state"] == "active"]
        assert len(created) == 1, created
        status, loc, _ = form("/silences/expire", {"id": created[0]["id"]}, {"Referer": api + "/"})
        assert status == 303, status
        assert [x["status"]["state"] for x in json.loads(get(api + "/api/v2/silences")[1])
                if x["id"] == created[0]["id"]] == ["expired"]

        # SIGTERM is bounded while remote write fails.
        t0 = time.time()
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=40)
        took = time.time() - t0
        assert rc == 0 and took < 30, (rc, took)
        # The transition whose first write failed was written by the retry: a restart has it.
        log2 = os.path.join(work, "run2.log")
        proc = subprocess.Popen([binary, "run", "--config", "ruleeval.yaml", "--state-dir", "state",
                                 "--listen-address", "127.0.0.1:0", "--duration", "120"],
                                cwd=work, stdout=subprocess.DEVNULL, stderr=open(log2, "w"))
        end = time.time() + 15
        while time.time() < end and "restored alert state" not in open(log2).read():
            time.sleep(0.1)
        assert re.search(r"restored alert state from state: 1 firing", open(log2).read()), \
            open(log2).read()
        proc.kill()
        proc.wait()
        ok = True
        print(f"hardening: redaction, query string, state write failure+retry, 1000 idle "
              f"connections, slow-client flood, deep JSON, silence validation, silence form, SIGTERM in {took:.1f}s")
    finally:
        if proc and proc.poll() is None:
            proc.kill()
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("work dir kept:", work)


if __name__ == "__main__":
    main()
