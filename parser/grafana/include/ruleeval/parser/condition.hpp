// Grafana classic conditions ("classic_conditions" expressions, pkg/expr/classic):
//   WHEN avg() OF query(A, 5m, now) IS ABOVE 200
//   WHEN max() OF query(A, 5m, now) IS ABOVE 10 OR WHEN last() OF query(B, 1m, now) IS BELOW 3
// Keywords are case-insensitive. Several conditions are folded left to right with AND/OR and no
// precedence. Reducers skip null and NaN points, unlike the `reduce` expression.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ruleeval/common/error.hpp"

namespace ruleeval::classic {

enum class Reducer : uint8_t {
  kAvg,
  kSum,
  kMin,
  kMax,
  kCount,
  kLast,
  kMedian,
  kDiff,
  kDiffAbs,
  kPercentDiff,
  kPercentDiffAbs,
  kCountNonNull,
};

enum class EvaluatorType : uint8_t {
  kGt,            // IS ABOVE x
  kLt,            // IS BELOW x
  kWithinRange,   // IS WITHIN RANGE a, b   (exclusive)
  kOutsideRange,  // IS OUTSIDE RANGE a, b  (exclusive)
  kNoValue,       // HAS NO VALUE
};

enum class Operator : uint8_t { kAnd, kOr };

struct Evaluator {
  EvaluatorType type = EvaluatorType::kGt;
  std::vector<double> params;  // 1 for gt/lt, 2 for ranges, 0 for no_value
};

struct Condition {
  Operator op = Operator::kAnd;  // how it joins the conditions before it (ignored for the first)
  Reducer reducer = Reducer::kAvg;
  std::string ref_id;        // query(A, ...)
  int64_t from_ms = 0;       // query(A, 5m, ...)
  std::string to = "now";    // "now" or "now-1m"
  int64_t to_offset_ms = 0;  // 60000 for now-1m
  Evaluator evaluator;
  uint32_t col = 1;  // 1-based column where the condition starts
};

struct Conditions {
  std::vector<Condition> items;
};

// Errors carry the 1-based column in Error::where.col and read "1:COL: expected ...".
Result<Conditions> parse_conditions(std::string_view text);

// Canonical text: "WHEN avg() OF query(A, 5m, now) IS ABOVE 200 OR WHEN ...".
std::string format(const Conditions& c);

std::string_view reducer_name(Reducer r);  // "avg", "percent_diff_abs", ...
std::optional<Reducer> reducer_from_name(std::string_view name);
std::string_view evaluator_name(EvaluatorType t);  // "gt", "within_range", ...
std::optional<EvaluatorType> evaluator_from_name(std::string_view name);

// Reduces one series; nullopt means "no value" (empty series, or only null/NaN points).
std::optional<double> reduce(Reducer r, std::span<const std::optional<double>> points);
// Whether a reduced value satisfies the evaluator (null only satisfies HAS NO VALUE).
bool evaluate(const Evaluator& e, std::optional<double> reduced);

struct FoldResult {
  bool firing = false;
  bool no_data = false;
};

// One reduced value per condition, in order; folds with AND/OR left to right.
FoldResult fold(const Conditions& c, std::span<const std::optional<double>> reduced);

// Series for each query refId: a condition fires when any series of its query satisfies it, and
// has no data when every series reduces to null (or there are none).
using SeriesByRef =
    std::map<std::string, std::vector<std::vector<std::optional<double>>>, std::less<>>;
FoldResult evaluate(const Conditions& c, const SeriesByRef& data);

}  // namespace ruleeval::classic
