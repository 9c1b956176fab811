// Escaping for the Prometheus text exposition format (HTML: common/escape.hpp).
#pragma once

#include <string>
#include <string_view>

namespace ruleeval::engine {

std::string metric_escape(std::string_view s);  // label values: \ " and newline

}  // namespace ruleeval::engine
