// `--promql-compat=2`: Prometheus 2's closed range windows, subquery ranges and lookback edge,
// next to the default Prometheus 3 semantics on the same data.
#include <doctest/doctest.h>

#include <map>
#include <sstream>

#include "ruleeval/engine/engine.hpp"
#include "ruleeval/engine/load_notation.hpp"
#include "ruleeval/parser/promql.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;

namespace {

constexpr Millis kMin = 60'000;

std::map<std::string, double> eval(const Storage& s, std::string_view q, Millis t, bool prom2) {
  auto e = promql::parse(q);
  REQUIRE_MESSAGE(e.has_value(), std::string(q));
  EngineOptions o;
  o.closed_windows = prom2;
  auto r = instant_query(s, **e, t, o);
  REQUIRE_MESSAGE(r.has_value(), (r ? std::string() : r.error().message));
  const auto* v = std::get_if<Vector>(&r->value);
  REQUIRE(v);
  std::map<std::string, double> out;
  for (const auto& smp : *v) out[smp.metric.to_string()] = smp.v;
  return out;
}

void load(Storage& s, std::string_view line, Millis interval) {
  auto spec = parse_series_line(line);
  REQUIRE(spec.has_value());
  load_series(s, *spec, 0, interval);
}

using M = std::map<std::string, double>;

}  // namespace

TEST_CASE("compat 2: a range window includes the sample at its start") {
  Storage s;
  load(s, "m 1 0 0", 5 * kMin);  // samples at 0, 5m, 10m
  CHECK(eval(s, "count_over_time(m[5m])", 10 * kMin, false) == M{{"{}", 1}});
  CHECK(eval(s, "count_over_time(m[5m])", 10 * kMin, true) == M{{"{}", 2}});
  CHECK(eval(s, "max_over_time(m[5m])", 5 * kMin, false) == M{{"{}", 0}});
  CHECK(eval(s, "max_over_time(m[5m])", 5 * kMin, true) == M{{"{}", 1}});
}

TEST_CASE("compat 2: a sample exactly lookback old is still visible") {
  Storage s;
  load(s, "m 1 2", 5 * kMin);
  CHECK(eval(s, "m", 10 * kMin, false).empty());
  CHECK(eval(s, "m", 10 * kMin, true) == M{{"m", 2}});
  CHECK(eval(s, "m", 10 * kMin + 1, true).empty());
}

TEST_CASE("compat 2: a subquery range includes a step on its start") {
  Storage s;
  load(s, "m 0+1x20", kMin);
  CHECK(eval(s, "count_over_time(m[5m:1m])", 10 * kMin, false) == M{{"{}", 5}});
  CHECK(eval(s, "count_over_time(m[5m:1m])", 10 * kMin, true) == M{{"{}", 6}});
}

TEST_CASE("without delayed name removal a nested collision is an error, as in Prometheus 2") {
  // Seed 11, promql case 2322 of the differential harness: quantile_over_time drops the names
  // of a and b, so its own result holds {job="x"} twice. Prometheus 2 (and 3 without
  // promql-delayed-name-removal) fails there; with delayed removal the names survive until
  // histogram_quantile, which ignores series without `le`.
  Storage s;
  load(s, "a{job=\"x\"} 1 stale", kMin);  // `a or b` is a at 0 and b from 1m on
  load(s, "b{job=\"x\"} 5 6 7 8", kMin);
  const char* q = "histogram_quantile(0.9, quantile_over_time(1, (a or b)[4m:1m]))";
  auto e = promql::parse(q);
  REQUIRE(e.has_value());
  EngineOptions o;
  auto delayed = instant_query(s, **e, 3 * kMin, o);
  REQUIRE(delayed.has_value());
  CHECK(std::get<Vector>(delayed->value).empty());
  o.delayed_name_removal = false;
  auto eager = instant_query(s, **e, 3 * kMin, o);
  REQUIRE_FALSE(eager.has_value());
  CHECK(eager.error().message == "vector cannot contain metrics with the same labelset");
  // Names dropped at each step still give the same results where nothing collides.
  auto ok = promql::parse("sum(-b) + on() group(abs(b))");
  REQUIRE(ok.has_value());
  auto r = instant_query(s, **ok, 3 * kMin, o);
  REQUIRE(r.has_value());
  REQUIRE(std::get<Vector>(r->value).size() == 1);
  CHECK(std::get<Vector>(r->value)[0].v == -7);
  CHECK(std::get<Vector>(r->value)[0].metric.to_string() == "{}");
}
