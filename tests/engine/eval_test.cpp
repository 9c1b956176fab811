// Evaluator behaviour: selectors, staleness, offsets and @, subqueries, operators, aggregations.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <sstream>

#include "ruleeval/engine/engine.hpp"
#include "ruleeval/engine/load_notation.hpp"
#include "ruleeval/parser/promql.hpp"
#include "series_fixture.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;

namespace {

constexpr Millis kMin = 60'000;

struct Db {
  Storage storage;
  // Series lines in the expanding notation, one sample per `interval`.
  explicit Db(std::string_view text, Millis interval = kMin) {
    series_fixture::load_lines(storage, text, interval);
  }

  Result<QueryResult> query(std::string_view q, Millis t) {
    return series_fixture::instant_all(storage, q, t);
  }

  // label-set string -> value, for an instant vector result.
  std::map<std::string, double> vec(std::string_view q, Millis t) {
    auto r = query(q, t);
    REQUIRE_MESSAGE(r.has_value(), (r ? std::string() : r.error().message));
    const auto* v = std::get_if<Vector>(&r->value);
    REQUIRE_MESSAGE(v, std::string(q));
    std::map<std::string, double> out;
    for (const auto& s : *v) out[s.metric.to_string()] = s.v;
    return out;
  }

  double scalar(std::string_view q, Millis t) {
    auto r = query(q, t);
    REQUIRE_MESSAGE(r.has_value(), (r ? std::string() : r.error().message));
    const auto* s = std::get_if<Scalar>(&r->value);
    REQUIRE(s);
    return s->v;
  }

  std::string error(std::string_view q, Millis t) {
    auto r = query(q, t);
    REQUIRE_FALSE_MESSAGE(r, std::string(q));
    return r.error().message;
  }
};

using M = std::map<std::string, double>;

}  // namespace

TEST_CASE("an instant selector takes the latest sample within the 5m lookback") {
  Db db("m{a=\"1\"} 1 2 3 _ _ _ _ _ _ _");
  CHECK(db.vec("m", 2 * kMin) == M{{"m{a=\"1\"}", 3}});
  CHECK(db.vec("m", 7 * kMin - 1) == M{{"m{a=\"1\"}", 3}});
  // The lookback window is left-open: a sample exactly 5m old is gone.
  CHECK(db.vec("m", 7 * kMin).empty());
}

TEST_CASE("a staleness marker hides the series until the next sample") {
  Db db("m 1 stale 3");
  CHECK(db.vec("m", 0).size() == 1);
  CHECK(db.vec("m", kMin).empty());
  CHECK(db.vec("m", 2 * kMin) == M{{"m", 3}});
}

TEST_CASE("offset and @ move the evaluation time of a selector") {
  Db db("m 0+10x10");
  CHECK(db.vec("m offset 2m", 5 * kMin) == M{{"m", 30}});
  CHECK(db.vec("m @ 120", 9 * kMin) == M{{"m", 20}});
  CHECK(db.vec("m @ 180 offset 1m", 0) == M{{"m", 20}});
  CHECK(db.vec("m offset -1m", 2 * kMin) == M{{"m", 30}});
}

TEST_CASE("range windows are left-open and drop staleness markers") {
  Db db("m 1 2 stale 4 5");
  CHECK(db.vec("count_over_time(m[2m])", 2 * kMin) == M{{"{}", 1}});
  CHECK(db.vec("count_over_time(m[3m])", 4 * kMin) == M{{"{}", 2}});
  CHECK(db.vec("last_over_time(m[5m])", 4 * kMin) == M{{"m", 5}});
}

TEST_CASE("rate and increase extrapolate like Prometheus and handle counter resets") {
  Db db("c_total 0+10x10\nr_total 0 10 20 5 15");
  CHECK(db.vec("increase(c_total[5m])", 10 * kMin) == M{{"{}", 50}});
  CHECK(db.vec("rate(c_total[5m])", 10 * kMin)["{}"] == doctest::Approx(50.0 / 300));
  // 0 10 20 | reset | 5 15: increase = 20 + 15 = 35 over 4m, extrapolated to the 5m window.
  auto inc = db.vec("increase(r_total[5m])", 4 * kMin)["{}"];
  // The first sample is 0, so no extrapolation before it; the last is at the window end.
  CHECK(inc == doctest::Approx(35.0));
  CHECK(db.vec("resets(r_total[10m])", 4 * kMin) == M{{"{}", 1}});
  CHECK(db.vec("changes(r_total[10m])", 4 * kMin) == M{{"{}", 4}});
}

TEST_CASE("rate over a metric that does not look like a counter adds an info annotation") {
  Db db("gauge 0+1x5");
  auto r = db.query("rate(gauge[5m])", 5 * kMin);
  REQUIRE(r);
  REQUIRE(r->infos.size() == 1);
  CHECK(r->infos[0].find("metric might not be a counter") != std::string::npos);
}

TEST_CASE("subqueries step at absolute multiples of their step") {
  Db db("m 0+1x20", kMin);
  // (5m-3m, 5m] with step 1m -> 3m, 4m, 5m.
  CHECK(db.vec("count_over_time(m[3m:1m])", 5 * kMin) == M{{"{}", 3}});
  // Evaluated at 5m30s: (2m30s, 5m30s] -> 3m, 4m, 5m.
  CHECK(db.vec("min_over_time(m[3m:1m])", 5 * kMin + 30'000) == M{{"{}", 3}});
  CHECK(db.vec("max_over_time(m[10m:2m])", 10 * kMin) == M{{"{}", 10}});
}

TEST_CASE("arithmetic between vectors matches on all labels but the name") {
  Db db("a{x=\"1\"} 10\na{x=\"2\"} 20\nb{x=\"1\"} 3\nb{x=\"3\"} 4");
  CHECK(db.vec("a - b", 0) == M{{"{x=\"1\"}", 7}});
  CHECK(db.vec("a > 15", 0) == M{{"a{x=\"2\"}", 20}});
  CHECK(db.vec("a > bool 15", 0) == M{{"{x=\"1\"}", 0}, {"{x=\"2\"}", 1}});
  CHECK(db.vec("2 ^ 3 + a", 0) == M{{"{x=\"1\"}", 18}, {"{x=\"2\"}", 28}});
  CHECK(db.vec("20 >= a", 0) == M{{"a{x=\"1\"}", 10}, {"a{x=\"2\"}", 20}});
  CHECK(db.scalar("1 < bool 2", 0) == 1);
  CHECK(db.scalar("-2 ^ 2", 0) == -4);
}

TEST_CASE("set operators keep or drop series by label signature") {
  Db db("a{x=\"1\"} 10\na{x=\"2\"} 20\nb{x=\"1\"} 3\nb{x=\"3\"} 4");
  CHECK(db.vec("a and b", 0) == M{{"a{x=\"1\"}", 10}});
  CHECK(db.vec("a unless b", 0) == M{{"a{x=\"2\"}", 20}});
  CHECK(db.vec("a or b", 0) ==
        M{{"a{x=\"1\"}", 10}, {"a{x=\"2\"}", 20}, {"b{x=\"3\"}", 4}});
  CHECK(db.vec("a and on() b", 0).size() == 2);
}

TEST_CASE("group_left copies labels from the one side and checks cardinality") {
  Db db("req{job=\"a\",inst=\"1\"} 10\nreq{job=\"a\",inst=\"2\"} 20\n"
        "info{job=\"a\",team=\"t\"} 1");
  CHECK(db.vec("req * on(job) group_left(team) info", 0) ==
        M{{"{inst=\"1\", job=\"a\", team=\"t\"}", 10}, {"{inst=\"2\", job=\"a\", team=\"t\"}", 20}});
  auto err = db.error("info * on(job) req", 0);
  CHECK(err.find("many-to-many matching not allowed") != std::string::npos);
  auto err2 = db.error("req * on(job) info", 0);
  CHECK(err2.find("many-to-one matching must be explicit") != std::string::npos);
}

TEST_CASE("aggregations group by and without labels") {
  Db db("m{j=\"a\",i=\"1\"} 1\nm{j=\"a\",i=\"2\"} 3\nm{j=\"b\",i=\"1\"} 5\nm{j=\"b\",i=\"2\"} NaN");
  auto sums = db.vec("sum by (j) (m)", 0);
  CHECK(sums["{j=\"a\"}"] == 4);
  CHECK(std::isnan(sums["{j=\"b\"}"]));
  CHECK(db.vec("max without (i) (m)", 0) == M{{"{j=\"a\"}", 3}, {"{j=\"b\"}", 5}});
  CHECK(db.vec("min(m)", 0) == M{{"{}", 1}});
  CHECK(db.vec("count(m)", 0) == M{{"{}", 4}});
  CHECK(db.vec("avg by (j) (m)", 0)["{j=\"a\"}"] == 2);
  CHECK(db.vec("group by (i) (m)", 0) == M{{"{i=\"1\"}", 1}, {"{i=\"2\"}", 1}});
  CHECK(db.vec("stddev by (j) (m)", 0)["{j=\"a\"}"] == 1);
  CHECK(db.vec("stdvar by (j) (m)", 0)["{j=\"a\"}"] == 1);
  CHECK(db.vec("quantile(0.5, m)", 0)["{}"] == 2);
}

TEST_CASE("topk and bottomk keep the original series and ignore NaN when possible") {
  Db db("m{i=\"1\"} 1\nm{i=\"2\"} 3\nm{i=\"3\"} NaN");
  CHECK(db.vec("topk(1, m)", 0) == M{{"m{i=\"2\"}", 3}});
  CHECK(db.vec("bottomk(1, m)", 0) == M{{"m{i=\"1\"}", 1}});
  CHECK(db.vec("topk(0, m)", 0).empty());
  CHECK(db.error("topk(NaN, m)", 0) == "Parameter value is NaN");
}

TEST_CASE("count_values counts distinct values into a new label") {
  Db db("v{i=\"1\"} 1\nv{i=\"2\"} 1\nv{i=\"3\"} 2.5");
  CHECK(db.vec("count_values(\"val\", v)", 0) == M{{"{val=\"1\"}", 2}, {"{val=\"2.5\"}", 1}});
}

TEST_CASE("delayed name removal keeps names until the end and detects collisions") {
  Db db("a_total{e=\"1\"} 0+1x10\nb_total{e=\"1\"} 0+2x10");
  CHECK(db.error("ceil({__name__=~\"a_total|b_total\"})", 5 * kMin) ==
        "vector cannot contain metrics with the same labelset");
  CHECK(db.vec("sum(rate({e=\"1\"}[5m])) by (e)", 5 * kMin).size() == 1);
  CHECK(db.vec("last_over_time(a_total[5m])", 5 * kMin) == M{{"a_total{e=\"1\"}", 5}});
  CHECK(db.vec("label_replace(-a_total, \"__name__\", \"x\", \"\", \"\")", 5 * kMin) ==
        M{{"x{e=\"1\"}", -5}});
}

TEST_CASE("range queries evaluate every step and sort the series") {
  Db db("m{i=\"b\"} 0+1x10\nm{i=\"a\"} 5 _ _ _ _ _ _ _ _ _");
  promql::ParseOptions po;
  auto e = promql::parse("m", po);
  REQUIRE(e);
  auto r = range_query(db.storage, **e, 0, 6 * kMin, 2 * kMin);
  REQUIRE(r);
  const auto& mat = std::get<Matrix>(r->value);
  REQUIRE(mat.size() == 2);
  CHECK(mat[0].metric.get("i") == "a");
  CHECK(mat[0].points.size() == 3);  // 0, 2m, 4m; gone at 6m (lookback)
  CHECK(mat[1].points.size() == 4);
  CHECK(mat[1].points[3].v == 6);
  CHECK_FALSE(range_query(db.storage, **e, 0, kMin, 0));
}

TEST_CASE("absent reports the equality labels of a selector with no data") {
  Db db("m{a=\"1\"} 1");
  CHECK(db.vec("absent(m)", 0).empty());
  CHECK(db.vec("absent(nope{a=\"x\",b=~\"y\"})", 0) == M{{"{a=\"x\"}", 1}});
  CHECK(db.vec("absent_over_time(nope{c=\"z\"}[5m])", 0) == M{{"{c=\"z\"}", 1}});
}

TEST_CASE("modulo, power and atan2 follow Go's float semantics") {
  Db db("a 7\nb 2");
  CHECK(db.vec("a % b", 0) == M{{"{}", 1}});
  CHECK(db.vec("a ^ b", 0) == M{{"{}", 49}});
  CHECK(db.vec("a atan2 b", 0)["{}"] == doctest::Approx(std::atan2(7.0, 2.0)));
  CHECK(std::isnan(db.scalar("5 % 0", 0)));
  CHECK(db.scalar("1 / 0", 0) == INFINITY);
  CHECK(db.vec("10 - a", 0) == M{{"{}", 3}});
}

TEST_CASE("group_right keeps the right side's labels and vector comparisons with bool") {
  Db db("info{job=\"a\",team=\"t\"} 1\nreq{job=\"a\",inst=\"1\"} 10\nreq{job=\"a\",inst=\"2\"} 20");
  CHECK(db.vec("info * on(job) group_right(team) req", 0) ==
        M{{"{inst=\"1\", job=\"a\", team=\"t\"}", 10}, {"{inst=\"2\", job=\"a\", team=\"t\"}", 20}});
  CHECK(db.vec("req > bool on(job) group_left info * 15", 0) ==
        M{{"{inst=\"1\", job=\"a\"}", 0}, {"{inst=\"2\", job=\"a\"}", 1}});
  CHECK(db.vec("req unless on(inst) req{inst=\"1\"}", 0) == M{{"req{inst=\"2\", job=\"a\"}", 20}});
}

TEST_CASE("limitk keeps k series per group and limit_ratio rejects NaN") {
  Db db("m{i=\"1\"} 1\nm{i=\"2\"} 2\nm{i=\"3\"} 3");
  CHECK(db.vec("limitk(2, m)", 0).size() == 2);
  CHECK(db.vec("limit_ratio(1, m)", 0).size() == 3);
  CHECK(db.vec("limit_ratio(-1, m)", 0).size() == 3);
  CHECK(db.error("limit_ratio(NaN, m)", 0) == "Ratio value is NaN");
}

TEST_CASE("quantile warns when its parameter is out of range") {
  Db db("m 1");
  auto r = db.query("quantile(1.5, m)", 0);
  REQUIRE(r.has_value());
  REQUIRE(r->warnings.size() == 1);
  CHECK(r->warnings[0] == "PromQL warning: quantile value should be between 0 and 1, got 1.5");
}

TEST_CASE("a range vector can be the result of an instant query") {
  Db db("m 1 2 3");
  auto r = db.query("m[2m]", 2 * kMin);
  REQUIRE(r.has_value());
  const auto* mat = std::get_if<Matrix>(&r->value);
  REQUIRE(mat);
  REQUIRE(mat->size() == 1);
  CHECK((*mat)[0].points.size() == 2);
  CHECK((*mat)[0].points[0].t == kMin);
}
