// Shared fixture of the native-histogram evaluator tests: a storage loaded from promqltest
// `load` lines (one series a line, samples one minute apart from 0), instant queries with every
// parser feature enabled, and results in their printed form ("labels => value" lines, histograms
// as their test expressions).
#pragma once

#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <string_view>

#include "ruleeval/engine/engine.hpp"
#include "ruleeval/engine/histogram.hpp"
#include "ruleeval/engine/load_notation.hpp"
#include "ruleeval/parser/promql.hpp"

namespace hist_fixture {
using namespace ruleeval;
using namespace ruleeval::engine;

inline constexpr Millis kMin = 60'000;

struct HistogramDb {
  Storage storage;
  explicit HistogramDb(std::string_view text) {
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      auto spec = parse_series_line(line);
      REQUIRE_MESSAGE(spec.has_value(), line);
      load_series(storage, *spec, 0, kMin);
    }
  }
  Result<QueryResult> query(std::string_view q, Millis t) {
    auto e = promql::parse(q, promql::ParseOptions::all());
    REQUIRE_MESSAGE(e.has_value(), std::string(q));
    return instant_query(storage, **e, t);
  }
  std::string text(std::string_view q, Millis t) {
    auto r = query(q, t);
    REQUIRE_MESSAGE(r.has_value(), (r ? std::string() : r.error().message));
    return to_string(r->value);
  }
};

// An exponential histogram with one observation in bucket `index` of `schema`.
inline FloatHistogram one_bucket(int32_t schema, int32_t index) {
  FloatHistogram h;
  h.schema = schema;
  h.count = 1;
  h.positive_offset = index;
  h.positive_buckets = {1};
  return h;
}

}  // namespace hist_fixture
