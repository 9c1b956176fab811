// The expanding notation of promtool and Prometheus's .test `load` blocks:
//   metric{a="b"} 1+1x10 _ _x3 stale Inf -Inf NaN 1-2x3 {{native histogram}}
// `a+bxn` / `a-bxn` expand to n+1 values, `axn` to n+1 copies, `_` is a missing sample and
// `_xn` n missing samples, `stale` a staleness marker. Native-histogram samples are accepted and
// counted; their steps hold histogram_marker() placeholders.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "ruleeval/common/error.hpp"
#include "ruleeval/common/labels.hpp"
#include "ruleeval/engine/storage.hpp"

namespace ruleeval::engine {

struct ExpandedValues {
  std::vector<std::optional<double>> values;  // one per step; nullopt = no sample
  size_t histograms = 0;                      // native-histogram samples skipped
};

// Expands the value part of a series line.
Result<ExpandedValues> expand_values(std::string_view text);

struct SeriesSpec {
  Labels labels;
  ExpandedValues values;
};

// Parses `metric{a="b"} <values>`.
Result<SeriesSpec> parse_series_line(std::string_view line);

// Appends a parsed series to `storage`, step i at start + i*interval.
void load_series(Storage& storage, const SeriesSpec& spec, Millis start, Millis interval);

}  // namespace ruleeval::engine
