#!/usr/bin/env bash
# expect_exit.sh CODE COMMAND...: runs COMMAND and passes only if it exits with exactly CODE
# (a crash or a different verdict fails). Output is shown on failure.
want=$1
shift
out=$("$@" 2>&1)
got=$?
if [ "$got" != "$want" ]; then
  printf '%s\n' "$out"
  echo "expect_exit: wanted exit $want, got $got: $*" >&2
  exit 1
fi
exit 0
