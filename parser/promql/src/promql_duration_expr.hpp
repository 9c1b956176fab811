// The durations of ranges, subquery steps and offsets, including the experimental duration
// expressions (`[1m * 2]`, `[5m:(30s * 2)]`, `offset (1h / 2)`), read by hand rather than by X3
// (promql_duration_expr.cpp); the grammar calls the reader as a primitive parser.
#pragma once

#include <cstddef>
#include <cstdint>

#include "promql_builder.hpp"

namespace ruleeval::promql::detail::grammar {

enum class DurRole : uint8_t { Range, Step, Offset };

// Parses the duration at `start` for a range, subquery step or offset. Returns the end offset,
// or npos without consuming when there is no duration there (the caller's expectation reports
// it, as before duration expressions existed).
size_t read_duration(Builder& b, size_t start, DurRole role);

}  // namespace ruleeval::promql::detail::grammar
