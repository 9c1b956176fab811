// Experimental extended selectors (--enable-feature=promql-extended-range-selectors), as
// Prometheus's engine.go and functions.go evaluate them:
//   `x[5m] anchored`  the range also holds the last sample at or before its start (the window is
//                     (t-5m-lookback, t]); rate/increase/delta take last minus that anchor,
//                     resets/changes count from it;
//   `x[5m] smoothed`  the window is (t-5m-lookback, t+lookback]; rate/increase/delta take the
//                     values linearly interpolated at t-5m and t;
//   `x smoothed`      the value linearly interpolated at t (the last value when nothing follows).
// Only the functions of Prometheus's AnchoredSafeFunctions / SmoothedSafeFunctions take them.
#include <algorithm>
#include <memory>

#include "functions.hpp"
#include "ruleeval/engine/histogram.hpp"

namespace ruleeval::engine::detail {
namespace {

// Prometheus's interpolate: linear between p1 and p2 at t (a counter restarting from 0 when
// is_counter and p2 < p1).
double interpolate(const FPoint& p1, const FPoint& p2, Millis t, bool is_counter) {
  double y1 = p1.v;
  double y2 = p2.v;
  if (is_counter && y2 < y1) y1 = 0;
  return y1 + (y2 - y1) * static_cast<double>(t - p1.t) / static_cast<double>(p2.t - p1.t);
}

void info_reconciled(Evaluator& ev, bool reconciled, bool subtraction) {
  if (!reconciled) return;
  ev.info(std::string("PromQL info: mismatched custom buckets were reconciled during ") +
          (subtraction ? "subtraction" : "addition"));
}

// Prometheus's interpolateHistograms; null when the layouts are incompatible.
HistogramPtr interpolate_histograms(Evaluator& ev, const FloatHistogram& h1, Millis t1,
                                    const FloatHistogram& h2, Millis t2, Millis t,
                                    bool is_counter) {
  if (t == t1) return std::make_shared<FloatHistogram>(h1);
  if (t == t2) return std::make_shared<FloatHistogram>(h2);
  double fraction = static_cast<double>(t - t1) / static_cast<double>(t2 - t1);
  auto r = std::make_shared<FloatHistogram>(h2);
  if (is_counter && histogram_detect_reset(h2, h1)) {
    histogram_scale(*r, fraction, false);
    return r;
  }
  bool rec = false;
  if (!histogram_add(*r, h1, true, &rec)) return nullptr;
  info_reconciled(ev, rec, true);
  histogram_scale(*r, fraction, false);
  rec = false;
  if (!histogram_add(*r, h1, false, &rec)) return nullptr;
  info_reconciled(ev, rec, false);
  return r;
}

// sort.Search(n, pred) - 1 clamped at 0, and the smoothed right index, as extendedRate does.
template <class P, class T>
size_t first_index(std::span<const P> pts, Millis range_start, T) {
  size_t n = pts.size() - 1;  // sort.Search over lastSampleIndex elements
  size_t i = 0;
  while (i < n && !(pts[i].t > range_start)) ++i;
  return i > 0 ? i - 1 : 0;
}
template <class P>
size_t last_index(std::span<const P> pts, Millis range_end, bool smoothed) {
  size_t n = pts.size() - 1;
  if (!smoothed) return n;
  size_t i = 0;
  while (i < n && !(pts[i].t >= range_end)) ++i;
  return i;
}

std::optional<RangeOut> extended_float_rate(RangeCall& rc, const RangeArg& a, bool is_counter,
                                            bool is_rate) {
  const auto f = a.points;
  const bool smoothed = a.smoothed;
  Millis range_start = rc.window_end - rc.range;
  Millis range_end = rc.window_end;
  size_t first = first_index(f, range_start, 0);
  size_t last = last_index(f, range_end, smoothed);
  if (f[last].t <= range_start) return std::nullopt;
  if (smoothed && f[first].t > range_end) return std::nullopt;
  double left = (smoothed && f[first].t < range_start)
                    ? interpolate(f[first], f[first + 1], range_start, is_counter)
                    : f[first].v;
  double right = (smoothed && last > 0 && f[last].t > range_end)
                     ? interpolate(f[last - 1], f[last], range_end, is_counter)
                     : f[last].v;
  double result = right - left;
  if (is_counter) {
    // Only the samples strictly inside the range: the boundaries are left and right.
    auto lo = static_cast<std::ptrdiff_t>(first);
    auto hi = static_cast<std::ptrdiff_t>(last);
    if (f[first].t <= range_start) ++lo;
    if (f[last].t >= range_end) --hi;
    // correctForCounterResets over f[lo..hi].
    double correction = 0;
    double prev = left;
    for (std::ptrdiff_t i = lo; i <= hi; ++i) {
      double v = f[static_cast<size_t>(i)].v;
      if (v < prev) correction += prev;
      prev = v;
    }
    if (right < prev) correction += prev;
    result += correction;
  }
  if (is_rate) result /= ms_to_seconds(rc.range);
  return RangeOut{result};
}

bool add_checked(Evaluator& ev, FloatHistogram& base, const FloatHistogram& other, bool sub,
                 const Labels& metric) {
  bool rec = false;
  if (!histogram_add(base, other, sub, &rec)) {
    warn_mixed_exponential_custom(ev, metric);
    return false;
  }
  info_reconciled(ev, rec, sub);
  return true;
}

std::optional<RangeOut> extended_histogram_rate(RangeCall& rc, const RangeArg& a,
                                                bool is_counter, bool is_rate) {
  const auto h = a.hpoints;
  for (const auto& p : h) {
    if (!p.h) return std::nullopt;
  }
  const Labels& metric = *a.metric;
  const bool smoothed = a.smoothed;
  Millis range_start = rc.window_end - rc.range;
  Millis range_end = rc.window_end;
  size_t first = first_index(h, range_start, 0);
  size_t last = last_index(h, range_end, smoothed);
  if (h[last].t <= range_start) return std::nullopt;
  if (smoothed && h[first].t > range_end) return std::nullopt;
  // validateHistogramRange.
  bool custom = h[first].h->uses_custom_buckets();
  bool warned_counter = false;
  for (size_t i = first; i <= last; ++i) {
    if (h[i].h->uses_custom_buckets() != custom) {
      warn_mixed_exponential_custom(rc.ev, metric);
      return std::nullopt;
    }
    if (is_counter && h[i].h->hint == CounterResetHint::kGauge && !warned_counter) {
      warn_not_counter(rc.ev, metric);
      warned_counter = true;
    }
  }
  HistogramPtr left;
  if (smoothed && h[first].t < range_start) {
    left = interpolate_histograms(rc.ev, *h[first].h, h[first].t, *h[first + 1].h, h[first + 1].t,
                                  range_start, is_counter);
    if (!left) {
      warn_mixed_exponential_custom(rc.ev, metric);
      return std::nullopt;
    }
  } else {
    left = std::make_shared<FloatHistogram>(*h[first].h);
  }
  HistogramPtr right;
  if (smoothed && last > 0 && h[last].t > range_end) {
    right = interpolate_histograms(rc.ev, *h[last - 1].h, h[last - 1].t, *h[last].h, h[last].t,
                                   range_end, is_counter);
    if (!right) {
      warn_mixed_exponential_custom(rc.ev, metric);
      return std::nullopt;
    }
  } else {
    right = std::make_shared<FloatHistogram>(*h[last].h);
  }
  if (!is_counter && (left->hint != CounterResetHint::kGauge ||
                      right->hint != CounterResetHint::kGauge)) {
    warn_not_gauge(rc.ev, metric);
  }
  auto result = std::make_shared<FloatHistogram>(*right);
  if (!add_checked(rc.ev, *result, *left, true, metric)) return std::nullopt;
  if (is_counter) {
    // correctForCounterResetsHistogram.
    size_t from = first + 1;
    const FloatHistogram* prev = left.get();
    if (smoothed && h[first].t < range_start && histogram_detect_reset(*h[first + 1].h, *h[first].h)) {
      prev = h[first + 1].h.get();
      ++from;
    }
    // The loop covers h[from .. last-1]; nothing to correct when from > last.
    if (from <= last) {
      std::shared_ptr<FloatHistogram> correction;
      auto add_correction = [&](const FloatHistogram& c) {
        if (!correction) {
          correction = std::make_shared<FloatHistogram>(c);
          return true;
        }
        return add_checked(rc.ev, *correction, c, false, metric);
      };
      for (size_t i = from; i < last; ++i) {
        if (histogram_detect_reset(*h[i].h, *prev) && !add_correction(*prev)) return std::nullopt;
        prev = h[i].h.get();
      }
      if (histogram_detect_reset(*right, *prev) && !add_correction(*prev)) return std::nullopt;
      if (correction && !add_checked(rc.ev, *result, *correction, false, metric)) {
        return std::nullopt;
      }
    }
  }
  if (is_rate) histogram_scale(*result, ms_to_seconds(rc.range), true);
  result->hint = CounterResetHint::kGauge;
  histogram_compact(*result);
  return RangeOut{histogram_marker(), std::move(result)};
}

}  // namespace

std::optional<RangeOut> extended_rate(RangeCall& rc, const RangeArg& a, bool is_counter,
                                      bool is_rate) {
  if (!a.hpoints.empty() && !a.points.empty()) {
    warn_mixed_range(rc, a);
    return std::nullopt;
  }
  if (!a.hpoints.empty()) return extended_histogram_rate(rc, a, is_counter, is_rate);
  if (!a.points.empty()) return extended_float_rate(rc, a, is_counter, is_rate);
  return std::nullopt;
}

bool anchored_first_indices(const RangeArg& a, Millis range_start, size_t& first_float,
                            size_t& first_histogram) {
  first_float = 0;
  first_histogram = 0;
  if (!a.anchored) return true;
  auto count_le = [&](auto pts) {
    size_t i = 0;
    while (i < pts.size() && !(pts[i].t > range_start)) ++i;
    return i;  // lastLE + 1
  };
  size_t fle = count_le(a.points);  // index of last float <= start, plus one (0: none)
  size_t hle = count_le(a.hpoints);
  if (fle >= a.points.size() && hle >= a.hpoints.size()) return false;
  if (fle == 0 && hle == 0) return true;
  if (hle == 0 || (fle > 0 && a.points[fle - 1].t >= a.hpoints[hle - 1].t)) {
    first_float = fle - 1;
    first_histogram = hle;
  } else {
    first_float = fle;
    first_histogram = hle - 1;
  }
  return true;
}

void check_extended_safe(const promql::Call& call) {
  for (const auto& arg : call.args) {
    const promql::Expr* e = arg.get();
    while (const auto* p = e->as<promql::Paren>()) e = p->expr.get();
    const auto* ms = e->as<promql::MatrixSelector>();
    if (!ms) continue;
    std::string_view name = call.func->name;
    if (ms->anchored && name != "resets" && name != "changes" && name != "rate" &&
        name != "increase" && name != "delta") {
      fail("anchored modifier can only be used with: changes, delta, increase, rate, resets - "
           "not with " + std::string(name));
    }
    if (ms->smoothed && name != "rate" && name != "increase" && name != "delta") {
      fail("smoothed modifier can only be used with: delta, increase, rate - not with " +
           std::string(name));
    }
  }
}

std::vector<FPoint> extend_floats(std::span<const FPoint> floats, Millis mint, Millis maxt,
                                  bool smoothed) {
  if (floats.empty()) return {};
  size_t last = last_index(floats, maxt, smoothed);
  size_t first = first_index(floats, mint, 0);
  if (floats[last].t <= mint) return {};
  double left = (smoothed && floats[first].t < mint)
                    ? interpolate(floats[first], floats[first + 1], mint, false)
                    : floats[first].v;
  double right = (smoothed && last > 0 && floats[last].t > maxt)
                     ? interpolate(floats[last - 1], floats[last], maxt, false)
                     : floats[last].v;
  if (floats[first].t <= mint) ++first;
  bool drop_last = floats[last].t >= maxt;
  std::vector<FPoint> out;
  out.push_back({mint, left});
  // floats[first .. last] without the boundary samples.
  size_t end = drop_last ? last : last + 1;
  for (size_t i = first; i < end; ++i) out.push_back(floats[i]);
  out.push_back({maxt, right});
  return out;
}

std::optional<Sample> smoothed_sample(Evaluator& ev, const SeriesView& s, Millis data_t,
                                      Millis eval_t, Millis lookback) {
  // The window (data_t - lookback, data_t + lookback], stale markers dropped.
  auto b = std::upper_bound(s.t.begin(), s.t.end(), data_t - lookback);
  auto e = std::upper_bound(b, s.t.end(), data_t + lookback);
  std::vector<FPoint> floats;
  std::vector<HPoint> hists;
  for (auto it = b; it != e; ++it) {
    auto idx = static_cast<size_t>(it - s.t.begin());
    double v = s.v[idx];
    if (is_stale_nan(v)) continue;
    if (is_histogram_marker(v)) {
      if (const HistogramPtr* h = s.histogram_at(idx); h && *h) hists.push_back({*it, *h});
    } else {
      floats.push_back({*it, v});
    }
  }
  if (floats.empty() && hists.empty()) return std::nullopt;
  if (!floats.empty() && !hists.empty()) {
    ev.warn("PromQL warning: encountered a mix of histograms and floats for metric name " +
            go_quote(s.labels->metric_name()));
    return std::nullopt;
  }
  if (!hists.empty()) {
    size_t i = 0;
    while (i < hists.size() && hists[i].t < data_t) ++i;
    if (i < hists.size() && hists[i].t == data_t) {
      return Sample{*s.labels, histogram_marker(), eval_t, false,
                    std::make_shared<FloatHistogram>(*hists[i].h)};
    }
    if (i > 0 && i < hists.size()) {
      const auto& prev = hists[i - 1];
      const auto& next = hists[i];
      if (prev.h->uses_custom_buckets() != next.h->uses_custom_buckets()) {
        warn_mixed_exponential_custom(ev, *s.labels);
        return std::nullopt;
      }
      bool is_counter = prev.h->hint != CounterResetHint::kGauge ||
                        next.h->hint != CounterResetHint::kGauge;
      auto h = interpolate_histograms(ev, *prev.h, prev.t, *next.h, next.t, data_t, is_counter);
      if (!h) {
        warn_mixed_exponential_custom(ev, *s.labels);
        return std::nullopt;
      }
      return Sample{*s.labels, histogram_marker(), eval_t, false, std::move(h)};
    }
    if (i > 0) {
      auto h = std::make_shared<FloatHistogram>(*hists[i - 1].h);
      h->hint = CounterResetHint::kUnknown;
      return Sample{*s.labels, histogram_marker(), eval_t, false, std::move(h)};
    }
    return std::nullopt;
  }
  size_t i = 0;
  while (i < floats.size() && floats[i].t < data_t) ++i;
  if (i < floats.size() && floats[i].t == data_t) {
    return Sample{*s.labels, floats[i].v, eval_t, false};
  }
  if (i > 0 && i < floats.size()) {
    return Sample{*s.labels, interpolate(floats[i - 1], floats[i], data_t, false), eval_t, false};
  }
  if (i > 0) return Sample{*s.labels, floats[i - 1].v, eval_t, false};
  return std::nullopt;
}

}  // namespace ruleeval::engine::detail
