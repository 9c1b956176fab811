// RFC 3339 timestamps in UTC from Unix milliseconds, as the Go programs whose output ruleeval
// matches print them. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace ruleeval {

enum class Rfc3339Fraction {
  kTrimmed,  // Go's time.RFC3339Nano: "2026-11-24T01:00:40.858Z", "…:40.5Z", "…:40Z"
  kMillis,   // always three digits, as Alertmanager's API (strfmt.DateTime): "…:40.000Z"
};

// `unix_ms` may be negative (before 1970). Callers map their "no time" values themselves (Go's
// zero time is "0001-01-01T00:00:00Z").
std::string format_rfc3339_ms(int64_t unix_ms, Rfc3339Fraction fraction = Rfc3339Fraction::kTrimmed);

}  // namespace ruleeval
