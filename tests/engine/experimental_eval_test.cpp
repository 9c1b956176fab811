// Experimental PromQL features in the evaluator: duration expressions with step()/range(),
// fill()/fill_left()/fill_right(), anchored/smoothed range selectors.
#include <doctest/doctest.h>

#include <sstream>

#include "ruleeval/engine/engine.hpp"
#include "ruleeval/engine/load_notation.hpp"
#include "ruleeval/parser/promql.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;

namespace {

constexpr Millis kMin = 60'000;

struct Ex {
  Storage storage;
  explicit Ex(std::string_view text) {
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      auto spec = parse_series_line(line);
      REQUIRE_MESSAGE(spec.has_value(), line);
      load_series(storage, *spec, 0, kMin);
    }
  }
  static promql::ExprPtr parse(std::string_view q) {
    promql::ParseOptions po;
    po = ruleeval::promql::ParseOptions::all();
    auto e = promql::parse(q, po);
    REQUIRE_MESSAGE(e.has_value(), (e ? std::string() : promql::format_parse_error(e.error())));
    return std::move(*e);
  }
  Result<QueryResult> instant(std::string_view q, Millis t) { return instant_query(storage, *parse(q), t); }
  Result<QueryResult> range(std::string_view q, Millis s, Millis e, Millis step) {
    return range_query(storage, *parse(q), s, e, step);
  }
};

}  // namespace

TEST_CASE("duration expressions: step() and range() size ranges, subqueries and offsets") {
  Ex x("c 0+60x20");  // +1 per second
  // In a range query with a 2m step, [step() * 2] is a 4m window: increase 240.
  auto r = x.range("increase(c[step() * 2])", 10 * kMin, 10 * kMin, 2 * kMin);
  REQUIRE_MESSAGE(r, (r ? std::string() : r.error().message));
  CHECK(to_string(r->value) == "{} => 240 @600000\n");
  // offset -step() in a range query with a 1m step reads one minute ahead.
  r = x.range("c offset -step()", 5 * kMin, 5 * kMin, kMin);
  REQUIRE(r);
  CHECK(to_string(r->value) == "c => 360 @300000\n");
  // An instant query has no step: the duration is 0 and refused, as in Prometheus.
  auto bad = x.instant("increase(c[step()])", 10 * kMin);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "duration must be greater than 0");
}

TEST_CASE("fill(), fill_left() and fill_right() stand in for a missing side") {
  Ex x("a{k=\"1\"} 1\na{k=\"2\"} 2\nb{k=\"2\"} 20\nb{k=\"3\"} 30");
  auto r = x.instant("a + fill(0) b", 0);
  REQUIRE_MESSAGE(r, (r ? std::string() : r.error().message));
  CHECK(to_string(r->value) == "{k=\"1\"} => 1\n{k=\"2\"} => 22\n{k=\"3\"} => 30\n");
  r = x.instant("a + fill_right(100) b", 0);
  REQUIRE(r);
  CHECK(to_string(r->value) == "{k=\"1\"} => 101\n{k=\"2\"} => 22\n");
  r = x.instant("a + fill_left(100) b", 0);
  REQUIRE(r);
  CHECK(to_string(r->value) == "{k=\"2\"} => 22\n{k=\"3\"} => 130\n");
}

TEST_CASE("anchored and smoothed range modifiers are evaluated, only where Prometheus allows") {
  Ex x("c 0+60x20");
  // anchored: the last value minus the value at the range start (5m: 300), no extrapolation.
  auto r = x.instant("increase(c[5m] anchored)", 10 * kMin);
  REQUIRE_MESSAGE(r, (r ? std::string() : r.error().message));
  CHECK(to_string(r->value) == "{} => 300\n");
  // smoothed: the values interpolated at 4m30s (270) and 9m30s (570).
  r = x.instant("increase(c[5m] smoothed)", 9 * kMin + 30'000);
  REQUIRE(r);
  CHECK(to_string(r->value) == "{} => 300\n");
  auto bad = x.instant("sum_over_time(c[5m] anchored)", 10 * kMin);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message ==
        "anchored modifier can only be used with: changes, delta, increase, rate, resets - not "
        "with sum_over_time");
}

TEST_CASE("limit_ratio: r and r-1 select complementary, stable subsets") {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "m{i=\"" + std::to_string(i) + "\"} 1\n";
  Ex x(text);
  auto count = [&](std::string_view q) {
    auto r = x.instant(q, 0);
    REQUIRE(r);
    return std::get<Vector>(r->value).size();
  };
  size_t kept = count("limit_ratio(0.3, m)");
  size_t rest = count("limit_ratio(-0.7, m)");
  CHECK(kept + rest == 40);
  CHECK(count("limit_ratio(0.3, m) and limit_ratio(-0.7, m)") == 0);
  CHECK(count("limit_ratio(1, m)") == 40);
  CHECK(count("limit_ratio(0, m)") == 0);
  // Sampling is by label hash: a larger ratio keeps a superset.
  CHECK(count("limit_ratio(0.3, m) unless limit_ratio(0.6, m)") == 0);
}
