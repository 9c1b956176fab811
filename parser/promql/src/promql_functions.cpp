// The PromQL function table (Prometheus 3.x promql/parser/functions.go), sorted by name so that
// lookup is a binary search over a static array: no per-parse construction.
#include <algorithm>
#include <array>

#include "ruleeval/parser/promql_functions.hpp"

namespace ruleeval::promql {
namespace {

using VT = ValueType;

constexpr std::array<VT, 0> kNone{};
constexpr std::array kV{VT::Vector};
constexpr std::array kM{VT::Matrix};
constexpr std::array kS{VT::Scalar};
constexpr std::array kVS{VT::Vector, VT::Scalar};
constexpr std::array kVSS{VT::Vector, VT::Scalar, VT::Scalar};
constexpr std::array kMS{VT::Matrix, VT::Scalar};
constexpr std::array kMSS{VT::Matrix, VT::Scalar, VT::Scalar};
constexpr std::array kSM{VT::Scalar, VT::Matrix};
constexpr std::array kSV{VT::Scalar, VT::Vector};
constexpr std::array kSS{VT::Scalar, VT::Scalar};
constexpr std::array kSSV{VT::Scalar, VT::Scalar, VT::Vector};
constexpr std::array kVV{VT::Vector, VT::Vector};
constexpr std::array kVStr{VT::Vector, VT::String};
constexpr std::array kVStr3{VT::Vector, VT::String, VT::String, VT::String};
constexpr std::array kVStr4{VT::Vector, VT::String, VT::String, VT::String, VT::String};
constexpr std::array kVStrSS{VT::Vector, VT::String, VT::Scalar, VT::Scalar};

constexpr int kUnbounded = 0x7fff;

// Fixed arity: every argument required.
constexpr FunctionInfo fixed(std::string_view name, std::span<const VT> args,
                             VT ret = VT::Vector, bool experimental = false) {
  return FunctionInfo{name, args, 0, static_cast<int>(args.size()), ret, experimental};
}
// Trailing arguments from `min_args` on may be left out.
constexpr FunctionInfo optional_tail(std::string_view name, std::span<const VT> args,
                                     int min_args, bool experimental = false) {
  return FunctionInfo{name, args, -1, min_args, VT::Vector, experimental};
}
// The last argument type repeats, up to `max_total` arguments in all.
constexpr FunctionInfo repeating(std::string_view name, std::span<const VT> args, int min_args,
                                 int max_total, bool experimental = false) {
  return FunctionInfo{name, args, max_total, min_args, VT::Vector, experimental};
}

constexpr auto kFunctions = std::to_array<FunctionInfo>({
    fixed("abs", kV),
    fixed("absent", kV),
    fixed("absent_over_time", kM),
    fixed("acos", kV),
    fixed("acosh", kV),
    fixed("asin", kV),
    fixed("asinh", kV),
    fixed("atan", kV),
    fixed("atanh", kV),
    fixed("avg_over_time", kM),
    fixed("ceil", kV),
    fixed("changes", kM),
    fixed("clamp", kVSS),
    fixed("clamp_max", kVS),
    fixed("clamp_min", kVS),
    fixed("cos", kV),
    fixed("cosh", kV),
    fixed("count_over_time", kM),
    optional_tail("day_of_month", kV, 0),
    optional_tail("day_of_week", kV, 0),
    optional_tail("day_of_year", kV, 0),
    optional_tail("days_in_month", kV, 0),
    fixed("deg", kV),
    fixed("delta", kM),
    fixed("deriv", kM),
    fixed("double_exponential_smoothing", kMSS, VT::Vector, true),
    fixed("end", kNone, VT::Scalar, true),
    fixed("exp", kV),
    fixed("first_over_time", kM, VT::Vector, true),
    fixed("floor", kV),
    fixed("histogram_avg", kV),
    fixed("histogram_count", kV),
    fixed("histogram_fraction", kSSV),
    fixed("histogram_quantile", kSV),
    repeating("histogram_quantiles", kVStrSS, 3, 12, true),
    fixed("histogram_stddev", kV),
    fixed("histogram_stdvar", kV),
    fixed("histogram_sum", kV),
    optional_tail("hour", kV, 0),
    fixed("idelta", kM),
    fixed("increase", kM),
    optional_tail("info", kVV, 1, true),
    fixed("irate", kM),
    repeating("label_join", kVStr3, 3, kUnbounded),
    fixed("label_replace", kVStr4),
    fixed("last_over_time", kM),
    fixed("ln", kV),
    fixed("log10", kV),
    fixed("log2", kV),
    fixed("mad_over_time", kM, VT::Vector, true),
    fixed("max_of", kSS, VT::Scalar, true),
    fixed("max_over_time", kM),
    fixed("min_of", kSS, VT::Scalar, true),
    fixed("min_over_time", kM),
    optional_tail("minute", kV, 0),
    optional_tail("month", kV, 0),
    fixed("pi", kNone, VT::Scalar),
    fixed("predict_linear", kMS),
    fixed("present_over_time", kM),
    fixed("quantile_over_time", kSM),
    fixed("rad", kV),
    fixed("range", kNone, VT::Scalar, true),
    fixed("rate", kM),
    fixed("resets", kM),
    optional_tail("round", kVS, 1),
    fixed("scalar", kV, VT::Scalar),
    fixed("sgn", kV),
    fixed("sin", kV),
    fixed("sinh", kV),
    fixed("sort", kV),
    repeating("sort_by_label", kVStr, 1, kUnbounded, true),
    repeating("sort_by_label_desc", kVStr, 1, kUnbounded, true),
    fixed("sort_desc", kV),
    fixed("sqrt", kV),
    fixed("start", kNone, VT::Scalar, true),
    fixed("start_timestamp", kV, VT::Vector, true),
    fixed("stddev_over_time", kM),
    fixed("stdvar_over_time", kM),
    fixed("step", kNone, VT::Scalar, true),
    fixed("sum_over_time", kM),
    fixed("tan", kV),
    fixed("tanh", kV),
    fixed("time", kNone, VT::Scalar),
    fixed("timestamp", kV),
    fixed("ts_of_first_over_time", kM, VT::Vector, true),
    fixed("ts_of_last_over_time", kM, VT::Vector, true),
    fixed("ts_of_max_over_time", kM, VT::Vector, true),
    fixed("ts_of_min_over_time", kM, VT::Vector, true),
    fixed("vector", kS),
    optional_tail("year", kV, 0),
});

constexpr bool sorted_by_name() {
  for (size_t i = 1; i < kFunctions.size(); ++i) {
    if (!(kFunctions[i - 1].name < kFunctions[i].name)) return false;
  }
  return true;
}
static_assert(sorted_by_name(), "kFunctions must stay sorted by name for binary search");

}  // namespace

const FunctionInfo* find_function(std::string_view name) {
  auto it = std::lower_bound(kFunctions.begin(), kFunctions.end(), name,
                             [](const FunctionInfo& f, std::string_view n) { return f.name < n; });
  if (it == kFunctions.end() || it->name != name) return nullptr;
  return &*it;
}

std::span<const FunctionInfo> all_functions() { return kFunctions; }

}  // namespace ruleeval::promql
