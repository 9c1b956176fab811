// Go html/template for Alertmanager's html templates (email `html`): the contextual escaper
// (escape.go: contexts computed from the template text, an escaper command appended to every
// action, text rewritten, templates called in other contexts derived under mangled names) and
// the escaper functions (html.go, js.go, css.go, url.go), as in Go 1.19.8, the Go Debian's
// Alertmanager 0.25 is built with. The template is escaped when it is executed, as Go's
// Template.Execute does; errors read like Go's ("html/template::1:20: {{.X}} appears in a JS
// template literal", "html/template: ends in a non-text context: {...}").
// Not modelled: html.UnescapeString's named entities other than those of ASCII characters and
// nbsp (attribute text is decoded before its transitions); template.CSS/JS/JSStr/URL/HTMLAttr/
// Srcset values (Alertmanager's functions make only template.HTML, through safeHtml).
// Thread-safety: pure functions; the escaped copy belongs to the caller.
#pragma once

#include <string>
#include <string_view>

#include "ruleeval/parser/template_exec.hpp"

namespace ruleeval::tmpl::detail {

// text/template's HTMLEscapeString-like escaping of html/template's htmlEscaper (nospace: the
// unquoted-attribute table), for plain strings.
std::string go_html_escape(std::string_view s, bool nospace = false);

// A copy of t escaped for execution starting at `entry` (t.name for the root, or a define's
// name): what html/template's escapeTemplate leaves in the template set.
Result<Template> html_escape_template(const Template& t, std::string_view entry);

// The functions escaped pipelines call (_html_template_*, _eval_args_); nullptr for others.
const FuncSpec* html_escaper_function(std::string_view name);

// A template.HTML value (Alertmanager's safeHtml): html/template writes it as is in text.
Value html_value(std::string s);

// Go's encoding/json.Marshal of a template value (as html/template's JS value escaper calls
// it): HTML-safe string escaping, struct fields in their json order (TypeInfo::json_fields),
// time.Time as RFC 3339; an error for NaN/Inf ("json: unsupported value: NaN").
Result<std::string> go_json_marshal(const Value& v);

}  // namespace ruleeval::tmpl::detail
