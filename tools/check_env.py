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

File operations go through the Env too, so that tests can inject failures into them: in the
rooms (common, parser, rules, slo, engine, notifiers) outside common/src/env.cpp the check also
fails on std::filesystem's I/O functions (exists, is_directory, is_regular_file, directory
iterators, remove, remove_all, rename, permissions, create_directory/ies, file_size,
last_write_time, status, copy, ...; called as std::filesystem::, fs:: or through any other
`namespace x = std::filesystem` alias), std::ofstream/std::fstream, fopen/freopen, and the raw
POSIX file calls (::open, ::openat, ::creat, ::unlink, ::rename, ::rmdir, ::mkdir, ::chmod,
::opendir, ::glob, ::stat, ::lstat). Path arithmetic (std::filesystem::path, its joins,
parent_path, filename, extension, lexically_normal, is_absolute) is not I/O and stays allowed, as
do member functions named open (Outbox::open, log_->open).

Not checked, on purpose: tests/ (they drive real time around the component under test),
tools/bench/ (benchmarks time the real machine), and, for the file operations only, the CLI
(tools/ruleeval: its own output files and the directories it walks for `lint`/`slo`) and the fuzz
drivers (tools/fuzz: scratch files), which are the program's edge rather than a component a test
injects failures into. Usage: check_env.py SOURCE_DIR, or check_env.py --self-test.
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
# Where file operations must go through the Env too (not the CLI, not the fuzz drivers).
FILE_ROOTS = ("common/", "parser/", "rules/", "slo/", "engine/", "notifiers/")
FS_IO = ("exists|is_directory|is_regular_file|is_symlink|is_empty|is_fifo|is_socket|"
         "is_block_file|is_character_file|is_other|directory_iterator|"
         "recursive_directory_iterator|remove|remove_all|rename|permissions|create_directory|"
         "create_directories|create_symlink|create_hard_link|file_size|last_write_time|status|"
         "symlink_status|copy|copy_file|copy_symlink|resize_file|space|canonical|"
         "weakly_canonical|read_symlink|equivalent|current_path|temp_directory_path")
FS_INSTEAD = ("Env::file_exists()/is_directory()/is_regular_file()/list_dir()/rename_file()/"
              "remove_file()/remove_dir()/set_permissions()/create_dir()/last_modified()")
FS_ALIAS = re.compile(r"\bnamespace\s+(\w+)\s*=\s*(?:::)?std::filesystem\s*;")
FS_USING = re.compile(r"\busing\s+(?:::)?std::filesystem::(?:" + FS_IO + r")\s*;")
FILE_PATTERNS = [
    (re.compile(r"\b(?:std::)?ofstream\b"), "std::ofstream", "Env::replace_file()"),
    (re.compile(r"\bstd::fstream\b"), "std::fstream", "Env::read_file()/replace_file()"),
    (re.compile(r"(?<![\w.>])(?:std::|::)?f(?:re)?open\s*\("), "fopen()",
     "Env::read_file()/replace_file()/new_appendable_file()"),
    (re.compile(r"(?<![\w.>])::(?:open|openat|creat)\s*\("), "a raw ::open()",
     "Env::new_appendable_file()/replace_file()/read_file()"),
    (re.compile(r"(?<![\w.>])::(?:unlink|unlinkat|rmdir)\s*\("), "a raw ::unlink()/::rmdir()",
     "Env::remove_file()/remove_dir()"),
    (re.compile(r"(?<![\w.>])(?:std::|::)rename\s*\("), "a raw rename()", "Env::rename_file()"),
    (re.compile(r"(?<![\w.>])::(?:mkdir|mkdirat)\s*\("), "a raw ::mkdir()", "Env::create_dir()"),
    (re.compile(r"(?<![\w.>])::f?chmod\s*\("), "a raw ::chmod()", "Env::set_permissions()"),
    (re.compile(r"(?<![\w.>])::(?:opendir|fdopendir|scandir)\s*\("), "a raw ::opendir()",
     "Env::list_dir()"),
    (re.compile(r"(?<![\w.>])::glob\s*\("), "a raw ::glob()", "Env::glob()"),
    (re.compile(r"(?<![\w.>])::l?stat\s*\("), "a raw ::stat()",
     "Env::file_exists()/is_regular_file()/is_directory()/last_modified()"),
    (FS_USING, "a using-declaration of a std::filesystem I/O function", "Env's file functions"),
]
SOURCE = (".cpp", ".hpp", ".h", ".cc")
STRING = re.compile(r'"(?:\\.|[^"\\])*"')


def code_part(line):
    """The line without string literals and without a // comment."""
    line = STRING.sub('""', line)
    cut = line.find("//")
    return line if cut < 0 else line[:cut]


def fs_pattern(aliases):
    """std::filesystem's I/O functions, called through std::filesystem:: or an alias."""
    prefixes = [r"(?:::)?std::filesystem::"] + [r"(?<![\w:])" + re.escape(a) + "::"
                                                 for a in sorted(aliases)]
    return re.compile("(?:" + "|".join(prefixes) + r")(?:" + FS_IO + r")\b(?!\s*::)")


def check_lines(rel, lines):
    """(line number, what, instead) for each use outside the seam in one file's lines."""
    found = []
    in_block = False
    file_ops = rel.startswith(FILE_ROOTS)
    aliases = {"fs"}
    codes = []
    for raw in lines:
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
        codes.append(code)
        m = FS_ALIAS.search(code)
        if m:
            aliases.add(m.group(1))
    fs_io = fs_pattern(aliases)
    patterns = PATTERNS if rel.startswith(HTTP_ALLOWED_PREFIX) else PATTERNS + HTTP_PATTERNS
    if file_ops:
        patterns = patterns + FILE_PATTERNS + [
            (fs_io, "a std::filesystem I/O function", FS_INSTEAD)]
    for n, code in enumerate(codes, 1):
        for pat, what, instead in patterns:
            if pat.search(code):
                found.append((n, what, instead))
    return found


# (room-relative path, source line, refused?) for --self-test.
SELF_TEST = [
    ("notifiers/src/x.cpp", "if (std::filesystem::exists(p)) {", True),
    ("notifiers/src/x.cpp", "fs::rename(a, b, ec);", True),
    ("notifiers/src/x.cpp", "for (auto& e : fs::directory_iterator(d)) {", True),
    ("slo/src/x.cpp", "auto it = fs::recursive_directory_iterator(dir, ec);", True),
    ("engine/x/src/x.cpp", "std::ofstream j(path);", True),
    ("rules/src/x.cpp", "FILE* f = fopen(p.c_str(), \"w\");", True),
    ("notifiers/src/x.cpp", "int fd = ::open(log.c_str(), O_WRONLY | O_APPEND, 0600);", True),
    ("common/src/record_log.cpp", "::unlink(p.c_str());", True),
    ("notifiers/src/x.cpp", "fs::permissions(d, fs::perms::owner_all, ec);", True),
    ("notifiers/src/x.cpp", "if (std::filesystem::is_regular_file(p, ec)) {", True),
    ("notifiers/src/x.cpp", "int rc = ::glob(p.c_str(), 0, nullptr, &g);", True),
    ("notifiers/src/x.cpp", "auto n = fs::file_size(p);", True),
    ("notifiers/src/x.cpp", "using std::filesystem::exists;", True),
    ("parser/src/x.cpp", "std::remove(a.begin(), a.end(), 'x');", False),
    ("notifiers/src/x.cpp", "auto ob = Outbox::open(dir, env);", False),
    ("common/src/record_log.cpp", "Result<void> RecordLog::open(uint64_t next_seq) {", False),
    ("notifiers/src/x.cpp", "if (auto r = log_->open(0); !r) {", False),
    ("notifiers/src/x.cpp", "const fs::path p = fs::path(dir) / \"failed\";", False),
    ("rules/src/x.cpp", "return (fs::path(base_) / p).lexically_normal().string();", False),
    ("notifiers/src/x.cpp", "// std::filesystem::exists was here", False),
    ("notifiers/src/x.cpp", "log(\"cannot std::ofstream or fopen( it\");", False),
    ("notifiers/src/x.cpp", "#include <fstream>", False),
    ("notifiers/src/x.cpp", "const fs::file_status st = s;", False),
    ("tools/ruleeval/cmd_x.cpp", "std::ofstream o(path);", False),
    ("tools/ruleeval/cmd_x.cpp", "std::ifstream i(path);", True),
    ("common/src/x.cpp", "auto t = std::chrono::system_clock::now();", True),
]


def self_test():
    bad = 0
    for rel, line, refused in SELF_TEST:
        got = bool(check_lines(rel, [line + "\n"]))
        if got != refused:
            bad += 1
            print(f"self-test: {rel}: {line!r}: {'refused' if got else 'allowed'}, expected "
                  f"{'refused' if refused else 'allowed'}")
    # An alias other than fs is followed.
    if not check_lines("engine/x.cpp", ["namespace stdfs = std::filesystem;\n",
                                         "stdfs::remove_all(d);\n"]):
        bad += 1
        print("self-test: stdfs::remove_all through an alias was allowed")
    print(f"self-test: {len(SELF_TEST) + 1 - bad} of {len(SELF_TEST) + 1} cases right")
    return 1 if bad else 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--self-test":
        return self_test()
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    problems = []
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
                with open(path, encoding="utf-8", errors="replace") as fh:
                    for n, what, instead in check_lines(rel, fh.readlines()):
                        problems.append(f"{rel}:{n}: {what} outside the Env seam "
                                        f"(use ruleeval::{instead}, "
                                        "ruleeval/common/env.hpp)")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
