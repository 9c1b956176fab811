#!/usr/bin/env bash
# slo_golden.sh GOLDEN COMMAND...: runs COMMAND (exit 0 expected) and compares its stdout with
# GOLDEN byte for byte; RULEEVAL_UPDATE_GOLDEN=1 rewrites GOLDEN instead.
golden=$1
shift
out=$("$@"; echo "rc=$?")
if [ "${RULEEVAL_UPDATE_GOLDEN:-}" = 1 ]; then
  printf '%s\n' "$out" > "$golden"
  exit 0
fi
if ! diff -u "$golden" <(printf '%s\n' "$out"); then
  echo "slo_golden: output differs from $golden" >&2
  exit 1
fi
