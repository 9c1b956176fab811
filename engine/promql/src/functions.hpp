// Private to the evaluator: the PromQL function table (Prometheus's FunctionCalls) and what the
// function implementations share.
//
// Every function of the parser's table (ruleeval/parser/promql_functions.hpp: name, argument
// types, return type, experimental flag) has one implementation here, registered in the table of
// the file that holds its concept:
//   functions_math.cpp       element-wise math (abs, sin, round, clamp, ...), pi, min_of/max_of
//   functions_time.cpp       time(), start()/end()/range()/step(), date functions, timestamp()
//   functions_vector.cpp     vector(), scalar(), absent(), sort(), sort_desc()
//   functions_label.cpp      label_replace, label_join, sort_by_label(_desc)
//   functions_range.cpp      rate/increase/delta/irate/idelta/resets/changes/deriv/predict_linear
//   functions_over_time.cpp  *_over_time, ts_of_*_over_time, double_exponential_smoothing
//   functions_histogram.cpp  histogram_quantile(s), histogram_fraction, histogram_count/sum/...
//   functions_info.cpp       info()
// A new function is one FunctionDef line in its concept's table plus its implementation.
#pragma once

#include <limits>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "eval_internal.hpp"

namespace ruleeval::engine::detail {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr double kInf = std::numeric_limits<double>::infinity();

// A function's implementation: evaluates the call's arguments itself (so that range arguments
// and selectors can be read directly) and returns the call's value at t.
using FunctionImpl = Value (*)(Evaluator& ev, const promql::Call& call, Millis t);

struct FunctionDef {
  std::string_view name;
  FunctionImpl impl;
};

// One row of the assembled table: the parser's signature and the implementation.
struct FunctionEntry {
  const promql::FunctionInfo* info;  // arity, argument types, return type, experimental
  FunctionImpl impl;
};

// The per-concept tables (each defined in its file).
std::span<const FunctionDef> math_function_defs();
std::span<const FunctionDef> time_function_defs();
std::span<const FunctionDef> vector_function_defs();
std::span<const FunctionDef> label_function_defs();
std::span<const FunctionDef> range_function_defs();
std::span<const FunctionDef> over_time_function_defs();
std::span<const FunctionDef> histogram_function_defs();
std::span<const FunctionDef> info_function_defs();

// The assembled table, by name; nullptr when the name has no implementation.
const FunctionEntry* lookup_function(std::string_view name);
// Parser functions that have no implementation (refused at evaluation with a clear error).
std::vector<std::string_view> unimplemented_functions();

// Shared helpers.
// Drops __name__ from a function result (delayed when the engine delays name removal).
void drop_name(Sample& s, const EngineOptions& opts);
// Go's strconv.ParseFloat for label values ("+Inf", "1e3", ...).
std::optional<double> parse_go_float(std::string_view s);
// Labels for absent()/absent_over_time(): the equality matchers of the selector argument.
Labels absent_labels(const promql::Expr& arg);
// A String argument of a call.
std::string string_arg(Evaluator& ev, const promql::Call& call, size_t i, Millis t);

// Range functions: per series of the range argument, a kernel computes at most one sample.
struct RangeCall {
  Evaluator& ev;
  Millis t = 0;
  Millis window_end = 0;  // the window is (window_end - range, window_end]
  Millis range = 0;
  double p0 = 0, p1 = 0;  // scalar parameters (quantile, predict_linear's t, smoothing factors)
  std::vector<double> scratch{};
};
struct RangeOut {
  double v = 0;
  HistogramPtr h = nullptr;
};
using RangeKernel = std::optional<RangeOut> (*)(RangeCall& rc, const RangeArg& a);
// Runs `kernel` over each series of the range argument args[range_arg] (series without any
// sample in the window are skipped). keep_name: the result keeps __name__ (last/first_over_time).
// Annotations for a range holding both floats and histograms.
void warn_mixed_range(RangeCall& rc, const RangeArg& a);   // "encountered a mix of ..."
void info_ignored_histograms(RangeCall& rc, const RangeArg& a);  // "ignored histograms in ..."
// Native-histogram warnings naming the series' metric.
void warn_not_counter(Evaluator& ev, const Labels& metric);
void warn_not_gauge(Evaluator& ev, const Labels& metric);
void warn_mixed_exponential_custom(Evaluator& ev, const Labels& metric);

// Visits the floats and histograms of a range in time order: f(t, v, h), h null for a float.
template <class F>
void for_each_in_time_order(const RangeArg& a, F&& f) {
  size_t i = 0, j = 0;
  while (i < a.points.size() || j < a.hpoints.size()) {
    if (j >= a.hpoints.size() || (i < a.points.size() && a.points[i].t < a.hpoints[j].t)) {
      f(a.points[i].t, a.points[i].v, static_cast<const FloatHistogram*>(nullptr));
      ++i;
    } else {
      f(a.hpoints[j].t, 0.0, a.hpoints[j].h.get());
      ++j;
    }
  }
}

// rate/increase/delta over an anchored or smoothed range (extendedRate, extendedHistogramRate).
std::optional<RangeOut> extended_rate(RangeCall& rc, const RangeArg& a, bool is_counter,
                                      bool is_rate);
// pickFirstSampleIndices: with `anchored`, where resets/changes start (the last sample at or
// before range_start, of either type); false when no sample lies after range_start.
bool anchored_first_indices(const RangeArg& a, Millis range_start, size_t& first_float,
                            size_t& first_histogram);

Vector eval_range_function(RangeCall& rc, const promql::Call& call, size_t range_arg,
                           RangeKernel kernel, bool keep_name);

}  // namespace ruleeval::engine::detail
