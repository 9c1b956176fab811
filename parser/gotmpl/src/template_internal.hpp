// Private helpers shared by the template executor and the function sets.
#pragma once

#include <string>
#include <string_view>

#include "ruleeval/parser/go_fmt.hpp"
#include "ruleeval/parser/template_data.hpp"
#include "ruleeval/parser/template_exec.hpp"
#include "ruleeval/parser/template_funcs.hpp"
#include "ruleeval/parser/template_value.hpp"
#include "ruleeval/common/escape.hpp"

namespace ruleeval::tmpl {

// Go's builtin functions (and, or, not, len, index, ...); nullptr for other names.
const FuncSpec* builtin_function(std::string_view name);

// "wrong type for value; expected T; got U" (reported by the executor without wrapping).
Error wrong_type(std::string_view expected, const Value& got);

// Argument conversions with Go's reflection rules for the function signatures we mimic.
Result<std::string> arg_string(const Value& v);
Result<int64_t> arg_int(const Value& v);
Result<Time> arg_time(const Value& v);
// Prometheus's convertToFloat: float64, int, string (strconv.ParseFloat), time.Duration.
Result<double> to_float(const Value& v);

// Go's time.Time and time.Duration methods (template_time.cpp); Time.Sub saturating like Go.
const TypeInfo& time_type();
const TypeInfo& duration_type();
Duration time_sub(const Time& a, const Time& b);

// Go's %.4g (C's, with Go's spelling of NaN and infinities).
std::string go_g4(double v);
// html/template.HTMLEscapeString, template.JSEscapeString, url.QueryEscape.
using ruleeval::html_escape;  // common/escape.hpp
std::string js_escape(std::string_view s);
using ruleeval::url_query_escape;

}  // namespace ruleeval::tmpl
