// Parsing Go templates: once at load time into a Boost-free tree (template_ast.hpp).
//
// Parsing checks what Go's parser checks: syntax, block nesting, variables declared before use,
// and function names known to the dialect (Prometheus alert templates or Alertmanager
// notification templates). Errors read like Go's: `template: NAME:LINE: MESSAGE`, and carry the
// 1-based line:col (relative to the user's text) in Error::where. Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>
#include "ruleeval/common/error.hpp"
#include "ruleeval/parser/template_ast.hpp"

namespace ruleeval::tmpl {

enum class Dialect : uint8_t {
  kPrometheus,    // alerting rule labels/annotations: humanize, query, ...
  kAlertmanager,  // notification templates: join, toUpper, date, ...
};

struct ParseOptions {
  std::string name = "template";  // Go's template name, shown in errors
  Dialect dialect = Dialect::kPrometheus;
  std::vector<std::string> extra_functions;  // more names the caller will supply at render time
  std::string prefix;                        // parsed before the text; positions stay user-relative
  // Positions in Go-style messages ("template: name:line:col: ...") count from the text, not the
  // prefix: Alertmanager parses each field on its own next to its template files, so its errors
  // say ":1:31" where the prefix holds those files (Prometheus's prefix is part of its text).
  bool go_positions_in_text = false;
};

// Names of the functions known in a dialect, builtins (and, or, len, printf, ...) included.
const std::vector<std::string>& function_names(Dialect dialect);

Result<Template> parse(std::string_view text, const ParseOptions& opts = {});

// The prefix Prometheus puts in front of alert templates so $labels, $value, ... exist.
inline constexpr std::string_view kAlertTemplatePrefix =
    "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}"
    "{{$externalURL := .ExternalURL}}{{$value := .Value}}";

// Copies every {{define}} of `from` into `into` (later definitions win, like Go's
// Template.AddParseTree), e.g. Alertmanager's default.tmpl plus user template files. Execution
// errors inside copied definitions report positions relative to `into`'s source.
void add_definitions(Template& into, const Template& from);

// Parses a Prometheus alert label/annotation template as `__alert_<rule_name>` with the prefix.
Result<Template> parse_alert_template(std::string_view text, std::string_view rule_name);

}  // namespace ruleeval::tmpl
