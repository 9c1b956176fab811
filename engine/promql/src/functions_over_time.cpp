// Range functions over time: avg/sum/count/min/max/stddev/stdvar/last/first/present/quantile/
// mad_over_time, ts_of_first/last/min/max_over_time, double_exponential_smoothing,
// absent_over_time.
#include <algorithm>
#include <cmath>
#include <memory>

#include "functions.hpp"
#include "histogram_sum.hpp"

namespace ruleeval::engine::detail {
namespace {

using promql::Call;

double avg_of(std::span<const FPoint> pts) {
  double sum = 0, c = 0, mean = 0, count = 0;
  bool incremental = false;
  for (const auto& p : pts) {
    count += 1;
    if (count == 1) {
      sum = p.v;
      continue;
    }
    if (!incremental) {
      double s = sum, cc = c;
      kahan_inc(p.v, s, cc);
      if (!std::isinf(s)) {
        sum = s;
        c = cc;
        continue;
      }
      incremental = true;
      mean = sum / (count - 1);
      c /= count - 1;
    }
    double q = (count - 1) / count;
    double m = q * mean, cc = q * c;
    kahan_inc(p.v / count, m, cc);
    mean = m;
    c = cc;
  }
  // Prometheus 3 (funcAvgOverTime): sum and compensation each divided by the count.
  return incremental ? mean + c : sum / count + c / count;
}

double variance_of(std::span<const FPoint> pts) {
  double count = 0, mean = 0, c_mean = 0, aux = 0, c_aux = 0;
  for (const auto& p : pts) {
    count += 1;
    double delta = p.v - (mean + c_mean);
    kahan_inc(delta / count, mean, c_mean);
    kahan_inc(delta * (p.v - (mean + c_mean)), aux, c_aux);
  }
  return (aux + c_aux) / count;
}

double des_trend(size_t i, double tf, double s0, double s1, double b) {
  if (i == 0) return b;
  return tf * (s1 - s0) + (1 - tf) * b;
}

// Float-only statistics: histograms in the range are ignored with an info annotation.
bool floats_only(RangeCall& rc, const RangeArg& a) {
  if (a.points.empty()) return false;
  if (a.histograms > 0) info_ignored_histograms(rc, a);
  return true;
}

// Sum (or mean) of the histograms of a range, Kahan-compensated as Prometheus's
// sum_over_time/avg_over_time (which warn when counter resets and non-resets meet).
std::shared_ptr<FloatHistogram> histogram_sum(RangeCall& rc, const RangeArg& a, bool mean) {
  HistogramSum sum(mean);
  bool reset = false, not_reset = false;
  auto track = [&](const FloatHistogram& h) {
    reset = reset || h.hint == CounterResetHint::kReset;
    not_reset = not_reset || h.hint == CounterResetHint::kNotReset;
  };
  for (size_t i = 0; i < a.hpoints.size(); ++i) {
    track(*a.hpoints[i].h);
    bool reconciled = false;
    bool ok = sum.add(*a.hpoints[i].h, reconciled);
    if (reconciled) {
      rc.ev.info("PromQL info: mismatched custom buckets were reconciled during aggregation");
    }
    if (!ok) {
      warn_mixed_exponential_custom(rc.ev, *a.metric);
      return nullptr;
    }
  }
  if (reset && not_reset) {
    rc.ev.warn("PromQL warning: conflicting counter resets during histogram aggregation");
  }
  return sum.result();
}

bool histograms_complete(const RangeArg& a) {
  return std::all_of(a.hpoints.begin(), a.hpoints.end(), [](const HPoint& p) { return p.h != nullptr; });
}

template <bool Avg>
std::optional<RangeOut> k_sum_avg(RangeCall& rc, const RangeArg& a) {
  if (!a.points.empty() && !a.hpoints.empty()) {
    warn_mixed_range(rc, a);
    return std::nullopt;
  }
  if (a.points.empty()) {
    if (a.hpoints.empty() || !histograms_complete(a)) return std::nullopt;
    auto h = histogram_sum(rc, a, Avg);
    if (!h) return std::nullopt;
    return RangeOut{histogram_marker(), std::move(h)};
  }
  if (Avg) return RangeOut{avg_of(a.points)};
  double s = 0, c = 0;
  for (const auto& p : a.points) kahan_inc(p.v, s, c);
  return RangeOut{s + c};
}

std::optional<RangeOut> k_count(RangeCall&, const RangeArg& a) {
  return RangeOut{static_cast<double>(a.points.size() + a.histograms)};
}

std::optional<RangeOut> k_present(RangeCall&, const RangeArg&) { return RangeOut{1}; }

template <bool Max>
std::optional<RangeOut> k_minmax(RangeCall& rc, const RangeArg& a) {
  if (!floats_only(rc, a)) return std::nullopt;
  double m = a.points[0].v;
  for (const auto& p : a.points) {
    if (std::isnan(m) || (Max ? p.v > m : p.v < m)) m = p.v;
  }
  return RangeOut{m};
}

template <bool Stddev>
std::optional<RangeOut> k_variance(RangeCall& rc, const RangeArg& a) {
  if (!floats_only(rc, a)) return std::nullopt;
  double var = variance_of(a.points);
  return RangeOut{Stddev ? std::sqrt(var) : var};
}

// last/first_over_time return the newest/oldest sample, float or histogram; the ts_of_
// variants its timestamp.
template <bool Ts>
std::optional<RangeOut> k_last(RangeCall&, const RangeArg& a) {
  const FPoint* f = a.points.empty() ? nullptr : &a.points.back();
  const HPoint* h = a.hpoints.empty() ? nullptr : &a.hpoints.back();
  if (h && (!f || h->t > f->t)) {
    if (Ts) return RangeOut{ms_to_seconds(h->t)};
    if (!h->h) return std::nullopt;
    return RangeOut{histogram_marker(), h->h};
  }
  if (!f) return std::nullopt;
  return RangeOut{Ts ? ms_to_seconds(f->t) : f->v};
}

template <bool Ts>
std::optional<RangeOut> k_first(RangeCall&, const RangeArg& a) {
  const FPoint* f = a.points.empty() ? nullptr : &a.points.front();
  const HPoint* h = a.hpoints.empty() ? nullptr : &a.hpoints.front();
  if (h && (!f || h->t < f->t)) {
    if (Ts) return RangeOut{ms_to_seconds(h->t)};
    if (!h->h) return std::nullopt;
    return RangeOut{histogram_marker(), h->h};
  }
  if (!f) return std::nullopt;
  return RangeOut{Ts ? ms_to_seconds(f->t) : f->v};
}

std::optional<RangeOut> k_quantile(RangeCall& rc, const RangeArg& a) {
  if (!floats_only(rc, a)) return std::nullopt;
  rc.scratch.clear();
  for (const auto& p : a.points) rc.scratch.push_back(p.v);
  return RangeOut{quantile_of(rc.p0, rc.scratch)};
}

std::optional<RangeOut> k_mad(RangeCall& rc, const RangeArg& a) {
  if (!floats_only(rc, a)) return std::nullopt;
  rc.scratch.clear();
  for (const auto& p : a.points) {
    // As Prometheus: a NaN sample makes the median, and so the deviation, NaN.
    if (std::isnan(p.v)) return RangeOut{kNaN};
    rc.scratch.push_back(p.v);
  }
  double median = quantile_of(0.5, rc.scratch);
  for (auto& v : rc.scratch) v = std::fabs(v - median);
  return RangeOut{quantile_of(0.5, rc.scratch)};
}

template <bool Max>
std::optional<RangeOut> k_ts_of_minmax(RangeCall& rc, const RangeArg& a) {
  if (!floats_only(rc, a)) return std::nullopt;
  const auto pts = a.points;
  size_t best = 0;
  for (size_t i = 1; i < pts.size(); ++i) {
    double b = pts[best].v, v = pts[i].v;
    bool better = Max ? (v >= b || std::isnan(b)) : (v <= b || std::isnan(b));
    if (better && !std::isnan(v)) best = i;
  }
  return RangeOut{ms_to_seconds(pts[best].t)};
}

std::optional<RangeOut> k_des(RangeCall& rc, const RangeArg& a) {
  if (!floats_only(rc, a)) return std::nullopt;
  const auto pts = a.points;
  if (pts.size() < 2) return std::nullopt;
  double s0 = 0, s1 = pts[0].v, b = pts[1].v - pts[0].v;
  for (size_t i = 1; i < pts.size(); ++i) {
    double x = rc.p0 * pts[i].v;
    b = des_trend(i - 1, rc.p1, s0, s1, b);
    double y = (1 - rc.p0) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  return RangeOut{s1};
}

template <RangeKernel K, bool KeepName = false>
Value over_time(Evaluator& ev, const Call& call, Millis t) {
  RangeCall rc{ev, t};
  return eval_range_function(rc, call, 0, K, KeepName);
}

Value fn_quantile_over_time(Evaluator& ev, const Call& call, Millis t) {
  RangeCall rc{ev, t};
  rc.p0 = ev.eval_scalar(*call.args[0], t);
  if (std::isnan(rc.p0) || rc.p0 < 0 || rc.p0 > 1) {
    ev.warn("PromQL warning: quantile value should be between 0 and 1, got " + format_g(rc.p0));
  }
  return eval_range_function(rc, call, 1, k_quantile, false);
}

Value fn_des(Evaluator& ev, const Call& call, Millis t) {
  RangeCall rc{ev, t};
  rc.p0 = ev.eval_scalar(*call.args[1], t);
  rc.p1 = ev.eval_scalar(*call.args[2], t);
  if (!(rc.p0 > 0 && rc.p0 < 1)) {
    fail("invalid smoothing factor. Expected: 0 < sf < 1, got: " + format_f(rc.p0));
  }
  if (!(rc.p1 > 0 && rc.p1 < 1)) {
    fail("invalid trend factor. Expected: 0 < tf < 1, got: " + format_f(rc.p1));
  }
  return eval_range_function(rc, call, 0, k_des, false);
}

Value fn_absent_over_time(Evaluator& ev, const Call& call, Millis t) {
  bool any = false;
  ev.for_each_range_series(
      *call.args[0], t,
      [&](const RangeArg& a) { any = any || !a.points.empty() || a.histograms > 0; }, nullptr,
      nullptr);
  if (any) return Vector{};
  return Vector{Sample{absent_labels(*call.args[0]), 1, t, false}};
}

constexpr FunctionDef kDefs[] = {
    {"avg_over_time", over_time<k_sum_avg<true>>},
    {"sum_over_time", over_time<k_sum_avg<false>>},
    {"count_over_time", over_time<k_count>},
    {"present_over_time", over_time<k_present>},
    {"min_over_time", over_time<k_minmax<false>>},
    {"max_over_time", over_time<k_minmax<true>>},
    {"stddev_over_time", over_time<k_variance<true>>},
    {"stdvar_over_time", over_time<k_variance<false>>},
    {"last_over_time", over_time<k_last<false>, true>},
    {"first_over_time", over_time<k_first<false>, true>},
    {"ts_of_last_over_time", over_time<k_last<true>>},
    {"ts_of_first_over_time", over_time<k_first<true>>},
    {"ts_of_min_over_time", over_time<k_ts_of_minmax<false>>},
    {"ts_of_max_over_time", over_time<k_ts_of_minmax<true>>},
    {"quantile_over_time", fn_quantile_over_time},
    {"mad_over_time", over_time<k_mad>},
    {"double_exponential_smoothing", fn_des},
    {"absent_over_time", fn_absent_over_time},
};

}  // namespace

std::span<const FunctionDef> over_time_function_defs() { return kDefs; }

}  // namespace ruleeval::engine::detail
