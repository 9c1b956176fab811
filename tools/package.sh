#!/usr/bin/env bash
# Builds the Debian package: a Release build in build-pkg/, then CPack (binaries stripped).
# Prints the path of dist/ruleeval_<version>_amd64.deb. The Dockerfile's build stage runs this too.
#   RULEEVAL_JOBS        parallel build jobs (default: nproc)
#   RULEEVAL_BUILD_DIR   package an existing build tree instead (CI packages the tested build)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${RULEEVAL_JOBS:-$(nproc)}
dir=${RULEEVAL_BUILD_DIR:-build-pkg}
if [ -z "${RULEEVAL_BUILD_DIR:-}" ]; then
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRULEEVAL_TESTS=OFF \
    -DRULEEVAL_BENCH=OFF >/dev/null
fi
cmake --build "$dir" -j "$jobs" --target ruleeval ruleeval_docs >&2  # stdout is the .deb path only
rm -f "$dir"/ruleeval_*_*.deb
(cd "$dir" && cpack -G DEB >/dev/null)
mkdir -p dist
deb=$(ls "$dir"/ruleeval_*_*.deb | head -n 1)
cp "$deb" dist/
echo "dist/$(basename "$deb")"
