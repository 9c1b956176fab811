// `ruleeval check rules FILES...`: `promtool check rules` for CI scripts that call promtool. Only
// promtool's checks (rulefmt validation, PromQL syntax, templates, repeated group names) and its
// duplicate-rules lint run, and the output and exit codes are promtool's: 0 valid, 1 errors (or
// an unreadable file), 3 lint problems with --lint-fatal. `ruleeval lint` is the richer command.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "features.hpp"
#include "ruleeval/rules/lint.hpp"
#include "ruleeval/rules/loader.hpp"

namespace ruleeval::cli {
namespace {

namespace fs = std::filesystem;

struct CheckRulesOptions {
  std::vector<std::string> files;
  std::string lint = "duplicate-rules";
  bool lint_fatal = false;
  bool ignore_unknown_fields = false;
  std::vector<std::string> features;
};

// promtool's checkDuplicates: rules with the same name (record or alert) and the same labels as
// written, sorted by name and then labels (labels.Compare); a rule repeated three times is one
// duplicated rule, listed once.
struct Duplicate {
  std::string metric;
  std::vector<std::pair<std::string, std::string>> labels;  // sorted by name
  auto operator<=>(const Duplicate&) const = default;
};

std::vector<Duplicate> duplicated_rules(const rules::RuleFile& f) {
  std::vector<Duplicate> all;
  for (const auto& g : f.groups) {
    for (const auto& r : g.rules) {
      Duplicate d{r.name, {}};
      for (const auto& kv : r.labels) d.labels.emplace_back(kv.key, kv.value.value);
      std::sort(d.labels.begin(), d.labels.end());
      all.push_back(std::move(d));
    }
  }
  std::sort(all.begin(), all.end());
  std::vector<Duplicate> out;
  for (size_t i = 1; i < all.size(); ++i) {
    if (all[i] == all[i - 1] && (out.empty() || !(out.back() == all[i]))) out.push_back(all[i]);
  }
  return out;
}

int run_check_rules(const CheckRulesOptions& o) {
  if (o.lint != "duplicate-rules" && o.lint != "all" && o.lint != "none") {
    std::cerr << "ruleeval check rules: --lint must be all, duplicate-rules or none\n";
    return 1;
  }
  if (o.files.empty()) {
    std::cerr << "ruleeval check rules: required argument 'rule-files' not provided\n";
    return 1;
  }
  rules::LoadOptions lopts;
  lopts.ignore_unknown_fields = o.ignore_unknown_fields;
  if (std::string unknown; !parse_features(o.features, lopts.experimental_promql, unknown)) {
    std::cerr << "ruleeval check rules: unknown feature \"" << unknown << "\"\n";
    return 1;
  }
  for (const auto& f : o.files) {
    std::error_code ec;
    if (!fs::exists(f, ec)) {
      std::cerr << "ruleeval check rules: path '" << f << "' does not exist\n";
      return 1;
    }
  }
  // What promtool validates; pint-style checks are `ruleeval lint`'s.
  rules::LintConfig cfg;
  cfg.enabled = {"yaml/parse", "rule/format", "promql/syntax", "alerts/template",
                 "group/duplicate", "grafana/unsupported"};
  cfg.experimental_promql = lopts.experimental_promql;
  const bool lint_duplicates = o.lint != "none";
  bool failed = false;
  bool lint_failed = false;
  for (const auto& path : o.files) {
    std::cout << "Checking " << path << "\n";
    rules::LoadResult loaded = rules::load_rules_file(path, lopts);
    std::vector<rules::Diagnostic> diags = rules::lint_loaded(loaded, cfg);
    const rules::RuleFile* one[] = {&loaded.file};
    auto across = rules::check_across_files(one, cfg);
    diags.insert(diags.end(), across.begin(), across.end());
    rules::apply_config(diags, one, cfg);
    std::vector<const rules::Diagnostic*> errors;
    for (const auto& d : diags) {
      if (d.severity == rules::Severity::Error) errors.push_back(&d);
    }
    if (!errors.empty()) {
      failed = true;
      std::cerr << "  FAILED:\n";
      for (const auto* d : errors) {
        std::cerr << fmt::format("{}: {}\n", d->where.to_string(), d->message);
      }
      std::cout << "\n";
      continue;
    }
    const std::vector<Duplicate> duplicates =
        lint_duplicates ? duplicated_rules(loaded.file) : std::vector<Duplicate>{};
    if (!duplicates.empty()) {
      // promtool reports the lint as the file's error (FAILED, no SUCCESS line), and exits 0
      // unless --lint-fatal.
      lint_failed = true;
      std::string msg = fmt::format("  FAILED:\nlint error {} duplicate rule(s) found.\n",
                                    duplicates.size());
      for (const auto& d : duplicates) {
        msg += fmt::format("Metric: {}\nLabel(s):\n", d.metric);
        for (const auto& [name, value] : d.labels) msg += fmt::format("\t{}: {}\n", name, value);
      }
      std::cerr << msg << "Might cause inconsistency while recording expressions\n";
      std::cout << "\n";
      continue;
    }
    std::cout << fmt::format("  SUCCESS: {} rules found\n\n", loaded.file.rule_count());
  }
  if (failed) return 1;
  return lint_failed && o.lint_fatal ? 3 : 0;
}

}  // namespace

void register_check(CLI::App& app, int& exit_code) {
  auto* check = app.add_subcommand(
      "check", "promtool's `check rules`: the same checks, output and exit codes");
  check->require_subcommand(1);
  auto opts = std::make_shared<CheckRulesOptions>();
  auto* sub = check->add_subcommand("rules", "Check if the rule files are valid or not");
  sub->add_option("rule-files", opts->files, "The rule files to check");
  sub->add_option("--lint", opts->lint,
                  "Linting checks to apply: all, duplicate-rules or none")
      ->capture_default_str();
  sub->add_flag("--lint-fatal", opts->lint_fatal, "Make lint errors exit with exit code 3");
  sub->add_flag("--ignore-unknown-fields", opts->ignore_unknown_fields,
                "Ignore unknown fields in the rule files");
  sub->add_option("--enable-feature", opts->features,
                  "Comma separated feature names to enable (promql-experimental-functions, ...)")
      ->allow_extra_args(false);
  sub->callback([opts, &exit_code] { exit_code = run_check_rules(*opts); });
}

}  // namespace ruleeval::cli
