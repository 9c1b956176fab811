// Escaping for the HTML status page and the Prometheus text exposition format.
#pragma once

#include <string>
#include <string_view>

namespace ruleeval::engine {

std::string escape_html(std::string_view s);    // < > & "
std::string metric_escape(std::string_view s);  // label values: \ " and newline

}  // namespace ruleeval::engine
