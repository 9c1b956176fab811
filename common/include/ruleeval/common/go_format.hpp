// Go's float formatting, for output that must match Prometheus byte for byte (PromQL's string
// forms, promtool's histogram test expressions). Pure functions; thread-safe.
#pragma once

#include <string>

namespace ruleeval {

// Go's shortest float formatting: %g when exp_limit is 6 (e.g. 1e+06), %v / strconv 'g' -1 when
// it is 21. "NaN", "+Inf", "-Inf", "-0" as Go prints them.
std::string format_go_float(double v, int exp_limit);

// Go's strconv.FormatFloat(v, 'f', -1, 64): the shortest digits that round-trip, never an
// exponent (0.00001, 1000000000000000000000).
std::string format_go_float_fixed(double v);

}  // namespace ruleeval
