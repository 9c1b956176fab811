#!/usr/bin/env bash
# clang-tidy gate: tools/ci/clang-tidy.sh BUILD_DIR [JOBS]
# Runs clang-tidy-16 (Debian's clang-tidy 14 cannot parse C++23's std::expected, which needs P0848)
# with the repository's .clang-tidy on every C++ file of the build's compile_commands.json that
# lives in the source tree (libraries, CLI, tests, fuzz and bench drivers; generated files are
# skipped). BUILD_DIR must be a clang-16 build (its commands carry the flags clang needs, see
# cmake/Warnings.cmake); it only has to be configured, not built.
# Prints every finding once (a header's finding is reported by every file that includes it), a
# count per check, and exits 1 if there is any finding or a file does not compile.
#   RULEEVAL_TIDY_FILES=regex   always analyse the files whose path matches; the others are
#                               analysed only when RULEEVAL_TIDY_VERIFIED does not vouch for them
#                               (without it, they are skipped: local iteration)
#   RULEEVAL_TIDY_VERIFIED=file inputs recorded as analysed with zero findings (see below)
#   RULEEVAL_TIDY_RECORD=file   after a run with zero findings, record every analysed file's input
#   RULEEVAL_TIDY_CACHE=dir     result cache (default ~/.cache/ruleeval/clang-tidy; empty: none)
# The cache (the idea of ccache, for clang-tidy): a file's report is reused when nothing it is
# analysed from has changed, i.e. the same clang-tidy, every .clang-tidy of the tree, the same
# compile command and the same preprocessed text with comments and macro definitions
# (`clang++ -E -C -dD`: every header's text, NOLINT comments included). Preprocessing costs about
# 0.15 CPU-s a file against 2-25 for clang-tidy, so an unchanged file costs almost nothing and a
# changed header re-analyses exactly the files that include it. Reports with findings are cached
# too (they come back until the input changes); failed runs are not.
# Verified inputs (how CI gates the whole tree in its time budget): the same key, computed with
# the source and build directories written as @SRC@ and @BUILD@ so that it does not depend on
# where the checkout lives, identifies exactly what clang-tidy saw. RULEEVAL_TIDY_RECORD writes
# the keys of a run with zero findings to a file kept in the repository
# (tools/ci/clang-tidy-verified.txt); with RULEEVAL_TIDY_VERIFIED pointing at it, a file outside
# RULEEVAL_TIDY_FILES whose key is listed was analysed with these checks, this clang-tidy and this
# very input and had no finding, so it is not analysed again; any change to the file, a header it
# includes, its flags, the .clang-tidy files or the clang-tidy version changes its key, and the
# file is analysed. Preprocessing every such file costs about 0.15 CPU-s each.
set -euo pipefail
build=$(cd "$1" && pwd)
jobs=${2:-$(nproc)}
src=$(cd "$(dirname "$0")/../.." && pwd)
tidy=${CLANG_TIDY:-clang-tidy-16}
out=$build/clang-tidy
rm -rf "$out" && mkdir -p "$out" && : >"$out/times"

cache=${RULEEVAL_TIDY_CACHE-}
if [ -z "${RULEEVAL_TIDY_CACHE+set}" ] && [ -n "${XDG_CACHE_HOME:-${HOME:-}}" ]; then
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/ruleeval/clang-tidy
fi
# One line per file: the file, then the shell-quoted command that preprocesses it to stdout (the
# compile command without -c/-o/dependency-file options) run in the command's directory.
verified=${RULEEVAL_TIDY_VERIFIED:-}
[ -z "$verified" ] || [ -f "$verified" ] || { echo "clang-tidy: no such file $verified"; exit 1; }
[ -z "$verified" ] || verified=$(cd "$(dirname "$verified")" && pwd)/$(basename "$verified")
python3 - "$build/compile_commands.json" "$src" "$build" "${RULEEVAL_TIDY_FILES:-}" \
  "$verified" >"$out/files" <<'PY'
import json, os, re, shlex, sys
db, src, build, only, verified = sys.argv[1:]
seen = set()
for e in json.load(open(db)):
    f = os.path.normpath(os.path.join(e["directory"], e["file"]))
    rel = os.path.relpath(f, src)
    if rel.startswith("..") or f.startswith(build + "/") or rel.split("/")[0].startswith("build"):
        continue
    # Files outside the regex: checked against the verified inputs (V), or else skipped.
    gate = "A"
    if only and not re.search(only, f):
        if not verified:
            continue
        gate = "V"
    if f not in seen:
        seen.add(f)
        args = e.get("arguments") or shlex.split(e["command"])
        pp, skip = [], False
        for a in args:
            if skip:
                skip = False
            elif a in ("-o", "-MF", "-MT", "-MQ"):
                skip = True
            elif a not in ("-c", "-MD", "-MMD") and not a.startswith("-o"):
                pp.append(a)
        pp += ["-E", "-C", "-dD", "-o", "-"]
        print(gate + f + "\t" + "cd " + shlex.quote(e["directory"]) + " && " + shlex.join(pp))
PY
n=$(wc -l <"$out/files")
echo "clang-tidy: $n files ($(grep -c '^V' "$out/files" || true) outside RULEEVAL_TIDY_FILES, analysed unless their input is in" \
  "${verified:-(none)}), $jobs jobs ($($tidy --version | grep -o 'version [0-9.]*'))${cache:+, cache $cache}"
start=$SECONDS
# What every file's report depends on besides its own preprocessed text and command.
ident=$({ $tidy --version; find "$src" -name .clang-tidy -not -path "$src/build*" | sort | xargs cat; } |
  sha256sum | cut -c1-64)
if [ -n "$cache" ]; then
  # Entries not used for 30 days go; an unwritable cache only means no cache.
  mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ] || { echo "clang-tidy: no cache ($cache not writable)"; cache=; }
  [ -z "$cache" ] || find "$cache" -type f -mtime +30 -delete 2>/dev/null || true
fi
: >"$out/hits" && : >"$out/pptimes" && : >"$out/keys" && : >"$out/vouched"
# One output file per source file; clang-tidy's exit status only says whether it ran.
export tidy build out cache ident src verified
tr '\n' '\0' <"$out/files" | xargs -0 -P "$jobs" -n 1 bash -c '
  gate=${1:0:1}; line=${1:1}
  f=${line%%$'"'"'\t'"'"'*}; pp=${line#*$'"'"'\t'"'"'}; log="$out/$(echo "$f" | tr / _).log"
  key=
  if [ -n "$cache" ] || [ -n "$verified" ] || [ -n "${RULEEVAL_TIDY_RECORD:-}" ]; then
    # The build directory lies inside the source directory in CI: replaced first.
    key=$({ echo "$ident"; echo "$pp"; /usr/bin/time -o "$log.pptime" -f "%U %S" bash -c "$pp" 2>/dev/null ||
      echo "preprocessing failed"; } | sed -e "s|$build|@BUILD@|g" -e "s|$src|@SRC@|g" | sha256sum | cut -c1-64)
    awk "{printf \"%.2f\\n\", \$1 + \$2}" "$log.pptime" >>"$out/pptimes"
    echo "$key ${f#"$src"/}" >>"$out/keys"
    if [ "$gate" = V ] && grep -q "^$key " "$verified"; then
      : >"$log" && echo "$f" >>"$out/vouched" && exit 0
    fi
    if [ -n "$cache" ] && [ -f "$cache/$key" ]; then
      cp "$cache/$key" "$log" && touch "$cache/$key" && echo "$f" >>"$out/hits" && exit 0
    fi
  fi
  if /usr/bin/time -o "$log.time" -f "%U %S %e" "$tidy" -p "$build" --quiet "$f" >"$log" 2>"$log.err"; then
    [ -z "$key" ] || { cp "$log" "$cache/$key.$$" && mv "$cache/$key.$$" "$cache/$key"; }
  else
    echo "$f" >>"$out/failed"
  fi
  awk -v f="$f" "{printf \"%.1f %s %s\\n\", \$1 + \$2, \$3, f}" "$log.time" >>"$out/times"' _

cat "$out"/*.log | grep -E '^/.*:[0-9]+:[0-9]+: (warning|error): .*\[[a-z][a-zA-Z0-9.,-]*\]$' | sort -u >"$out/findings" || true
count=$(wc -l <"$out/findings")
echo "clang-tidy: $count findings in $((SECONDS - start)) s"
# CPU seconds (user+sys) and wall seconds per file, the slowest first (the gate's cost per file).
sort -rn "$out/times" >"$out/times.sorted"
echo "clang-tidy: $(wc -l <"$out/vouched") files whose input is verified (zero findings recorded)," \
  "$(wc -l <"$out/hits") unchanged (cached report), $(wc -l <"$out/times") analysed," \
  "$(awk '{c += $1} END {printf "%.0f", c}' "$out/pptimes") CPU s preprocessing for the keys"
echo "clang-tidy: $(awk '{c += $1} END {printf "%.0f", c}' "$out/times") CPU s in all; slowest files (CPU s, wall s):"
head -5 "$out/times.sorted" | sed "s|$src/||"
if [ "$count" != 0 ]; then
  sed "s|^$src/||" "$out/findings"
  echo "per check:"
  sed -E 's/.*\[([^]]+)\]$/\1/' "$out/findings" | sort | uniq -c | sort -rn
fi
if [ -s "$out/failed" ]; then
  echo "clang-tidy: could not analyse:"
  while read -r f; do echo "  $f"; tail -5 "$out/$(echo "$f" | tr / _).log.err"; done <"$out/failed"
  exit 1
fi
[ "$count" = 0 ] || exit 1
if [ -n "${RULEEVAL_TIDY_RECORD:-}" ]; then
  {
    echo "# clang-tidy inputs analysed with zero findings: sha256 key (tools/ci/clang-tidy.sh), file."
    echo "# Written by RULEEVAL_TIDY_RECORD=$(basename "$RULEEVAL_TIDY_RECORD") tools/ci/clang-tidy.sh; read by CI's gate."
    sort -k2 "$out/keys"
  } >"$RULEEVAL_TIDY_RECORD"
  echo "clang-tidy: recorded $(wc -l <"$out/keys") verified inputs in $RULEEVAL_TIDY_RECORD"
fi
