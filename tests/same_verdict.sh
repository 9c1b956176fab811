#!/usr/bin/env bash
# same_verdict.sh CODE -- RULEEVAL_COMMAND... -- PROMTOOL_COMMAND...: runs both on the same input
# and passes only if both exit with CODE (ruleeval gives promtool's answer). Exit 77 (skipped)
# when promtool is not installed.
want=$1
shift
[ "$1" = "--" ] || { echo "same_verdict: usage: CODE -- ruleeval... -- promtool..." >&2; exit 2; }
shift
ours=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do ours+=("$1"); shift; done
shift
theirs=("$@")
command -v "${theirs[0]}" >/dev/null 2>&1 || { echo "same_verdict: ${theirs[0]} not installed"; exit 77; }
"${ours[@]}" 2>&1
got_ours=$?
"${theirs[@]}" 2>&1
got_theirs=$?
if [ "$got_ours" != "$want" ] || [ "$got_theirs" != "$want" ]; then
  echo "same_verdict: wanted exit $want from both, got ruleeval $got_ours, ${theirs[0]} $got_theirs" >&2
  exit 1
fi
exit 0
