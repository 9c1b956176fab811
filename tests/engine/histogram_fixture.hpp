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
#include "series_fixture.hpp"

namespace hist_fixture {
using namespace ruleeval;
using namespace ruleeval::engine;

inline constexpr Millis kMin = 60'000;

struct HistogramDb {
  Storage storage;
  explicit HistogramDb(std::string_view text) {
    series_fixture::load_lines(storage, text, kMin);
  }
  Result<QueryResult> query(std::string_view q, Millis t) {
    return series_fixture::instant_all(storage, q, t);
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
