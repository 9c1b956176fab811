#!/usr/bin/env bash
# junit_check.sh RULEEVAL OUT.xml TESTFILE: `ruleeval test --junit` writes one <testsuite> for the
# file, with a <testcase> per test group; the report replaces an older file whole, goes to a pipe
# (--junit /dev/stdout) as it is, and a report that cannot be written fails the run with a reason.
set -eu
echo "stale content that must not survive" >"$2"
"$1" test --junit "$2" "$3" >/dev/null
grep -q "<testsuite name=\"$3\" tests=\"2\" failures=\"0\">" "$2"
grep -q '<testcase name="pending alerts can be asserted"' "$2"
! grep -q "stale content" "$2"
[ ! -e "$2.tmp" ]
"$1" test --junit /dev/stdout "$3" | grep -q "<testsuite name=\"$3\" tests=\"2\""
if "$1" test --junit /nonexistent-dir/junit.xml "$3" >/dev/null 2>"$2.err"; then
  echo "an unwritable report did not fail the run" >&2
  exit 1
fi
grep -q 'cannot write JUnit report to /nonexistent-dir/junit.xml: cannot create' "$2.err"
