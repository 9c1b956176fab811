#!/usr/bin/env python3
"""`ruleeval slo` against real promtool: for each spec, the generated rules pass `promtool check
rules`, `ruleeval lint`; the generated unit tests (fed with the raw series the SLI queries read)
pass `promtool test rules` and `ruleeval test` (Prometheus 3 and 2 window semantics); and each
mutation of the generated rules (a burn factor, an alert window, the SLI query's range or a label
matcher of its recording rule) makes both fail.

usage: slo_promtool_test.py RULEEVAL TESTDATA_DIR
RULEEVAL_OPTIMIZED_BINARY, when set, replaces RULEEVAL: tools/test.sh runs the tests in its
coverage build (-O0), where the hundreds of `ruleeval test` runs over days of samples here take
most of CI's test stage; this test checks the generated rules, not coverage.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

RULEEVAL, DATA = os.environ.get("RULEEVAL_OPTIMIZED_BINARY") or sys.argv[1], sys.argv[2]
PROMTOOL = shutil.which("promtool")
failures = []


def run(*args, cwd=None):
    p = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=900)
    return p.returncode, p.stdout + p.stderr


def expect(ok, what, out=""):
    print(("PASS " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)
        print(out[-3000:])


def mutations(text):
    """(name, mutated text) pairs: each changes one alert tier of the generated rules."""
    out = []
    alerts = text.find("- alert:")
    head, body = text[:alerts], text[alerts:]
    # 1. the first burn factor (both windows of the tier), 3% lower.
    m = re.search(r"> \(([0-9.e+-]+) \* ", body)
    if m:
        f = m.group(1)
        lowered = repr(float(f) * 0.97)
        out.append(("factor %s -> %s" % (f, lowered), head + body.replace("(%s * " % f, "(%s * " % lowered, 2)))
        raised = repr(float(f) * 1.03)
        out.append(("factor %s -> %s" % (f, raised), head + body.replace("(%s * " % f, "(%s * " % raised, 2)))
    # 2. the long window of the first tier replaced by the next tier's long window.
    # Sloth reads slo:sli_error:ratio_rate<w>, Pyrra <metric>:burnrate<w>.
    pre = "ratio_rate" if "slo:sli_error:ratio_rate" in body else "burnrate"
    wins = re.findall(pre + r"([0-9a-z]+)\{", body)
    if len(wins) >= 4 and wins[1] != wins[3]:
        out.append(("window %s -> %s in the first tier" % (wins[1], wins[3]),
                    head + body.replace("%s%s{" % (pre, wins[1]), "%s%s{" % (pre, wins[3]), 1)))
    # 3. the short window of the second tier replaced by the first tier's short window.
    if len(wins) >= 4 and wins[2] != wins[0]:
        idx = [m.start() for m in re.finditer(pre + re.escape(wins[2]) + r"\{", body)]
        if idx:
            i = idx[0]
            out.append(("window %s -> %s in the second tier" % (wins[2], wins[0]),
                        head + body[:i] + body[i:].replace("%s%s{" % (pre, wins[2]), "%s%s{" % (pre, wins[0]), 1)))
    return out


def sli_mutations(text):
    """(name, mutated text) pairs that change the SLI query of the shortest window's recording:
    its range, and the value of its first label matcher."""
    out = []
    m = re.search(r"\n  - record: (slo:sli_error:ratio_rate|[a-z_]+:burnrate)([0-9a-z]+)\n", text)
    if not m:
        return out
    start = m.start() + 1
    end = text.find("\n  - ", start + 1)
    block = text[start:end]
    win = m.group(2)
    longer = re.findall(re.escape(m.group(1)) + r"([0-9a-z]+)\n", text[end:])
    if longer and "[%s]" % win in block:
        out.append(("SLI range [%s] -> [%s]" % (win, longer[0]),
                    text[:start] + block.replace("[%s]" % win, "[%s]" % longer[0]) + text[end:]))
    mm = re.search(r'(=~?)"([^"]*)"', block.split("expr:", 1)[1])
    if mm:
        off = block.index("expr:") + 5 + mm.start()
        mutated = block[:off] + mm.group(1) + '"' + mm.group(2) + '_mutant"' + block[off + len(mm.group(0)):]
        out.append(("SLI matcher %s -> %s_mutant" % (mm.group(0), mm.group(2)), text[:start] + mutated + text[end:]))
    return out


# (name, args). promtool is slow on tests that hold days of 1m samples: it runs the original
# tests of every case but the mutants of the first case only; ruleeval runs every mutant with
# Prometheus 3 and 2 window semantics.
CASES = [
    ("events", ["-i", "specs/events.yaml"]),
    ("events-28d", ["-i", "specs/events.yaml", "--default-slo-period", "28d"]),
    ("events-7d", ["-i", "specs/events.yaml", "--default-slo-period", "7d"]),
    ("events-custom", ["-i", "specs/events.yaml", "--slo-period-windows-path", "windows"]),
    ("events-extra-labels", ["-i", "specs/events.yaml", "-l", "env=prod"]),
    ("k8s", ["-i", "specs/k8s.yaml"]),
    ("pyrra-ratio", ["-i", "specs/pyrra.yaml", "--style", "pyrra"]),
    ("pyrra-latency", ["-i", "specs/pyrra-latency.yaml", "--style", "pyrra"]),
]

if PROMTOOL is None:
    print("promtool not installed (tools/bootstrap.sh --all)")
    sys.exit(1)

for name, args in CASES:
    tmp = tempfile.mkdtemp(prefix="slo-" + name + "-")
    try:
        rules = os.path.join(tmp, "rules.yml")
        tests = os.path.join(tmp, "tests")
        rc, out = run(RULEEVAL, "slo", "generate", *args, "-o", rules, "--tests-out", tests, cwd=DATA)
        expect(rc == 0, name + ": generate", out)
        test_files = sorted(os.path.join(tests, f) for f in os.listdir(tests) if f.endswith("_test.yml"))
        expect(len(test_files) >= 1, name + ": test files", str(test_files))
        # CRD output: promtool reads plain groups, the tests carry their own copy.
        # CRD output and multi-document specs: each test file has its own plain copy.
        plain = sorted(os.path.join(tests, f) for f in os.listdir(tests) if f.endswith(".rules.yml"))
        rule_file = min(plain, key=len) if plain else rules
        test_files = [t for t in test_files if not plain or os.path.basename(t).split("_test")[0] == os.path.basename(rule_file).split(".rules")[0]]
        rc, out = run(PROMTOOL, "check", "rules", rule_file)
        expect(rc == 0, name + ": promtool check rules", out)
        fed = "".join(open(t).read() for t in test_files)
        expect("feed the SLI recordings" not in fed and "series: slo:" not in fed and ":burnrate" not in fed,
               name + ": the tests feed the raw series, not the recordings")
        # Pyrra's 7d windows rate over [1m], which ruleeval lint rightly warns about.
        level = "error" if name == "pyrra-latency" else "warning"
        rc, out = run(RULEEVAL, "lint", "--fail-on", level, rule_file)
        expect(rc == 0, name + ": ruleeval lint", out)
        rc, out = run(PROMTOOL, "test", "rules", *test_files)
        expect(rc == 0 and "SUCCESS" in out, name + ": promtool test rules", out)
        promtool_mutants = name == CASES[0][0]
        rc, out = run(RULEEVAL, "test", *test_files)
        expect(rc == 0, name + ": ruleeval test", out)
        rc, out = run(RULEEVAL, "test", "--promql-compat", "2", *test_files)
        expect(rc == 0, name + ": ruleeval test --promql-compat 2", out)
        original = open(rule_file).read()
        muts = mutations(original)
        expect(len(muts) >= 3, name + ": mutations found", str([m[0] for m in muts]))
        sli = sli_mutations(original)
        expect(len(sli) >= 2, name + ": SLI mutations found", str([m[0] for m in sli]))
        muts += sli
        for what, text in muts:
            # Known gap: Pyrra's alerts have `for:`, and the tests check them at 1h evaluation
            # steps over a flat burn, so a shorter short window or SLI range is not told apart.
            if name.startswith("pyrra") and ("second tier" in what or what.startswith("SLI range")):
                print("KNOWN " + name + ": not asserted (" + what + ")")
                continue
            with open(rule_file, "w") as f:
                f.write(text)
            rc, out = run(PROMTOOL, "check", "rules", rule_file)
            expect(rc == 0, name + ": mutant still valid (" + what + ")", out)
            if promtool_mutants:
                rc, out = run(PROMTOOL, "test", "rules", *test_files)
                expect(rc != 0, name + ": promtool test fails on mutant (" + what + ")", out)
            rc, out = run(RULEEVAL, "test", *test_files)
            expect(rc == 1, name + ": ruleeval test fails on mutant (" + what + ")", out)
            rc, out = run(RULEEVAL, "test", "--promql-compat", "2", *test_files)
            expect(rc == 1, name + ": ruleeval test --promql-compat 2 fails on mutant (" + what + ")", out)
        with open(rule_file, "w") as f:
            f.write(original)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

# The lint checks see a mutated factor.
tmp = tempfile.mkdtemp(prefix="slo-lint-")
try:
    rules = os.path.join(tmp, "rules.yml")
    run(RULEEVAL, "slo", "generate", "-i", "specs/events.yaml", "-o", rules, cwd=DATA)
    text = open(rules).read().replace("(14.4 * ", "(12 * ", 2)
    open(rules, "w").write(text)
    rc, out = run(RULEEVAL, "lint", rules)
    expect("[slo/burn-rate]" in out and "factor 12 does not match the 5m/1h tier of a 30d SLO" in out,
           "lint flags a mutated factor", out)
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
