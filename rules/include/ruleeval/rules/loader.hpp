// Loading rule files into the rule model. Accepted shapes, detected from the document:
//   * Prometheus rule files (`groups:`), decoded strictly: unknown fields and duplicate keys are
//     errors (unless ignore_unknown_fields), every document of a multi-document file is read;
//   * Kubernetes PrometheusRule objects (`kind: PrometheusRule`, `spec.groups`);
//   * our concise Grafana-like rules (`alert` + `query`/`condition` instead of `expr`) in the same
//     groups;
//   * Grafana provisioning files (`apiVersion: 1`, groups[].rules[].data[]).
// Loading never throws and never stops at the first problem: the returned RuleFile holds whatever
// could be read and `diagnostics` says what could not (checks "yaml/parse", "promql/syntax",
// "rule/format", "alerts/template", "grafana/unsupported"). PromQL expressions and templates are
// parsed once here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ruleeval/rules/diagnostic.hpp"
#include "ruleeval/rules/model.hpp"

namespace ruleeval::rules {

struct LoadOptions {
  bool ignore_unknown_fields = false;
  unsigned experimental_promql = 0;  // promql::PromqlFeature bits  // --enable-feature=promql-experimental-functions
  unsigned threads = 0;  // threads for parsing expressions/templates of big files; 0 = auto
};

struct LoadResult {
  RuleFile file;
  std::vector<Diagnostic> diagnostics;
  bool has_errors() const;
};

// Parses `text` as the contents of `path` (path is only used in diagnostics).
LoadResult load_rules_text(std::string text, std::string path, const LoadOptions& opts = {});
// Reads and parses a file; an unreadable file gives one "yaml/parse" error diagnostic.
LoadResult load_rules_file(const std::string& path, const LoadOptions& opts = {});

}  // namespace ruleeval::rules
