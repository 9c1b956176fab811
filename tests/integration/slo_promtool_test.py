#!/usr/bin/env python3
"""`ruleeval slo` against real promtool: for each spec, the generated rules pass `promtool check
rules`, `ruleeval lint`; the generated unit tests pass `promtool test rules` and `ruleeval test`;
and each mutation of the generated rules (a burn factor, a window) makes both fail.

usage: slo_promtool_test.py RULEEVAL TESTDATA_DIR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

RULEEVAL, DATA = sys.argv[1], sys.argv[2]
PROMTOOL = shutil.which("promtool")
failures = []


def run(*args, cwd=None):
    p = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=300)
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


CASES = [
    ("events", ["-i", "specs/events.yaml"]),
    ("events-28d", ["-i", "specs/events.yaml", "--default-slo-period", "28d"]),
    ("events-7d", ["-i", "specs/events.yaml", "--default-slo-period", "7d"]),
    ("events-custom", ["-i", "specs/events.yaml", "--slo-period-windows-path", "windows"]),
    ("events-extra-labels", ["-i", "specs/events.yaml", "-l", "env=prod"]),
    ("k8s", ["-i", "specs/k8s.yaml"]),
    ("pyrra-ratio", ["-i", "specs/pyrra.yaml", "--style", "pyrra"]),
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
        plain = [os.path.join(tests, f) for f in os.listdir(tests) if f.endswith(".rules.yml")]
        rule_file = plain[0] if plain else rules
        rc, out = run(PROMTOOL, "check", "rules", rule_file)
        expect(rc == 0, name + ": promtool check rules", out)
        rc, out = run(RULEEVAL, "lint", "--fail-on", "warning", rule_file)
        expect(rc == 0, name + ": ruleeval lint", out)
        rc, out = run(PROMTOOL, "test", "rules", *test_files)
        expect(rc == 0 and "SUCCESS" in out, name + ": promtool test rules", out)
        rc, out = run(RULEEVAL, "test", *test_files)
        expect(rc == 0, name + ": ruleeval test", out)
        original = open(rule_file).read()
        muts = mutations(original)
        expect(len(muts) >= 3, name + ": mutations found", str([m[0] for m in muts]))
        for what, text in muts:
            with open(rule_file, "w") as f:
                f.write(text)
            rc, out = run(PROMTOOL, "check", "rules", rule_file)
            expect(rc == 0, name + ": mutant still valid (" + what + ")", out)
            rc, out = run(PROMTOOL, "test", "rules", *test_files)
            expect(rc != 0, name + ": promtool test fails on mutant (" + what + ")", out)
            rc, out = run(RULEEVAL, "test", *test_files)
            expect(rc == 1, name + ": ruleeval test fails on mutant (" + what + ")", out)
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
