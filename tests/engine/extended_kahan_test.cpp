// Experimental extended selectors evaluated on their own (Prometheus's matrixSelector with
// extendFloats), Kahan-compensated histogram sums and means (FloatHistogram.KahanAdd), and
// Prometheus's exponential bucket bound table. Expected values are worked out by hand from
// Prometheus's promql/engine.go, promql/functions.go and model/histogram/generic.go.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "histogram_fixture.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;
using Db = hist_fixture::HistogramDb;
using hist_fixture::kMin;
using hist_fixture::one_bucket;

TEST_CASE("an anchored range selector adds the sample at the range start, as extendFloats") {
  Db x("c 0+60x20");
  // At 7m30s, c[5m] anchored: the value at 2m (120) stamped 2m30s, the samples of 3m..7m, and
  // the last value again at 7m30s.
  auto r = x.query("c[5m] anchored", 7 * kMin + 30'000);
  REQUIRE_MESSAGE(r, (r ? std::string() : r.error().message));
  auto* m = std::get_if<Matrix>(&r->value);
  REQUIRE(m != nullptr);
  REQUIRE(m->size() == 1);
  const auto& p = (*m)[0].points;
  REQUIRE(p.size() == 7);
  CHECK(p.front().t == 150'000);
  CHECK(p.front().v == 120);
  CHECK(p[1].t == 3 * kMin);
  CHECK(p[5].v == 420);
  CHECK(p.back().t == 450'000);
  CHECK(p.back().v == 420);
}

TEST_CASE("a smoothed range selector interpolates both boundaries") {
  Db x("c 0+60x20");
  auto r = x.query("c[5m] smoothed", 7 * kMin + 30'000);
  REQUIRE_MESSAGE(r, (r ? std::string() : r.error().message));
  const auto& p = std::get<Matrix>(r->value).at(0).points;
  REQUIRE(p.size() == 7);
  CHECK(p.front().t == 150'000);
  CHECK(p.front().v == 150);  // between 120 at 2m and 180 at 3m
  CHECK(p.back().t == 450'000);
  CHECK(p.back().v == 450);  // between 420 at 7m and 480 at 8m
}

TEST_CASE("anchored and smoothed range selectors refuse histograms on their own") {
  Db x("h {{schema:0 count:1 sum:1 buckets:[1]}}x10");
  auto r = x.query("h[5m] anchored", 5 * kMin);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "anchored modifier is not supported with histograms");
  r = x.query("h[5m] smoothed", 5 * kMin);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "smoothed modifier is not supported with histograms");
}

TEST_CASE("extended rates over native histograms") {
  // +1 count and +1 in bucket 0 every minute.
  Db x("h {{schema:0 count:1 sum:1 buckets:[1]}}+{{schema:0 count:1 sum:1 buckets:[1]}}x10");
  // anchored at 5m30s over 2m: the sample at 3m (count 4) to the one at 5m (count 6).
  CHECK(x.text("histogram_count(increase(h[2m] anchored))", 5 * kMin + 30'000) == "{} => 2\n");
  // smoothed: interpolated at 3m30s (4.5) and 5m30s (6.5).
  CHECK(x.text("histogram_count(increase(h[2m] smoothed))", 5 * kMin + 30'000) == "{} => 2\n");
  CHECK(x.text("histogram_sum(rate(h[2m] smoothed))", 5 * kMin + 30'000) ==
        "{} => 0.016666666666666666\n");
  // The instant selector interpolates histograms too: count 4.5 at 3m30s.
  CHECK(x.text("histogram_count(h smoothed)", 3 * kMin + 30'000) == "{} => 4.5\n");
}

TEST_CASE("histogram sums are Kahan-compensated, as FloatHistogram.KahanAdd") {
  // A naive sum of 1e100, 1 and -1e100 is 0; the compensated sum is 1.
  Db x("a{i=\"1\"} {{schema:0 count:1e100 sum:1e100 buckets:[1e100]}}\n"
       "a{i=\"2\"} {{schema:0 count:1 sum:1 buckets:[1]}}\n"
       "a{i=\"3\"} {{schema:0 count:-1e100 sum:-1e100 buckets:[-1e100]}}\n"
       "b {{schema:0 count:1e100 sum:1e100 buckets:[1e100]}} {{schema:0 count:1 sum:1 buckets:[1]}} "
       "{{schema:0 count:-1e100 sum:-1e100 buckets:[-1e100]}}");
  CHECK(x.text("sum(a)", 0) == "{} => {{count:1 sum:1 buckets:[1]}}\n");
  CHECK(x.text("avg(a)", 0) ==
        "{} => {{count:0.3333333333333333 sum:0.3333333333333333 buckets:[0.3333333333333333]}}\n");
  CHECK(x.text("sum_over_time(b[3m])", 2 * kMin) == "{} => {{count:1 sum:1 buckets:[1]}}\n");
  CHECK(x.text("avg_over_time(b[3m])", 2 * kMin) ==
        "{} => {{count:0.3333333333333333 sum:0.3333333333333333 buckets:[0.3333333333333333]}}\n");
}

TEST_CASE("histogram_kahan_add merges a finer schema with compensation and keeps the first hint") {
  FloatHistogram h;
  h.schema = 0;
  h.count = 1e100;
  h.hint = CounterResetHint::kNotReset;
  h.positive_offset = 0;
  h.positive_buckets = {1e100};
  FloatHistogram fine;  // schema 1: buckets 0 and 1 fall into schema-0 bucket 0 and 1
  fine.schema = 1;
  fine.count = 2;
  fine.hint = CounterResetHint::kNotReset;
  fine.positive_offset = -1;
  fine.positive_buckets = {1, 1};
  FloatHistogram neg = h;
  neg.count = -1e100;
  neg.positive_buckets = {-1e100};
  std::shared_ptr<FloatHistogram> c;
  REQUIRE(histogram_kahan_add(h, fine, c).has_value());
  REQUIRE(histogram_kahan_add(h, neg, c).has_value());
  REQUIRE(c != nullptr);
  CHECK(c->hint == CounterResetHint::kNotReset);
  REQUIRE(histogram_add(h, *c).has_value());
  histogram_compact(h);
  CHECK(h.count == 2);
  CHECK(histogram_test_expression(h) == "{{count:2 counter_reset_hint:not_reset buckets:[2]}}");
}

TEST_CASE("histogram_has_overflow sees an infinite count, sum or bucket") {
  FloatHistogram h = one_bucket(0, 0);
  CHECK_FALSE(histogram_has_overflow(h));
  h.positive_buckets[0] = INFINITY;
  CHECK(histogram_has_overflow(h));
}

TEST_CASE("exponential bucket bounds come from Prometheus's table, not correctly rounded 2^x") {
  // Schema 1, bucket 1 ends at 2^(1/2) = 1.4142135623730951 correctly rounded; Prometheus's
  // table holds 0.7071067811865475 (one ulp below half of that), so the bound is
  // 1.414213562373095.
  auto b = histogram_buckets(one_bucket(1, 1));
  REQUIRE(b.size() == 1);
  CHECK(b[0].upper == 1.414213562373095);
  CHECK(b[0].upper != std::sqrt(2.0));
  CHECK(b[0].lower == 1.0);
  // Schema 2, bucket 3: 2^(3/4) from the table's 0.8408964152537144 (correctly rounded would
  // end in ...145).
  b = histogram_buckets(one_bucket(2, 3));
  REQUIRE(b.size() == 1);
  CHECK(b[0].upper == 1.6817928305074288);
  CHECK(b[0].lower == 1.414213562373095);
  // Schema 8, a bucket in the middle of the table and one with a negative exponent.
  b = histogram_buckets(one_bucket(8, 128));
  CHECK(b[0].upper == 1.414213562373095);
  b = histogram_buckets(one_bucket(3, -5));
  CHECK(b[0].upper == 0.6484197773255048);
}
