#!/usr/bin/env bash
# same_output.sh -- RULEEVAL_COMMAND... -- PROMTOOL_COMMAND...: runs both on the same input and
# passes only if they exit with the same code and print the same standard output and the same
# standard error, byte for byte (a diff of each is shown otherwise). Exit 77 (skipped) when
# promtool is not installed.
[ "$1" = "--" ] || { echo "same_output: usage: -- ruleeval... -- promtool..." >&2; exit 2; }
shift
ours=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do ours+=("$1"); shift; done
shift
theirs=("$@")
command -v "${theirs[0]}" >/dev/null 2>&1 || { echo "same_output: ${theirs[0]} not installed"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"${ours[@]}" >"$work/ours.out" 2>"$work/ours.err"
got_ours=$?
"${theirs[@]}" >"$work/theirs.out" 2>"$work/theirs.err"
got_theirs=$?
rc=0
if [ "$got_ours" != "$got_theirs" ]; then
  echo "same_output: exit codes differ: ruleeval $got_ours, ${theirs[0]} $got_theirs"
  rc=1
fi
for s in out err; do
  if ! diff -u --label "${theirs[0]} std$s" --label "ruleeval std$s" "$work/theirs.$s" "$work/ours.$s"; then
    rc=1
  fi
done
[ "$rc" = 0 ] && echo "same_output: same exit code ($got_ours), standard output and error"
exit $rc
