#!/usr/bin/env python3
"""POST /api/v2/silences: ruleeval answers the same bodies as a real Alertmanager 0.25.

Starts prometheus-alertmanager and `ruleeval run` (embedded backend, file receiver) on free ports
of 127.0.0.1, posts the same silences to both and compares: the status code always; for schema
errors (422: a missing comment, createdBy, endsAt, startsAt, matchers or matcher field) the
whole JSON body; for validation errors (400) that both name the same problem.

usage: silences_am_parity_test.py RULEEVAL_BINARY TESTDATA_RUN_DIR
exit 77 = skipped (no alertmanager binary)
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from itest import free_port

M = [{"name": "alertname", "value": "X", "isRegex": False}]
T = {"startsAt": "2020-01-01T00:00:00Z", "endsAt": "2099-01-01T00:00:00Z"}


def body(**kw):
    b = {"matchers": M, **T, "createdBy": "t", "comment": "c"}
    for k, v in kw.items():
        if v is ...:
            b.pop(k, None)
        else:
            b[k] = v
    return b


CASES = [
    ("complete", body()),
    ("no comment", body(comment=...)),
    ("no createdBy", body(createdBy=...)),
    ("neither comment nor createdBy", body(comment=..., createdBy=...)),
    ("comment null", body(comment=None)),
    ("empty comment and createdBy", body(comment="", createdBy="")),
    ("no endsAt", body(endsAt=...)),
    ("no startsAt", body(startsAt=...)),
    ("no matchers", body(matchers=...)),
    ("empty matchers", body(matchers=[])),
    ("matcher without isRegex", body(matchers=[{"name": "a", "value": "x"}])),
    ("matcher without name", body(matchers=[{"value": "x", "isRegex": False}])),
    ("matcher without value", body(matchers=[{"name": "a", "isRegex": False}])),
    ("only matchers", {"matchers": M}),
    ("createdBy is a number", body(createdBy=5)),
    ("invalid label name", body(matchers=[{"name": "a b", "value": "x", "isRegex": False}])),
    ("ends before it starts", body(endsAt="2010-01-01T00:00:00Z")),
    ("matches everything", body(matchers=[{"name": "a", "value": ".*", "isRegex": True}])),
]


def post(url, b):
    req = urllib.request.Request(url + "/api/v2/silences", data=json.dumps(b).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_up(url, proc, what):
    end = time.time() + 20
    while time.time() < end:
        if proc.poll() is not None:
            sys.exit(f"FAIL: {what} exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url + "/-/ready", timeout=1).read()
            return
        except Exception:
            time.sleep(0.2)
    sys.exit(f"FAIL: {what} did not start")


def main():
    binary, testdata = sys.argv[1], sys.argv[2]
    am_bin = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if not am_bin:
        print("skipped: no alertmanager binary")
        sys.exit(77)
    work = tempfile.mkdtemp(prefix="ruleeval-silparity-")
    procs = []
    ok = False
    try:
        with open(os.path.join(work, "am.yml"), "w") as f:
            f.write("route: {receiver: r}\nreceivers: [{name: r}]\n")
        am_port = free_port()
        procs.append(subprocess.Popen(
            [am_bin, "--config.file=am.yml", "--storage.path=data",
             f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address="],
            cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for n in ("steady.yaml", "steady.series", "fast_rules.yaml"):
            shutil.copy(os.path.join(testdata, n), work)
        re_port = free_port()
        procs.append(subprocess.Popen(
            [binary, "run", "--config", "steady.yaml", "--state-dir", "state",
             "--listen-address", f"127.0.0.1:{re_port}", "--duration", "120"],
            cwd=work, stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "run.log"), "w")))
        am, ours = f"http://127.0.0.1:{am_port}", f"http://127.0.0.1:{re_port}"
        wait_up(am, procs[0], "alertmanager")
        wait_up(ours, procs[1], "ruleeval run")
        failures = []
        for name, b in CASES:
            s1, b1 = post(am, b)
            s2, b2 = post(ours, b)
            line = f"{name}: alertmanager {s1} {b1.strip()} | ruleeval {s2} {b2.strip()}"
            print(line)
            if s1 != s2:
                failures.append("status differs: " + line)
            elif s1 == 422 and json.loads(b1) != json.loads(b2):
                failures.append("422 body differs: " + line)
            elif s1 == 400:
                # Same problem named (Alertmanager prefixes "silence invalid: " and the like).
                key = {"createdBy is a number": "createdBy",
                       "invalid label name": "invalid label name",
                       "ends before it starts": "before",
                       "matches everything": "at least one matcher must not match the empty string"}.get(name, "")
                if key and (key not in b1 or key not in b2):
                    failures.append("400 reason differs: " + line)
        if failures:
            sys.exit("FAIL:\n" + "\n".join(failures))
        ok = True
        print(f"silences: {len(CASES)} bodies, same answers as Alertmanager")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("work dir kept:", work)


if __name__ == "__main__":
    main()
