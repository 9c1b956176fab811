// Executing parsed templates with Go's text/template rules (and, for Alertmanager's html
// templates, html/template's contextual escaping): render options, the function table type and
// render/render_named. Rendering one Template from several threads at once is safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include "ruleeval/common/error.hpp"
#include "ruleeval/parser/template_ast.hpp"
#include "ruleeval/parser/template_value.hpp"

namespace ruleeval::tmpl {

enum class MissingKey : uint8_t {
  kZero,     // missing map key reads as the zero value ("" for label maps): Prometheus
  kDefault,  // missing map key reads as nil, printed "<no value>": Alertmanager
  kError,    // missing map key is an error
};

struct RenderOptions {
  MissingKey missing_key = MissingKey::kZero;
  size_t max_output_bytes = 1 << 20;  // stop runaway templates
  int max_depth = 100;                // nested {{template}} calls
  uint64_t max_range_iterations = 1'000'000;
  // html/template's htmlEscaper over each action's output, as in HTML element text (pushover
  // `html`, Telegram's HTML parse mode).
  bool html_escape = false;
  // html/template's contextual escaping of the whole template (Alertmanager's TmplHTML for email
  // `html`): contexts computed from the template text as Go 1.19.8 does, each action escaped for
  // its context (text, attributes, URLs, JS, CSS), Go's escaping errors returned as render
  // errors (src/template_html.hpp). Takes precedence over html_escape.
  bool html_contextual = false;
  // The template's name in execution errors instead of Template::name (text rendering only): a
  // parsed tree shared by several identically written templates (rule annotations) is rendered
  // under each one's own name. Empty: Template::name.
  std::string_view name;
};

// A function plus its arity, checked before the call like Go does ("wrong number of args for
// humanize: want 1 got 2"). max_args = -1 means variadic. A function returning an error is
// reported as "error calling NAME: MESSAGE", except messages starting with "wrong type for value"
// which Go reports as they are.
struct FuncSpec {
  Function fn;
  int min_args = 0;
  int max_args = -1;
};
using FuncMap = std::map<std::string, FuncSpec, std::less<>>;

// Executes t with `data` as dot. `funcs` supplies the non-builtin functions; builtins (and, or,
// not, len, index, print, printf, println, eq, ne, lt, le, gt, ge, html, js, urlquery, slice,
// call) are always there. Errors read like Go's: `template: NAME:1:23: executing "NAME" at
// <humanize "x">: error calling humanize: ...`.
Result<std::string> render(const Template& t, const Value& data, const FuncMap& funcs,
                           const RenderOptions& opts = {});

// Renders the named {{define}} of t.
Result<std::string> render_named(const Template& t, std::string_view name, const Value& data,
                                 const FuncMap& funcs, const RenderOptions& opts = {});

// Prometheus's text for a failed expansion of t (rules/alerting.go + template.Expand):
// "<error expanding template: error executing template NAME: MESSAGE>".
// `name`, when not empty, replaces Template::name (see RenderOptions::name).
std::string error_expanding_template(const Template& t, const Error& e,
                                     std::string_view name = {});

}  // namespace ruleeval::tmpl
