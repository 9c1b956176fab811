// The expanding notation of promtool and Prometheus's .test `load` blocks:
//   metric{a="b"} 1+1x10 _ _x3 stale Inf -Inf NaN 1-2x3 {{native histogram}}
// `a+bxn` / `a-bxn` expand to n+1 values, `axn` to n+1 copies, `_` is a missing sample and
// `_xn` n missing samples, `stale` a staleness marker. Native histograms are written as
// `{{schema:1 sum:-0.3 count:32.1 z_bucket:7.1 z_bucket_w:0.05 buckets:[5.1 10 7] offset:-3
// n_buckets:[4.1 5] n_offset:-5 custom_values:[1 2] counter_reset_hint:not_reset}}` (every key
// optional, each at most once), repeated with `{{...}}xn` (n+1 copies) or expanded with
// `{{a}}+{{b}}xn` / `{{a}}-{{b}}xn` (a, a+b, ..., a+n*b, as Prometheus's series description).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "ruleeval/common/error.hpp"
#include "ruleeval/common/labels.hpp"
#include "ruleeval/engine/histogram.hpp"
#include "ruleeval/engine/storage.hpp"

namespace ruleeval::engine {

struct ExpandedValues {
  // One per step; nullopt = no sample; histogram steps hold histogram_marker().
  std::vector<std::optional<double>> values;
  // Empty when no step is a histogram, else one per step (set at the histogram steps).
  std::vector<HistogramPtr> histograms;
  // Per histogram step: whether its literal spelled `counter_reset_hint:` (same indexing).
  std::vector<bool> hint_set;
  size_t num_histograms = 0;

  const FloatHistogram* histogram_at(size_t step) const {
    return step < histograms.size() ? histograms[step].get() : nullptr;
  }
};

// Expands the value part of a series line. Errors name the offending token and its 1-based
// column (counted from `column_base` + 1, so that callers can report line columns).
Result<ExpandedValues> expand_values(std::string_view text, size_t column_base = 0);

// Parses one native-histogram literal `{{...}}` starting at text[pos]; on success `pos` is just
// past the closing `}}` and `hint_set` says whether counter_reset_hint was given.
Result<FloatHistogram> parse_histogram_literal(std::string_view text, size_t& pos,
                                               bool* hint_set = nullptr, size_t column_base = 0);

struct SeriesSpec {
  Labels labels;
  ExpandedValues values;
};

// Parses `metric{a="b"} <values>`.
Result<SeriesSpec> parse_series_line(std::string_view line);

// Appends a parsed series to `storage`, step i at start + i*interval.
void load_series(Storage& storage, const SeriesSpec& spec, Millis start, Millis interval);

}  // namespace ruleeval::engine
