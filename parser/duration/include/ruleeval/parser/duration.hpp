// Prometheus durations: `1h30m`, `54s321ms`, units ms s m h d w y, each at most once, in
// decreasing order. Shared by PromQL literals and every YAML loader.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ruleeval/common/error.hpp"
#include "ruleeval/common/millis.hpp"

namespace ruleeval {

// Milliseconds, or an error without a location ("not a valid duration string: \"1.5h\""): the
// caller knows where the text came from.
Result<Millis> parse_duration(std::string_view s);
// Prometheus's canonical form: 90m -> "1h30m", 0 -> "0s", 1500 -> "1s500ms".
std::string format_duration(int64_t ms);

}  // namespace ruleeval
