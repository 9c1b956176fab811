// The PromQL function table, and native histograms in the evaluator: operators, range
// functions, range-query matrices (Prometheus 3.x semantics and annotation texts).
#include <doctest/doctest.h>

#include <algorithm>

#include "histogram_fixture.hpp"
#include "ruleeval/engine/remote_write.hpp"
#include "ruleeval/parser/promql.hpp"
#include "ruleeval/parser/promql_functions.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;

using Hx = hist_fixture::HistogramDb;
using hist_fixture::kMin;

TEST_CASE("every PromQL function of the parser's table is implemented") {
  auto missing = unimplemented_functions();
  CHECK(missing.empty());
  CHECK(promql::all_functions().size() >= 90);  // Prometheus 3.x functions.go has 90
}

TEST_CASE("start_timestamp is empty without start timestamps, as in Prometheus 3.14") {
  // Prometheus fills start_timestamp() only with --enable-feature=use-start-timestamps and only
  // for a bare selector (funcStartTimestamp returns nothing when enh.StartTimestamps is unset);
  // ruleeval's store keeps no start timestamps, so it behaves as Prometheus without the feature.
  Hx h("x 1");
  promql::ParseOptions po = ruleeval::promql::ParseOptions::all();
  auto e = promql::parse("start_timestamp(x)", po);
  REQUIRE(e);
  auto r = instant_query(h.storage, **e, 0);
  REQUIRE(r);
  CHECK(std::get<Vector>(r->value).empty());
  // The argument is still evaluated: its errors surface.
  auto bad = promql::parse("start_timestamp(x + on() group_left x)", po);
  REQUIRE(bad);
  Hx h2("x{a=\"1\"} 1\nx{a=\"2\"} 2");
  auto rb = instant_query(h2.storage, **bad, 0);
  CHECK_FALSE(rb);
}

TEST_CASE("histogram arithmetic: +, -, * and / by a scalar, unary minus") {
  Hx h("a {{schema:0 count:4 sum:6 buckets:[1 3]}}\n"
       "b {{schema:0 count:2 sum:1 buckets:[2]}}");
  CHECK(h.text("a + on() b", 0) == "{} => {{count:6 sum:7 buckets:[3 3]}}\n");
  CHECK(h.text("a - on() b", 0) ==
        "{} => {{count:2 sum:5 counter_reset_hint:gauge buckets:[-1 3]}}\n");
  CHECK(h.text("a * 2", 0) == "{} => {{count:8 sum:12 buckets:[2 6]}}\n");
  CHECK(h.text("2 * a", 0) == "{} => {{count:8 sum:12 buckets:[2 6]}}\n");
  CHECK(h.text("a / 2", 0) == "{} => {{count:2 sum:3 buckets:[0.5 1.5]}}\n");
  CHECK(h.text("-a", 0) ==
        "{} => {{count:-4 sum:-6 counter_reset_hint:gauge buckets:[-1 -3]}}\n");
}

TEST_CASE("histogram comparisons: == and != between histograms; others annotate") {
  Hx h("a {{schema:0 count:4 sum:6 buckets:[1 3]}}\n"
       "b {{schema:0 count:4 sum:6 buckets:[1 3]}}");
  CHECK(h.text("a == on() b", 0) == "{} => {{count:4 sum:6 buckets:[1 3]}}\n");
  CHECK(h.text("a != bool on() b", 0) == "{} => 0\n");
  auto r = h.query("a > 3", 0);
  REQUIRE(r);
  CHECK(std::get<Vector>(r->value).empty());
  REQUIRE(r->infos.size() == 1);
  CHECK(r->infos[0] == "PromQL info: incompatible sample types encountered for binary operator "
                       "\">\": histogram > float");
  r = h.query("a + 1", 0);
  REQUIRE(r);
  CHECK(r->infos.at(0) == "PromQL info: incompatible sample types encountered for binary "
                          "operator \"+\": histogram + float");
}

TEST_CASE("rate, increase and irate of native histograms; counter resets add back") {
  Hx h("c {{schema:0 count:0 sum:0}}+{{schema:0 count:2 sum:4 buckets:[2]}}x4\n"
       "r {{count:10 sum:10 buckets:[10]}} {{count:2 sum:2 buckets:[2]}} {{count:4 sum:4 buckets:[4]}}");
  // 4 minutes of +2 per minute from zero: extrapolation towards the start stops at the
  // counter's zero point, so the increase is the sampled 8.
  CHECK(h.text("increase(c[5m])", 4 * kMin) ==
        "{} => {{count:8 sum:16 counter_reset_hint:gauge buckets:[8]}}\n");
  CHECK(h.text("irate(c[5m])", 4 * kMin) ==
        "{} => {{count:0.03333333333333333 sum:0.06666666666666667 counter_reset_hint:gauge "
        "buckets:[0.03333333333333333]}}\n");
  // After the reset at 1m the increase is 2 (reset) + 2 (to 4): 4 over 2m, extrapolated.
  auto r = h.query("resets(r[5m])", 2 * kMin);
  REQUIRE(r);
  CHECK(to_string(r->value) == "{} => 1\n");
  CHECK(h.text("changes(r[5m])", 2 * kMin) == "{} => 2\n");
}

TEST_CASE("range queries return histogram points in their matrices") {
  Hx h("m {{count:1 sum:1 buckets:[1]}} 5 {{count:2 sum:2 buckets:[2]}}");
  promql::ParseOptions po;
  auto e = promql::parse("m", po);
  REQUIRE(e);
  auto r = range_query(h.storage, **e, 0, 2 * kMin, kMin);
  REQUIRE(r);
  CHECK(to_string(r->value) ==
        "m => 5 @60000 {{count:1 sum:1 buckets:[1]}} @0 {{count:2 sum:2 buckets:[2]}} "
        "@120000\n");
}

TEST_CASE("remote write v1 carries native histograms in TimeSeries.histograms") {
  auto h = std::make_shared<FloatHistogram>();
  h->schema = 1;
  h->count = 5;
  h->sum = 7.5;
  h->zero_threshold = 0.001;
  h->zero_count = 1;
  h->positive_offset = -2;
  h->positive_buckets = {1, 0, 2};
  h->negative_offset = 3;
  h->negative_buckets = {1};
  h->hint = CounterResetHint::kGauge;
  auto nhcb = std::make_shared<FloatHistogram>();
  nhcb->schema = kCustomBucketsSchema;
  nhcb->count = 3;
  nhcb->custom_values = {0.5, 1};
  nhcb->positive_buckets = {1, 2};
  Labels l{{"__name__", "x"}, {"job", "a"}};
  std::vector<WriteSample> in{{l, 1000, 1.5}, {l, 2000, 0, h}, {l, 3000, 0, nhcb}};
  auto out = decode_write_request(encode_write_request(in));
  REQUIRE(out);
  REQUIRE(out->size() == 3);
  CHECK((*out)[0].v == 1.5);
  CHECK((*out)[0].h == nullptr);
  REQUIRE((*out)[1].h);
  CHECK((*out)[1].t == 2000);
  CHECK(*(*out)[1].h == *h);
  REQUIRE((*out)[2].h);
  CHECK(*(*out)[2].h == *nhcb);
}

TEST_CASE("histogram + and - adjust the counter reset hint as adjustCounterReset, and flag a collision") {
  // The store derives read-back hints (a series' first sample reads as unknown), so the
  // reset/not-reset collision is shown on histogram_add itself.
  FloatHistogram reset;
  reset.count = 4;
  reset.positive_buckets = {4};
  reset.hint = CounterResetHint::kReset;
  FloatHistogram not_reset = reset;
  not_reset.hint = CounterResetHint::kNotReset;
  for (bool sub : {false, true}) {
    FloatHistogram h = reset;
    bool collision = false;
    REQUIRE(histogram_add(h, not_reset, sub, nullptr, &collision).has_value());
    CHECK(collision);
    CHECK(h.hint == CounterResetHint::kUnknown);
    // unknown against not-reset: unknown, no collision.
    collision = false;
    REQUIRE(histogram_add(h, not_reset, sub, nullptr, &collision).has_value());
    CHECK_FALSE(collision);
    CHECK(h.hint == CounterResetHint::kUnknown);
  }
  // A gauge on either side makes a gauge, without a warning, for + as for -.
  Hx h("r {{count:4 sum:4 buckets:[4]}}\n"
       "g {{count:1 sum:1 counter_reset_hint:gauge buckets:[1]}}");
  auto r = h.query("r + on() g", 0);
  REQUIRE(r);
  CHECK(to_string(r->value) == "{} => {{count:5 sum:5 counter_reset_hint:gauge buckets:[5]}}\n");
  CHECK(r->warnings.empty());
}

TEST_CASE("the expanding notation subtracts with Sub's hint rule: a gauge decrement makes a gauge") {
  // Prometheus's parser computes each next value as prev.Sub(inc), and Sub adjusts the hint
  // like Add: unknown - gauge is a gauge.
  Hx h("x {{count:10 sum:10 buckets:[10]}}-{{count:1 sum:1 counter_reset_hint:gauge buckets:[1]}}x2");
  CHECK(h.text("x", 0) == "x => {{count:10 sum:10 buckets:[10]}}\n");
  CHECK(h.text("x", kMin) == "x => {{count:9 sum:9 counter_reset_hint:gauge buckets:[9]}}\n");
}
