#!/usr/bin/env bash
# Package test (tools/test.sh's "package" stage; needs root): installs the .deb built by
# tools/package.sh on this machine, checks what it laid out, verifies the systemd unit, starts
# ruleeval exactly as the unit's ExecStart would (as the `ruleeval` user, with the default
# configuration), waits for /-/ready, stops it with SIGTERM, and purges the package, checking
# that nothing is left behind.  Usage: tests/package/install_test.sh dist/ruleeval_*.deb
set -euo pipefail
deb=$(realpath "$1")
fail() { echo "package test: FAILED: $*" >&2; exit 1; }
ok() { echo "package test: ok: $*"; }

if dpkg-query -W -f='${Status}' ruleeval 2>/dev/null | grep -q "install ok installed"; then
  fail "ruleeval is already installed on this machine; remove it first"
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >/dev/null
trap 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq ruleeval >/dev/null 2>&1 || true' EXIT

# Layout.
/usr/bin/ruleeval --version | grep -q "^ruleeval, version " || fail "--version"
for f in /etc/ruleeval/ruleeval.yaml /etc/ruleeval/rules/watchdog.yaml /etc/default/ruleeval \
         /lib/systemd/system/ruleeval.service /usr/share/man/man1/ruleeval.1.gz \
         /usr/share/bash-completion/completions/ruleeval /usr/share/zsh/vendor-completions/_ruleeval \
         /usr/share/doc/ruleeval/examples/demo/ruleeval.yaml; do
  [ -e "$f" ] || fail "missing $f"
done
ok "files laid out"
getent passwd ruleeval >/dev/null || fail "no ruleeval user"
[ "$(stat -c %U:%a /var/lib/ruleeval)" = "ruleeval:750" ] || fail "/var/lib/ruleeval: $(stat -c %U:%a /var/lib/ruleeval)"
[ "$(stat -c %G:%a /etc/ruleeval/ruleeval.yaml)" = "ruleeval:640" ] || fail "config permissions"
ok "user ruleeval and /var/lib/ruleeval"
zcat /usr/share/man/man1/ruleeval.1.gz | grep -q '^\.SS "ruleeval lint"' || fail "man page lacks the lint section"
# Bash completion answers from the real command line definition.
reply=$(bash -c 'source /usr/share/bash-completion/completions/ruleeval
  COMP_WORDS=(ruleeval li); COMP_CWORD=1; _ruleeval; echo "${COMPREPLY[*]}"
  COMP_WORDS=(ruleeval lint --fa); COMP_CWORD=2; _ruleeval; echo "${COMPREPLY[*]}"')
[ "$reply" = $'lint\n--fail-on' ] || fail "bash completion answered: $reply"
ok "man page and completions"

if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify /lib/systemd/system/ruleeval.service || fail "systemd-analyze verify"
  ok "systemd-analyze verify"
else
  fail "systemd-analyze not installed (tools/bootstrap.sh installs systemd)"
fi

# The unit's command line, with /etc/default/ruleeval's ARGS, as the ruleeval user.
exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/ruleeval.service)
# shellcheck disable=SC1091
. /etc/default/ruleeval
cmdline=${exec_start//\$ARGS/${ARGS:-}}
/usr/bin/ruleeval run --check-config --config /etc/ruleeval/ruleeval.yaml || fail "--check-config"
if (exec 3<>/dev/tcp/127.0.0.1/9095) 2>/dev/null; then
  fail "port 9095 (the unit's --listen-address) is in use on this machine"
fi
log=$(mktemp)
# shellcheck disable=SC2086
# setpriv execs ruleeval itself (runuser would stay in between and eat the SIGTERM status).
setpriv --reuid=ruleeval --regid=ruleeval --init-groups -- $cmdline 2>"$log" &
pid=$!
ready=0
for _ in $(seq 1 100); do
  if curl -fsS http://127.0.0.1:9095/-/ready >/dev/null 2>&1; then ready=1; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
[ "$ready" = 1 ] || { cat "$log" >&2; fail "/-/ready did not answer 200"; }
curl -fsS http://127.0.0.1:9095/api/v1/rules | grep -q '"Watchdog"' || fail "the Watchdog rule is not loaded"
ok "started from the unit's command line; /-/ready answers"
kill -TERM "$pid"
for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fail "did not stop within 30 s of SIGTERM"; fi
wait "$pid" || fail "exited non-zero after SIGTERM: $(tail -5 "$log")"
ls /var/lib/ruleeval | grep -q . || fail "no state was saved in /var/lib/ruleeval"
ok "stopped cleanly on SIGTERM with its state in /var/lib/ruleeval"

DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq ruleeval >/dev/null
trap - EXIT
for f in /usr/bin/ruleeval /etc/ruleeval /var/lib/ruleeval /lib/systemd/system/ruleeval.service; do
  [ ! -e "$f" ] || fail "$f is left after purge"
done
! getent passwd ruleeval >/dev/null || fail "the ruleeval user is left after purge"
ok "purged cleanly"
echo "package test: 1 passed, 0 failed"
