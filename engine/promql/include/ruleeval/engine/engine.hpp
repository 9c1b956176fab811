// PromQL evaluation with Prometheus 3.x semantics (5m lookback, left-open range windows,
// staleness, offset and @, subqueries aligned to absolute multiples of their step, delayed
// __name__ removal). Queries read through a Queryable; evaluation is single-threaded and keeps no
// state between queries, so concurrent queries over a const Storage are safe.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "ruleeval/common/error.hpp"
#include "ruleeval/engine/storage.hpp"
#include "ruleeval/engine/value.hpp"
#include "ruleeval/parser/promql_ast.hpp"

namespace ruleeval::engine {

struct EngineOptions {
  Millis lookback_delta = Millis{5} * 60 * 1000;
  Millis default_subquery_step = Millis{60} * 1000;  // for `expr[5m:]`
  // Prometheus 3's `promql-delayed-name-removal`: on in Prometheus's .test harness (and here by
  // default); rule tests and `run` turn it off unless the feature is enabled, as Prometheus does.
  bool delayed_name_removal = true;
  bool experimental_functions = true;
  size_t max_samples = 50'000'000;           // loaded into memory at once by one query
  // Prometheus 2's edges (`test --promql-compat=2`): range windows and subquery ranges include
  // their start [t-range, t], and the lookback includes a sample exactly lookback_delta old.
  bool closed_windows = false;
};

// Evaluates `expr` at time `t` (ms). The result is a Scalar, Vector, Matrix or String.
Result<QueryResult> instant_query(const Queryable& q, const promql::Expr& expr, Millis t,
                                  const EngineOptions& opts = {});

// Evaluates `expr` at start, start+step, ... <= end. The result is always a Matrix sorted by
// labels (a scalar expression gives one series with no labels).
Result<QueryResult> range_query(const Queryable& q, const promql::Expr& expr, Millis start,
                                Millis end, Millis step, const EngineOptions& opts = {});

// The PromQL functions the parser accepts that this evaluator refuses to evaluate (an evaluation
// error names them). Every other function of promql::all_functions() has an implementation.
std::vector<std::string_view> unimplemented_functions();

}  // namespace ruleeval::engine
