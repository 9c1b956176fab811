// Private to the evaluator: the Evaluator class shared by eval.cpp (core, operators,
// aggregations) and eval_functions.cpp (function implementations).
#pragma once

#include <cmath>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "ruleeval/common/go_format.hpp"
#include "ruleeval/engine/engine.hpp"
#include "ruleeval/engine/histogram.hpp"
#include "ruleeval/parser/promql_functions.hpp"

namespace ruleeval::engine::detail {

// Evaluation errors travel as exceptions inside the evaluator and become Error at the API edge.
struct EvalError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] inline void fail(const std::string& msg) { throw EvalError(msg); }


// Go's math.Max / math.Min (NaN wins, -0 < +0).
double go_max(double a, double b);
double go_min(double a, double b);
// Go's %g (shortest) and strconv.FormatFloat(v, 'f', -1, 64).
std::string format_g(double v);
using ruleeval::format_go_float;  // common/go_format.hpp
std::string format_f(double v);
// Quantile over sorted-or-not values (sorted in place), Prometheus's `quantile`.
double quantile_of(double q, std::vector<double>& values);
// Valid UTF-8, non-empty: a Prometheus 3 label name.
bool valid_label_name(std::string_view s);

// One series of a range-vector argument, as a function sees it.
class Evaluator;

struct RangeArg {
  const Labels* metric;
  bool drop_name;
  std::span<const FPoint> points;  // float samples only
  size_t histograms = 0;           // native-histogram placeholders in the window
  bool first_is_histogram = false;
  bool last_is_histogram = false;
  std::span<const HPoint> hpoints{};  // the histogram samples (h may be null for a lost one)
  // Extended range selectors: the points also cover the lookback before the range (and after
  // it when smoothed); see eval_extended.cpp.
  bool anchored = false;
  bool smoothed = false;
};

// Extended selectors (eval_extended.cpp).
// Fails unless the call's range arguments carry only modifiers the function accepts.
void check_extended_safe(const promql::Call& call);
// The points of an anchored/smoothed matrix selector evaluated on its own (extendFloats).
std::vector<FPoint> extend_floats(std::span<const FPoint> floats, Millis mint, Millis maxt,
                                  bool smoothed);
// `x smoothed` at data_t (Prometheus's smoothSeries for one step), stamped eval_t.
std::optional<Sample> smoothed_sample(Evaluator& ev, const SeriesView& s, Millis data_t,
                                      Millis eval_t, Millis lookback);

// One element of an arithmetic or comparison operation (Prometheus's vectorElemBinop).
struct ElemResult {
  double v = 0;
  HistogramPtr h = nullptr;  // set when the result is a histogram
  bool keep = true;          // comparison outcome
  bool ok = true;            // false: no result (incompatible types, annotated)
};

class Evaluator {
 public:
  Evaluator(const Queryable& q, const EngineOptions& opts, Millis start, Millis end,
            Millis interval)
      : q_(q), opts_(opts), start_(start), end_(end), interval_(interval) {}

  Value eval(const promql::Expr& e, Millis t);
  double eval_scalar(const promql::Expr& e, Millis t);
  // An instant vector without histogram samples (for float-only functions and aggregations).
  Vector eval_vector(const promql::Expr& e, Millis t);
  Vector eval_vector_keep_histograms(const promql::Expr& e, Millis t);

  void warn(std::string msg);
  void info(std::string msg);
  std::vector<std::string> take_warnings() { return std::move(warnings_); }
  std::vector<std::string> take_infos() { return std::move(infos_); }

  Millis start() const { return start_; }
  Millis end() const { return end_; }
  Millis interval() const { return interval_; }
  const EngineOptions& options() const { return opts_; }
  const Queryable& queryable() const { return q_; }

  // Functions (eval_functions.cpp).
  Value eval_call(const promql::Call& call, const promql::Expr& e, Millis t);

  // A range, step or offset given as an experimental duration expression (step(), range(),
  // min_of/max_of, arithmetic), evaluated like Prometheus's durationVisitor; `constant` when
  // there is no expression. Errors: NaN/infinite, not positive (unless allow_negative).
  Millis duration(const promql::Expr* e, Millis constant, bool allow_negative);
  Millis range_of(const promql::MatrixSelector& ms);
  Millis offset_of(const promql::VectorSelector& vs);

  // The reference time of a selector or subquery evaluated at t (applies @, not offset).
  Millis at_time(const promql::AtModifier& at, Millis t) const;
  // Range-vector argument: calls fn per series with the points in (ref-range, ref].
  // Returns the window end (ref) and the range.
  void for_each_range_series(const promql::Expr& arg, Millis t,
                             const std::function<void(const RangeArg&)>& fn, Millis* window_end,
                             Millis* range);
  Matrix eval_subquery(const promql::Subquery& sq, Millis t);
  Matrix eval_matrix_selector(const promql::MatrixSelector& ms, Millis t);
  // Vector selector; keep_ts keeps each sample's own timestamp in Sample::t.
  // include_histograms: also report series whose latest sample is a native histogram.
  Vector eval_vector_selector(const promql::VectorSelector& vs, Millis t, bool keep_ts,
                              bool include_histograms = false);

 private:
  const std::vector<SeriesView>& series_for(const promql::VectorSelector& vs);
  Value eval_unary(const promql::Unary& u, Millis t);
  Value eval_binary(const promql::Binary& b, Millis t);
  Vector vector_binop(const promql::Binary& b, Vector lhs, Vector rhs);
  Vector set_binop(const promql::Binary& b, Vector lhs, Vector rhs);
  Value eval_aggregate(const promql::Aggregate& a, Millis t);
  ElemResult elem_binop(promql::BinaryOp op, double lf, double rf, const HistogramPtr& lh,
                        const HistogramPtr& rh);

  const Queryable& q_;
  const EngineOptions& opts_;
  Millis start_, end_, interval_;
  std::unordered_map<const promql::VectorSelector*, std::vector<SeriesView>> series_cache_;
  std::vector<std::string> warnings_;
  std::vector<std::string> infos_;
  std::vector<FPoint> range_buf_;
  std::vector<HPoint> hrange_buf_;
  size_t depth_ = 0;
};

// Removes native-histogram samples (float-only consumers drop them, as before they were visible).
void drop_histograms(Vector& v);

// Applies a binary arithmetic or comparison operator. For comparisons, returns lhs and sets
// keep to the comparison result.
double apply_binop(promql::BinaryOp op, double lhs, double rhs, bool& keep);

}  // namespace ruleeval::engine::detail
