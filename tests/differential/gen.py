"""Seeded generators for the differential harness: series, PromQL expressions, rule files and
promtool rule-test files. Everything is drawn from one random.Random so a (seed, case) pair always
produces the same input."""

import random
import re

METRICS = {
    # name: kind
    "m_gauge": "gauge",
    "m_temp": "gauge",
    "c_requests_total": "counter",
    "c_errors_total": "counter",
}
JOBS = ["api", "db"]
INSTANCES = ["1", "2", "3"]

RANGE_FUNCS = [
    "rate", "irate", "increase", "delta", "idelta", "deriv", "avg_over_time", "sum_over_time",
    "min_over_time", "max_over_time", "count_over_time", "last_over_time", "stddev_over_time",
    "stdvar_over_time", "changes", "resets", "present_over_time",
]
INSTANT_FUNCS = ["abs", "ceil", "floor", "round", "sqrt", "exp", "ln", "log2", "log10", "sgn",
                 "timestamp", "sort", "sort_desc"]
AGGS = ["sum", "avg", "min", "max", "count", "stddev", "stdvar", "group"]
ARITH = ["+", "-", "*", "/", "%", "^"]
CMP = ["==", "!=", ">", "<", ">=", "<="]
SET = ["and", "or", "unless"]
DURATIONS = ["1m", "2m", "3m", "5m", "10m"]


def number(r, lo=-5, hi=20):
    """A decimal number as text: integers and one-decimal values (exact in every parser)."""
    v = r.randint(lo * 10, hi * 10) / 10 if r.random() < 0.4 else r.randint(lo, hi)
    return repr(v) if isinstance(v, float) else str(v)


def values_notation(r, kind, n):
    """promtool's values notation: plain numbers, a+bxn, _, stale, counters with resets."""
    parts = []
    total = 0
    cur = r.randint(0, 10)
    while total < n:
        choice = r.random()
        if choice < 0.08:
            parts.append("_")
            total += 1
        elif choice < 0.12:
            parts.append("stale")
            total += 1
        elif choice < 0.35:
            k = r.randint(1, 6)
            step = r.randint(0, 5) if kind == "counter" else r.randint(-3, 3)
            sign = "+" if step >= 0 else "-"
            parts.append(f"{cur}{sign}{abs(step)}x{k}")
            cur = cur + step * k
            total += k + 1
        elif choice < 0.42:
            k = r.randint(1, 4)
            parts.append(f"_x{k}")
            total += k
        else:
            if kind == "counter":
                if r.random() < 0.1:
                    cur = r.randint(0, 3)  # a counter reset
                else:
                    cur += r.randint(0, 7)
            else:
                cur = r.randint(-5, 20) if r.random() < 0.5 else cur + r.randint(-2, 2)
            parts.append(str(cur))
            total += 1
    return " ".join(parts)


def series_set(r, n_samples):
    out = []
    for name, kind in METRICS.items():
        for job in JOBS:
            for inst in INSTANCES:
                if r.random() < 0.35:
                    continue
                out.append((f'{name}{{job="{job}",instance="{inst}"}}',
                            values_notation(r, kind, n_samples)))
    if not out:
        out.append(('m_gauge{job="api",instance="1"}', values_notation(r, "gauge", n_samples)))
    return out


def selector(r, kind=None):
    names = [n for n, k in METRICS.items() if kind is None or k == kind]
    name = r.choice(names)
    matchers = []
    if r.random() < 0.4:
        op = r.choice(["=", "!=", "=~", "!~"])
        val = r.choice(JOBS) if op in ("=", "!=") else r.choice(["a.*", "api|db", ".+", "d.*"])
        matchers.append(f'job{op}"{val}"')
    if r.random() < 0.2:
        matchers.append(f'instance="{r.choice(INSTANCES)}"')
    sel = name + ("{" + ",".join(matchers) + "}" if matchers else "")
    if r.random() < 0.1:
        sel += f" offset {r.choice(['1m', '2m', '30s'])}"
    return sel


def range_arg(r, depth, kind="counter"):
    if depth > 0 and r.random() < 0.15:
        return f"{vector_expr(r, depth - 1)}[{r.choice(DURATIONS)}:{r.choice(['1m', '30s', ''])}]"
    sel = selector(r, kind if r.random() < 0.7 else None)
    # The range goes before the offset.
    if " offset " in sel:
        base, off = sel.split(" offset ")
        return f"{base}[{r.choice(DURATIONS)}] offset {off}"
    return f"{sel}[{r.choice(DURATIONS)}]"


def grouping(r):
    if r.random() < 0.5:
        return ""
    labels = r.sample(["job", "instance"], r.randint(1, 2))
    return f" {r.choice(['by', 'without'])} ({', '.join(labels)})"


def vector_expr(r, depth=3):
    c = r.random()
    if depth <= 0 or c < 0.2:
        return selector(r)
    if c < 0.4:
        f = r.choice(RANGE_FUNCS)
        return f"{f}({range_arg(r, depth)})"
    if c < 0.47:
        return f"quantile_over_time({r.choice(['0', '0.5', '0.9', '1'])}, {range_arg(r, depth, 'gauge')})"
    if c < 0.5:
        return f"predict_linear({range_arg(r, depth, 'gauge')}, {r.choice(['60', '300', '-60'])})"
    if c < 0.6:
        f = r.choice(INSTANT_FUNCS)
        return f"{f}({vector_expr(r, depth - 1)})"
    if c < 0.63:
        lo, hi = sorted([r.randint(-2, 10), r.randint(-2, 10)])
        return r.choice([f"clamp({vector_expr(r, depth - 1)}, {lo}, {hi})",
                         f"clamp_min({vector_expr(r, depth - 1)}, {lo})",
                         f"clamp_max({vector_expr(r, depth - 1)}, {hi})"])
    if c < 0.66:
        return (f'label_replace({vector_expr(r, depth - 1)}, "dst", "x-$1", "job", "(.*)")')
    if c < 0.76:
        agg = r.choice(AGGS)
        return f"{agg}{grouping(r)}({vector_expr(r, depth - 1)})"
    if c < 0.8:
        agg = r.choice(["topk", "bottomk"])
        return f"{agg}({r.randint(1, 3)}, {vector_expr(r, depth - 1)})"
    if c < 0.83:
        return f"quantile{grouping(r)}({r.choice(['0.25', '0.5', '0.99'])}, {vector_expr(r, depth - 1)})"
    if c < 0.86:
        return f'count_values{grouping(r)}("value", {vector_expr(r, depth - 1)})'
    if c < 0.93:
        op = r.choice(ARITH + CMP)
        rhs = number(r, 0, 10) if r.random() < 0.5 else vector_expr(r, depth - 1)
        mod = ""
        if op in CMP and r.random() < 0.4:
            mod = " bool"
        if not rhs[0].isdigit() and rhs[0] != "-" and r.random() < 0.3:
            mod += f" {r.choice(['on', 'ignoring'])}(job)"
            if r.random() < 0.3:
                mod += " group_left"
        lhs = vector_expr(r, depth - 1)
        if rhs.startswith("-"):
            rhs = f"({rhs})"
        return f"({lhs} {op}{mod} {rhs})"
    if c < 0.96:
        return f"({vector_expr(r, depth - 1)} {r.choice(SET)} {vector_expr(r, depth - 1)})"
    if c < 0.98:
        return r.choice(["vector(1)", "vector(time())", f"absent({selector(r)})",
                         "vector(scalar(sum(m_gauge)))"])
    return f"histogram_quantile(0.9, {vector_expr(r, depth - 1)})"


def promql_expr(r):
    if r.random() < 0.05:
        return r.choice(["time()", "scalar(sum(c_requests_total))", "1 + 2 * 3", "-m_gauge",
                         f"holt_winters({range_arg(r, 1, 'gauge')}, 0.5, 0.5)"])
    return vector_expr(r, r.randint(1, 3))


# ---------------------------------------------------------------------------------------------
# Rule files (for lint vs check rules): mostly valid, with grammar-level faults injected.

LABEL_NAMES_OK = ["severity", "team", "job", "a_b", "_x"]
LABEL_NAMES_BAD = ["1bad", "bad-name", "__name__", "a.b", ""]
TEMPLATES_OK = ["{{ $labels.job }} is down", "value {{ $value }}", "{{ $value | humanize }}",
                "plain text", "{{ if gt $value 1.0 }}high{{ end }}",
                "{{ $externalLabels.cluster }}", "{{ printf \"%.2f\" $value }}"]
TEMPLATES_BAD = ["{{ $label.job }}", "{{ .Foo", "{{ nosuchfunc 1 }}", "{{ end }}",
                 "{{ $labels.job }"]
DURS_OK = ["1m", "5m", "0s", "1h30m", "90s", "2d"]
DURS_BAD = ["5", "1x", "-1m", "m5", "1.5m"]


def yaml_str(s):
    return "'" + s.replace("'", "''") + "'"


def rule_file(r):
    """Returns YAML text of a rule file; with some probability one fault is injected."""
    fault = r.choice([None] * 6 + [
        "bad_expr", "bad_label_name", "bad_template", "bad_duration", "both_record_alert",
        "neither", "no_expr", "dup_group", "empty_group_name", "record_annotations",
        "bad_record_name", "unknown_field", "record_for", "record_braces", "bad_yaml",
        "dup_key", "label_value_utf8", "wrong_type", "empty_file", "annotation_name_bad",
        "group_interval_zero", "keep_firing_record", "limit_negative", "anchor"])
    lines = []
    if fault == "empty_file":
        return r.choice(["", "{}\n", "groups: []\n", "groups:\n", "# nothing\n", "---\n"])
    lines.append("groups:")
    n_groups = r.randint(1, 3)
    names = [f"group_{i}" for i in range(n_groups)]
    if fault == "dup_group" and n_groups > 1:
        names[-1] = names[0]
    elif fault == "dup_group":
        names.append(names[0])
        n_groups += 1
    for gi in range(n_groups):
        name = names[gi]
        if fault == "empty_group_name" and gi == 0:
            name = ""
        lines.append(f"- name: {yaml_str(name)}")
        if r.random() < 0.3:
            lines.append(f"  interval: {r.choice(DURS_OK)}")
        if fault == "group_interval_zero" and gi == 0:
            lines.append("  interval: 0s")
        if r.random() < 0.15:
            lines.append(f"  limit: {r.randint(0, 10)}")
        if fault == "limit_negative" and gi == 0:
            lines.append("  limit: -1")
        if fault == "unknown_field" and gi == 0:
            lines.append("  colour: blue")
        lines.append("  rules:")
        for ri in range(r.randint(1, 4)):
            is_alert = r.random() < 0.6
            inject = fault if (gi == 0 and ri == 0) else None
            expr = promql_expr(r)
            if inject == "bad_expr":
                expr = r.choice([expr + " +", "sum(", "rate(m_gauge)", "m_gauge[5m]",
                                 "foo{", "sum by (job) m_gauge", "1 +* 2", "nosuchfunc(m_gauge)",
                                 "rate(m_gauge[5m]) > bool", 'm{job=~"("}'])
            if is_alert:
                lines.append(f"  - alert: {r.choice(['HighErrors', 'Down', 'Latency', 'X'])}{ri}")
            else:
                rec = r.choice(["job:requests:rate5m", "instance:errors:sum", "x", "a:b_c"])
                if inject == "bad_record_name":
                    rec = r.choice(["1abc", "a-b", "a b", "job:x{a=\"b\"}"])
                if inject == "record_braces":
                    rec = "job:x{a=\"b\"}"
                lines.append(f"  - record: {yaml_str(rec)}")
            if inject == "both_record_alert":
                lines.append("    record: also_record" if is_alert else "    alert: AlsoAlert")
            if inject == "neither":
                lines[-1] = "  - labels: {a: b}"
            if inject != "no_expr":
                if inject == "wrong_type":
                    lines.append("    expr: [a, b]")
                else:
                    lines.append(f"    expr: {yaml_str(expr)}")
            if inject == "dup_key":
                lines.append(f"    expr: {yaml_str('vector(1)')}")
            if is_alert and r.random() < 0.5:
                d = r.choice(DURS_OK)
                if inject == "bad_duration":
                    d = r.choice(DURS_BAD)
                lines.append(f"    for: {d}")
            elif inject == "bad_duration":
                lines.append(f"    for: {r.choice(DURS_BAD)}")
            if (not is_alert) and inject == "record_for":
                lines.append("    for: 5m")
            if inject == "keep_firing_record":
                lines.append("    keep_firing_for: 5m")
            if is_alert and r.random() < 0.2:
                lines.append(f"    keep_firing_for: {r.choice(DURS_OK)}")
            if r.random() < 0.6 or inject in ("bad_label_name", "label_value_utf8"):
                lines.append("    labels:")
                for _ in range(r.randint(1, 3)):
                    ln = r.choice(LABEL_NAMES_OK)
                    lv = r.choice(["page", "ticket", "{{ $labels.job }}", "x y", "1"])
                    if not is_alert and "{{" in lv:
                        lv = "static"
                    lines.append(f"      {ln}: {yaml_str(lv)}")
                if inject == "bad_label_name":
                    lines.append(f"      {yaml_str(r.choice(LABEL_NAMES_BAD))}: x")
                if inject == "label_value_utf8":
                    lines.append("      team: \"\\xff\\xfe\"")
            if is_alert and (r.random() < 0.6 or inject in ("bad_template", "annotation_name_bad")):
                lines.append("    annotations:")
                t = r.choice(TEMPLATES_OK)
                if inject == "bad_template":
                    t = r.choice(TEMPLATES_BAD)
                lines.append(f"      summary: {yaml_str(t)}")
                if inject == "annotation_name_bad":
                    lines.append("      'bad name': x")
            if (not is_alert) and inject == "record_annotations":
                lines.append("    annotations: {summary: x}")
    text = "\n".join(lines) + "\n"
    if fault == "bad_yaml":
        text = text.replace("  rules:", "  rules:\n   - : [", 1)
    if fault == "anchor":
        text = "common: &c {severity: page}\n" + text
    return text


def mutate(r, text):
    """One textual mutation of a rule file (for the conformance fixtures)."""
    lines = text.split("\n")
    m = r.randint(0, 7)
    i = r.randrange(len(lines)) if lines else 0
    if m == 0 and lines:
        del lines[i]
    elif m == 1 and lines:
        lines.insert(i, lines[i])
    elif m == 2 and lines:
        lines[i] = " " + lines[i]
    elif m == 3 and lines and lines[i]:
        j = r.randrange(len(lines[i]))
        lines[i] = lines[i][:j] + lines[i][j + 1:]
    elif m == 4 and lines:
        lines[i] = lines[i].replace("expr:", r.choice(["expr:", "exp:", "expr: 1 +", "expr: sum("]), 1)
    elif m == 5 and lines:
        lines[i] = lines[i].replace("5m", r.choice(["5", "0s", "5x", "-5m", "5m"]), 1)
    elif m == 6 and lines:
        lines[i] = lines[i].replace("{{", r.choice(["{", "{{ $label.", "{{ end }}{{"]), 1)
    else:
        lines[i:i] = [r.choice(["  - record: x", "    foo: bar", "- name: extra", "groups:",
                                "    labels: {a: b}", "  interval: 1m"])]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Rule tests (for test vs test rules verdicts).

def rule_test_case(r):
    """(rules_yaml, test description). rate and increase are left out: their extrapolation
    differs between Prometheus 2.42 and later versions (known_differences.yaml), and a verdict
    difference is not narrowed down to one value the way a PromQL result is."""
    while True:
        rules_yaml, test = _rule_test_case(r)
        text = rules_yaml + " ".join(q for q, _ in test["expr_tests"])
        if not re.search(r"\b(rate|increase)\s*\(", text):
            return rules_yaml, test


def _rule_test_case(r):
    interval = r.choice(["1m", "30s", "15s"])
    n = r.randint(5, 25)
    series = series_set(r, n)
    rules = ["groups:", "- name: g"]
    rules.append("  rules:")
    records = []
    for i in range(r.randint(0, 2)):
        name = f"job:rec{i}:value"
        records.append(name)
        rules.append(f"  - record: {name}")
        rules.append(f"    expr: {yaml_str('sum by (job) (' + vector_expr(r, 1) + ')')}")
    alerts = []
    for i in range(r.randint(1, 3)):
        name = f"Alert{i}"
        alerts.append(name)
        e = vector_expr(r, 2)
        thr = number(r, 0, 10)
        rules.append(f"  - alert: {name}")
        rules.append(f"    expr: {yaml_str(f'({e}) > {thr}')}")
        if r.random() < 0.6:
            rules.append(f"    for: {r.choice(['0s', '1m', '2m', '5m'])}")
        if r.random() < 0.2:
            rules.append(f"    keep_firing_for: {r.choice(['1m', '3m'])}")
        rules.append("    labels: {severity: page}")
        if r.random() < 0.7:
            rules.append("    annotations:")
            rules.append(f"      summary: {yaml_str(r.choice(['{{ $labels.job }} high', 'v={{ $value }}', 'static']))}")
    rules_yaml = "\n".join(rules) + "\n"
    alert_tests = [(r.choice(alerts), f"{r.randint(0, n)}m") for _ in range(r.randint(1, 3))]
    expr_tests = []
    for _ in range(r.randint(0, 2)):
        q = r.choice(records) if records and r.random() < 0.6 else vector_expr(r, 2)
        expr_tests.append((q, f"{r.randint(0, n)}m"))
    test = {
        "interval": interval,
        "series": series,
        "alert_tests": alert_tests,
        "expr_tests": expr_tests,
        "eval_interval": r.choice(["1m", "30s"]),
    }
    return rules_yaml, test
