#!/usr/bin/env python3
"""Checks that the rooms reach the clocks and input files only through the Env seam.

ruleeval/common/env.hpp is the one seam to the outside world (LevelDB's Env): the wall clock,
the monotonic clock and whole-file reads go through an Env, so that tests can replace them
(tests/common/fake_env.hpp). This check (ctest "env seam") fails on a direct
`system_clock::now`, `steady_clock::now`, `high_resolution_clock::now`, `time(nullptr)` or
`std::ifstream` in the rooms' sources outside the Env implementation, and on the libcurl HTTP
client (`http::Client`, `thread_client()`) outside its room common/http (HTTP goes through
Env::http_client() / Env::new_http_client()), one line per use:
`path:line: <what> outside the Env seam (use ruleeval::Env ...)`.

Not checked, on purpose: tests/ (they drive real time around the component under test) and
tools/bench/ (benchmarks time the real machine). Usage: check_env.py SOURCE_DIR.
"""
import os
import re
import sys

# Folders whose sources must use the seam.
ROOTS = ["common", "parser", "rules", "engine", "notifiers", "slo", "tools/ruleeval", "tools/fuzz"]
# The Env implementation itself.
ALLOWED = {"common/src/env.cpp"}
# The HTTP implementation (libcurl), which Env::Default() hands out once installed.
HTTP_ALLOWED_PREFIX = "common/http/"
HTTP_PATTERNS = [
    (re.compile(r"\bhttp::Client\b"), "the libcurl client http::Client",
     "Env::http_client()/new_http_client()"),
    (re.compile(r"(?<![\w.>])(?:http::)?thread_client\s*\("), "http::thread_client()",
     "Env::http_client()"),
]
PATTERNS = [
    (re.compile(r"\bsystem_clock::now\b"), "system_clock::now()", "Env::now()/now_ms()"),
    (re.compile(r"\bsteady_clock::now\b"), "steady_clock::now()", "Env::monotonic_now()"),
    (re.compile(r"\bhigh_resolution_clock::now\b"), "high_resolution_clock::now()",
     "Env::monotonic_now()"),
    (re.compile(r"(?<![\w:.>])(?:std::|::)?time\s*\(\s*(?:nullptr|NULL|0)\s*\)"), "time(nullptr)",
     "Env::now()"),
    (re.compile(r"\b(?:std::)?ifstream\b"), "std::ifstream", "Env::read_file()"),
]
SOURCE = (".cpp", ".hpp", ".h", ".cc")
STRING = re.compile(r'"(?:\\.|[^"\\])*"')


def code_part(line):
    """The line without string literals and without a // comment."""
    line = STRING.sub('""', line)
    cut = line.find("//")
    return line if cut < 0 else line[:cut]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    problems = []
    in_block = False
    for top in ROOTS:
        base = os.path.join(root, top)
        for dirpath, dirs, files in os.walk(base):
            dirs.sort()
            for f in sorted(files):
                if not f.endswith(SOURCE):
                    continue
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, root).replace(os.sep, "/")
                if rel in ALLOWED:
                    continue
                in_block = False
                with open(path, encoding="utf-8", errors="replace") as fh:
                    for n, raw in enumerate(fh, 1):
                        line = raw
                        # /* ... */ comments, possibly over several lines.
                        out = ""
                        while line:
                            if in_block:
                                end = line.find("*/")
                                if end < 0:
                                    line = ""
                                    break
                                line = line[end + 2:]
                                in_block = False
                            else:
                                start = line.find("/*")
                                if start < 0 or "//" in line[:start]:
                                    out += line
                                    break
                                out += line[:start]
                                line = line[start + 2:]
                                in_block = True
                        code = code_part(out)
                        patterns = PATTERNS if rel.startswith(HTTP_ALLOWED_PREFIX) else (
                            PATTERNS + HTTP_PATTERNS)
                        for pat, what, instead in patterns:
                            if pat.search(code):
                                problems.append(f"{rel}:{n}: {what} outside the Env seam "
                                                f"(use ruleeval::{instead}, "
                                                "ruleeval/common/env.hpp)")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
