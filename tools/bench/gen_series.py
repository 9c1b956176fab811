#!/usr/bin/env python3
"""Synthetic series for a rule file: every `metric{label="v", ...}` selector in the rules gets
INSTANCES series (instance="host-N:9100") with the labels its rules filter on, plus the labels
their aggregations need (le for _bucket, route, code). Writes VictoriaMetrics /api/v1/import JSON
lines with samples every STEP seconds over the last MINUTES minutes, to stdout or --push URL.

usage: gen_series.py RULES.yml [--instances N] [--minutes M] [--step S] [--push URL]
"""
import argparse
import json
import random
import re
import sys
import time
import urllib.request

SELECTOR = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^{}]*)\}')
MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
BUCKETS = ["0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf"]


def regex_example(pattern):
    """A value the regex matches, for the common shapes in generated rules ("5..", "cart.*")."""
    v = pattern.replace(".*", "-1").replace(".+", "-1").replace("..", "00").replace("^", "").replace("$", "")
    return v.split("|")[0] or "x"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rules")
    ap.add_argument("--instances", type=int, default=6)
    ap.add_argument("--minutes", type=int, default=20)
    ap.add_argument("--step", type=int, default=30)
    ap.add_argument("--push")
    args = ap.parse_args()
    text = open(args.rules).read().replace('\\"', '"')
    families = set()
    for name, body in SELECTOR.findall(text):
        labels = []
        for lname, op, value in MATCHER.findall(body):
            if op == "=":
                labels.append((lname, value))
            elif op == "=~":
                labels.append((lname, regex_example(value)))
        families.add((name, tuple(sorted(set(labels)))))
    rnd = random.Random(7)
    now = int(time.time()) * 1000
    ts = list(range(now - args.minutes * 60_000, now + 1, args.step * 1000))
    out = []
    count = 0

    def flush():
        nonlocal out
        if not out:
            return
        body = ("\n".join(out) + "\n").encode()
        if args.push:
            urllib.request.urlopen(args.push, data=body, timeout=120).read()
        else:
            sys.stdout.buffer.write(body)
        out = []

    for name, labels in sorted(families):
        extra = [{}]
        if name.endswith("_bucket"):
            extra = [{"le": le, "route": r} for le in BUCKETS for r in ("/a", "/b")]
        elif "requests_total" in name or name.endswith("handled_total"):
            extra = [{"code": c} for c in ("200", "500")]
        for i in range(args.instances):
            for e in extra:
                metric = {"__name__": name, **dict(labels), "instance": f"host-{i}:9100", **e}
                if name.endswith("_total") or name.endswith("_bucket") or name.endswith("_count"):
                    rate = rnd.uniform(0.1, 50)
                    values = [round(rate * k * args.step, 3) for k in range(len(ts))]
                elif name == "up":
                    values = [0 if rnd.random() < 0.02 else 1] * len(ts)
                elif "timestamp" in name or "expiry" in name:
                    values = [now / 1000 + rnd.uniform(-7200, 30 * 86400)] * len(ts)
                else:
                    values = [round(rnd.uniform(0, 100), 3)] * len(ts)
                out.append(json.dumps({"metric": metric, "values": values, "timestamps": ts}))
                count += 1
                if len(out) >= 5000:
                    flush()
    flush()
    print(f"gen_series: {len(families)} selector families, {count} series, "
          f"{count * len(ts)} samples", file=sys.stderr)


if __name__ == "__main__":
    main()
