#!/usr/bin/env bash
# Install everything ruleeval needs to build and test, from Debian 12 packages only.
# Idempotent: packages already present are skipped by apt-get.
#   tools/bootstrap.sh          build + unit-test dependencies
#   tools/bootstrap.sh --all    also the real servers used by integration tests
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

build_pkgs=(
  build-essential cmake ninja-build pkg-config git python3
  libboost-dev libyaml-cpp-dev libcurl4-openssl-dev nlohmann-json3-dev rapidjson-dev doctest-dev
  libre2-dev libfmt-dev libcli11-dev libspdlog-dev libcpp-httplib-dev libxxhash-dev libyaml-dev
  libprotobuf-dev protobuf-compiler libsnappy-dev
  clang-16 libclang-rt-16-dev
  help2man dpkg-dev file   # tools/package.sh: the man page, and CPack's shared-library dependencies
  gcovr cppcheck clang-tidy-16   # tools/ci/: coverage, static analysis (clang-tidy 14 lacks C++23)
)
# Integration tests: the servers; the browser test (chromium, chromium-driver, python3-selenium);
# the package install test (systemd for systemd-analyze, curl for /-/ready, adduser); openssl for
# the pushover parity test's throw-away certificate.
server_pkgs=(prometheus prometheus-alertmanager victoria-metrics python3-aiosmtpd chromium chromium-driver
             python3-selenium systemd curl adduser openssl)

want=("${build_pkgs[@]}")
if [ "${1:-}" = "--all" ]; then want+=("${server_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "bootstrap: all ${#want[@]} packages already installed"
  exit 0
fi
echo "bootstrap: installing ${missing[*]}"
$SUDO apt-get update -qq
# Debian's service packages try to start daemons; containers forbid that, and we start our own.
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "bootstrap: done"
