// Go's float formatting, for output that must match Prometheus byte for byte (PromQL's string
// forms, promtool's histogram test expressions). Pure functions; thread-safe.
#pragma once

#include <string>

namespace ruleeval {

// Go's shortest float formatting: %g when exp_limit is 6 (e.g. 1e+06), %v / strconv 'g' -1 when
// it is 21. "NaN", "+Inf", "-Inf", "-0" as Go prints them.
std::string format_go_float(double v, int exp_limit);

}  // namespace ruleeval
