// Diagnostic: one problem found in a rule file by a loader or a check. Every diagnostic names the
// check that produced it, so that it can be disabled and tuned (`.ruleeval.yaml`, inline
// `# ruleeval disable <check>` comments).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ruleeval/common/error.hpp"

namespace ruleeval::rules {

enum class Severity : uint8_t { Info, Warning, Error };
std::string_view to_string(Severity s);  // "info", "warning", "error"
std::optional<Severity> parse_severity(std::string_view s);

struct Diagnostic {
  std::string check;  // e.g. "promql/syntax", "alerts/for"
  Severity severity = Severity::Error;
  std::string message;
  SourceLocation where;
  std::string group;  // group name, when the problem belongs to a group or rule
  std::string rule;   // rule name, when the problem belongs to a rule

  // "file:line:col: severity: message [check]"
  std::string to_string() const;
};

// Orders by file, line, column, then check name.
bool diagnostic_less(const Diagnostic& a, const Diagnostic& b);

}  // namespace ruleeval::rules
