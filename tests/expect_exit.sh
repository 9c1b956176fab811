#!/usr/bin/env bash
# expect_exit.sh CODE COMMAND...: runs COMMAND, shows its output, and passes only if it exits with
# exactly CODE (a crash or a different verdict fails).
want=$1
shift
"$@" 2>&1
got=$?
if [ "$got" != "$want" ]; then
  echo "expect_exit: wanted exit $want, got $got: $*" >&2
  exit 1
fi
exit 0
