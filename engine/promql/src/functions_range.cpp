// Rate-like range functions: rate, increase, delta, irate, idelta, resets, changes, deriv,
// predict_linear.
#include <algorithm>
#include <cmath>
#include <memory>

#include "functions.hpp"

namespace ruleeval::engine::detail {
namespace {

using promql::Call;

// Slope and intercept of the least-squares line through points, x relative to intercept_t.
std::pair<double, double> linear_regression(std::span<const FPoint> pts, Millis intercept_t) {
  double n = 0, sum_x = 0, c_x = 0, sum_y = 0, c_y = 0, sum_xy = 0, c_xy = 0, sum_x2 = 0, c_x2 = 0;
  double init_y = pts[0].v;
  bool const_y = true;
  for (size_t i = 0; i < pts.size(); ++i) {
    if (const_y && i > 0 && pts[i].v != init_y) const_y = false;
    n += 1;
    double x = ms_to_seconds(pts[i].t - intercept_t);
    kahan_inc(x, sum_x, c_x);
    kahan_inc(pts[i].v, sum_y, c_y);
    kahan_inc(x * pts[i].v, sum_xy, c_xy);
    kahan_inc(x * x, sum_x2, c_x2);
  }
  if (const_y) {
    if (std::isinf(init_y)) return {kNaN, kNaN};
    return {0, init_y};
  }
  sum_x += c_x;
  sum_y += c_y;
  sum_xy += c_xy;
  sum_x2 += c_x2;
  double cov_xy = sum_xy - sum_x * sum_y / n;
  double var_x = sum_x2 - sum_x * sum_x / n;
  double slope = cov_xy / var_x;
  double intercept = sum_y / n - slope * sum_x / n;
  return {slope, intercept};
}

std::optional<double> extrapolated_rate(std::span<const FPoint> pts, Millis range_start,
                                        Millis range_end, Millis range, bool is_counter,
                                        bool is_rate) {
  if (pts.size() < 2) return std::nullopt;
  const FPoint& first = pts.front();
  const FPoint& last = pts.back();
  double result = last.v - first.v;
  if (is_counter) {
    double prev = 0;
    for (const auto& p : pts) {
      if (p.v < prev) result += prev;
      prev = p.v;
    }
  }
  double sampled = ms_to_seconds(last.t - first.t);
  double avg_between = sampled / static_cast<double>(pts.size() - 1);
  double to_start = ms_to_seconds(first.t - range_start);
  double to_end = ms_to_seconds(range_end - last.t);
  double threshold = avg_between * 1.1;
  if (to_start >= threshold) to_start = avg_between / 2;
  if (is_counter && result > 0 && first.v >= 0) {
    double to_zero = sampled * (first.v / result);
    if (to_zero < to_start) to_start = to_zero;
  }
  if (to_end >= threshold) to_end = avg_between / 2;
  double factor = (sampled + to_start + to_end) / sampled;
  if (is_rate) factor /= ms_to_seconds(range);
  return result * factor;
}
bool counter_like_name(std::string_view n) {
  for (std::string_view suffix : {"_total", "_sum", "_count", "_bucket"}) {
    if (n.size() >= suffix.size() && n.substr(n.size() - suffix.size()) == suffix) return true;
  }
  return false;
}

// Prometheus's histogramRate: last - first over the range with counter resets added back, at
// the lowest schema of the range; null (with a warning) for incompatible layouts.
std::shared_ptr<FloatHistogram> histogram_increase(RangeCall& rc, const RangeArg& a,
                                                   bool is_counter) {
  const auto pts = a.hpoints;
  const Labels& metric = *a.metric;
  FloatHistogram empty;
  const FloatHistogram* prev = pts.front().h.get();
  const FloatHistogram* last = pts.back().h.get();
  bool custom = prev->uses_custom_buckets();
  if (is_counter && (prev->hint == CounterResetHint::kGauge || last->hint == CounterResetHint::kGauge)) {
    warn_not_counter(rc.ev, metric);
  }
  if (is_counter) {
    const FloatHistogram* second = pts[1].h.get();
    if (histogram_detect_reset(*second, *prev)) {
      empty.schema = second->schema;
      empty.custom_values = second->custom_values;
      prev = &empty;
      custom = second->uses_custom_buckets();
    }
  }
  if (last->uses_custom_buckets() != custom) {
    warn_mixed_exponential_custom(rc.ev, metric);
    return nullptr;
  }
  int32_t min_schema = std::min(last->schema, prev->schema);
  for (size_t i = 1; i + 1 < pts.size(); ++i) {
    const FloatHistogram* cur = pts[i].h.get();
    if (!is_counter) continue;
    if (cur->hint == CounterResetHint::kGauge) warn_not_counter(rc.ev, metric);
    min_schema = std::min(min_schema, cur->schema);
    if (cur->uses_custom_buckets() != custom) {
      warn_mixed_exponential_custom(rc.ev, metric);
      return nullptr;
    }
  }
  auto h = std::make_shared<FloatHistogram>(*last);
  histogram_to_schema(*h, min_schema);
  bool reconciled = false;
  bool ok = histogram_add(*h, *prev, true, &reconciled).has_value();
  if (reconciled) rc.ev.info("PromQL info: mismatched custom buckets were reconciled during subtraction");
  if (!ok) {
    warn_mixed_exponential_custom(rc.ev, metric);
    return nullptr;
  }
  if (is_counter) {
    for (size_t i = 1; i < pts.size(); ++i) {
      const FloatHistogram* cur = pts[i].h.get();
      if (histogram_detect_reset(*cur, *prev)) {
        bool added_reconciled = false;
        bool added = histogram_add(*h, *prev, false, &added_reconciled).has_value();
        if (added_reconciled) {
          rc.ev.info("PromQL info: mismatched custom buckets were reconciled during addition");
        }
        if (!added) {
          warn_mixed_exponential_custom(rc.ev, metric);
          return nullptr;
        }
      }
      prev = cur;
    }
  } else if (pts.front().h->hint != CounterResetHint::kGauge ||
             pts.back().h->hint != CounterResetHint::kGauge) {
    warn_not_gauge(rc.ev, metric);
  }
  h->hint = CounterResetHint::kGauge;
  histogram_compact(*h);
  return h;
}

template <bool IsCounter, bool IsRate>
std::optional<RangeOut> k_extrapolated(RangeCall& rc, const RangeArg& a) {
  if (a.anchored || a.smoothed) return extended_rate(rc, a, IsCounter, IsRate);
  if (!a.points.empty() && !a.hpoints.empty()) {
    warn_mixed_range(rc, a);
    return std::nullopt;
  }
  if (a.points.empty()) {
    const auto pts = a.hpoints;
    if (pts.size() < 2) return std::nullopt;
    for (const auto& p : pts) {
      if (!p.h) return std::nullopt;
    }
    auto h = histogram_increase(rc, a, IsCounter);
    if (!h) return std::nullopt;
    Millis range_start = rc.window_end - rc.range;
    double sampled = ms_to_seconds(pts.back().t - pts.front().t);
    double avg_between = sampled / static_cast<double>(pts.size() - 1);
    double to_start = ms_to_seconds(pts.front().t - range_start);
    double to_end = ms_to_seconds(rc.window_end - pts.back().t);
    double threshold = avg_between * 1.1;
    if (to_start >= threshold) to_start = avg_between / 2;
    if (IsCounter && h->count > 0 && pts.front().h->count >= 0) {
      double to_zero = sampled * (pts.front().h->count / h->count);
      if (to_zero < to_start) to_start = to_zero;
    }
    if (to_end >= threshold) to_end = avg_between / 2;
    double factor = sampled != 0 ? (sampled + to_start + to_end) / sampled : 1.0;
    if (IsRate) factor /= ms_to_seconds(rc.range);
    histogram_scale(*h, factor, false);
    return RangeOut{histogram_marker(), std::move(h)};
  }
  auto r = extrapolated_rate(a.points, rc.window_end - rc.range, rc.window_end, rc.range,
                             IsCounter, IsRate);
  if (!r) return std::nullopt;
  if (IsCounter) {
    auto mn = a.metric->metric_name();
    if (!mn.empty() && !counter_like_name(mn)) {
      rc.ev.info("PromQL info: metric might not be a counter, name does not end in "
                 "_total/_sum/_count/_bucket: " + go_quote(mn));
    }
  }
  return RangeOut{*r};
}

// irate / idelta over the last two samples of the range (floats or histograms).
template <bool IsRate>
std::optional<RangeOut> k_instant(RangeCall& rc, const RangeArg& a) {
  if (a.points.size() + a.hpoints.size() < 2) return std::nullopt;
  struct Pt {
    Millis t;
    double v;
    const FloatHistogram* h;
  } ss[2];
  size_t n = 0;
  for_each_in_time_order(a, [&](Millis t, double v, const FloatHistogram* h) {
    if (n < 2) {
      ss[n++] = Pt{t, v, h};
    } else {
      ss[0] = ss[1];
      ss[1] = Pt{t, v, h};
    }
  });
  Millis dt = ss[1].t - ss[0].t;
  if (dt == 0) return std::nullopt;
  if (!ss[0].h && !ss[1].h) {
    double v = ss[1].v;
    if (!IsRate || !(ss[1].v < ss[0].v)) v = ss[1].v - ss[0].v;
    if (IsRate) v /= ms_to_seconds(dt);
    return RangeOut{v};
  }
  if (!ss[0].h || !ss[1].h) {
    warn_mixed_range(rc, a);
    return std::nullopt;
  }
  auto h = std::make_shared<FloatHistogram>(*ss[1].h);
  bool gauge0 = ss[0].h->hint == CounterResetHint::kGauge, gauge1 = ss[1].h->hint == CounterResetHint::kGauge;
  if (IsRate && (gauge0 || gauge1)) warn_not_counter(rc.ev, *a.metric);
  if (!IsRate && (!gauge0 || !gauge1)) warn_not_gauge(rc.ev, *a.metric);
  if (!IsRate || !histogram_detect_reset(*ss[1].h, *ss[0].h)) {
    bool reconciled = false;
    bool ok = histogram_add(*h, *ss[0].h, true, &reconciled).has_value();
    if (reconciled) rc.ev.info("PromQL info: mismatched custom buckets were reconciled during subtraction");
    if (!ok) {
      warn_mixed_exponential_custom(rc.ev, *a.metric);
      return std::nullopt;
    }
  }
  h->hint = CounterResetHint::kGauge;
  histogram_compact(*h);
  if (IsRate) histogram_scale(*h, ms_to_seconds(dt), true);
  return RangeOut{histogram_marker(), std::move(h)};
}

std::optional<RangeOut> k_deriv(RangeCall& rc, const RangeArg& a) {
  if (a.points.empty()) return std::nullopt;
  if (a.histograms > 0) info_ignored_histograms(rc, a);
  if (a.points.size() < 2) return std::nullopt;
  return RangeOut{linear_regression(a.points, a.points[0].t).first};
}

std::optional<RangeOut> k_predict_linear(RangeCall& rc, const RangeArg& a) {
  if (a.points.empty()) return std::nullopt;
  if (a.histograms > 0) info_ignored_histograms(rc, a);
  if (a.points.size() < 2) return std::nullopt;
  auto [slope, intercept] = linear_regression(a.points, rc.t);
  return RangeOut{slope * rc.p0 + intercept};
}

// changes / resets over floats and histograms in time order; a switch between a float and a
// histogram counts as both.
template <bool Changes>
std::optional<RangeOut> k_changes(RangeCall& rc, const RangeArg& a) {
  if (a.anchored) {
    // Count from the anchor: the last sample at or before the range start.
    size_t ff = 0, fh = 0;
    if (!anchored_first_indices(a, rc.window_end - rc.range, ff, fh)) return std::nullopt;
    RangeArg b = a;
    b.anchored = false;
    b.points = a.points.subspan(ff);
    b.hpoints = a.hpoints.subspan(fh);
    return k_changes<Changes>(rc, b);
  }
  double n = 0;
  bool first = true;
  double pv = 0;
  const FloatHistogram* ph = nullptr;
  for_each_in_time_order(a, [&](Millis, double v, const FloatHistogram* h) {
    if (!first) {
      if (!ph && !h) {
        if (Changes ? !(v == pv || (std::isnan(v) && std::isnan(pv))) : v < pv) n += 1;
      } else if (!ph || !h ||  // a float next to a histogram counts as a change and a reset
                 (Changes ? !histogram_equals(*h, *ph) : histogram_detect_reset(*h, *ph))) {
        n += 1;
      }
    }
    first = false;
    pv = v;
    ph = h;
  });
  return RangeOut{n};
}

template <RangeKernel K>
Value range_fn(Evaluator& ev, const Call& call, Millis t) {
  RangeCall rc{ev, t};
  return eval_range_function(rc, call, 0, K, false);
}

Value fn_predict_linear(Evaluator& ev, const Call& call, Millis t) {
  RangeCall rc{ev, t};
  rc.p0 = ev.eval_scalar(*call.args[1], t);
  return eval_range_function(rc, call, 0, k_predict_linear, false);
}

constexpr FunctionDef kDefs[] = {
    {"rate", range_fn<k_extrapolated<true, true>>},
    {"increase", range_fn<k_extrapolated<true, false>>},
    {"delta", range_fn<k_extrapolated<false, false>>},
    {"irate", range_fn<k_instant<true>>},
    {"idelta", range_fn<k_instant<false>>},
    {"deriv", range_fn<k_deriv>},
    {"predict_linear", fn_predict_linear},
    {"changes", range_fn<k_changes<true>>},
    {"resets", range_fn<k_changes<false>>},
};

}  // namespace

std::span<const FunctionDef> range_function_defs() { return kDefs; }

}  // namespace ruleeval::engine::detail
