// Go text/template: parse once at load time into a Boost-free tree, execute many times.
//
// Parsing checks what Go's parser checks: syntax, block nesting, variables declared before use,
// and function names known to the dialect (Prometheus alert templates or Alertmanager
// notification templates). Errors read like Go's: `template: NAME:LINE: MESSAGE`, and carry the
// 1-based line:col (relative to the user's text) in Error::where.
//
// A parsed Template is immutable and may be rendered concurrently from several threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "ruleeval/common/env.hpp"
#include <vector>

#include "ruleeval/common/error.hpp"
#include "ruleeval/parser/template_value.hpp"

namespace ruleeval::tmpl {

// ---- Public AST ----------------------------------------------------------------------------

struct Pipeline;

struct Operand {
  enum class Kind : uint8_t {
    kDot,         // .
    kField,       // .A.B            (fields)
    kVariable,    // $x.A.B          (name = "$x", fields)
    kIdentifier,  // a function name (name)
    kString,      // "..." or `...`  (str = the unquoted value)
    kNumber,      // 1, 1.5, 0x1f, 'a' (is_int, int_value, float_value, str = source text)
    kBool,        // true / false    (bool_value)
    kNil,         // nil
    kPipeline,    // ( pipeline ).A  (pipe, fields)
  };
  Kind kind = Kind::kNil;
  uint32_t pos = 0;  // byte offset in the parsed text
  std::string name;
  std::string str;
  std::vector<std::string> fields;
  bool bool_value = false;
  bool is_int = false;
  int64_t int_value = 0;
  double float_value = 0;
  std::shared_ptr<const Pipeline> pipe;
};

struct Command {
  uint32_t pos = 0;
  std::vector<Operand> args;  // args[0] is the function, field or value
};

struct Pipeline {
  uint32_t pos = 0;
  bool is_assign = false;         // `$x = ...` rather than `$x := ...`
  std::vector<std::string> decl;  // declared variables, e.g. {"$i", "$e"}
  std::vector<Command> cmds;      // stages joined by |
};

struct Node {
  enum class Kind : uint8_t { kText, kAction, kIf, kRange, kWith, kTemplate, kBreak, kContinue };
  Kind kind = Kind::kText;
  uint32_t pos = 0;
  std::string text;        // kText: the literal text; kTemplate: the template name
  bool has_pipe = false;   // kTemplate: whether a pipeline was given
  Pipeline pipe;           // kAction, kIf, kRange, kWith, kTemplate
  std::vector<Node> list;  // kIf, kRange, kWith: the body
  std::vector<Node> else_list;
};

// The parsed template plus every {{define}}/{{block}} found in it.
struct Template {
  std::string name;
  std::string source;       // the full parsed text (including a Prometheus prefix, if any)
  uint32_t prefix_len = 0;  // bytes of prefix before the user's text
  std::vector<Node> root;
  // The prefix's nodes when they were lowered once and are shared by every template parsed with
  // the same prefix (null otherwise: then root starts with them). render() runs them before
  // root, in the same scope, so the variables they declare ($labels, $value, ...) exist.
  std::shared_ptr<const std::vector<Node>> prelude;
  std::map<std::string, std::vector<Node>, std::less<>> defines;
  // Go-style messages count lines of the user's text only (ParseOptions::go_positions_in_text).
  bool go_positions_in_text = false;

  // Go's "line:col" for a byte offset of source (col is the 0-based byte in the line, as Go
  // prints it in execution errors).
  std::string go_position(uint32_t pos) const;
  // 1-based line:col relative to the user's text (after the prefix).
  SourceLocation user_location(uint32_t pos) const;
};

// ---- Parsing -------------------------------------------------------------------------------

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

// ---- Static analysis (for the linter) ------------------------------------------------------

struct LabelReference {
  std::string name;      // "instance" in $labels.instance / .Labels.instance / index $labels "x"
  SourceLocation where;  // relative to the user's text
};

struct TemplateUsage {
  std::vector<LabelReference> labels;  // in source order, duplicates kept
  bool uses_value = false;             // $value or .Value
  bool uses_query = false;             // the query function
  bool uses_humanize = false;          // any humanize* function
};

TemplateUsage analyze(const Template& t);

// ---- Execution -----------------------------------------------------------------------------

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
  // html/template in HTML text context: each action's output is escaped (& < > " ' + and NUL)
  // as Go's htmlEscaper does (Alertmanager's TmplHTML for fields outside a tag).
  bool html_escape = false;
  // html/template's contextual escaping (text, attribute values, URL attributes; see
  // src/template_html.hpp): Alertmanager's TmplHTML for whole HTML documents (email `html`).
  bool html_contextual = false;
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
std::string error_expanding_template(const Template& t, const Error& e);

// ---- Function sets ------------------------------------------------------------------------

// One sample of a `query` result: {{ .Labels.x }} and {{ .Value }} in templates.
struct QuerySample {
  Labels labels;
  double value = 0;
};
using QueryFn = std::function<Result<std::vector<QuerySample>>(std::string_view expr)>;

struct PrometheusContext {
  QueryFn query;             // `query` errors when absent
  std::string external_url;  // externalURL / pathPrefix
  double now_seconds = 0;    // evaluation time, returned by `now`
};

// Prometheus's alert/console template functions (template/template.go).
FuncMap prometheus_functions(PrometheusContext ctx);
// The same, reading `ctx` when a function is called: one map can serve many evaluations while
// its owner updates the context (query, now) in between.
FuncMap prometheus_functions_live(const std::shared_ptr<const PrometheusContext>& ctx);
// The data Prometheus passes to alert templates: {Labels, ExternalLabels, ExternalURL, Value}.
Value alert_template_data(const Labels& labels, const Labels& external_labels,
                          std::string_view external_url, double value);
// The same with ExternalLabels already converted (Value::from_labels), to share across alerts.
Value alert_template_data(const Labels& labels, const Value& external_labels,
                          std::string_view external_url, double value);

// Alertmanager's notification template functions (template/template.go DefaultFuncs). `env`
// supplies the wall clock for `since` (ruleeval/common/env.hpp); it must outlive the map.
FuncMap alertmanager_functions(Env* env = Env::Default());

// ---- Alertmanager notification data -------------------------------------------------------

struct NotificationAlert {
  std::string status;  // "firing" or "resolved"
  Labels labels;
  Labels annotations;
  Time starts_at;
  Time ends_at;
  std::string generator_url;
  std::string fingerprint;
};

struct NotificationData {
  std::string receiver;
  std::string status;  // "firing" or "resolved"
  std::vector<NotificationAlert> alerts;
  Labels group_labels;
  Labels common_labels;
  Labels common_annotations;
  std::string external_url;
};

// Alertmanager's template.KV: a label map with .SortedPairs (alertname first, then by name),
// .Names, .Values and .Remove (a []string of names to drop).
Value kv_value(const Labels& kv);
// Alertmanager's template.Data: .Receiver .Status .Alerts (with .Firing/.Resolved) .GroupLabels
// .CommonLabels .CommonAnnotations .ExternalURL; each alert has .Status .Labels .Annotations
// .StartsAt .EndsAt .GeneratorURL .Fingerprint.
Value notification_template_data(const NotificationData& d);

// Go's print/printf/println over template values (also used by the functions).
std::string go_sprint(std::span<const Value> args);
std::string go_sprintln(std::span<const Value> args);
Result<std::string> go_sprintf(std::string_view format, std::span<const Value> args);

// Go's String() of parsed nodes, as shown in execution error contexts.
std::string to_string(const Operand& o);
std::string to_string(const Command& c);
std::string to_string(const Pipeline& p);

}  // namespace ruleeval::tmpl
