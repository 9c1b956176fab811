// Native histograms: the `{{...}}` literal parser and its expansions, the canonical test
// expression, addition, read-back counter-reset hints in the store, and instant selection.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include "ruleeval/engine/engine.hpp"
#include "ruleeval/engine/histogram.hpp"
#include "ruleeval/engine/load_notation.hpp"
#include "ruleeval/engine/storage.hpp"
#include "ruleeval/parser/promql.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;

namespace {

constexpr Millis kMin = 60'000;

FloatHistogram parse_one(std::string_view text) {
  size_t pos = 0;
  auto h = parse_histogram_literal(text, pos);
  REQUIRE_MESSAGE(h.has_value(), std::string(text));
  CHECK(pos == text.size());
  return *h;
}

std::string canon(std::string_view text) { return histogram_test_expression(parse_one(text)); }

std::string error_of(std::string_view values) {
  auto r = expand_values(values);
  REQUIRE_MESSAGE(!r.has_value(), std::string(values));
  return r.error().message;
}

Vector select_at(const Storage& s, std::string_view q, Millis t) {
  auto e = promql::parse(q);
  REQUIRE_MESSAGE(e.has_value(), std::string(q));
  auto r = instant_query(s, **e, t);
  REQUIRE_MESSAGE(r.has_value(), std::string(q));
  auto* v = std::get_if<Vector>(&r->value);
  REQUIRE(v != nullptr);
  return *v;
}

void load(Storage& s, std::string_view line) {
  auto spec = parse_series_line(line);
  REQUIRE_MESSAGE(spec.has_value(), std::string(line));
  load_series(s, *spec, 0, kMin);
}

}  // namespace

TEST_CASE("a histogram literal sets every field of the series description") {
  auto h = parse_one(
      "{{schema:1 sum:-0.3 count:32.1 z_bucket:7.1 z_bucket_w:0.05 buckets:[5.1 10 7] offset:-3 "
      "n_buckets:[4.1 5] n_offset:-5 counter_reset_hint:gauge}}");
  CHECK(h.schema == 1);
  CHECK(h.sum == -0.3);
  CHECK(h.count == 32.1);
  CHECK(h.zero_count == 7.1);
  CHECK(h.zero_threshold == 0.05);
  CHECK(h.positive_offset == -3);
  CHECK(h.positive_buckets == std::vector<double>{5.1, 10, 7});
  CHECK(h.negative_offset == -5);
  CHECK(h.negative_buckets == std::vector<double>{4.1, 5});
  CHECK(h.hint == CounterResetHint::kGauge);

  auto c = parse_one("{{schema:-53 custom_values:[1 2.5] buckets:[1 2 3] count:6 sum:Inf}}");
  CHECK(c.uses_custom_buckets());
  CHECK(c.custom_values == std::vector<double>{1, 2.5});
  CHECK(std::isinf(c.sum));

  auto empty = parse_one("{{}}");
  CHECK(empty == FloatHistogram{});
  CHECK(parse_one("{{ count:1 }}").count == 1);
  CHECK(parse_one("{{buckets:[-1 +2]}}").positive_buckets == std::vector<double>{-1, 2});
}

TEST_CASE("the canonical test expression orders fields like Prometheus and compacts buckets") {
  CHECK(canon("{{schema:1 sum:-0.3 count:32.1 z_bucket:7.1 z_bucket_w:0.05 buckets:[5.1 10 7] "
              "offset:-3 n_buckets:[4.1 5] n_offset:-5}}") ==
        "{{schema:1 count:32.1 sum:-0.3 z_bucket:7.1 z_bucket_w:0.05 offset:-3 buckets:[5.1 10 7] "
        "n_offset:-5 n_buckets:[4.1 5]}}");
  CHECK(canon("{{sum:3 count:2 counter_reset_hint:not_reset buckets:[2]}}") ==
        "{{count:2 sum:3 counter_reset_hint:not_reset buckets:[2]}}");
  // Empty buckets at either end go; the offset follows; zero fields are omitted.
  CHECK(canon("{{buckets:[0 0 1 0 2 0] offset:1 counter_reset_hint:unknown}}") ==
        "{{offset:3 buckets:[1 0 2]}}");
  CHECK(canon("{{buckets:[0 0]}}") == "{{}}");
  CHECK(canon("{{schema:-53 custom_values:[1 5] buckets:[1 2] counter_reset_hint:reset}}") ==
        "{{schema:-53 custom_values:[1 5] counter_reset_hint:reset buckets:[1 2]}}");
  // Go's %g: exponent form from 1e6 and below 1e-4.
  CHECK(canon("{{count:1000000 sum:0.00001 buckets:[123456 1e21]}}") ==
        "{{count:1e+06 sum:1e-05 buckets:[123456 1e+21]}}");
  CHECK(canon("{{sum:NaN count:-Inf}}") == "{{count:-Inf sum:NaN}}");
}

TEST_CASE("go_format_g matches Go's %g") {
  CHECK(go_format_g(5.6) == "5.6");
  CHECK(go_format_g(1234567) == "1.234567e+06");
  CHECK(go_format_g(100000) == "100000");
  CHECK(go_format_g(0.0001) == "0.0001");
  CHECK(go_format_g(-0.0) == "-0");
  CHECK(go_format_g(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(go_format_g(1e-300) == "1e-300");
}

TEST_CASE("repetition and increments expand like Prometheus's series description") {
  auto r = expand_values("{{sum:3 count:2 buckets:[2]}}x2 _ stale {{count:1}}");
  REQUIRE(r);
  REQUIRE(r->values.size() == 6);
  CHECK(r->num_histograms == 4);
  CHECK(r->histogram_at(0) == r->histogram_at(2));  // one shared copy
  CHECK_FALSE(r->values[3].has_value());
  CHECK(is_stale_nan(*r->values[4]));
  CHECK(r->histogram_at(5)->count == 1);

  auto inc = expand_values("{{sum:3 count:2 buckets:[2]}}+{{sum:1.3 count:1 buckets:[1]}}x2");
  REQUIRE(inc);
  REQUIRE(inc->values.size() == 3);
  CHECK(histogram_test_expression(*inc->histogram_at(2)) == "{{count:4 sum:5.6 buckets:[4]}}");

  auto dec = expand_values("{{count:10 buckets:[5 5]}}-{{count:2 buckets:[1 1]}}x3");
  REQUIRE(dec);
  CHECK(histogram_test_expression(*dec->histogram_at(3)) == "{{count:4 buckets:[2 2]}}");

  // New buckets are inserted; the lower schema wins when the increment's is higher.
  auto grow = expand_values("{{schema:0 buckets:[1] offset:1}}+{{schema:1 buckets:[1 1 1] offset:1}}x1");
  REQUIRE(grow);
  // schema 1 buckets 1,2,3 merge into schema 0 buckets 1,1,2.
  CHECK(histogram_test_expression(*grow->histogram_at(1)) == "{{offset:1 buckets:[3 1]}}");

  // Increment hints combine as FloatHistogram.Add does.
  auto hints = expand_values(
      "{{count:1 counter_reset_hint:not_reset}}+{{count:1 counter_reset_hint:gauge}}x1");
  REQUIRE(hints);
  CHECK(hints->histogram_at(1)->hint == CounterResetHint::kGauge);
  CHECK(hints->hint_set[1]);
  CHECK_FALSE(expand_values("{{count:1}}")->hint_set[0]);
}

TEST_CASE("bad histogram literals are errors with a column, never crashes") {
  CHECK(error_of("{{count:1") .find("unclosed") != std::string::npos);
  CHECK(error_of("1 {{count:1 count:2}}").find("duplicate key \"count\" in histogram") !=
        std::string::npos);
  CHECK(error_of("{{colour:1}}").find("unknown histogram field \"colour\"") != std::string::npos);
  CHECK(error_of("{{count:x}}").find("\"x\" is not a number") != std::string::npos);
  CHECK(error_of("{{schema:1.5}}").find("not an integer") != std::string::npos);
  CHECK(error_of("{{schema:99}}").find("not supported") != std::string::npos);
  CHECK(error_of("{{offset:99999999999}}").find("out of range") != std::string::npos);
  CHECK(error_of("{{buckets:[]}}").find("empty bucket list") != std::string::npos);
  CHECK(error_of("{{buckets:[1 2}}").find("bucket list") != std::string::npos);
  CHECK(error_of("{{count :1}}").find("expected \":\"") != std::string::npos);
  CHECK(error_of("{{counter_reset_hint:maybe}}").find("counter_reset_hint") != std::string::npos);
  CHECK(error_of("{{z_bucket_w:-1}}").find("must not be signed") != std::string::npos);
  CHECK(error_of("{{count:1}}+{{count:1}}").find("repeat count") != std::string::npos);
  CHECK(error_of("{{count:1}}+1x2").find("expected a histogram") != std::string::npos);
  CHECK(error_of("{{count:1}}x").find("repeat count") != std::string::npos);
  CHECK(error_of("{{count:1}}x99999999").find("too large") != std::string::npos);
  CHECK(error_of("{{count:1}}y").find("unexpected \"y\"") != std::string::npos);
  CHECK(error_of("{{schema:2 count:1}}+{{schema:1 count:1}}x1").find("cannot merge from schema 1 to 2") !=
        std::string::npos);
  CHECK(error_of("{{schema:-53 custom_values:[1] buckets:[1]}}+{{buckets:[1]}}x1")
            .find("mix of exponential and custom") != std::string::npos);
  CHECK(error_of("{{offset:-2147483648 buckets:[1]}}+{{offset:2147483647 buckets:[1]}}x1")
            .find("too wide") != std::string::npos);

  // The column is counted from the start of the series line.
  auto line = parse_series_line("m{a=\"b\"} 1 {{count:1 bogus:2}}");
  REQUIRE_FALSE(line);
  CHECK(line.error().message.find("column 22") != std::string::npos);
}

TEST_CASE("the store derives read-back counter-reset hints like TSDB chunks") {
  Storage s;
  load(s, "h {{count:2 buckets:[2]}}x1 {{count:1 buckets:[1]}} {{count:3 buckets:[3]}} 5 "
                   "{{count:4 buckets:[4]}} {{count:5 counter_reset_hint:gauge}} "
                   "{{count:6 buckets:[6] counter_reset_hint:reset}} stale {{count:7 buckets:[7]}}");
  auto hint_at = [&](int step) {
    auto v = select_at(s, "h", step * kMin);
    REQUIRE(v.size() == 1);
    REQUIRE(v[0].h != nullptr);
    return v[0].h->hint;
  };
  using H = CounterResetHint;
  CHECK(hint_at(0) == H::kUnknown);   // first sample
  CHECK(hint_at(1) == H::kNotReset);  // same again
  CHECK(hint_at(2) == H::kUnknown);   // count dropped: a reset starts a new chunk
  CHECK(hint_at(3) == H::kNotReset);
  CHECK(hint_at(5) == H::kUnknown);   // after a float sample
  CHECK(hint_at(6) == H::kGauge);
  CHECK(hint_at(7) == H::kUnknown);   // explicit reset
  CHECK(hint_at(9) == H::kNotReset);  // the stale marker does not cut the chunk
  CHECK(s.num_histogram_samples() == 8);

  // Overwriting a histogram with a float (and back) keeps the side array in step.
  Labels h{{"__name__", "h"}};
  s.append(h, 3 * kMin, 42);
  auto v = select_at(s, "h", 3 * kMin);
  REQUIRE(v.size() == 1);
  CHECK(v[0].h == nullptr);
  CHECK(v[0].v == 42);
  CHECK(s.num_histogram_samples() == 7);
  s.append_histogram(h, 3 * kMin, std::make_shared<FloatHistogram>(FloatHistogram{.count = 9}));
  v = select_at(s, "h", 3 * kMin);
  REQUIRE(v.size() == 1);
  REQUIRE(v[0].h != nullptr);
  CHECK(v[0].h->count == 9);
}

TEST_CASE("instant selectors return histograms with lookback, offset, @ and staleness") {
  Storage s;
  load(s, "h{job=\"a\"} 1 {{count:2 sum:1}} _ _ _ _ _ _ stale");
  auto at = [&](std::string_view q, Millis t) { return select_at(s, q, t); };
  CHECK(at("h", 0)[0].v == 1);
  CHECK(at("h", 0)[0].h == nullptr);
  CHECK(at("h", kMin)[0].h->count == 2);
  CHECK(at("h", 5 * kMin + 59'000)[0].h->count == 2);  // lookback 5m
  CHECK(at("h", 6 * kMin + 1).empty());
  CHECK(at("h offset 1m", 2 * kMin)[0].h->count == 2);
  CHECK(at("h @ 60", 100 * kMin)[0].h->count == 2);
  CHECK(at("(h)", kMin)[0].h->count == 2);
  CHECK(at("h and h", kMin)[0].h->count == 2);  // set operators keep histograms
  // Float-only operations drop histogram samples instead of reading them as numbers.
  CHECK(at("h + 1", kMin).empty());
  CHECK(at("-h", kMin)[0].h->count == -2);  // Prometheus negates histograms
  CHECK(at("abs(h)", kMin).empty());
  CHECK(at("sum(h)", kMin)[0].h->count == 2);
  CHECK(at("h > 0", kMin).empty());
  CHECK(at("max_over_time(h[1m:1m])", kMin).empty());
  CHECK(at("timestamp(h)", kMin)[0].v == 60);
  CHECK(at("timestamp(h)", kMin)[0].h == nullptr);
  CHECK(at("absent(h)", kMin).empty());
  auto relabelled = at("label_replace(h, \"x\", \"y\", \"\", \"\")", kMin);
  REQUIRE(relabelled.size() == 1);
  CHECK(relabelled[0].h != nullptr);
  CHECK(relabelled[0].metric.get("x") == "y");

  // A range query carries float points only.
  auto e = promql::parse("h");
  REQUIRE(e);
  auto r = range_query(s, **e, 0, 2 * kMin, kMin);
  REQUIRE(r);
  const auto& m = std::get<Matrix>(r->value);
  REQUIRE(m.size() == 1);
  REQUIRE(m[0].points.size() == 1);
  CHECK(m[0].points[0].t == 0);

  // Vector text output shows the histogram.
  CHECK(to_string(Value{at("h", kMin)}) == "h{job=\"a\"} => {{count:2 sum:1}}\n");
}

TEST_CASE("reset detection follows DetectReset") {
  auto h = [](std::string_view t) { return parse_one(t); };
  CHECK_FALSE(histogram_detect_reset(h("{{count:3 buckets:[1 2]}}"), h("{{count:2 buckets:[1 1]}}")));
  CHECK(histogram_detect_reset(h("{{count:3 buckets:[3]}}"), h("{{count:2 buckets:[1 1]}}")));
  CHECK(histogram_detect_reset(h("{{schema:1 count:3}}"), h("{{schema:0 count:2}}")));
  CHECK_FALSE(histogram_detect_reset(h("{{schema:0 count:3 buckets:[3] offset:1}}"),
                                     h("{{schema:1 count:2 buckets:[1 1] offset:1}}")));
  CHECK(histogram_detect_reset(h("{{count:3 z_bucket:1}}"), h("{{count:2 z_bucket:2}}")));
  CHECK_FALSE(histogram_detect_reset(h("{{count:1 counter_reset_hint:not_reset}}"), h("{{count:2}}")));
  CHECK_FALSE(histogram_detect_reset(h("{{schema:-53 custom_values:[1] z_bucket_w:5 count:3 buckets:[2 1]}}"),
                                     h("{{schema:-53 custom_values:[1] count:2 buckets:[1 1]}}")));
  CHECK(histogram_detect_reset(h("{{schema:-53 custom_values:[2] count:3 buckets:[2 1]}}"),
                               h("{{schema:-53 custom_values:[1] count:2 buckets:[1 1]}}")));
  // A wider zero bucket absorbs the low buckets of the previous histogram.
  CHECK_FALSE(histogram_detect_reset(h("{{z_bucket_w:1 z_bucket:3 count:4 buckets:[1] offset:1}}"),
                                     h("{{count:3 buckets:[2 1] offset:0}}")));
}

TEST_CASE("aggregations: count and group include histograms, float selections ignore them with an info") {
  Storage s;
  load(s, "m{i=\"a\"} 3");
  load(s, "m{i=\"b\"} {{count:2}}");
  auto run = [&](std::string_view q) {
    auto e = promql::parse(q);
    REQUIRE(e);
    auto r = instant_query(s, **e, 0);
    REQUIRE(r);
    return *r;
  };
  auto count = run("count(m)");
  CHECK(std::get<Vector>(count.value)[0].v == 2);
  CHECK(count.infos.empty());
  auto max = run("max(m)");
  CHECK(std::get<Vector>(max.value)[0].v == 3);
  REQUIRE(max.infos.size() == 1);
  CHECK(max.infos[0] == "PromQL info: ignored histogram in max aggregation");
  // Prometheus: a group mixing floats and histograms has no sum, with a warning.
  auto sum = run("sum(m)");
  CHECK(std::get<Vector>(sum.value).empty());
  REQUIRE(sum.warnings.size() == 1);
  CHECK(sum.warnings[0] ==
        "PromQL warning: encountered a mix of histograms and floats for aggregation");
  auto hsum = run("sum(m{i=\"b\"})");
  REQUIRE(std::get<Vector>(hsum.value).size() == 1);
  CHECK(std::get<Vector>(hsum.value)[0].h->count == 2);
}

TEST_CASE("mutated histogram literals parse or fail cleanly") {
  // Deterministic random edits of valid series values: every result is either an error with a
  // message or values that load, select and format.
  const std::string seeds[] = {
      "{{schema:1 sum:-0.3 count:32.1 z_bucket:7.1 z_bucket_w:0.05 buckets:[5.1 10 7] offset:-3 "
      "n_buckets:[4.1 5] n_offset:-5}}",
      "{{sum:3 count:2 buckets:[2]}}+{{sum:1.3 count:1 buckets:[1]}}x2 _ stale 1",
      "{{schema:-53 custom_values:[1 2] buckets:[1 2 3] counter_reset_hint:gauge}}x3",
      "{{schema:0 offset:2 buckets:[1]}}-{{schema:3 offset:-7 buckets:[1 1 1 1 1 1]}}x4"};
  const std::string alphabet = "{}[]:x+-_ 0123456789.eEabcdefghijklmnopqrstuvwxyzINf";
  uint64_t state = 0x9e3779b97f4a7c15ULL;
  auto rnd = [&](uint64_t n) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return static_cast<size_t>(state % n);
  };
  size_t ok = 0, failed = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s = seeds[rnd(std::size(seeds))];
    for (size_t edits = 1 + rnd(3); edits > 0; --edits) {
      size_t at = rnd(s.size() + 1);
      switch (rnd(3)) {
        case 0: s.insert(at, 1, alphabet[rnd(alphabet.size())]); break;
        case 1: if (at < s.size()) s.erase(at, 1); break;
        default: if (at < s.size()) s[at] = alphabet[rnd(alphabet.size())]; break;
      }
    }
    auto r = expand_values(s);
    if (!r) {
      CHECK_FALSE(r.error().message.empty());
      ++failed;
      continue;
    }
    ++ok;
    Storage st;
    load_series(st, SeriesSpec{Labels{{"__name__", "m"}}, *r}, 0, kMin);
    for (size_t step = 0; step < r->values.size() && step < 8; ++step) {
      if (const auto* h = r->histogram_at(step)) CHECK_FALSE(histogram_test_expression(*h).empty());
      (void)select_at(st, "m", static_cast<Millis>(step) * kMin);
    }
  }
  CHECK(ok > 0);
  CHECK(failed > 0);
}
