// Aggregation operators (sum, avg, count, group, min, max, stddev, stdvar, quantile,
// count_values, topk, bottomk, limitk, limit_ratio) with Prometheus's float/histogram rules.
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <unordered_map>
#include <xxhash.h>

#include "eval_internal.hpp"
#include "histogram_sum.hpp"

namespace ruleeval::engine::detail {

using promql::AggregateOp;

namespace {

// Prometheus's labels.Hash() (default stringlabels build): XXH64 over each label's name and
// value, each prefixed by its length (one byte below 255, else 0xff and three bytes little-endian).
// limit_ratio samples series by it, so the same series are kept as in Prometheus.
uint64_t prometheus_labels_hash(const Labels& labels) {
  std::string buf;
  auto put = [&](std::string_view v) {
    if (v.size() < 255) {
      buf.push_back(static_cast<char>(v.size()));
    } else {
      buf.push_back(static_cast<char>(0xff));
      buf.push_back(static_cast<char>(v.size() & 0xff));
      buf.push_back(static_cast<char>((v.size() >> 8) & 0xff));
      buf.push_back(static_cast<char>((v.size() >> 16) & 0xff));
    }
    buf.append(v);
  };
  for (const auto& l : labels) {
    put(l.name);
    put(l.value);
  }
  return XXH64(buf.data(), buf.size(), 0);
}

}  // namespace

Value Evaluator::eval_aggregate(const promql::Aggregate& a, Millis t) {
  const auto op = a.op;
  double param = 0;
  std::string label_param;
  if (op == AggregateOp::CountValues) {
    Value pv = eval(*a.param, t);
    auto* s = std::get_if<String>(&pv);
    if (!s) fail("expected string parameter for count_values");
    label_param = s->v;
    if (!valid_label_name(label_param)) fail("invalid label name " + go_quote(label_param));
  } else if (a.param) {
    param = eval_scalar(*a.param, t);
    if ((op == AggregateOp::Topk || op == AggregateOp::Bottomk || op == AggregateOp::Limitk) &&
        std::isnan(param)) {
      fail("Parameter value is NaN");
    }
    if (op == AggregateOp::LimitRatio) {
      if (std::isnan(param)) fail("Ratio value is NaN");
      if (param < -1 || param > 1) {
        double capped = param < -1 ? -1 : 1;
        warn("PromQL warning: ratio value should be between -1 and 1, got " + format_g(param) +
             ", capping to " + format_g(capped));
        param = capped;
      }
    }
    if (op == AggregateOp::Quantile && (std::isnan(param) || param < 0 || param > 1)) {
      warn("PromQL warning: quantile value should be between 0 and 1, got " + format_g(param));
    }
  }
  Vector in = eval_vector_keep_histograms(*a.expr, t);
  // count and group only count samples, so histograms take part as in Prometheus. The float
  // selections (min, max, topk, bottomk, quantile, stddev, stdvar) ignore them with Prometheus's
  // info annotation; sum, avg, count_values and limits need histogram arithmetic or values, which
  // are not implemented, so histogram samples are dropped there.
  const bool histogram_aware = op == AggregateOp::Count || op == AggregateOp::Group ||
                              op == AggregateOp::Sum || op == AggregateOp::Avg ||
                              op == AggregateOp::CountValues || op == AggregateOp::Limitk ||
                              op == AggregateOp::LimitRatio;
  if (!histogram_aware &&
      std::any_of(in.begin(), in.end(),
                  [](const Sample& s) { return s.h || is_histogram_marker(s.v); })) {
    const char* name = nullptr;
    switch (op) {
      case AggregateOp::Max: name = "max"; break;
      case AggregateOp::Min: name = "min"; break;
      case AggregateOp::Topk: name = "topk"; break;
      case AggregateOp::Bottomk: name = "bottomk"; break;
      case AggregateOp::Quantile: name = "quantile"; break;
      case AggregateOp::Stddev: name = "stddev"; break;
      case AggregateOp::Stdvar: name = "stdvar"; break;
      default: break;
    }
    if (name) info(std::string("PromQL info: ignored histogram in ") + name + " aggregation");
    drop_histograms(in);
  }

  bool by_name = !a.without && std::find(a.grouping.begin(), a.grouping.end(),
                                         std::string(kMetricName)) != a.grouping.end();
  struct Group {
    Labels labels;
    bool drop_name = false;
    double value = 0, comp = 0, mean = 0, count = 0;
    bool incremental = false;
    std::vector<size_t> members;  // indices into `in` (topk/bottomk/quantile/limit)
    std::vector<double> values;
    // sum and avg of native histograms (Prometheus: floats and histograms do not mix).
    bool has_float = false, has_histogram = false, incompatible = false;
    bool reset_seen = false, not_reset_seen = false;
    // Kahan-compensated sum, or mean for avg (Prometheus's KahanAdd and incremental mean).
    std::shared_ptr<HistogramSum> hist;
    // Adds a histogram sample; false once the group holds incompatible histograms.
    void add_histogram(Evaluator& ev, const Sample& s, bool avg) {
      has_histogram = true;
      if (incompatible) return;
      reset_seen = reset_seen || s.h->hint == CounterResetHint::kReset;
      not_reset_seen = not_reset_seen || s.h->hint == CounterResetHint::kNotReset;
      if (!hist) hist = std::make_shared<HistogramSum>(avg);
      const bool mixed = !hist->empty() && hist->custom() != s.h->uses_custom_buckets();
      bool reconciled = false;
      bool ok = hist->add(*s.h, reconciled);
      if (reconciled) ev.info("PromQL info: mismatched custom buckets were reconciled during aggregation");
      if (!ok) {
        if (mixed) {
          ev.warn("PromQL warning: vector contains a mix of histograms with exponential and custom "
                  "buckets schemas for metric name " + go_quote(s.metric.metric_name()));
        }
        incompatible = true;
      }
    }
  };
  std::vector<Group> groups;
  std::unordered_map<uint64_t, size_t> index;
  std::vector<size_t> group_of(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const auto& s = in[i];
    uint64_t key = a.without ? s.metric.hash_without(a.grouping) : s.metric.hash_for(a.grouping);
    auto [it, inserted] = index.emplace(key, groups.size());
    if (inserted) {
      Group g;
      g.labels = a.without ? s.metric.drop(a.grouping).without_metric_name()
                           : s.metric.keep_only(a.grouping);
      groups.push_back(std::move(g));
    }
    group_of[i] = it->second;
    // Grouping by __name__: the name is dropped if any member series drops it.
    if (by_name && s.drop_name) groups[it->second].drop_name = true;
  }

  Vector out;
  auto emit = [&](const Group& g, double v) {
    out.push_back(Sample{g.labels, v, t, g.drop_name});
  };
  // sum/avg: a group with histograms yields their sum (or mean); a mix with floats yields
  // nothing and a warning.
  auto emit_histogram_group = [&](const Group& g, bool avg) {
    if (g.has_float) {
      warn("PromQL warning: encountered a mix of histograms and floats for aggregation");
      return;
    }
    if (g.reset_seen && g.not_reset_seen) {
      warn("PromQL warning: conflicting counter resets during histogram aggregation");
    }
    if (g.incompatible || !g.hist) return;
    (void)avg;
    auto h = g.hist->result();
    out.push_back(Sample{g.labels, histogram_marker(), t, g.drop_name, std::move(h)});
  };

  switch (op) {
    case AggregateOp::Sum:
      for (size_t i = 0; i < in.size(); ++i) {
        auto& g = groups[group_of[i]];
        if (in[i].h) {
          g.add_histogram(*this, in[i], op == AggregateOp::Avg);
          continue;
        }
        g.has_float = true;
        kahan_inc(in[i].v, g.value, g.comp);
      }
      for (const auto& g : groups) {
        if (g.has_histogram) {
          emit_histogram_group(g, false);
        } else {
          emit(g, g.value + g.comp);
        }
      }
      return out;
    case AggregateOp::Avg:
      for (size_t i = 0; i < in.size(); ++i) {
        auto& g = groups[group_of[i]];
        if (in[i].h) {
          g.add_histogram(*this, in[i], op == AggregateOp::Avg);
          continue;
        }
        g.has_float = true;
        double v = in[i].v;
        g.count += 1;
        if (g.count == 1) {
          g.value = v;
          continue;
        }
        if (!g.incremental) {
          double s = g.value, c = g.comp;
          kahan_inc(v, s, c);
          if (!std::isinf(s)) {
            g.value = s;
            g.comp = c;
            continue;
          }
          g.incremental = true;
          g.mean = g.value / (g.count - 1);
          g.comp /= g.count - 1;
        }
        double q = (g.count - 1) / g.count;
        double mean = q * g.mean, c = q * g.comp;
        kahan_inc(v / g.count, mean, c);
        g.mean = mean;
        g.comp = c;
      }
      for (const auto& g : groups) {
        if (g.has_histogram) {
          emit_histogram_group(g, true);
          continue;
        }
        // Prometheus 3 (engine.go, aggregation AVG): each of sum and compensation divided by
        // the count, not their sum.
        emit(g, g.incremental ? g.mean + g.comp : g.value / g.count + g.comp / g.count);
      }
      return out;
    case AggregateOp::Count:
      for (size_t i = 0; i < in.size(); ++i) groups[group_of[i]].count += 1;
      for (const auto& g : groups) emit(g, g.count);
      return out;
    case AggregateOp::Group:
      for (const auto& g : groups) emit(g, 1);
      return out;
    case AggregateOp::Min:
    case AggregateOp::Max:
      for (size_t i = 0; i < in.size(); ++i) {
        auto& g = groups[group_of[i]];
        double v = in[i].v;
        g.count += 1;
        if (g.count == 1 || std::isnan(g.value) ||
            (op == AggregateOp::Max ? g.value < v : g.value > v)) {
          g.value = v;
        }
      }
      for (const auto& g : groups) emit(g, g.value);
      return out;
    case AggregateOp::Stddev:
    case AggregateOp::Stdvar:
      for (size_t i = 0; i < in.size(); ++i) {
        auto& g = groups[group_of[i]];
        double v = in[i].v;
        g.count += 1;
        // Welford's algorithm without compensation, as Prometheus's aggregation (only
        // stddev_over_time/stdvar_over_time use Kahan sums).
        double delta = v - g.mean;
        g.mean += delta / g.count;
        g.value += delta * (v - g.mean);
      }
      for (const auto& g : groups) {
        double var = g.value / g.count;
        emit(g, op == AggregateOp::Stddev ? std::sqrt(var) : var);
      }
      return out;
    case AggregateOp::Quantile:
      for (size_t i = 0; i < in.size(); ++i) groups[group_of[i]].values.push_back(in[i].v);
      for (auto& g : groups) emit(g, quantile_of(param, g.values));
      return out;
    case AggregateOp::CountValues: {
      // Per group, distinct values in order of appearance.
      std::vector<std::pair<Labels, double>> results;
      std::unordered_map<uint64_t, size_t> pos;
      for (size_t i = 0; i < in.size(); ++i) {
        const auto& g = groups[group_of[i]];
        LabelsBuilder lb(g.labels);
        lb.set(label_param, in[i].h ? histogram_string(*in[i].h) : format_f(in[i].v));
        Labels l = lb.build();
        auto [it, inserted] = pos.emplace(l.hash(), results.size());
        if (inserted) results.emplace_back(std::move(l), 0);
        results[it->second].second += 1;
      }
      for (auto& [l, n] : results) out.push_back(Sample{std::move(l), n, t, false});
      return out;
    }
    case AggregateOp::Topk:
    case AggregateOp::Bottomk:
    case AggregateOp::Limitk: {
      if (param < 1) return out;
      double kmax = std::min(param, static_cast<double>(in.size()));
      auto k = static_cast<size_t>(kmax);
      for (size_t i = 0; i < in.size(); ++i) groups[group_of[i]].members.push_back(i);
      bool top = op == AggregateOp::Topk;
      for (auto& g : groups) {
        auto& mem = g.members;
        if (op != AggregateOp::Limitk) {
          std::stable_sort(mem.begin(), mem.end(), [&](size_t x, size_t y) {
            double a1 = in[x].v, b1 = in[y].v;
            if (std::isnan(a1)) return false;
            if (std::isnan(b1)) return true;
            return top ? a1 > b1 : a1 < b1;
          });
        }
        if (mem.size() > k) mem.resize(k);
        for (size_t i : mem) {
          Sample s = in[i];
          s.t = t;
          out.push_back(std::move(s));
        }
      }
      return out;
    }
    case AggregateOp::LimitRatio: {
      for (auto& s : in) {
        double offset = static_cast<double>(prometheus_labels_hash(s.metric)) /
                        static_cast<double>(std::numeric_limits<uint64_t>::max());
        if ((param >= 0 && offset < param) || (param < 0 && offset >= 1.0 + param)) {
          s.t = t;
          out.push_back(std::move(s));
        }
      }
      return out;
    }
  }
  fail("unknown aggregation");
}


}  // namespace ruleeval::engine::detail
