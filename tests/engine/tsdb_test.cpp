#include <doctest/doctest.h>

#include <cmath>

#include "ruleeval/engine/load_notation.hpp"
#include "ruleeval/engine/storage.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;
using promql::LabelMatcher;
using promql::MatchOp;

namespace {

std::vector<std::string> names_of(const std::vector<SeriesView>& v, std::string_view label) {
  std::vector<std::string> out;
  out.reserve(v.size());
  for (const auto& s : v) out.emplace_back(s.labels->get(label));
  return out;
}

void fill(Storage& s) {
  s.append(Labels{{"__name__", "up"}, {"job", "api"}, {"instance", "a"}}, 0, 1);
  s.append(Labels{{"__name__", "up"}, {"job", "api"}, {"instance", "b"}}, 0, 0);
  s.append(Labels{{"__name__", "up"}, {"job", "db"}, {"instance", "c"}}, 0, 1);
  s.append(Labels{{"__name__", "other"}, {"job", "db"}}, 0, 5);
  s.append(Labels{{"__name__", "multi"}, {"text", "line1\nline2"}}, 0, 5);
}

}  // namespace

TEST_CASE("selecting by an equality matcher returns only the matching series, sorted") {
  Storage s;
  fill(s);
  std::vector<LabelMatcher> m = {{MatchOp::Equal, "__name__", "up", {}}};
  auto r = s.select(m, 0, 0);
  REQUIRE(r);
  CHECK(names_of(*r, "instance") == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("regex matchers are fully anchored and dot matches a newline") {
  Storage s;
  fill(s);
  std::vector<LabelMatcher> anchored = {{MatchOp::Regex, "job", "ap", {}}};
  CHECK(s.select(anchored, 0, 0)->empty());
  std::vector<LabelMatcher> dot = {{MatchOp::Regex, "text", "line1.line2", {}}};
  CHECK(s.select(dot, 0, 0)->size() == 1);
  std::vector<LabelMatcher> alt = {{MatchOp::Regex, "job", "api|db", {}},
                                   {MatchOp::Equal, "__name__", "up", {}}};
  CHECK(s.select(alt, 0, 0)->size() == 3);
}

TEST_CASE("negative matchers also match series that lack the label") {
  Storage s;
  fill(s);
  std::vector<LabelMatcher> m = {{MatchOp::NotEqual, "instance", "a", {}},
                                 {MatchOp::Regex, "__name__", ".+", {}}};
  auto r = s.select(m, 0, 0);
  REQUIRE(r);
  CHECK(r->size() == 4);
  std::vector<LabelMatcher> nre = {{MatchOp::NotRegex, "job", "db|api", {}},
                                   {MatchOp::Regex, "__name__", ".+", {}}};
  CHECK(s.select(nre, 0, 0)->size() == 1);
}

TEST_CASE("an invalid regex is reported as an error, not a crash") {
  Storage s;
  fill(s);
  std::vector<LabelMatcher> m = {{MatchOp::Regex, "job", "(", {}}};
  auto r = s.select(m, 0, 0);
  CHECK_FALSE(r);
}

TEST_CASE("appends out of order are kept sorted and duplicates overwrite") {
  Storage s;
  Labels l{{"__name__", "x"}};
  s.append(l, 20, 2);
  s.append(l, 10, 1);
  s.append(l, 30, 3);
  s.append(l, 20, 22);
  std::vector<LabelMatcher> m = {{MatchOp::Equal, "__name__", "x", {}}};
  auto r = s.select(m, 0, 100);
  REQUIRE(r->size() == 1);
  const auto& v = (*r)[0];
  CHECK(std::vector<Millis>(v.t.begin(), v.t.end()) == std::vector<Millis>{10, 20, 30});
  CHECK(std::vector<double>(v.v.begin(), v.v.end()) == std::vector<double>{1, 22, 3});
  CHECK(s.num_samples() == 3);
  s.clear();
  CHECK(s.num_series() == 0);
}

TEST_CASE("the staleness marker has Prometheus's bit pattern and is distinct from NaN") {
  CHECK(is_stale_nan(stale_nan()));
  CHECK(std::isnan(stale_nan()));
  CHECK_FALSE(is_stale_nan(std::nan("")));
}

TEST_CASE("the expanding notation expands sequences, blanks and special values") {
  auto r = expand_values("1+1x3 _ 5-2x2 _x2 stale 7x1 Inf -Inf NaN");
  REQUIRE(r);
  const auto& v = r->values;
  REQUIRE(v.size() == 4 + 1 + 3 + 2 + 1 + 2 + 3);
  CHECK(*v[0] == 1);
  CHECK(*v[3] == 4);
  CHECK_FALSE(v[4]);
  CHECK(*v[5] == 5);
  CHECK(*v[7] == 1);
  CHECK_FALSE(v[8]);
  CHECK_FALSE(v[9]);
  CHECK(is_stale_nan(*v[10]));
  CHECK(*v[11] == 7);
  CHECK(*v[12] == 7);
  CHECK(std::isinf(*v[13]));
  CHECK(*v[14] < 0);
  CHECK(std::isnan(*v[15]));
}

TEST_CASE("negative starts, exponents and fractional increments expand correctly") {
  auto r = expand_values("-1+0.5x2 1e2-1e1x1");
  REQUIRE(r);
  REQUIRE(r->values.size() == 5);
  CHECK(*r->values[2] == doctest::Approx(0));
  CHECK(*r->values[3] == 100);
  CHECK(*r->values[4] == 90);
}

TEST_CASE("native histogram samples are parsed and their steps hold the histogram marker") {
  auto r = expand_values("1 {{schema:0 sum:5 count:4 buckets:[1 2 1]}} {{count:1}}+{{count:2}}x2 3");
  REQUIRE(r);
  CHECK(r->num_histograms == 4);
  REQUIRE(r->histograms.size() == 6);
  CHECK(r->histogram_at(0) == nullptr);
  REQUIRE(r->histogram_at(4) != nullptr);
  CHECK(r->histogram_at(4)->count == 5);
  REQUIRE(r->values.size() == 6);
  CHECK(*r->values[0] == 1);
  REQUIRE(r->values[1]);
  CHECK(is_histogram_marker(*r->values[1]));
  CHECK(is_histogram_marker(*r->values[4]));
  CHECK(*r->values[5] == 3);
}

TEST_CASE("malformed series values give a clear error") {
  CHECK_FALSE(expand_values("1+x3"));
  CHECK_FALSE(expand_values("abc"));
  CHECK_FALSE(expand_values("{{count:1"));
  auto r = expand_values("1 2 zz");
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("zz") != std::string::npos);
}
