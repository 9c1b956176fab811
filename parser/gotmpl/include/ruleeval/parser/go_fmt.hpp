// Go's fmt print/printf/println over template values (Sprint's spacing rules, Sprintf's verbs,
// flags, widths and %!verb errors), as the templates' print functions use them. Pure functions.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include "ruleeval/common/error.hpp"
#include "ruleeval/parser/template_value.hpp"

namespace ruleeval::tmpl {

// Go's print/printf/println over template values (also used by the functions).
std::string go_sprint(std::span<const Value> args);
std::string go_sprintln(std::span<const Value> args);
Result<std::string> go_sprintf(std::string_view format, std::span<const Value> args);

}  // namespace ruleeval::tmpl
