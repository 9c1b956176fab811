#include "ruleeval/engine/nhcb.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>

#include "ruleeval/engine/histogram.hpp"

namespace ruleeval::engine {
namespace {

enum class Suffix { kNone, kBucket, kCount, kSum };

Suffix base_name(std::string_view name, std::string& base) {
  for (auto [suffix, kind] : {std::pair{std::string_view("_bucket"), Suffix::kBucket},
                              std::pair{std::string_view("_sum"), Suffix::kSum},
                              std::pair{std::string_view("_count"), Suffix::kCount}}) {
    if (name.ends_with(suffix)) {
      base = std::string(name.substr(0, name.size() - suffix.size()));
      return kind;
    }
  }
  return Suffix::kNone;
}

}  // namespace

void NhcbConverter::add(const Labels& metric, Millis t, double v) {
  std::string base;
  Suffix kind = base_name(metric.metric_name(), base);
  if (kind == Suffix::kNone) return;
  double le = 0;
  if (kind == Suffix::kBucket) {
    std::string s(metric.get("le"));
    char* end = nullptr;
    le = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || std::isnan(le)) return;
  }
  LabelsBuilder lb(metric);
  lb.set(std::string(kMetricName), base);
  lb.del("le");
  Labels m = lb.build();
  auto& series = series_[m.hash()];
  series.metric = m;
  Temp& h = series.by_t[t];
  if (!h.err.empty()) return;
  switch (kind) {
    case Suffix::kCount:
      if (v < 0) {
        h.err = fmt::format("count must be non-negative: count={}", go_format_g(v));
        return;
      }
      h.count = v;
      h.has_count = true;
      return;
    case Suffix::kSum:
      h.sum = v;
      return;
    default:
      break;
  }
  if (v < 0) {
    h.err = fmt::format("bucket counts must be non-negative: le={}, count={}", go_format_g(le),
                        go_format_g(v));
    return;
  }
  auto it = std::lower_bound(h.buckets.begin(), h.buckets.end(), le,
                             [](const Bucket& b, double x) { return b.le < x; });
  if (it != h.buckets.end() && it->le == le) return;  // the first value for a bound wins
  if (it != h.buckets.begin() && v < (it - 1)->count) {
    h.err = fmt::format("count is not cumulative: {} < {}", go_format_g(v), go_format_g((it - 1)->count));
    return;
  }
  if (it != h.buckets.end() && v > it->count) {
    h.err = fmt::format("count is not cumulative: {} > {}", go_format_g(v), go_format_g(it->count));
    return;
  }
  h.buckets.insert(it, Bucket{le, v});
}

Result<void> NhcbConverter::append_to(Storage& storage) const {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  for (const auto& [hash, series] : series_) {
    for (const auto& [t, temp] : series.by_t) {
      if (!temp.err.empty()) {
        return make_error(fmt::format("converting {} to a native histogram: {}",
                                      series.metric.to_string(), temp.err));
      }
      Temp h = temp;
      if (!h.has_count && !h.buckets.empty()) h.count = h.buckets.back().count;
      if (h.buckets.empty() || h.buckets.back().le != kInf) h.buckets.push_back({kInf, h.count});
      if (h.count != h.buckets.back().count) {
        return make_error(fmt::format(
            "converting {} to a native histogram: count mismatch: count={} != le=+Inf count={}",
            series.metric.to_string(), go_format_g(h.count), go_format_g(h.buckets.back().count)));
      }
      auto fh = std::make_shared<FloatHistogram>();
      fh->schema = kCustomBucketsSchema;
      fh->count = h.count;
      fh->sum = h.sum;
      double prev = 0;
      for (const auto& b : h.buckets) {
        fh->positive_buckets.push_back(b.count - prev);
        prev = b.count;
        if (b.le != kInf) fh->custom_values.push_back(b.le);
      }
      histogram_compact(*fh);
      storage.append_histogram(series.metric, t, std::move(fh));
    }
  }
  return {};
}

}  // namespace ruleeval::engine
