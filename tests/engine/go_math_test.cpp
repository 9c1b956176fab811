// ln, log2 and log10 give Prometheus's (Go's) results to the last bit. Found by the differential
// harness (promql case 53 of seed 1: log2(9) was 3.169925001442312, promtool 2.42 says
// 3.1699250014423126). Expected values are promtool 2.42's output for the same queries.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "ruleeval/engine/engine.hpp"
#include "ruleeval/engine/load_notation.hpp"
#include "ruleeval/parser/promql.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;

namespace {

std::map<std::string, double> eval(std::string_view q) {
  Storage s;
  for (const char* line : {"m{a=\"0.3\"} 0.3", "m{a=\"3\"} 3", "m{a=\"5\"} 5", "m{a=\"9\"} 9",
                           "m{a=\"8\"} 8"}) {
    auto spec = parse_series_line(line);
    REQUIRE(spec.has_value());
    load_series(s, *spec, 0, 60'000);
  }
  auto e = promql::parse(q);
  REQUIRE(e.has_value());
  auto r = instant_query(s, **e, 0);
  REQUIRE(r.has_value());
  std::map<std::string, double> out;
  for (const auto& smp : std::get<Vector>(r->value)) out[smp.metric.to_string()] = smp.v;
  return out;
}

}  // namespace

TEST_CASE("ln, log2 and log10 round like Go's math package") {
  auto ln = eval("ln(m)");
  CHECK(ln["{a=\"3\"}"] == 1.0986122886681096);
  CHECK(ln["{a=\"0.3\"}"] == -1.2039728043259361);
  auto l2 = eval("log2(m)");
  CHECK(l2["{a=\"9\"}"] == 3.1699250014423126);
  CHECK(l2["{a=\"0.3\"}"] == -1.736965594166206);
  CHECK(l2["{a=\"3\"}"] == 1.5849625007211563);
  CHECK(l2["{a=\"8\"}"] == 3.0);
  auto l10 = eval("log10(m)");
  CHECK(l10["{a=\"3\"}"] == 0.4771212547196624);
  CHECK(l10["{a=\"5\"}"] == 0.6989700043360187);
  CHECK(l10["{a=\"9\"}"] == 0.954242509439325);
  CHECK(l10["{a=\"0.3\"}"] == -0.5228787452803376);
}

TEST_CASE("count_values labels values as Go's FormatFloat(v, 'f', -1, 64)") {
  // Found by the differential harness (promql case 59 of seed 2): exp(43) was labelled
  // 4727839468229346304 (the exact value); promtool 2.42 says 4727839468229346000.
  Storage s;
  for (const char* line : {"m{a=\"big\"} 4727839468229346304", "m{a=\"small\"} 0.0000001",
                           "m{a=\"mid\"} 162754.79141900392", "m{a=\"neg\"} -2.5",
                           "m{a=\"int\"} 300"}) {
    auto spec = parse_series_line(line);
    REQUIRE(spec.has_value());
    load_series(s, *spec, 0, 60'000);
  }
  auto e = promql::parse("count_values(\"v\", m)");
  REQUIRE(e.has_value());
  auto r = instant_query(s, **e, 0);
  REQUIRE(r.has_value());
  std::set<std::string> got;
  for (const auto& smp : std::get<Vector>(r->value)) got.insert(smp.metric.to_string());
  CHECK(got == std::set<std::string>{"{v=\"4727839468229346000\"}", "{v=\"0.0000001\"}",
                                     "{v=\"162754.79141900392\"}", "{v=\"-2.5\"}", "{v=\"300\"}"});
}
