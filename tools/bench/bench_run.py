#!/usr/bin/env python3
"""bench_run: `ruleeval run` vs vmalert (Debian's victoria-metrics package) evaluating the same
10,000 generated alerting rules in 100 groups against one local VictoriaMetrics holding ~100k
series. Each evaluator runs alone for the same wall time; CPU seconds come from /proc for the
evaluator and for the backend during its phase, and are divided by the evaluations done
(groups' iterations). Prints CPU-s per iteration for each, the backend's, the ratios and RSS.

Also prints ruleeval's response decode throughput (MB/s, from its /metrics counters).

usage: bench_run.py RULEEVAL_BIN SHARED_DIR [--rules 10000] [--seconds 95] [--interval 30]
                    [--only ruleeval|vmalert] [--perf perf.data]
"""
import argparse
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
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK  # utime + stime


def rss_mb(pid, key="VmHWM"):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0


def fetch(url, data=None):
    with urllib.request.urlopen(url, data=data, timeout=600) as r:
        return r.read().decode()


class Sink(http.server.BaseHTTPRequestHandler):  # swallows vmalert's notifications
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a):
        pass


def scrape(url):
    """Sums the datasource counters of ruleeval's /metrics."""
    out = {}
    for line in fetch(url).splitlines():
        m = re.match(r"ruleeval_datasource_(requests_total|response_bytes_total|"
                     r"decode_seconds_total)\{[^}]*\} (\S+)$", line)
        if m:
            out[m.group(1)] = out.get(m.group(1), 0.0) + float(m.group(2))
    return out


def phase(name, cmd, cwd, vm_pid, seconds, warmup, metrics_url=None, perf_out=None):
    log = open(os.path.join(cwd, name + ".log"), "w")
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=log)
    time.sleep(warmup)
    m0 = scrape(metrics_url) if metrics_url else {}
    perf = None
    if perf_out:
        perf = subprocess.Popen(["perf", "record", "-F", "499", "-g", "-p", str(p.pid), "-o",
                                 os.path.abspath(perf_out)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    c0, v0, t0 = cpu_seconds(p.pid), cpu_seconds(vm_pid), time.time()
    time.sleep(seconds)
    c1, v1, t1 = cpu_seconds(p.pid), cpu_seconds(vm_pid), time.time()
    if perf:
        perf.send_signal(signal.SIGINT)
        perf.wait(timeout=120)
    m1 = scrape(metrics_url) if metrics_url else {}
    rss = rss_mb(p.pid, "VmRSS")
    p.terminate()
    p.wait(timeout=60)
    out = {"cpu": c1 - c0, "vm_cpu": v1 - v0, "wall": t1 - t0, "rss": rss}
    if m1:
        out["requests"] = m1.get("requests_total", 0) - m0.get("requests_total", 0)
        out["bytes"] = m1.get("response_bytes_total", 0) - m0.get("response_bytes_total", 0)
        out["decode_s"] = m1.get("decode_seconds_total", 0) - m0.get("decode_seconds_total", 0)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ruleeval")
    ap.add_argument("shared")
    ap.add_argument("--rules", type=int, default=10000)
    ap.add_argument("--seconds", type=int, default=95)
    ap.add_argument("--interval", type=int, default=30)
    ap.add_argument("--instances", type=int, default=6)
    ap.add_argument("--only", choices=["ruleeval", "vmalert"],
                    help="run one evaluator (e.g. to profile it); ratios need both")
    ap.add_argument("--perf", metavar="FILE",
                    help="record ruleeval's measured window with `perf record -g` into FILE")
    args = ap.parse_args()
    args.ruleeval = os.path.abspath(args.ruleeval)  # the evaluators run in a temp dir
    args.shared = os.path.abspath(args.shared)
    vm_bin, vmalert = shutil.which("victoria-metrics"), shutil.which("vmalert")
    if not vm_bin or not vmalert:
        sys.exit("bench_run: needs victoria-metrics and vmalert (tools/bootstrap.sh --all)")
    work = tempfile.mkdtemp(prefix="bench-run-")
    vm = None
    try:
        rules = os.path.join(work, "rules.yml")
        subprocess.run([sys.executable, os.path.join(args.shared, "ref", "gen_rules.py"), "--rules",
                        str(args.rules), "--per-group", str(args.rules // 100), "--seed", "5",
                        "--out", rules], check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        vm = subprocess.Popen([vm_bin, f"-storageDataPath={work}/vm",
                               f"-httpListenAddr=127.0.0.1:{port}", "-retentionPeriod=100y",
                               "-search.latencyOffset=1s", "-dedup.minScrapeInterval=1ms"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if fetch(url + "/health").strip() == "OK":
                    break
            except Exception:
                time.sleep(0.2)
        subprocess.run([sys.executable, os.path.join(HERE, "gen_series.py"), rules,
                        "--instances", str(args.instances), "--push", url + "/api/v1/import"],
                       check=True)
        fetch(url + "/internal/force_flush")
        series = json.loads(fetch(url + "/api/v1/series/count"))["data"][0]
        print(f"bench_run: {args.rules} rules in 100 groups, {series} series in VictoriaMetrics, "
              f"interval {args.interval}s, {args.seconds}s per evaluator")

        sink = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
        threading.Thread(target=sink.serve_forever, daemon=True).start()
        with open(os.path.join(work, "ruleeval.yaml"), "w") as f:
            # Like vmalert's -notifier.url: alerts are forwarded to the same sink, here through
            # ruleeval's notification pipeline (routing, grouping, durable outbox).
            f.write(f"global: {{evaluation_interval: {args.interval}s}}\n"
                    f"datasources: {{default: {{type: prometheus, url: '{url}'}}}}\n"
                    f"rule_files: [rules.yml]\n"
                    f"route: {{receiver: sink, group_by: [alertname]}}\n"
                    f"receivers:\n"
                    f"  - name: sink\n"
                    f"    alertmanager_configs: [{{url: 'http://127.0.0.1:{sink.server_port}'}}]\n")
        # Steady state: the window starts after each evaluator's first full iteration (ruleeval's
        # first one also restores `for` progress from ALERTS_FOR_STATE, a start-up cost).
        warm = args.interval + 5
        res = {}
        if args.only != "ruleeval":
            res["vmalert"] = phase(
                "vmalert", [vmalert, f"-rule={rules}", f"-datasource.url={url}",
                            f"-notifier.url=http://127.0.0.1:{sink.server_port}",
                            f"-evaluationInterval={args.interval}s",
                            f"-httpListenAddr=127.0.0.1:{free_port()}", "-loggerLevel=ERROR"],
                work, vm.pid, args.seconds, warm)
        if args.only != "vmalert":
            api = f"127.0.0.1:{free_port()}"
            res["ruleeval"] = phase(
                "ruleeval", [args.ruleeval, "run", "--config", "ruleeval.yaml", "--state-dir",
                             "state", "--log-level", "error", "--listen-address", api],
                work, vm.pid, args.seconds, warm, metrics_url=f"http://{api}/metrics",
                perf_out=args.perf)
        iters = args.seconds / args.interval
        print(f"{'':10} {'own CPU-s/iter':>15} {'backend CPU-s/iter':>19} {'RSS MB':>8}")
        for k, r in res.items():
            print(f"{k:10} {r['cpu'] / iters:15.2f} {r['vm_cpu'] / iters:19.2f} {r['rss']:8.0f}")
        if "ruleeval" in res and res["ruleeval"].get("decode_s"):
            r = res["ruleeval"]
            print(f"ruleeval decoded {r['bytes'] / 1e6:.1f} MB of query responses in "
                  f"{r['decode_s']:.2f} CPU-s: {r['bytes'] / 1e6 / r['decode_s']:.0f} MB/s "
                  f"({r['requests']:.0f} queries)")
        if len(res) == 2:
            re_, va = res["ruleeval"], res["vmalert"]
            print(f"ruleeval's own CPU is {re_['cpu'] / max(va['cpu'], 1e-9):.3f}x vmalert's "
                  f"({va['cpu'] / max(re_['cpu'], 1e-9):.1f}x less) and "
                  f"{re_['cpu'] / max(re_['vm_cpu'], 1e-9) * 100:.1f}% of the backend's "
                  f"(targets: <= 10% of the backend, >= 12x less than vmalert)")
            print(f"ruleeval's RSS is {re_['rss']:.0f} MB, vmalert's {va['rss']:.0f} MB "
                  f"({re_['rss'] / max(va['rss'], 1e-9):.2f}x; target: below vmalert's)")
    finally:
        if vm:
            vm.kill()
            vm.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
