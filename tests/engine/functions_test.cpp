// PromQL functions, one behaviour per case (own cases, not copies of the .test files).
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
using M = std::map<std::string, double>;

struct Fx {
  Storage storage;
  explicit Fx(std::string_view text, Millis interval = kMin) {
    series_fixture::load_lines(storage, text, interval);
  }
  Result<QueryResult> query(std::string_view q, Millis t) {
    return series_fixture::instant_all(storage, q, t);
  }
  M vec(std::string_view q, Millis t = 0) {
    auto r = query(q, t);
    REQUIRE_MESSAGE(r.has_value(), (r ? std::string() : r.error().message));
    const auto* v = std::get_if<Vector>(&r->value);
    REQUIRE(v);
    M out;
    for (const auto& s : *v) out[s.metric.to_string()] = s.v;
    return out;
  }
  double one(std::string_view q, Millis t = 0) {
    auto m = vec(q, t);
    REQUIRE_MESSAGE(m.size() == 1, std::string(q));
    return m.begin()->second;
  }
  std::vector<std::string> order(std::string_view q, Millis t = 0) {
    auto r = query(q, t);
    REQUIRE(r);
    std::vector<std::string> out;
    for (const auto& s : std::get<Vector>(r->value)) out.push_back(s.metric.to_string());
    return out;
  }
};

}  // namespace

TEST_CASE("math functions apply elementwise and drop the metric name") {
  Fx f("m{a=\"x\"} -2.5");
  CHECK(f.vec("abs(m)") == M{{"{a=\"x\"}", 2.5}});
  CHECK(f.one("ceil(m)") == -2);
  CHECK(f.one("floor(m)") == -3);
  CHECK(f.one("sgn(m)") == -1);
  CHECK(f.one("exp(vector(0))") == 1);
  CHECK(f.one("sqrt(vector(16))") == 4);
  CHECK(f.one("ln(vector(1))") == 0);
  CHECK(f.one("log2(vector(8))") == 3);
  CHECK(f.one("log10(vector(1000))") == 3);
  CHECK(f.one("deg(vector(pi()))") == doctest::Approx(180));
  CHECK(f.one("rad(vector(180))") == doctest::Approx(M_PI));
  CHECK(std::isnan(f.one("sqrt(m)")));
}

TEST_CASE("round rounds half up to the nearest multiple") {
  Fx f("m{a=\"1\"} 2.5\nm{a=\"2\"} -2.5\nm{a=\"3\"} 7.3");
  auto r = f.vec("round(m)");
  CHECK(r["{a=\"1\"}"] == 3);
  CHECK(r["{a=\"2\"}"] == -2);
  CHECK(f.vec("round(m, 5)")["{a=\"3\"}"] == 5);
  CHECK(f.vec("round(m, 0.5)")["{a=\"3\"}"] == 7.5);
}

TEST_CASE("clamp, clamp_min and clamp_max bound values; clamp with min > max is empty") {
  Fx f("m{a=\"1\"} -5\nm{a=\"2\"} 5\nm{a=\"3\"} NaN");
  auto c = f.vec("clamp(m, 0, 1)");
  CHECK(c["{a=\"1\"}"] == 0);
  CHECK(c["{a=\"2\"}"] == 1);
  CHECK(std::isnan(c["{a=\"3\"}"]));
  CHECK(f.vec("clamp_min(m, 0)")["{a=\"1\"}"] == 0);
  CHECK(f.vec("clamp_max(m, 0)")["{a=\"2\"}"] == 0);
  CHECK(f.vec("clamp(m, 2, 1)").empty());
}

TEST_CASE("date functions read the value as Unix seconds in UTC") {
  Fx f("");
  // 2024-02-29T13:45:00Z is 1709214300.
  CHECK(f.one("year(vector(1709214300))") == 2024);
  CHECK(f.one("month(vector(1709214300))") == 2);
  CHECK(f.one("day_of_month(vector(1709214300))") == 29);
  CHECK(f.one("days_in_month(vector(1709214300))") == 29);
  CHECK(f.one("day_of_week(vector(1709214300))") == 4);
  CHECK(f.one("day_of_year(vector(1709214300))") == 60);
  CHECK(f.one("hour(vector(1709214300))") == 13);
  CHECK(f.one("minute(vector(1709214300))") == 45);
  // Without an argument, the evaluation time is used: 1970-01-01 is a Thursday.
  CHECK(f.one("day_of_week()", 0) == 4);
  CHECK(f.one("year(vector(-1))") == 1969);
}

TEST_CASE("time, timestamp, vector and scalar") {
  Fx f("m 1 2 _ _", 30'000);
  CHECK(f.query("time()", 90'000)->value.index() == 0);
  CHECK(std::get<Scalar>(f.query("time()", 90'000)->value).v == 90);
  CHECK(f.one("timestamp(m)", 100'000) == 30);
  CHECK(f.one("vector(7)") == 7);
  CHECK(std::get<Scalar>(f.query("scalar(m)", 0)->value).v == 1);
  CHECK(std::isnan(std::get<Scalar>(f.query("scalar(nope)", 0)->value).v));
}

TEST_CASE("label_replace rewrites labels with regex groups and validates its inputs") {
  Fx f("m{src=\"host-42\"} 1");
  CHECK(f.vec("label_replace(m, \"id\", \"$1\", \"src\", \"host-(.*)\")") ==
        M{{"m{id=\"42\", src=\"host-42\"}", 1}});
  CHECK(f.vec("label_replace(m, \"id\", \"${1}x\", \"src\", \"host-(?P<num>.*)\")") ==
        M{{"m{id=\"42x\", src=\"host-42\"}", 1}});
  // No match leaves the series unchanged; an empty replacement deletes the label.
  CHECK(f.vec("label_replace(m, \"id\", \"$1\", \"src\", \"nomatch-(.*)\")") ==
        M{{"m{src=\"host-42\"}", 1}});
  CHECK(f.vec("label_replace(m, \"src\", \"\", \"src\", \".*\")") == M{{"m", 1}});
  auto bad = f.query("label_replace(m, \"id\", \"$1\", \"src\", \"(\")", 0);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("invalid regular expression") != std::string::npos);
}

TEST_CASE("label_join joins source label values with a separator") {
  Fx f("m{a=\"x\",b=\"y\"} 1");
  CHECK(f.vec("label_join(m, \"c\", \"-\", \"a\", \"b\", \"missing\")") ==
        M{{"m{a=\"x\", b=\"y\", c=\"x-y-\"}", 1}});
}

TEST_CASE("sort functions order instant results") {
  Fx f("m{a=\"1\"} 3\nm{a=\"10\"} 1\nm{a=\"2\"} NaN\nm{a=\"9\"} 2");
  CHECK(f.order("sort(m)") == std::vector<std::string>{"m{a=\"10\"}", "m{a=\"9\"}", "m{a=\"1\"}", "m{a=\"2\"}"});
  CHECK(f.order("sort_desc(m)") == std::vector<std::string>{"m{a=\"1\"}", "m{a=\"9\"}", "m{a=\"10\"}", "m{a=\"2\"}"});
  // Natural sort order: 9 before 10.
  CHECK(f.order("sort_by_label(m, \"a\")") ==
        std::vector<std::string>{"m{a=\"1\"}", "m{a=\"2\"}", "m{a=\"9\"}", "m{a=\"10\"}"});
  CHECK(f.order("sort_by_label_desc(m, \"a\")").front() == "m{a=\"10\"}");
}

TEST_CASE("over_time functions aggregate each series' window") {
  Fx f("m 1 5 3 NaN 2");
  Millis t = 4 * kMin;
  CHECK(f.one("sum_over_time(m[3m])", 2 * kMin) == 9);
  CHECK(f.one("avg_over_time(m[3m])", 2 * kMin) == 3);
  CHECK(f.one("min_over_time(m[10m])", t) == 1);
  CHECK(f.one("max_over_time(m[10m])", t) == 5);
  CHECK(f.one("count_over_time(m[10m])", t) == 5);
  CHECK(f.one("last_over_time(m[10m])", t) == 2);
  CHECK(f.one("first_over_time(m[10m])", t) == 1);
  CHECK(f.one("present_over_time(m[10m])", t) == 1);
  CHECK(f.one("stdvar_over_time(m[3m])", 2 * kMin) == doctest::Approx(8.0 / 3));
  CHECK(f.one("stddev_over_time(m[3m])", 2 * kMin) == doctest::Approx(std::sqrt(8.0 / 3)));
  CHECK(f.one("quantile_over_time(0.5, m[3m])", 2 * kMin) == 3);
  CHECK(f.one("mad_over_time(m[3m])", 2 * kMin) == 2);
  CHECK(f.one("ts_of_max_over_time(m[10m])", t) == 60);
  CHECK(f.one("ts_of_min_over_time(m[10m])", t) == 0);
  CHECK(f.one("ts_of_last_over_time(m[10m])", t) == 240);
  CHECK(f.vec("absent_over_time(m[10m])", t).empty());
}

TEST_CASE("delta, idelta, irate and deriv on a straight line") {
  Fx f("g 0+3x10");
  Millis t = 10 * kMin;
  CHECK(f.one("delta(g[5m])", t) == doctest::Approx(15));
  CHECK(f.one("idelta(g[5m])", t) == 3);
  CHECK(f.one("irate(g[5m])", t) == doctest::Approx(0.05));
  CHECK(f.one("deriv(g[5m])", t) == doctest::Approx(0.05));
  CHECK(f.one("predict_linear(g[5m], 60)", t) == doctest::Approx(33));
}

TEST_CASE("double_exponential_smoothing follows the trend and validates its factors") {
  Fx f("g 0+10x10");
  CHECK(f.one("double_exponential_smoothing(g[10m], 0.5, 0.5)", 10 * kMin) ==
        doctest::Approx(100));
  auto bad = f.query("double_exponential_smoothing(g[10m], 1, 0.5)", 10 * kMin);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("invalid smoothing factor") != std::string::npos);
}

TEST_CASE("histogram_quantile interpolates within classic le buckets") {
  Fx f("h_bucket{le=\"1\"} 10\nh_bucket{le=\"2\"} 20\nh_bucket{le=\"+Inf\"} 20\n"
       "bad_bucket{le=\"1\"} 10\nbad_bucket{le=\"2\"} 5\nbad_bucket{le=\"+Inf\"} 10");
  CHECK(f.vec("histogram_quantile(0.5, h_bucket)") == M{{"{}", 1}});
  CHECK(f.one("histogram_quantile(0.75, h_bucket)") == doctest::Approx(1.5));
  // Above the highest finite bucket: its upper bound.
  CHECK(f.one("histogram_quantile(1, h_bucket)") == 2);
  CHECK(std::isinf(f.one("histogram_quantile(2, h_bucket)")));
  auto r = f.query("histogram_quantile(0.5, bad_bucket)", 0);
  REQUIRE(r);
  REQUIRE(r->infos.size() == 1);
  CHECK(r->infos[0].find("monotonicity") != std::string::npos);
  CHECK(f.one("histogram_fraction(0, 1.5, h_bucket)") == doctest::Approx(0.75));
  CHECK(f.one("histogram_fraction(-Inf, +Inf, h_bucket)") == 1);
}

TEST_CASE("histogram_quantile warns about a missing or malformed le label") {
  Fx f("x{le=\"abc\"} 1");
  auto r = f.query("histogram_quantile(0.5, x)", 0);
  REQUIRE(r);
  CHECK(std::get<Vector>(r->value).empty());
  REQUIRE(r->warnings.size() == 1);
  CHECK(r->warnings[0].find("bucket label \"le\" is missing or has a malformed value") !=
        std::string::npos);
}
