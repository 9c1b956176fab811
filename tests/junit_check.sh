#!/usr/bin/env bash
# junit_check.sh RULEEVAL OUT.xml TESTFILE: `ruleeval test --junit` writes one <testsuite> for the
# file, with a <testcase> per test group.
set -eu
"$1" test --junit "$2" "$3" >/dev/null
grep -q "<testsuite name=\"$3\" tests=\"2\" failures=\"0\">" "$2"
grep -q '<testcase name="pending alerts can be asserted"' "$2"
