// Rendering lint diagnostics: compiler-style text with the source line and a caret, JSON, GitHub
// Actions workflow commands, SARIF 2.1.0 and Checkstyle XML.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ruleeval/rules/diagnostic.hpp"
#include "ruleeval/rules/model.hpp"

namespace ruleeval::rules {

enum class OutputFormat : uint8_t { Text, Json, Github, Sarif, Checkstyle };
std::optional<OutputFormat> parse_output_format(std::string_view s);

struct ReportSummary {
  size_t files = 0;
  size_t errors = 0;
  size_t warnings = 0;
  size_t infos = 0;
};
ReportSummary summarize(std::span<const Diagnostic> diags, size_t files);
// "2 problems (1 error, 1 warning, 0 info) in 3 files" or "no problems in 3 files".
std::string to_string(const ReportSummary& s);

// `files` supply the source lines for the text format's carets (diagnostics of other files are
// printed without a snippet).
std::string render_report(std::span<const Diagnostic> diags, OutputFormat format,
                          std::span<const RuleFile* const> files);

// JSON string literal with escapes (shared by the JSON and SARIF writers).
std::string json_quote(std::string_view s);

}  // namespace ruleeval::rules
