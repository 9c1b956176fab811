#!/usr/bin/env bash
# slo_expect.sh CODE REGEX COMMAND...: passes when COMMAND exits with CODE and its output (stdout
# and stderr) matches the extended REGEX.
want=$1 re=$2
shift 2
out=$("$@" 2>&1)
got=$?
printf '%s\n' "$out"
[ "$got" = "$want" ] || { echo "slo_expect: wanted exit $want, got $got" >&2; exit 1; }
grep -Eq -- "$re" <<<"$out" || { echo "slo_expect: output does not match /$re/" >&2; exit 1; }
