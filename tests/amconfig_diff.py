#!/usr/bin/env python3
"""Differential test: Alertmanager configurations checked by `amtool check-config` (the oracle)
and by `ruleeval run --check-config` through `alertmanager_config_file`. See
tests/testdata/amconfig/README.md for the file conventions."""
import os
import re
import subprocess
import sys
import tempfile


def first_line(path):
    with open(path, encoding="utf-8") as f:
        return f.readline().rstrip("\n")


def amtool(amtool_bin, path):
    p = subprocess.run([amtool_bin, "check-config", path], capture_output=True, text=True,
                       timeout=60)
    return p.returncode == 0, p.stdout + p.stderr


def ruleeval(ruleeval_bin, path, tmp):
    cfg = os.path.join(tmp, "ruleeval.yaml")
    with open(cfg, "w", encoding="utf-8") as f:
        f.write("datasources:\n  default:\n    type: embedded\n")
        f.write("alertmanager_config_file: %s\n" % os.path.abspath(path))
    p = subprocess.run([ruleeval_bin, "run", "--check-config", "--config", cfg,
                        "--state-dir", os.path.join(tmp, "state")],
                       capture_output=True, text=True, timeout=60)
    return p.returncode == 0, p.stdout + p.stderr


def main():
    amtool_bin, ruleeval_bin, root = sys.argv[1:4]
    failures = []
    checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("good", "bad"):
            d = os.path.join(root, kind)
            for name in sorted(os.listdir(d)):
                if not name.endswith(".yml"):
                    continue
                path = os.path.join(d, name)
                checked += 1
                head = first_line(path)
                am_ok, am_out = amtool(amtool_bin, path)
                re_ok, re_out = ruleeval(ruleeval_bin, path, tmp)
                tag = "%s/%s" % (kind, name)
                if kind == "good":
                    if not am_ok:
                        failures.append("%s: amtool rejects a good file:\n%s" % (tag, am_out))
                        continue
                    m = re.match(r"# ruleeval-refuses: (.*)", head)
                    if m:
                        want = m.group(1).strip()
                        if re_ok or want not in re_out or "not implemented by ruleeval" not in re_out:
                            failures.append("%s: want ruleeval to refuse (%s, not implemented), got:\n%s"
                                            % (tag, want, re_out))
                        else:
                            print("ok (documented gap: %s) %s" % (want, tag))
                        continue
                    if not re_ok:
                        failures.append("%s: amtool accepts it, ruleeval rejects:\n%s" % (tag, re_out))
                    else:
                        print("ok (both accept) %s" % tag)
                    continue
                m = re.match(r"# expect: (.*)", head)
                if not m:
                    failures.append("%s: first line must be '# expect: <text>'" % tag)
                    continue
                want = m.group(1).strip()
                if am_ok or want not in am_out:
                    failures.append("%s: amtool does not report %r:\n%s" % (tag, want, am_out))
                    continue
                if re_ok:
                    failures.append("%s: amtool rejects it (%s), ruleeval accepts" % (tag, want))
                    continue
                if want not in re_out:
                    failures.append("%s: ruleeval names another problem than amtool (%r):\n%s"
                                    % (tag, want, re_out))
                    continue
                loc = re.search(re.escape(os.path.abspath(path)) + r":(\d+):(\d+): ", re_out)
                if not loc:
                    failures.append("%s: ruleeval's error has no file:line:col:\n%s" % (tag, re_out))
                    continue
                am_line = re.search(r"line (\d+):", am_out)
                if am_line and int(am_line.group(1)) != int(loc.group(1)):
                    failures.append("%s: amtool points at line %s, ruleeval at %s"
                                    % (tag, am_line.group(1), loc.group(1)))
                    continue
                print("ok (both reject: %s) %s" % (want, tag))
        # Keys of later Alertmanager versions (Microsoft Teams): amtool 0.25 cannot be the
        # oracle. It must reject the file for the key it does not know (which proves the file is
        # about a later version), and ruleeval follows the named version's config package.
        d = os.path.join(root, "later")
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if not name.endswith(".yml"):
                continue
            path = os.path.join(d, name)
            checked += 1
            tag = "later/%s" % name
            m = re.match(r"# alertmanager: (\d+\.\d+)\b(?:.*?expect: (.*))?", first_line(path))
            if not m:
                failures.append("%s: first line must be '# alertmanager: <version> [expect: <text>]'"
                                % tag)
                continue
            am_ok, am_out = amtool(amtool_bin, path)
            if am_ok or "not found in type" not in am_out:
                failures.append("%s: amtool 0.25 should not know this later key:\n%s" % (tag, am_out))
                continue
            re_ok, re_out = ruleeval(ruleeval_bin, path, tmp)
            want = m.group(2)
            if want is None:
                if not re_ok:
                    failures.append("%s: Alertmanager %s accepts it, ruleeval rejects:\n%s"
                                    % (tag, m.group(1), re_out))
                else:
                    print("ok (Alertmanager %s accepts, amtool 0.25 predates it) %s"
                          % (m.group(1), tag))
                continue
            want = want.strip()
            loc = re.search(re.escape(os.path.abspath(path)) + r":(\d+):(\d+): ", re_out)
            if re_ok or want not in re_out or not loc:
                failures.append("%s: want ruleeval to reject with file:line:col and %r, got:\n%s"
                                % (tag, want, re_out))
            else:
                print("ok (Alertmanager %s rejects: %s) %s" % (m.group(1), want, tag))
    for f in failures:
        print("FAIL " + f)
    print("%d configurations, %d disagreements" % (checked, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
