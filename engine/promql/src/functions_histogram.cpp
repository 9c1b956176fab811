// Histogram functions: histogram_quantile, histogram_quantiles, histogram_fraction (classic
// `le` buckets), histogram_count, histogram_sum, histogram_avg, histogram_stddev,
// histogram_stdvar.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "ruleeval/common/gomath.hpp"
#include "functions.hpp"

namespace ruleeval::engine::detail {
namespace {

using promql::Call;

// Prometheus's labels.FormatOpenMetricsFloat (the quantile label of histogram_quantiles).
std::string openmetrics_float(double v) {
  std::string s = format_go_float(v, 21);
  if (s.find_first_of(".eIN") == std::string::npos) s += ".0";
  return s;
}

std::string name_suffix(const Labels& metric) {
  auto n = metric.metric_name();
  return n.empty() ? std::string() : " for metric name " + go_quote(n);
}

struct Bucket {
  double upper;
  double count;
};

// Sorts, merges equal bounds and fixes monotonicity; returns false when unusable.
bool prepare_buckets(std::vector<Bucket>& b, bool& forced_monotonic) {
  std::sort(b.begin(), b.end(), [](const Bucket& x, const Bucket& y) { return x.upper < y.upper; });
  if (b.empty() || !(std::isinf(b.back().upper) && b.back().upper > 0)) return false;
  std::vector<Bucket> merged;
  for (const auto& x : b) {
    if (!merged.empty() && merged.back().upper == x.upper) {
      merged.back().count += x.count;
    } else {
      merged.push_back(x);
    }
  }
  b = std::move(merged);
  double prev = b[0].count;
  for (size_t i = 1; i < b.size(); ++i) {
    double cur = b[i].count;
    if (cur == prev) continue;
    double diff = std::fabs(cur - prev), sum = std::fabs(cur) + std::fabs(prev);
    if (diff / sum < 1e-12) {
      b[i].count = prev;
      continue;
    }
    if (cur < prev) {
      b[i].count = prev;
      forced_monotonic = true;
      continue;
    }
    prev = cur;
  }
  return true;
}

double bucket_quantile(double q, std::vector<Bucket>& b, bool& forced) {
  if (std::isnan(q)) return kNaN;
  if (q < 0) return -kInf;
  if (q > 1) return kInf;
  if (!prepare_buckets(b, forced)) return kNaN;
  if (b.size() < 2) return kNaN;
  double observations = b.back().count;
  if (observations == 0 || std::isnan(observations)) return kNaN;
  double rank = q * observations;
  size_t idx = 0;
  while (idx < b.size() - 1 && !(b[idx].count >= rank)) ++idx;
  if (idx == b.size() - 1) return b[b.size() - 2].upper;
  if (idx == 0 && b[0].upper <= 0) return b[0].upper;
  double start = 0, end = b[idx].upper, count = b[idx].count;
  if (idx > 0) {
    start = b[idx - 1].upper;
    count -= b[idx - 1].count;
    rank -= b[idx - 1].count;
  }
  return start + (end - start) * (rank / count);
}

double bucket_fraction(double lower, double upper, std::vector<Bucket>& b, bool& forced) {
  if (!prepare_buckets(b, forced)) return kNaN;
  double total = b.back().count;
  if (total == 0 || std::isnan(lower) || std::isnan(upper)) return kNaN;
  auto rank = [&](double x) -> double {
    if (std::isinf(x)) return x < 0 ? 0 : total;
    size_t i = 0;
    while (i < b.size() && b[i].upper < x) ++i;
    if (i == b.size()) return total;
    double prev = i > 0 ? b[i - 1].count : 0;
    double start = i > 0 ? b[i - 1].upper : (b[0].upper > 0 ? 0 : -kInf);
    if (std::isinf(start)) return b[i].count;
    if (std::isinf(b[i].upper)) return prev;
    if (x <= start) return prev;
    return prev + (b[i].count - prev) * (x - start) / (b[i].upper - start);
  };
  if (lower >= upper) return 0;
  return (rank(upper) - rank(lower)) / total;
}

// Prometheus's HistogramQuantile for a native histogram.
double native_quantile(Evaluator& ev, double q, const FloatHistogram& h, const Labels& metric) {
  if (q < 0) return -kInf;
  if (q > 1) return kInf;
  if (h.count == 0 || std::isnan(q)) return kNaN;
  auto buckets = histogram_buckets(h);
  const bool forward = std::isnan(h.sum) || q < 0.5;
  double rank = forward ? q * h.count : (1 - q) * h.count;
  double count = 0;
  HistogramBucket bucket;
  size_t pos = 0;  // buckets visited
  for (; pos < buckets.size(); ++pos) {
    bucket = forward ? buckets[pos] : buckets[buckets.size() - 1 - pos];
    if (bucket.count == 0) continue;
    count += bucket.count;
    if (count >= rank) break;
  }
  if (pos < buckets.size()) ++pos;
  if (!h.uses_custom_buckets() && bucket.lower < 0 && bucket.upper > 0) {
    if (h.negative_buckets.empty() && !h.positive_buckets.empty()) {
      bucket.lower = 0;
    } else if (h.positive_buckets.empty() && !h.negative_buckets.empty()) {
      bucket.upper = 0;
    }
  } else if (h.uses_custom_buckets()) {
    if (bucket.lower == -kInf) {
      if (bucket.upper <= 0) return bucket.upper;
      bucket.lower = 0;
    } else if (bucket.upper == kInf) {
      return bucket.lower;
    }
  }
  if (count > h.count) count = h.count;
  if (count < rank) {
    if (std::isnan(h.sum)) {
      ev.info("PromQL info: input to histogram_quantile has NaN observations, result is NaN" +
              name_suffix(metric));
      return kNaN;
    }
    return bucket.upper;
  }
  if (forward) {
    rank -= count - bucket.count;
  } else {
    rank = count - rank;
  }
  if (std::isnan(h.sum)) {
    for (; pos < buckets.size(); ++pos) count += buckets[pos].count;
    if (count < h.count) {
      ev.info("PromQL info: input to histogram_quantile has NaN observations, result is skewed "
              "higher" + name_suffix(metric));
    }
  }
  double fraction = rank / bucket.count;
  if (h.uses_custom_buckets() || (bucket.lower <= 0 && bucket.upper >= 0)) {
    return bucket.lower + (bucket.upper - bucket.lower) * fraction;
  }
  double log_lower = gomath::log2(std::fabs(bucket.lower));
  double log_upper = gomath::log2(std::fabs(bucket.upper));
  if (bucket.lower > 0) return gomath::exp2(log_lower + (log_upper - log_lower) * fraction);
  return -gomath::exp2(log_upper + (log_lower - log_upper) * (1 - fraction));
}

double fraction_below(const HistogramBucket& b, double v, bool linear) {
  if (linear) return (v - b.lower) / (b.upper - b.lower);
  double log_lower = gomath::log2(std::fabs(b.lower));
  double log_upper = gomath::log2(std::fabs(b.upper));
  double log_v = gomath::log2(std::fabs(v));
  if (v > 0) return (log_v - log_lower) / (log_upper - log_lower);
  return 1 - ((log_v - log_upper) / (log_lower - log_upper));
}

// Prometheus's HistogramFraction for a native histogram.
double native_fraction(Evaluator& ev, double lower, double upper, const FloatHistogram& h,
                       const Labels& metric) {
  if (h.count == 0 || std::isnan(lower) || std::isnan(upper)) return kNaN;
  if (lower >= upper) return 0;
  auto buckets = histogram_buckets(h);
  double count = 0, rank = 0, lower_rank = 0, upper_rank = 0;
  bool lower_set = false, upper_set = false;
  size_t pos = 0;
  for (; pos < buckets.size(); ++pos) {
    HistogramBucket b = buckets[pos];
    count += b.count;
    bool zero_bucket = false;
    auto linear = [&](double v) {
      if (b.lower == -kInf) return b.count;
      return rank + b.count * fraction_below(b, v, true);
    };
    auto exponential = [&](double v) { return rank + b.count * fraction_below(b, v, false); };
    if (b.lower <= 0 && b.upper >= 0) {
      zero_bucket = true;
      if (h.negative_buckets.empty() && !h.positive_buckets.empty()) {
        b.lower = 0;
      } else if (h.positive_buckets.empty() && !h.negative_buckets.empty()) {
        b.upper = 0;
      }
    }
    if (!lower_set && b.lower >= lower) {
      lower_rank = rank;
      lower_set = true;
    }
    if (!upper_set && b.lower >= upper) {
      upper_rank = rank;
      upper_set = true;
    }
    if (lower_set && upper_set) break;
    bool lin = h.uses_custom_buckets() || zero_bucket;
    if (!lower_set && b.lower < lower && b.upper > lower) {
      lower_rank = lin ? linear(lower) : exponential(lower);
      lower_set = true;
    }
    if (!upper_set && b.lower < upper && b.upper > upper) {
      upper_rank = lin ? linear(upper) : exponential(upper);
      upper_set = true;
    }
    if (lower_set && upper_set) break;
    rank += b.count;
  }
  if (std::isnan(h.sum)) {
    for (++pos; pos < buckets.size(); ++pos) count += buckets[pos].count;
    if (count < h.count) {
      ev.info("PromQL info: input to histogram_fraction has NaN observations, which are excluded "
              "from all fractions" + name_suffix(metric));
    }
  } else {
    count = h.count;
  }
  if (!lower_set || lower_rank > count) lower_rank = count;
  if (!upper_set || upper_rank > count) upper_rank = count;
  return (upper_rank - lower_rank) / h.count;
}

// histogram_quantile(q, v), histogram_quantiles(v, label, q...), histogram_fraction(lo, hi, v):
// native histograms first, then classic `le` bucket groups (Prometheus's order).
enum class BucketFn { Quantile, Quantiles, Fraction };

template <BucketFn Kind>
Value fn_buckets(Evaluator& ev, const Call& call, Millis t) {
  const auto& args = call.args;
  constexpr bool quantile = Kind != BucketFn::Fraction;
  constexpr bool multi = Kind == BucketFn::Quantiles;
  std::vector<double> qs;
  double lower = 0, upper = 0;
  std::string q_label;
  Vector in;
  if (multi) {
    in = ev.eval_vector_keep_histograms(*args[0], t);
    q_label = string_arg(ev, call, 1, t);
    if (!valid_label_name(q_label)) fail("invalid label name " + go_quote(q_label));
    for (size_t i = 2; i < args.size(); ++i) qs.push_back(ev.eval_scalar(*args[i], t));
  } else if (quantile) {
    qs.push_back(ev.eval_scalar(*args[0], t));
    in = ev.eval_vector_keep_histograms(*args[1], t);
  } else {
    lower = ev.eval_scalar(*args[0], t);
    upper = ev.eval_scalar(*args[1], t);
    in = ev.eval_vector_keep_histograms(*args[2], t);
  }
  for (double q : qs) {
    if (std::isnan(q) || q < 0 || q > 1) {
      ev.warn("PromQL warning: quantile value should be between 0 and 1, got " + format_g(q));
    }
  }
  struct Group {
    Labels labels;
    std::vector<Bucket> buckets;
  };
  std::vector<Group> groups;
  std::unordered_map<uint64_t, size_t> index;
  std::vector<const Sample*> natives;
  static const std::vector<std::string> kLe = {"le"};
  for (auto& s : in) {
    if (s.h) {
      natives.push_back(&s);
      continue;
    }
    auto le = parse_go_float(s.metric.get("le"));
    if (!le) {
      ev.warn("PromQL warning: bucket label \"le\" is missing or has a malformed value of " +
              go_quote(s.metric.get("le")) + " for metric name " +
              go_quote(s.metric.metric_name()));
      continue;
    }
    Labels l = s.metric.drop(kLe);
    auto [it, inserted] = index.emplace(l.hash(), groups.size());
    if (inserted) groups.push_back(Group{std::move(l), {}});
    groups[it->second].buckets.push_back({*le, s.v});
  }
  // A native histogram with the labels of a classic bucket group: neither is evaluated.
  std::vector<bool> group_dropped(groups.size(), false);
  std::erase_if(natives, [&](const Sample* s) {
    auto it = index.find(s->metric.hash());
    if (it == index.end() || groups[it->second].labels != s->metric) return false;
    ev.warn("PromQL warning: vector contains a mix of classic and native histograms for metric "
            "name " + go_quote(s->metric.metric_name()));
    group_dropped[it->second] = true;
    return true;
  });
  Vector out;
  auto emit = [&](Labels l, double r, double q) {
    if (multi) {
      LabelsBuilder lb(l);
      lb.set(q_label, openmetrics_float(q));
      l = lb.build();
    }
    Sample s{std::move(l), r, t, false};
    drop_name(s, ev.options());
    out.push_back(std::move(s));
  };
  if (!quantile) {
    for (const Sample* s : natives) emit(s->metric, native_fraction(ev, lower, upper, *s->h, s->metric), 0);
  }
  for (double q : quantile ? qs : std::vector<double>{}) {
    for (const Sample* s : natives) emit(s->metric, native_quantile(ev, q, *s->h, s->metric), q);
  }
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    auto& g = groups[gi];
    if (group_dropped[gi]) continue;
    bool forced = false;
    if (!quantile) {
      emit(g.labels, bucket_fraction(lower, upper, g.buckets, forced), 0);
      continue;
    }
    for (double q : qs) {
      std::vector<Bucket> buckets = g.buckets;
      emit(g.labels, bucket_quantile(q, buckets, forced), q);
    }
    if (forced) {
      ev.info("PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see "
              "https://prometheus.io/docs/prometheus/latest/querying/functions/"
              "#histogram_quantile) for metric name " + go_quote(g.labels.metric_name()));
    }
  }
  return out;
}

// histogram_count, histogram_sum, histogram_avg, histogram_stddev, histogram_stdvar: native
// histogram samples only (floats are ignored, as in Prometheus).
using HistogramStat = double (*)(const FloatHistogram&);

template <HistogramStat F>
Value fn_histogram_stat(Evaluator& ev, const Call& call, Millis t) {
  Vector in = ev.eval_vector_keep_histograms(*call.args[0], t);
  Vector out;
  for (auto& s : in) {
    if (!s.h) continue;
    Sample r{std::move(s.metric), F(*s.h), t, s.drop_name};
    drop_name(r, ev.options());
    out.push_back(std::move(r));
  }
  return out;
}

double stat_count(const FloatHistogram& h) { return h.count; }
double stat_sum(const FloatHistogram& h) { return h.sum; }
double stat_avg(const FloatHistogram& h) { return h.sum / h.count; }
double stat_stdvar(const FloatHistogram& h) {
  double mean = h.sum / h.count, var = 0, c = 0;
  for (const auto& b : histogram_buckets(h)) {
    if (b.count == 0) continue;
    double val;
    if (h.uses_custom_buckets()) {
      val = (b.upper + b.lower) / 2.0;
    } else if (b.lower <= 0 && b.upper >= 0) {
      val = 0;
    } else {
      val = std::sqrt(b.upper * b.lower);
      if (b.upper < 0) val = -val;
    }
    double delta = val - mean;
    kahan_inc(b.count * delta * delta, var, c);
  }
  return (var + c) / h.count;
}
double stat_stddev(const FloatHistogram& h) { return std::sqrt(stat_stdvar(h)); }

constexpr FunctionDef kDefs[] = {
    {"histogram_quantile", fn_buckets<BucketFn::Quantile>},
    {"histogram_quantiles", fn_buckets<BucketFn::Quantiles>},
    {"histogram_fraction", fn_buckets<BucketFn::Fraction>},
    {"histogram_count", fn_histogram_stat<stat_count>},
    {"histogram_sum", fn_histogram_stat<stat_sum>},
    {"histogram_avg", fn_histogram_stat<stat_avg>},
    {"histogram_stddev", fn_histogram_stat<stat_stddev>},
    {"histogram_stdvar", fn_histogram_stat<stat_stdvar>},
};

}  // namespace

std::span<const FunctionDef> histogram_function_defs() { return kDefs; }

}  // namespace ruleeval::engine::detail
