// Lint checks over the rule model: everything `promtool check rules` validates plus pint-style
// offline checks. Each check has a name ("alerts/for") and a default severity; `.ruleeval.yaml`
// (LintConfig) disables checks or changes their severity, and `# ruleeval disable <check>`
// comments disable a check for one rule. All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ruleeval/common/error.hpp"
#include "ruleeval/rules/diagnostic.hpp"
#include "ruleeval/rules/loader.hpp"
#include "ruleeval/rules/model.hpp"

namespace ruleeval::rules {

struct CheckInfo {
  std::string_view name;
  Severity severity;  // the default
  std::string_view summary;
};
// Every check, loaders' included, in a stable order.
std::span<const CheckInfo> all_checks();
const CheckInfo* find_check(std::string_view name);

struct LintConfig {
  std::vector<std::string> disabled;          // check names, or prefixes such as "promql"
  std::vector<std::string> enabled;           // when non-empty: only these (and prefixes)
  std::map<std::string, Severity, std::less<>> severity;  // per-check override
  int64_t scrape_interval_ms = 60'000;        // for promql/rate and alerts/absent
  int64_t lookback_ms = 300'000;              // for group/interval
  std::vector<std::string> required_labels;       // on alerting rules (rule/label)
  std::vector<std::string> required_annotations;  // on alerting rules (alerts/annotation)
  unsigned experimental_promql = 0;  // promql::PromqlFeature bits  // enable_features: [promql-experimental-functions]

  bool is_enabled(std::string_view check) const;
  Severity severity_of(std::string_view check, Severity fallback) const;
};

// Reads `.ruleeval.yaml` (see examples/rules/.ruleeval.yaml):
//   checks: {disabled: [..], enabled: [..], severity: {check: info|warning|error}}
//   scrape_interval: 1m
//   lookback: 5m
//   required_labels: [severity]
//   required_annotations: [runbook_url]
//   enable_features: [promql-experimental-functions]
Result<LintConfig> parse_lint_config(std::string_view text, const std::string& path);
Result<LintConfig> load_lint_config(const std::string& path);

// Checks of one loaded file (no config applied).
std::vector<Diagnostic> check_file(const RuleFile& file, const LintConfig& cfg);
// Checks across files: duplicate rules (promtool's duplicate-rules lint) and duplicate groups.
std::vector<Diagnostic> check_across_files(std::span<const RuleFile* const> files,
                                           const LintConfig& cfg);
// Drops diagnostics of disabled checks (config and per-rule comments), applies severity
// overrides and sorts. `files` are used to find the rule a diagnostic belongs to.
void apply_config(std::vector<Diagnostic>& diags, std::span<const RuleFile* const> files,
                  const LintConfig& cfg);

// The loader's diagnostics plus check_file (no config applied): the per-file part of a lint run.
std::vector<Diagnostic> lint_loaded(const LoadResult& loaded, const LintConfig& cfg);
// A whole lint run over one text: load, check_file, check_across_files, apply_config.
std::vector<Diagnostic> lint_text(std::string text, std::string path, const LoadOptions& opts,
                                  const LintConfig& cfg);

}  // namespace ruleeval::rules
