// `ruleeval test FILE...`: runs Prometheus PromQL `.test` scripts and prints, per file,
// `N passed, N failed` plus every failure with file:line, the query, expected and got.
// `--skip FILE` names a skip list of `file:line` entries (basename or path; `#` comments).
// promtool rule-test YAML files (.yml/.yaml) run through engine/rule_unittest with promtool's
// flags (--run, --junit, --diff, --ignore-unknown-fields).
// Exit codes: 0 everything passed, 1 failures, 2 usage or I/O error.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "features.hpp"
#include "ruleeval/common/env.hpp"
#include "ruleeval/engine/promqltest.hpp"
#include "ruleeval/engine/rule_unittest.hpp"

namespace ruleeval::cli {
namespace {

namespace fs = std::filesystem;

bool read_file(const std::string& path, std::string& out) {
  auto text = Env::Default()->read_file(path, kMaxInputFileBytes, Env::Streams::kAllow);
  if (!text) return false;
  out = std::move(*text);
  return true;
}

// Skip list: one `file:line` per entry, anything after whitespace or `#` is a comment.
bool load_skip_list(const std::string& path, std::map<std::string, std::set<uint32_t>>& out,
                    std::string& error) {
  std::string text;
  if (!read_file(path, text)) {
    error = "cannot read skip list " + path;
    return false;
  }
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream ls(line);
    std::string entry;
    if (!(ls >> entry)) continue;
    auto colon = entry.rfind(':');
    if (colon == std::string::npos) {
      error = fmt::format("{}:{}: expected file:line, got \"{}\"", path, n, entry);
      return false;
    }
    try {
      out[fs::path(entry.substr(0, colon)).filename().string()].insert(
          static_cast<uint32_t>(std::stoul(entry.substr(colon + 1))));
    } catch (const std::exception&) {
      error = fmt::format("{}:{}: bad line number in \"{}\"", path, n, entry);
      return false;
    }
  }
  return true;
}

// Returns 0 if every eval passed, 1 otherwise, 2 if the file could not be read.
int run_promql_test_file(const std::string& path, const std::set<uint32_t>& skip, bool verbose) {
  std::string content;
  if (!read_file(path, content)) {
    std::cerr << path << ": cannot read file\n";
    return 2;
  }
  engine::PromqlTestOptions opts;
  opts.skip_lines = skip;
  auto report = engine::run_promql_test(path, content, opts);
  for (const auto& f : report.failures) {
    std::cout << path << ":" << f.line << ": FAIL";
    if (!f.expr.empty()) std::cout << " " << f.expr;
    std::cout << "\n    " << f.message << "\n";
  }
  std::cout << path << ": " << report.passed << " passed, " << report.failed << " failed";
  if (report.skipped) std::cout << ", " << report.skipped << " skipped";
  if (verbose && report.histogram_samples_loaded) {
    std::cout << " (" << report.histogram_samples_loaded << " native histogram samples loaded)";
  }
  std::cout << "\n";
  return report.failed == 0 ? 0 : 1;
}

}  // namespace

void register_test(CLI::App& app, int& exit_code) {
  auto* sub = app.add_subcommand("test", "Run rule unit tests (promtool format) and PromQL .test scripts");
  struct Args {
    std::vector<std::string> files;
    std::string skip_file;
    bool verbose = false;
    engine::RuleUnitTestOptions rule_opts;
    std::vector<std::string> features;
  };
  auto args = std::make_shared<Args>();
  sub->add_option("files", args->files, ".test files")->required();
  sub->add_option("--skip", args->skip_file, "skip list: file:line entries, # comments");
  sub->add_flag("-v,--verbose", args->verbose, "also report how many native histogram samples were loaded");
  sub->add_option("--run", args->rule_opts.run,
                  "only rule-test groups whose name matches this regex (repeatable)");
  sub->add_option("--junit", args->rule_opts.junit_path, "write a JUnit XML report of rule tests");
  sub->add_flag("--diff", args->rule_opts.diff, "show a diff of expected and actual alerts");
  sub->add_flag("--ignore-unknown-fields", args->rule_opts.ignore_unknown_fields,
                "accept unknown fields in test and rule files");
  sub->add_option("--enable-feature", args->features,
                  "Enable experimental PromQL (promql-experimental-functions, ...)")
      ->allow_extra_args(false);
  sub->add_option("--promql-compat", args->rule_opts.promql_compat,
                  "PromQL semantics of rule tests: 3 (default: left-open range windows and "
                  "lookback) or 2 (Prometheus 2: windows include their start, __name__ is "
                  "dropped at each function)")
      ->check(CLI::IsMember({2, 3}))
      ->capture_default_str();
  sub->callback([args, &exit_code] {
    // `ruleeval test rules FILES` is `promtool test rules FILES`.
    if (!args->files.empty() && args->files.front() == "rules") args->files.erase(args->files.begin());
    if (args->files.empty()) {
      std::cerr << "ruleeval test: no test files given\n";
      exit_code = 2;
      return;
    }
    if (std::string unknown;
        !parse_features(args->features, args->rule_opts.experimental_promql, unknown)) {
      std::cerr << "ruleeval test: unknown feature \"" << unknown << "\"\n";
      exit_code = 2;
      return;
    }
    std::map<std::string, std::set<uint32_t>> skips;
    if (!args->skip_file.empty()) {
      std::string err;
      if (!load_skip_list(args->skip_file, skips, err)) {
        std::cerr << "ruleeval test: " << err << "\n";
        exit_code = 2;
        return;
      }
    }
    int rc = 0;
    std::vector<std::string> rule_tests;
    for (const auto& f : args->files) {
      auto ext = fs::path(f).extension().string();
      if (ext == ".yml" || ext == ".yaml") rule_tests.push_back(f);
    }
    if (!rule_tests.empty()) {
      rc = engine::run_rule_unittests(rule_tests, args->rule_opts, std::cout, std::cerr);
    }
    for (const auto& f : args->files) {
      auto ext = fs::path(f).extension().string();
      int r;
      if (ext == ".yml" || ext == ".yaml") {
        continue;
      } else {
        static const std::set<uint32_t> kNone;
        auto it = skips.find(fs::path(f).filename().string());
        r = run_promql_test_file(f, it == skips.end() ? kNone : it->second, args->verbose);
      }
      rc = std::max(rc, r);
    }
    exit_code = rc;
  });
}

}  // namespace ruleeval::cli
