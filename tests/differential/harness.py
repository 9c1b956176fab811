#!/usr/bin/env python3
"""Differential harness: ruleeval against real promtool 2.42 on generated inputs.

Three kinds of cases, each seeded and reproducible (case i of seed s is always the same input):
  rules   generated and mutated rule files: `ruleeval lint --fail-on error` and
          `ruleeval check rules` exits vs `promtool check rules` exit;
  tests   generated promtool rule-test files over generated series, with expectations harvested
          from promtool and then perturbed: `ruleeval test` vs `promtool test rules` verdicts;
  promql  generated PromQL expressions over generated series, evaluated at several times by
          `ruleeval test` and `promtool test rules` (Prometheus 2.42's engine); every result
          (labels and Go-formatted values, or the fact of an error) is compared exactly.
promtool 2.42 has Prometheus 2 semantics, so ruleeval runs with `--promql-compat=2`. Known
differences between Prometheus 2.42 and 3.x are listed, each with its reason, in
known_differences.yaml and filtered. Exit 0 when no unexplained difference was found.

  harness.py --ruleeval build/tools/ruleeval [--kind rules,tests,promql] [--cases N] [--seed S]
"""

import argparse
import concurrent.futures
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------------------------------------
# Known differences

class Known:
    def __init__(self, path):
        import yaml
        with open(path) as f:
            data = yaml.safe_load(f) or []
        self.entries = []
        for e in data:
            for key in ("id", "kinds", "reason"):
                if key not in e:
                    raise SystemExit(f"{path}: entry {e.get('id', '?')} lacks `{key}`")
            if not str(e["reason"]).strip():
                raise SystemExit(f"{path}: entry {e['id']} has an empty reason")
            if ("when" in e) == ("handled" in e):
                raise SystemExit(f"{path}: entry {e['id']} needs exactly one of `when` "
                                 "(a filter) and `handled` (how the harness avoids it)")
            if "handled" in e:
                continue  # documented, never filters anything
            w = e["when"]
            if not w:
                raise SystemExit(f"{path}: entry {e['id']} has an empty `when`")
            e["_re"] = re.compile(w["regex"], re.S | re.M) if "regex" in w else None
            self.entries.append(e)
        self.hits = {}

    def explain(self, kind, text, detail=None):
        """The id of the known difference that explains a difference in `text` (an expression or
        a file), or None. `detail` holds the two results for value tolerances."""
        for e in self.entries:
            if kind not in e["kinds"]:
                continue
            w = e["when"]
            if e["_re"] is not None and not e["_re"].search(text):
                continue
            if "relative_tolerance" in w:
                if detail is None or not within_tolerance(
                        detail[0], detail[1], float(w["relative_tolerance"]),
                        float(w.get("absolute_tolerance", 0))):
                    continue
            if w.get("same_labels"):
                if (detail is None or isinstance(detail[0], str) or isinstance(detail[1], str)
                        or [l for l, _ in detail[0]] != [l for l, _ in detail[1]]):
                    continue
            if w.get("same_values"):
                if (detail is None or isinstance(detail[0], str) or isinstance(detail[1], str)
                        or sorted(v for _, v in detail[0]) != sorted(v for _, v in detail[1])):
                    continue
            if "verdicts" in w and detail is not None:
                if list(detail[:2]) != list(w["verdicts"]):
                    continue
            if w.get("promtool_unstable") and (detail is None or "unstable" not in detail):
                continue
            if w.get("last_bits_only") and (detail is None or "last-bits" not in detail):
                continue
            if w.get("topk_ties_only") and (detail is None or "topk-ties" not in detail):
                continue
            if w.get("ruleeval_error_only"):
                if detail is None or detail[1] != "error" or isinstance(detail[0], str):
                    continue
            if "ruleeval_says" in w:
                said = detail[3] if detail is not None and len(detail) > 3 else ""
                if not isinstance(said, str) or not re.search(w["ruleeval_says"], said):
                    continue
            if "promtool_says" in w:
                said = detail[2] if detail is not None and len(detail) > 2 else ""
                if not isinstance(said, str) or not re.search(w["promtool_says"], said):
                    continue
            self.hits[e["id"]] = self.hits.get(e["id"], 0) + 1
            return e["id"]
        return None


def within_tolerance(a, b, tol, abs_tol=0.0):
    """Two sample lists with equal labels and values equal within a relative tolerance (or
    within abs_tol of each other, for sums that cancel to about zero)."""
    if a is None or b is None or isinstance(a, str) or isinstance(b, str):
        return False
    if len(a) != len(b):
        return False
    for (la, va), (lb, vb) in zip(a, b):
        if la != lb:
            return False
        fa, fb = float(va), float(vb)
        if fa == fb or (math.isnan(fa) and math.isnan(fb)):
            continue
        if math.isinf(fa) or math.isinf(fb):
            return False
        if abs(fa - fb) > max(tol * max(abs(fa), abs(fb), 1e-300), abs_tol):
            return False
    return True


# ---------------------------------------------------------------------------------------------
# Running the tools and reading promtool's failure report

def run(cmd, cwd=None, timeout=120):
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                           errors="replace")
        return p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired:
        return "timeout", ""
    except OSError as e:
        return "oserror", str(e)


def canonical_labels(text):
    """`name{a="b"}` and `{__name__="name", a="b"}` -> the same `{__name__="name", a="b"}` (the
    comparison is of label sets, not of how each tool prints them)."""
    name, brace = text.split("{", 1) if not text.startswith("{") else ("", text[1:])
    labels = parse_labels("{" + brace)
    if name:
        labels["__name__"] = name
    return "{" + ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(labels.items())) + "}"


def split_samples(got):
    """`{a="b"} 1E+00, name{} 2E+00` -> [('{a="b"}', '1E+00'), ...]; [] for `nil`."""
    got = got.strip()
    if got == "nil" or got == "":
        return []
    out = []
    i = 0
    while i < len(got):
        start = i
        while i < len(got) and got[i] != "{" and got[i] not in " ,":
            i += 1
        if i < len(got) and got[i] == " " and i > start:
            # A bare metric name (ruleeval prints `name` for {__name__="name"}).
            k = i + 1
            end = got.find(", ", k)
            if end < 0:
                end = len(got)
            out.append((canonical_labels(got[start:i] + "{}"), got[k:end].strip()))
            i = end + 2 if end < len(got) else end
            continue
        if i >= len(got) or got[i] != "{":
            raise ValueError(f"cannot read samples: {got!r}")
        j = i + 1
        in_str = False
        while j < len(got):
            c = got[j]
            if in_str:
                if c == "\\":
                    j += 1
                elif c == '"':
                    in_str = False
            elif c == '"':
                in_str = True
            elif c == "}":
                break
            j += 1
        labels = canonical_labels(got[start:j + 1])
        k = j + 2
        end = got.find(", ", k)  # values (1E+00, NaN, -Inf) never hold ", "
        if end < 0:
            end = len(got)
        out.append((labels, got[k:end].strip()))
        i = end + 2 if end < len(got) else end
    return sorted(out)


EXPR_FAIL = re.compile(r'^ {4}expr: "((?:[^"\\]|\\.)*)", time: (\S+?),(?: err: (.*))?$')
ALERT_HEAD = re.compile(r'^ {4}alertname: (\S+), time: (\S+?), $')


def go_unquote(s):
    return json.loads('"' + s + '"')


def parse_expr_results(output):
    """{(expr, time): samples list | 'error'} for every failed promql_expr_test."""
    res = {}
    lines = output.split("\n")
    for i, line in enumerate(lines):
        m = EXPR_FAIL.match(line)
        if not m:
            continue
        key = (go_unquote(m.group(1)), m.group(2))
        if m.group(3) is not None:
            res[key] = "error"
            continue
        got = None
        for l2 in lines[i + 1:i + 4]:
            if l2.strip().startswith("got: "):
                got = l2.strip()[len("got: "):]
                break
        if got is None:
            res[key] = "unreadable"
            continue
        try:
            res[key] = split_samples(got)
        except ValueError:
            res[key] = "unreadable"
    return res


NUMBER = re.compile(r'-?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)')


def alert_block(lines, i):
    """The exp and got text of the alert_rule_test failure whose head is lines[i]."""
    j = i + 1
    while j < len(lines) and not (ALERT_HEAD.match(lines[j]) or EXPR_FAIL.match(lines[j])
                                   or re.match(r"^ {4}rule: ", lines[j])
                                   or lines[j].strip() in ("FAILED:", "SUCCESS")):
        j += 1
    body = "\n".join(lines[i + 1:j])
    if "got:" not in body:
        return None, None
    exp, got = body.split("got:", 1)
    # exp's list ends in "], " and got's in "]".
    return exp.replace("exp:", "", 1).strip().rstrip(","), got.strip().rstrip(",")


def numbers_within(a, b, tol):
    """Two texts equal once every number is taken out, with their numbers pairwise within tol."""
    if NUMBER.sub("#", a).split() != NUMBER.sub("#", b).split():
        return False
    for x, y in zip(NUMBER.findall(a), NUMBER.findall(b)):
        fx, fy = float(x), float(y)
        if fx != fy and abs(fx - fy) > tol * max(abs(fx), abs(fy)):
            return False
    return True


def only_expr_failures(output, accept, accept_alert=None):
    """True when every failure in a rule-test report is a promql_expr_test with an exp and a got
    line for which accept(expr, exp_samples, got_samples) holds, or an alert_rule_test whose
    exp and got texts satisfy accept_alert(alertname, exp, got) (nothing else failed)."""
    lines = output.split("\n")
    blocks = 0
    for i, line in enumerate(lines):
        if re.match(r"^ {4}rule: ", line):
            return False
        ah = ALERT_HEAD.match(line)
        if ah:
            exp, got = alert_block(lines, i)
            if accept_alert is None or exp is None or not accept_alert(ah.group(1), exp, got):
                return False
            blocks += 1
            continue
        m = EXPR_FAIL.match(line)
        if not m:
            continue
        if m.group(3) is not None:
            return False
        exp = got = None
        for l2 in lines[i + 1:i + 4]:
            t = l2.strip()
            if t.startswith("exp: "):
                exp = t[len("exp: "):]
            elif t.startswith("got: "):
                got = t[len("got: "):]
        try:
            if exp is None or got is None or not accept(go_unquote(m.group(1)),
                                                        split_samples(exp), split_samples(got)):
                return False
        except ValueError:
            return False
        blocks += 1
    return blocks > 0


def only_last_bits(output, tol=1e-12):
    """Every failure is a promql_expr_test whose expected and actual samples have equal labels
    and values within `tol` (for count_values, label values too), or an alert_rule_test whose
    expected and actual alerts differ only in numbers (a `{{ $value }}` in an annotation) within
    `tol`."""
    def close(expr, exp, got):
        if within_tolerance(exp, got, tol):
            return True
        # count_values turns values into labels: a label may differ in its last bits too.
        return (re.search(r"\bcount_values\b", expr) is not None and len(exp) == len(got)
                and numbers_within(" ".join(f"{l} {v}" for l, v in exp),
                                   " ".join(f"{l} {v}" for l, v in got), tol))
    return only_expr_failures(output, close, lambda _n, exp, got: numbers_within(exp, got, tol))


def only_topk_ties(output, tied_alerts=()):
    """Every failure is a promql_expr_test of a top-level topk/bottomk whose expected and actual
    samples hold the same values (only which of the tied series carries them differs), or an
    alert_rule_test of an alert in `tied_alerts` (alerts whose expression holds a topk/bottomk:
    which tied series is kept decides which alerts exist, and their `for` timers)."""
    def tied(expr, exp, got):
        return (re.match(r"\s*(topk|bottomk)\s*\(", expr) is not None and len(exp) == len(got)
                and sorted(float(v) for _, v in exp) == sorted(float(v) for _, v in got))
    return only_expr_failures(output, tied, lambda name, _e, _g: name in tied_alerts)


def topk_alerts(rules_yaml):
    """The names of the generated alert rules whose expression calls topk or bottomk."""
    import yaml
    names = set()
    for g in (yaml.safe_load(rules_yaml) or {}).get("groups") or []:
        for r in g.get("rules") or []:
            if "alert" in r and re.search(r"\b(topk|bottomk)\s*\(", str(r.get("expr", ""))):
                names.add(r["alert"])
    return names


def parse_labels(text):
    """`{a="b", c="d"}` -> dict."""
    out = {}
    for m in re.finditer(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"', text):
        out[m.group(1)] = go_unquote(m.group(2))
    return out


def parse_alert_results(output):
    """{(alertname, time): [(labels, annotations)]} for every failed alert_rule_test."""
    res = {}
    lines = output.split("\n")
    for i, line in enumerate(lines):
        m = ALERT_HEAD.match(line)
        if not m:
            continue
        key = (m.group(1), m.group(2))
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith("got:"):
            j += 1
        alerts = []
        cur = None
        j += 1
        while j < len(lines):
            s = lines[j].strip()
            if s.startswith("Labels:"):
                cur = [parse_labels(s[len("Labels:"):]), {}]
            elif s.startswith("Annotations:") and cur is not None:
                cur[1] = parse_labels(s[len("Annotations:"):])
                alerts.append(cur)
                cur = None
            elif s.startswith("]") or s.startswith("got:[]") or s == "":
                break
            j += 1
        res[key] = alerts
    return res


# ---------------------------------------------------------------------------------------------
# Test-file writing

def yq(s):
    return json.dumps(s)


def test_file(rule_files, interval, eval_interval, series, alert_tests, expr_tests):
    out = [f"rule_files: {json.dumps(rule_files)}", f"evaluation_interval: {eval_interval}",
           "tests:", f"- interval: {interval}", "  input_series:"]
    for s, v in series:
        out.append(f"  - series: {yq(s)}")
        out.append(f"    values: {yq(v)}")
    if alert_tests:
        out.append("  alert_rule_test:")
        for name, t, exp in alert_tests:
            out.append(f"  - alertname: {name}")
            out.append(f"    eval_time: {t}")
            if exp is not None:
                out.append("    exp_alerts:" + (" []" if not exp else ""))
                for labels, ann in exp:
                    out.append(f"    - exp_labels: {json.dumps(labels)}")
                    out.append(f"      exp_annotations: {json.dumps(ann)}")
    if expr_tests:
        out.append("  promql_expr_test:")
        for q, t, exp in expr_tests:
            out.append(f"  - expr: {yq(q)}")
            out.append(f"    eval_time: {t}")
            if exp is not None:
                out.append("    exp_samples:" + (" []" if not exp else ""))
                for labels, value in exp:
                    out.append(f"    - labels: {yq(labels)}")
                    out.append(f"      value: {value}")
    return "\n".join(out) + "\n"


def yaml_float(v):
    f = float(v)
    if math.isnan(f):
        return ".nan"
    if math.isinf(f):
        return ".inf" if f > 0 else "-.inf"
    return repr(f)


# ---------------------------------------------------------------------------------------------
# The three kinds

class Ctx:
    def __init__(self, args, known, workdir):
        self.args = args
        self.known = known
        self.workdir = workdir
        self.diffs = []       # unexplained
        self.known_diffs = []  # explained, with the id
        self.counts = {}

    def record(self, kind, case, what, text, detail=None, known_detail=None):
        kid = self.known.explain(kind, text, known_detail)
        entry = {"kind": kind, "case": case, "what": what, "input": text}
        if detail is not None:
            entry["detail"] = detail
        if kid:
            entry["known"] = kid
            self.known_diffs.append(entry)
        else:
            self.diffs.append(entry)


def conformance_rule_files(shared):
    d = os.path.join(shared, "conformance", "promtool")
    out = []
    if not os.path.isdir(d):
        return out
    for name in sorted(os.listdir(d)):
        if not name.endswith(".yml") or "test" in name or name == "rules_large.yml":
            continue
        with open(os.path.join(d, name)) as f:
            text = f.read()
        if text.lstrip().startswith("rule_files") or "\ntests:" in text:
            continue
        out.append(text)
    return out


def case_rules(ctx, i, fixtures):
    r = random.Random(f"{ctx.args.seed}/rules/{i}")
    if fixtures and r.random() < 0.3:
        text = r.choice(fixtures)
        for _ in range(r.randint(1, 3)):
            text = gen.mutate(r, text)
    else:
        text = gen.rule_file(r)
    d = os.path.join(ctx.workdir, f"rules-{i}")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "rules.yml")
    with open(path, "w") as f:
        f.write(text)
    p_rc, p_out = run([ctx.args.promtool, "check", "rules", "rules.yml"], cwd=d)
    l_rc, l_out = run([ctx.args.ruleeval, "lint", "--fail-on", "error", "--config", os.devnull,
                       "rules.yml"], cwd=d)
    c_rc, c_out = run([ctx.args.ruleeval, "check", "rules", "rules.yml"], cwd=d)
    if p_rc not in (0, 1):
        ctx.record("rules", i, f"promtool exited {p_rc}", text, p_out)
    elif l_rc not in (0, 1) or c_rc not in (0, 1):
        ctx.record("rules", i, f"ruleeval crashed or hung: lint {l_rc}, check rules {c_rc}", text,
                   l_out + c_out)
    elif (l_rc, c_rc) != (p_rc, p_rc):
        ctx.record("rules", i,
                   f"promtool check rules exit {p_rc}, ruleeval lint exit {l_rc}, "
                   f"ruleeval check rules exit {c_rc}", text,
                   {"promtool": p_out[-1500:], "ruleeval lint": l_out[-1500:]},
                   known_detail=[p_rc, l_rc, p_out])
    elif l_rc == 1 and not re.search(r"rules\.yml:\d+:\d+:", l_out):
        ctx.record("rules", i, "ruleeval rejected the file without a file:line:col", text, l_out)
    shutil.rmtree(d, ignore_errors=True)


def case_promql(ctx, i):
    """One case: a handful of expressions over one generated series set, each at 3 times."""
    r = random.Random(f"{ctx.args.seed}/promql/{i}")
    n = r.randint(8, 30)
    interval = r.choice(["1m", "30s", "15s", "1m"])
    series = gen.series_set(r, n)
    exprs = []
    seen = set()
    for _ in range(4):
        q = gen.promql_expr(r)
        if q in seen:
            continue
        seen.add(q)
        for t in sorted({f"{r.randint(0, n + 2)}m" for _ in range(3)}):
            exprs.append((q, t, []))
    d = os.path.join(ctx.workdir, f"promql-{i}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "t.yml"), "w") as f:
        f.write(test_file([], interval, "1m", series, [], exprs))
    p_rc, p_out = run([ctx.args.promtool, "test", "rules", "t.yml"], cwd=d)
    r_rc, r_out = run([ctx.args.ruleeval, "test", "--promql-compat=2", "t.yml"], cwd=d)
    if p_rc not in (0, 1) or r_rc not in (0, 1):
        ctx.record("promql", i, f"exit codes promtool {p_rc}, ruleeval {r_rc}",
                   "\n".join(q for q, _, _ in exprs), {"promtool": p_out[-2000:],
                                                        "ruleeval": r_out[-2000:]})
        return
    pres = parse_expr_results(p_out)
    rres = parse_expr_results(r_out)
    series_text = "\n".join(f"{s} {v}" for s, v in series)
    for q, t, _ in exprs:
        a = pres.get((q, t), [])
        b = rres.get((q, t), [])
        if a == b:
            continue
        ctx.record("promql", i, f"{q} at {t}", q,
                   {"promtool": a, "ruleeval": b, "interval": interval, "series": series_text},
                   known_detail=(a, b))
    shutil.rmtree(d, ignore_errors=True)


def case_tests(ctx, i):
    r = random.Random(f"{ctx.args.seed}/tests/{i}")
    rules_yaml, t = gen.rule_test_case(r)
    d = os.path.join(ctx.workdir, f"tests-{i}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "rules.yml"), "w") as f:
        f.write(rules_yaml)
    alert_keys = sorted(set(t["alert_tests"]))
    expr_keys = sorted(set(t["expr_tests"]))
    # Pass 1: no expectations; promtool reports what it got.
    with open(os.path.join(d, "t.yml"), "w") as f:
        f.write(test_file(["rules.yml"], t["interval"], t["eval_interval"], t["series"],
                          [(a, tm, None) for a, tm in alert_keys],
                          [(q, tm, None) for q, tm in expr_keys]))
    _, p1 = run([ctx.args.promtool, "test", "rules", "t.yml"], cwd=d)
    alerts = parse_alert_results(p1)
    exprs = parse_expr_results(p1)
    # Pass 2: the harvested expectations, some perturbed so both verdicts occur.
    at = []
    for a, tm in alert_keys:
        exp = [list(x) for x in alerts.get((a, tm), [])]
        for x in exp:
            x[0].pop("alertname", None)
        if r.random() < 0.25:
            choice = r.randint(0, 3)
            if choice == 0 and exp:
                exp.pop()
            elif choice == 1:
                exp.append([{"job": "api", "severity": "page", "instance": "1"}, {}])
            elif choice == 2 and exp:
                exp[0][1] = dict(exp[0][1], summary="changed")
            elif exp:
                exp[0][0] = dict(exp[0][0], severity="ticket")
        at.append((a, tm, [tuple(x) for x in exp]))
    et = []
    for q, tm in expr_keys:
        got = exprs.get((q, tm), [])
        if got in ("error", "unreadable"):
            et.append((q, tm, None))
            continue
        exp = [(lb, yaml_float(v)) for lb, v in got]
        if exp and r.random() < 0.2:
            lb, v = exp[0]
            exp[0] = (lb, yaml_float(float(v.replace(".nan", "nan").replace(".inf", "inf")) + 1))
        et.append((q, tm, exp))
    with open(os.path.join(d, "t.yml"), "w") as f:
        f.write(test_file(["rules.yml"], t["interval"], t["eval_interval"], t["series"], at, et))
    p_rc, p_out = run([ctx.args.promtool, "test", "rules", "t.yml"], cwd=d)
    r_rc, r_out = run([ctx.args.ruleeval, "test", "--promql-compat=2", "t.yml"], cwd=d)
    if p_rc != r_rc:
        # promtool 2.42 is not always deterministic (float sums in map order): does it agree
        # with ruleeval on another run?
        kd = [p_rc, r_rc, p_out, r_out]
        if only_last_bits(p_out + "\n" + r_out):
            kd.append("last-bits")
        if only_topk_ties(p_out + "\n" + r_out, topk_alerts(rules_yaml)):
            kd.append("topk-ties")
        for _ in range(4):
            if run([ctx.args.promtool, "test", "rules", "t.yml"], cwd=d)[0] == r_rc:
                kd.append("unstable")
                break
        with open(os.path.join(d, "t.yml")) as f:
            text = rules_yaml + "\n# ---- test file\n" + f.read()
        ctx.record("tests", i, f"promtool test rules exit {p_rc}, ruleeval test exit {r_rc}", text,
                   {"promtool": p_out[-2500:], "ruleeval": r_out[-2500:]},
                   known_detail=kd)
    shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--ruleeval", required=True)
    ap.add_argument("--promtool", default=shutil.which("promtool") or "promtool")
    ap.add_argument("--shared", default=os.path.join(HERE, "..", "..", "..", "shared"))
    ap.add_argument("--kind", default="rules,tests,promql")
    ap.add_argument("--cases", type=int, default=20, help="cases per kind")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--known", default=os.path.join(HERE, "known_differences.yaml"))
    ap.add_argument("--report", help="write every difference (explained or not) as JSON here")
    ap.add_argument("--show", type=int, default=5, help="unexplained differences printed in full")
    args = ap.parse_args()
    args.ruleeval = os.path.abspath(args.ruleeval)  # the cases run in their own directories
    if shutil.which(args.promtool):
        args.promtool = shutil.which(args.promtool)
    if not shutil.which(args.promtool) and not os.path.exists(args.promtool):
        print("harness: promtool not found; install it with tools/bootstrap.sh --all")
        return 77
    known = Known(args.known)
    kinds = [k for k in args.kind.split(",") if k]
    for k in kinds:
        if k not in ("rules", "tests", "promql"):
            ap.error(f"unknown kind {k}")
    # SIGTERM (ctest's timeout, kill) unwinds like Ctrl-C, so the work directory is removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = tempfile.mkdtemp(prefix="ruleeval-diff-")
    # A private copy: a rebuild during a long run must not swap the binary under it.
    private = os.path.join(workdir, "ruleeval")
    shutil.copy2(args.ruleeval, private)
    args.ruleeval = private
    ctx = Ctx(args, known, workdir)
    fixtures = conformance_rule_files(args.shared)
    started = time.time()
    try:
        for kind in kinds:
            t0 = time.time()
            with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
                if kind == "rules":
                    futs = [pool.submit(case_rules, ctx, i, fixtures) for i in range(args.cases)]
                elif kind == "tests":
                    futs = [pool.submit(case_tests, ctx, i) for i in range(args.cases)]
                else:
                    futs = [pool.submit(case_promql, ctx, i) for i in range(args.cases)]
                for f in futs:
                    f.result()
            ctx.counts[kind] = args.cases
            n_unexp = sum(1 for d in ctx.diffs if d["kind"] == kind)
            n_known = sum(1 for d in ctx.known_diffs if d["kind"] == kind)
            print(f"{kind}: {args.cases} cases, {n_unexp} unexplained differences, "
                  f"{n_known} known ({time.time() - t0:.1f}s)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for kid, n in sorted(known.hits.items()):
        print(f"  known difference {kid}: {n}")
    if args.report:
        with open(args.report, "w") as f:
            json.dump({"seed": args.seed, "counts": ctx.counts, "unexplained": ctx.diffs,
                       "known": ctx.known_diffs}, f, indent=1, default=str)
    for d in ctx.diffs[:args.show]:
        print(f"\n=== UNEXPLAINED {d['kind']} case {d['case']} (seed {args.seed}): {d['what']}")
        print(d["input"][:3000])
        if "detail" in d:
            print("--- detail:", json.dumps(d["detail"], indent=1, default=str)[:4000])
    print(f"\n{sum(ctx.counts.values())} cases in {time.time() - started:.1f}s, "
          f"{len(ctx.diffs)} unexplained differences")
    return 1 if ctx.diffs else 0


if __name__ == "__main__":
    sys.exit(main())
