#!/usr/bin/env python3
"""bench_replay: `ruleeval replay` vs vmalert's -replay mode (Debian's victoria-metrics package)
backtesting the same 1,000 generated alerting rules over the same 24 hours against one local
VictoriaMetrics, in the same run. Both write their results back by remote write (vmalert's replay
requires it) to the same VictoriaMetrics. vmalert gets its fastest settings:
-replay.rulesDelay=0 and as many points per query as ruleeval (11,000).

Measured per tool: wall time, the tool's own CPU seconds (rusage of the child) and the backend's
CPU seconds during the tool's run (/proc). Prints the ratios.

usage: bench_replay.py RULEEVAL_BIN SHARED_DIR [--rules 1000] [--hours 24] [--instances 3]
                       [--concurrency 4] [--only ruleeval|vmalert] [--perf FILE]
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK


def fetch(url, data=None):
    with urllib.request.urlopen(url, data=data, timeout=120) as r:
        return r.read().decode()


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def measure(name, cmd, cwd, vm_pid, log):
    v0, t0 = cpu_seconds(vm_pid), time.time()
    with open(log, "w") as out:
        p = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        _, status, ru = os.wait4(p.pid, 0)
    t1, v1 = time.time(), cpu_seconds(vm_pid)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"bench_replay: {name} exited {p.returncode}:\n" + open(log).read()[-3000:])
    return {"wall": t1 - t0, "cpu": ru.ru_utime + ru.ru_stime, "vm_cpu": v1 - v0,
            "rss": ru.ru_maxrss / 1024}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ruleeval")
    ap.add_argument("shared")
    ap.add_argument("--rules", type=int, default=1000)
    ap.add_argument("--hours", type=int, default=24)
    ap.add_argument("--instances", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--only", choices=["ruleeval", "vmalert"])
    ap.add_argument("--perf", metavar="FILE", help="record ruleeval with `perf record -g` into FILE")
    args = ap.parse_args()
    args.ruleeval = os.path.abspath(args.ruleeval)
    args.shared = os.path.abspath(args.shared)
    vm_bin, vmalert = shutil.which("victoria-metrics"), shutil.which("vmalert")
    if not vm_bin or not vmalert:
        sys.exit("bench_replay: needs victoria-metrics and vmalert (tools/bootstrap.sh --all)")
    work = tempfile.mkdtemp(prefix="bench-replay-")
    vm = None
    try:
        rules = os.path.join(work, "rules.yml")
        subprocess.run([sys.executable, os.path.join(args.shared, "ref", "gen_rules.py"), "--rules",
                        str(args.rules), "--per-group", "50", "--seed", "7", "--out", rules],
                       check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        vm = subprocess.Popen([vm_bin, f"-storageDataPath={work}/vm",
                               f"-httpListenAddr=127.0.0.1:{port}", "-retentionPeriod=100y",
                               "-search.latencyOffset=1s"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if fetch(url + "/health").strip() == "OK":
                    break
            except Exception:
                time.sleep(0.2)
        subprocess.run([sys.executable, os.path.join(HERE, "gen_series.py"), rules,
                        "--instances", str(args.instances), "--minutes", str(args.hours * 60 + 30),
                        "--step", "60", "--push", url + "/api/v1/import"], check=True)
        fetch(url + "/internal/force_flush")
        series = json.loads(fetch(url + "/api/v1/series/count"))["data"][0]
        end = (int(time.time()) // 60) * 60 - 120
        start = end - args.hours * 3600
        print(f"bench_replay: {args.rules} rules, {series} series in VictoriaMetrics, "
              f"{args.hours} h from {rfc3339(start)} to {rfc3339(end)}")
        with open(os.path.join(work, "ruleeval.yaml"), "w") as f:
            # nocache=1: VictoriaMetrics answers query_range at exactly the requested step grid.
            f.write(f"global: {{evaluation_interval: 1m}}\n"
                    f"datasources: {{default: {{type: prometheus, url: '{url}', "
                    f"params: {{nocache: '1'}}}}}}\n"
                    f"rule_files: [rules.yml]\n"
                    f"remote_write: {{url: '{url}/api/v1/write'}}\n")
        res = {}
        if args.only != "vmalert":
            perf = ["perf", "record", "-g", "-o", os.path.abspath(args.perf), "--"] if args.perf else []
            res["ruleeval"] = measure(
                "ruleeval", perf + [args.ruleeval, "replay", "--config", "ruleeval.yaml", "--from",
                             str(start), "--to", str(end), "--quiet", "--no-alert-lines",
                             "--concurrency", str(args.concurrency), "--summary-json",
                             "summary.json"], work, vm.pid, os.path.join(work, "ruleeval.log"))
            summary = json.load(open(os.path.join(work, "summary.json")))
            pages = sum(r["firing_starts"] for r in summary["rules"])
            print(f"ruleeval: {len(summary['rules'])} alerting rules, {pages} pages, "
                  f"{summary['evaluations']} group evaluations; "
                  + open(os.path.join(work, "ruleeval.log")).read().splitlines()[0])
        if args.only != "ruleeval":
            res["vmalert"] = measure(
                "vmalert", [vmalert, f"-rule={rules}", f"-datasource.url={url}",
                            f"-remoteWrite.url={url}", "-evaluationInterval=1m",
                            f"-replay.timeFrom={rfc3339(start)}", f"-replay.timeTo={rfc3339(end)}",
                            "-replay.rulesDelay=0", "-replay.maxDatapointsPerQuery=11000",
                            "-replay.disableProgressBar", "-loggerLevel=ERROR"],
                work, vm.pid, os.path.join(work, "vmalert.log"))
        print(f"{'tool':10} {'wall s':>9} {'own CPU s':>10} {'backend CPU s':>14} {'RSS MB':>8}")
        for k, r in res.items():
            print(f"{k:10} {r['wall']:9.1f} {r['cpu']:10.1f} {r['vm_cpu']:14.1f} {r['rss']:8.0f}")
        if len(res) == 2:
            a, b = res["ruleeval"], res["vmalert"]
            print(f"wall time: ruleeval {b['wall'] / max(a['wall'], 1e-9):.2f}x faster than "
                  f"vmalert -replay; own CPU ratio ruleeval/vmalert {a['cpu'] / max(b['cpu'], 1e-9):.2f}; "
                  f"backend CPU ratio {a['vm_cpu'] / max(b['vm_cpu'], 1e-9):.2f}")
    finally:
        if vm:
            vm.terminate()
            vm.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
