#!/usr/bin/env python3
"""Checks the arrows between ruleeval's rooms (ARCHITECTURE.md) on the #include lines.

Each room (a folder with include/ and src/, one CMake target) may include the public headers of
the rooms it depends on (transitively) and the third-party headers listed for it; public headers
(include/) may include no third-party header at all. The CMake targets enforce the same graph at
build time, but a header under /usr/include (curl, httplib) compiles from anywhere; this check
catches that. Usage: check_layers.py SOURCE_DIR. Exit 1 with one line per violation.
"""
import os
import re
import sys

# room folder -> (rooms it may use, third-party include prefixes its src/ may use)
ROOMS = {
    "common": ([], ["xxhash.h"]),
    "common/http": (["common"], ["curl/"]),
    "parser/duration": (["common"], ["boost/"]),
    "parser/promql": (["common", "parser/duration"], ["boost/", "re2/"]),
    "parser/gotmpl": (["common", "parser/duration"], ["boost/", "fmt/", "re2/"]),
    "parser/grafana": (["common", "parser/duration"], ["boost/", "fmt/"]),
    "rules": (["parser/duration", "parser/promql", "parser/gotmpl", "parser/grafana"],
              ["yaml-cpp/", "yaml.h", "re2/", "fmt/"]),
    "engine/tsdb": (["common", "parser/promql"], ["fmt/", "re2/"]),
    "engine/promql": (["engine/tsdb"], ["fmt/", "re2/", "xxhash.h"]),
    "engine/ruler": (["engine/promql", "rules"], ["fmt/", "xxhash.h"]),
    "engine/remote": (["engine/tsdb", "common/http"], ["rapidjson/", "fmt/", "snappy.h"]),
    "engine/web": (["engine/ruler"], ["rapidjson/", "fmt/"]),
    "engine/daemon": (["engine/ruler", "engine/web", "engine/remote", "rules"],
                      ["rapidjson/", "fmt/", "httplib.h", "xxhash.h"]),
    "engine/testing": (["engine/promql", "engine/ruler", "rules"], ["fmt/", "re2/"]),
    "engine/replay": (["engine/daemon"], ["rapidjson/", "fmt/"]),
    "slo": (["rules"], ["yaml-cpp/", "re2/"]),
    "notifiers": (["rules", "common/http"], ["nlohmann/", "curl/", "yaml-cpp/", "re2/", "fmt/"]),
}
THIRD_PARTY = ["boost/", "curl/", "httplib.h", "rapidjson/", "fmt/", "re2/", "yaml-cpp/",
               "yaml.h", "nlohmann/", "snappy.h", "xxhash.h", "spdlog/", "CLI/"]
# Third-party headers that one file alone may include: libyaml stays behind the rule-file loader
# (yaml-cpp is the project's YAML library; ARCHITECTURE.md says why libyaml stays there).
ONE_FILE = {"yaml.h": "rules/src/yaml_tree.cpp"}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def closure(room):
    seen, todo = set(), [room]
    while todo:
        r = todo.pop()
        if r in seen:
            continue
        seen.add(r)
        todo.extend(ROOMS[r][0])
    return seen


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    # public header path ("ruleeval/engine/storage.hpp") -> room
    owner = {}
    for room in ROOMS:
        inc = os.path.join(root, room, "include")
        for dirpath, _, files in os.walk(inc):
            for f in files:
                owner[os.path.relpath(os.path.join(dirpath, f), inc)] = room
    problems = []
    for room, (_, third) in ROOMS.items():
        allowed = closure(room)
        for part in ("include", "src"):
            base = os.path.join(root, room, part)
            for dirpath, _, files in os.walk(base):
                for f in sorted(files):
                    path = os.path.join(dirpath, f)
                    rel = os.path.relpath(path, root)
                    with open(path, encoding="utf-8", errors="replace") as fh:
                        for n, line in enumerate(fh, 1):
                            m = INCLUDE.match(line)
                            if not m:
                                continue
                            name = m.group(2)
                            if name.startswith("ruleeval/"):
                                o = owner.get(name)
                                if o is None:
                                    problems.append(f"{rel}:{n}: {name} is no room's public header")
                                elif o not in allowed:
                                    problems.append(f"{rel}:{n}: {room} may not include {name} "
                                                    f"(room {o}); the arrow points the other way "
                                                    "or is missing")
                                continue
                            tp = next((p for p in THIRD_PARTY if name.startswith(p)), None)
                            if tp is None:
                                continue
                            if part == "include":
                                problems.append(f"{rel}:{n}: public header includes <{name}>; "
                                                "third-party headers stay in src/")
                            elif tp not in third:
                                problems.append(f"{rel}:{n}: {room} may not include <{name}>")
                            elif tp in ONE_FILE and rel != ONE_FILE[tp]:
                                problems.append(f"{rel}:{n}: only {ONE_FILE[tp]} may include "
                                                f"<{name}>")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
