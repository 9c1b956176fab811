// count_values labels as Prometheus does (Go's FormatFloat 'f' -1). Found by the differential
// harness; the expected labels are promtool 2.42's output for the same query.
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
