#!/usr/bin/env bash
# Writes ruleeval(1) with help2man from the binary's own --help, --version and the help of every
# subcommand (as a COMMANDS section).  Usage: tools/manpage.sh BINARY OUT
set -euo pipefail
bin=$1 out=$2
inc=$(mktemp)
trap 'rm -f "$inc"' EXIT
{
  echo "[COMMANDS]"
  for cmd in lint test run replay "promql parse" "promql format"; do
    # shellcheck disable=SC2086
    if "$bin" $cmd --help >/dev/null 2>&1; then
      echo ".SS \"ruleeval $cmd\""
      echo ".nf"
      # shellcheck disable=SC2086
      "$bin" $cmd --help | sed -e 's/\\/\\\\/g' -e 's/^\./\\\&./'
      echo ".fi"
    fi
  done
  cat <<'TXT'
[FILES]
.TP
/etc/ruleeval/ruleeval.yaml
the configuration the service reads
.TP
/var/lib/ruleeval
alert state and the notification outbox (--state-dir)
[EXIT STATUS]
0 when everything passed, 1 when problems were found (lint findings at or above --fail-on,
failing unit tests), 2 on usage or I/O errors.
TXT
} >"$inc"
help2man --no-info --no-discard-stderr --section 1 \
  --name "lint, test and evaluate Prometheus-style alert rules" \
  --include "$inc" --output "$out" "$bin"
