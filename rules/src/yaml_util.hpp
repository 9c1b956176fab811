// Shared helpers of the YAML loaders (private to rules/src): positions, strict typed reads and
// diagnostics in Go yaml's wording, over the libyaml-backed tree of yaml_tree.hpp.
#pragma once

#include "yaml_tree.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ruleeval/rules/diagnostic.hpp"
#include "ruleeval/rules/loader.hpp"
#include "ruleeval/rules/model.hpp"

namespace ruleeval::rules {

class YamlContext {
 public:
  YamlContext(RuleFile& file, const LoadOptions& opts, std::vector<Diagnostic>& diags)
      : file_(file), opts_(opts), diags_(diags) {}

  RuleFile& file() { return file_; }
  const LoadOptions& opts() const { return opts_; }

  Pos pos(const yml::Node& n) const;
  SourceLocation location(Pos p) const;

  void report(std::string check, Severity sev, std::string message, Pos p, std::string group,
              std::string rule);
  void error(std::string check, std::string message, Pos p, std::string group, std::string rule) {
    report(std::move(check), Severity::Error, std::move(message), p, std::move(group),
           std::move(rule));
  }
  // "line 8: cannot unmarshal !!seq into string"
  void type_error(const yml::Node& n, std::string_view go_type);
  // "line 8: field foo not found in type rulefmt.Rule" (ignored with --ignore-unknown-fields)
  void unknown_field(const yml::Node& key, std::string_view go_type);
  // Reports keys that appear twice in a mapping, and non-scalar keys.
  void check_duplicate_keys(const yml::Node& map);

  Scalar string_value(const yml::Node& n);
  DurationField duration_value(const yml::Node& n);
  int64_t int_value(const yml::Node& n);
  std::optional<double> float_value(const yml::Node& n);
  std::vector<KeyValue> string_map(const yml::Node& n);
  // {above: 200} | {below: x} | {within_range: [a, b]} | {outside_range: [a, b]}
  std::optional<Threshold> threshold_value(const yml::Node& n, const std::string& group);

 private:
  RuleFile& file_;
  const LoadOptions& opts_;
  std::vector<Diagnostic>& diags_;
};

// Go yaml's name for a node's kind: !!seq, !!map, !!str, ...
std::string_view yaml_kind(const yml::Node& n);

}  // namespace ruleeval::rules
