// Grafana server-side expressions and rule evaluation, from Grafana's documented behaviour
// (../shared/spec/grafana-expressions.md): math over numbers and series with label unions,
// reduce modes, resample, threshold (NaN, hysteresis), classic conditions, the condition's
// result states, and the alert-instance state machine through GroupRuntime.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "ruleeval/engine/grafana_expr.hpp"
#include "ruleeval/engine/group_eval.hpp"
#include "ruleeval/engine/load_notation.hpp"
#include "ruleeval/rules/loader.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;
using namespace ruleeval::engine::gexpr;

namespace {

constexpr Millis kSec = 1000;
constexpr Millis kMin = 60'000;

GResults math(std::string_view text, const Vars& vars = {}) {
  auto n = grafana::parse_math(text);
  REQUIRE_MESSAGE(n.has_value(), std::string(text));
  auto r = eval_math(*n, vars);
  REQUIRE_MESSAGE(r.has_value(), std::string(text));
  return *r;
}

Nullable one(std::string_view text, const Vars& vars = {}) {
  auto r = math(text, vars);
  REQUIRE(r.size() == 1);
  return r[0].v;
}

GValue series(Labels l, std::vector<GPoint> pts) {
  GValue g;
  g.kind = GValue::Kind::kSeries;
  g.labels = std::move(l);
  g.points = std::move(pts);
  return g;
}

bool is_nan(Nullable v) { return v && std::isnan(*v); }

// fmt-style "{}" substitution with "{{" / "}}" escapes (the test binary does not link fmt).
template <class... Args>
std::string subst(std::string_view f, const Args&... args) {
  std::vector<std::string> vals{std::string(args)...};
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f.compare(i, 2, "{{") == 0 || f.compare(i, 2, "}}") == 0) {
      out += f[i];
      ++i;
    } else if (f.compare(i, 2, "{}") == 0) {
      out += vals.at(next++);
      ++i;
    } else {
      out += f[i];
    }
  }
  return out;
}

}  // namespace

TEST_CASE("math on scalars: IEEE division, fmod, pow, NaN and the || && shortcuts") {
  CHECK(*one("1/0") == INFINITY);
  CHECK(is_nan(one("0/0")));
  CHECK(is_nan(one("5 % 0")));
  CHECK(*one("-7 % 3") == -1);
  CHECK(*one("2**3**2") == 64);
  CHECK(*one("-2**2") == 4);
  CHECK(*one("010 + 1") == 9);
  CHECK(*one("1<2<3") == 1);
  CHECK(is_nan(one("0 || nan()")));
  CHECK(*one("1 || nan()") == 1);
  CHECK(*one("0 && nan()") == 0);
  CHECK(is_nan(one("nan() > 5")));  // comparisons with NaN are NaN, not 0
  CHECK(*one("inf() == inf()") == 1);
  CHECK(*one("!inf()") == 0);
  CHECK(*one("!0") == 1);
  CHECK(*one("round(2.5) + round(-2.5)") == 0);  // half away from zero: 3 + -3
  CHECK(*one("log(0)") == -INFINITY);
  CHECK(is_nan(one("log(-1)")));
  CHECK(*one("abs(-3) + ceil(1.2) + floor(1.8)") == 6);
}

TEST_CASE("math null rules: functions turn null into NaN, is_null/is_number see it") {
  CHECK(is_nan(one("abs(null())")));
  CHECK(*one("is_null(null())") == 1);
  CHECK(*one("is_number(inf())") == 0);
  CHECK(*one("is_number(nan())") == 0);
  CHECK(*one("is_number(2)") == 1);
  CHECK(is_nan(one("is_nan(null())")));
  CHECK(*one("is_inf(infn())") == 1);
  CHECK_FALSE(one("null() + 1").has_value());
  CHECK_FALSE(one("-null()").has_value());
}

TEST_CASE("math unions: equal labels, subsets, unmatched pairs and the 1x1 fallback") {
  Vars v;
  v["A"] = {GValue::number(Labels{{"a", "1"}, {"b", "2"}}, 1.0),
            GValue::number(Labels{{"a", "1"}, {"b", "3"}}, 2.0)};
  v["B"] = {GValue::number(Labels{{"a", "1"}}, 10.0)};
  auto r = math("$A + $B", v);
  REQUIRE(r.size() == 2);
  CHECK(r[0].labels == Labels{{"a", "1"}, {"b", "2"}});
  CHECK(*r[0].v == 11);
  CHECK(r[1].labels == Labels{{"a", "1"}, {"b", "3"}});
  CHECK(*r[1].v == 12);
  CHECK(r[0].kind == GValue::Kind::kNumber);

  Vars w;
  w["A"] = {GValue::number(Labels{{"x", "1"}}, 1.0)};
  w["B"] = {GValue::number(Labels{{"y", "1"}}, 2.0)};
  auto one_by_one = math("$A + $B", w);
  REQUIRE(one_by_one.size() == 1);
  CHECK(one_by_one[0].labels.empty());
  CHECK(*one_by_one[0].v == 3);

  Vars z;
  z["A"] = {GValue::number(Labels{{"x", "1"}}, 1.0), GValue::number(Labels{{"x", "2"}}, 1.0)};
  z["B"] = {GValue::number(Labels{{"y", "1"}}, 2.0)};
  CHECK(math("$A + $B", z).empty());  // nothing matches: dropped

  Vars nd;
  nd["A"] = {GValue::no_data()};
  nd["B"] = {GValue::number(Labels{{"y", "1"}}, 2.0)};
  auto r2 = math("$A * 2 + $B", nd);
  REQUIRE(r2.size() == 1);
  CHECK(r2[0].kind == GValue::Kind::kNoData);
}

TEST_CASE("math on series: per point with numbers, time-joined with series") {
  Vars v;
  v["A"] = {series(Labels{{"h", "a"}}, {{0, 1.0}, {10, std::nullopt}, {20, 3.0}})};
  v["B"] = {series(Labels{{"h", "a"}}, {{0, 10.0}, {20, 30.0}, {30, 40.0}})};
  auto r = math("$A * 2", v);
  REQUIRE(r.size() == 1);
  REQUIRE(r[0].points.size() == 3);
  CHECK(*r[0].points[0].v == 2);
  CHECK_FALSE(r[0].points[1].v.has_value());
  CHECK(*r[0].points[2].v == 6);
  auto j = math("$B - $A", v);
  REQUIRE(j.size() == 1);
  REQUIRE(j[0].points.size() == 2);  // only the timestamps both have: 0 and 20
  CHECK(j[0].points[0].t == 0);
  CHECK(*j[0].points[0].v == 9);
  CHECK(j[0].points[1].t == 20);
  CHECK(*j[0].points[1].v == 27);
  auto s = math("10 - $A", v);
  CHECK(*s[0].points[0].v == 9);  // operand order kept
}

TEST_CASE("reduce: strict, dropNN and replaceNN; empty series; numbers pass through") {
  using rules::SseMode;
  using rules::SseReducer;
  std::vector<Nullable> pts{1.0, std::nullopt, 3.0};
  CHECK(is_nan(reduce_points(SseReducer::kMean, SseMode::kStrict, 0, pts)));
  CHECK(*reduce_points(SseReducer::kMean, SseMode::kDropNN, 0, pts) == 2);
  CHECK(*reduce_points(SseReducer::kMean, SseMode::kReplaceNN, 0, pts) ==
        doctest::Approx(4.0 / 3));
  CHECK(*reduce_points(SseReducer::kCount, SseMode::kStrict, 0, pts) == 3);
  CHECK(*reduce_points(SseReducer::kCount, SseMode::kDropNN, 0, pts) == 2);
  CHECK_FALSE(reduce_points(SseReducer::kLast, SseMode::kStrict, 0, {1.0, std::nullopt}));
  CHECK(*reduce_points(SseReducer::kMedian, SseMode::kStrict, 0, {4.0, 1.0, 3.0, 2.0}) == 2.5);
  CHECK(*reduce_points(SseReducer::kMax, SseMode::kStrict, 0, {1.0, INFINITY}) == INFINITY);
  CHECK(*reduce_points(SseReducer::kMax, SseMode::kDropNN, 0, {1.0, INFINITY}) == 1);
  const std::vector<Nullable> empty;
  CHECK(*reduce_points(SseReducer::kSum, SseMode::kStrict, 0, empty) == 0);
  CHECK(is_nan(reduce_points(SseReducer::kMean, SseMode::kStrict, 0, empty)));
  CHECK(*reduce_points(SseReducer::kCount, SseMode::kStrict, 0, empty) == 0);
  CHECK(is_nan(reduce_points(SseReducer::kLast, SseMode::kStrict, 0, empty)));
  CHECK_FALSE(reduce_points(SseReducer::kMean, SseMode::kDropNN, 0, empty).has_value());
  CHECK(*reduce_points(SseReducer::kMean, SseMode::kReplaceNN, 7, empty) == 7);

  GResults in{series(Labels{{"h", "a"}}, {{0, 1.0}, {1, 5.0}}),
              GValue::number(Labels{{"h", "b"}}, NAN)};
  auto r = reduce(in, SseReducer::kMax, SseMode::kDropNN, 0);
  REQUIRE(r);
  REQUIRE(r->size() == 1);  // the NaN number is dropped in dropNN
  CHECK(r->at(0).labels == Labels{{"h", "a"}});
  CHECK(*r->at(0).v == 5);
  CHECK_FALSE(reduce({GValue::scalar(1.0)}, SseReducer::kMax, SseMode::kStrict, 0));
}

TEST_CASE("resample: window buckets, downsampler mean, pad/backfilling/fillna upsamplers") {
  using rules::SseReducer;
  using rules::Upsampler;
  GResults in{series(Labels{{"h", "a"}}, {{5 * kSec, 1.0}, {12 * kSec, 2.0}, {18 * kSec, 4.0}})};
  auto r = resample(in, 0, 30 * kSec, 10 * kSec, SseReducer::kMean, Upsampler::kPad);
  REQUIRE(r);
  const auto& p = r->at(0).points;
  REQUIRE(p.size() == 4);
  CHECK_FALSE(p[0].v.has_value());
  CHECK(*p[1].v == 1);
  CHECK(*p[2].v == 3);
  CHECK(*p[3].v == 4);  // pad: the last value seen
  auto b = resample(in, 0, 30 * kSec, 10 * kSec, SseReducer::kMean, Upsampler::kBackfilling);
  CHECK(*b->at(0).points[0].v == 1);
  CHECK_FALSE(b->at(0).points[3].v.has_value());
  auto f = resample(in, 0, 30 * kSec, 10 * kSec, SseReducer::kMean, Upsampler::kFillNA);
  CHECK_FALSE(f->at(0).points[3].v.has_value());
  CHECK_FALSE(resample(in, 0, 5 * kSec, 10 * kSec, SseReducer::kMean, Upsampler::kPad));
  CHECK_FALSE(resample({GValue::number(Labels{}, 1.0)}, 0, 30 * kSec, 10 * kSec,
                       SseReducer::kMean, Upsampler::kPad));
}

TEST_CASE("threshold: every evaluator, NaN is false except ne, null stays null, hysteresis") {
  auto m = [](std::string type, std::vector<double> params, double v) {
    auto r = threshold_matches(rules::SseEvaluator{std::move(type), std::move(params)}, v);
    REQUIRE(r);
    return *r;
  };
  CHECK(m("gt", {5}, 6));
  CHECK_FALSE(m("gt", {5}, NAN));
  CHECK(m("ne", {5}, NAN));
  CHECK(m("gte", {5}, 5));
  CHECK(m("lte", {5}, 5));
  CHECK(m("eq", {5}, 5));
  CHECK(m("lt", {5}, 4));
  CHECK(m("within_range", {0, 10}, 5));
  CHECK_FALSE(m("within_range", {10, 0}, 5));  // not reordered
  CHECK_FALSE(m("within_range", {0, 10}, 10));
  CHECK(m("within_range_included", {0, 10}, 10));
  CHECK(m("outside_range", {0, 10}, 11));
  CHECK_FALSE(m("outside_range", {0, 10}, 10));
  CHECK(m("outside_range_included", {0, 10}, 10));

  rules::SseEvaluator gt{"gt", {100}};
  rules::SseEvaluator lt{"lt", {80}};
  GResults in{GValue::number(Labels{{"q", "a"}}, 90.0), GValue::number(Labels{{"q", "b"}}, 90.0),
              GValue::number(Labels{{"q", "c"}}, std::nullopt)};
  auto loaded = [](const Labels& l) { return l.get("q") == "a"; };
  auto r = threshold(in, gt, &lt, loaded);
  REQUIRE(r);
  REQUIRE(r->size() == 3);
  CHECK(r->at(0).labels.get("q") == "b");  // unloaded first, then loaded
  CHECK(*r->at(0).v == 0);                 // 90 is not above 100
  CHECK(!r->at(1).v.has_value());          // null stays null
  CHECK(r->at(2).labels.get("q") == "a");
  CHECK(*r->at(2).v == 1);  // loaded: keeps firing until below 80
}

TEST_CASE("classic conditions fold left to right; all-null input is no data") {
  using ruleeval::classic::EvaluatorType;
  using ruleeval::classic::Reducer;
  Vars v;
  v["A"] = {series(Labels{{"h", "a"}}, {{0, 10.0}, {1, 10.0}})};
  auto cond = [](EvaluatorType t, std::vector<double> p, bool op_or) {
    rules::ClassicCond c;
    c.ref_id = "A";
    c.reducer = Reducer::kAvg;
    c.evaluator.type = t;
    c.evaluator.params = std::move(p);
    c.op_or = op_or;
    return c;
  };
  // (true or false) and false = false
  auto r = classic_conditions({cond(EvaluatorType::kGt, {5}, false),
                               cond(EvaluatorType::kLt, {5}, true),
                               cond(EvaluatorType::kLt, {5}, false)},
                              v);
  REQUIRE(r);
  CHECK(*r->at(0).v == 0);
  CHECK(r->at(0).labels.empty());
  // within_range is order-insensitive in classic conditions
  auto w = classic_conditions({cond(EvaluatorType::kWithinRange, {20, 0}, false)}, v);
  CHECK(*w->at(0).v == 1);
  auto typed = [](std::string type, std::vector<double> p) {
    rules::ClassicCond c;
    c.ref_id = "A";
    c.reducer = Reducer::kAvg;
    c.evaluator_type = std::move(type);
    c.evaluator.params = std::move(p);
    return c;
  };
  auto fires = [&](rules::ClassicCond c) {
    auto x = classic_conditions({std::move(c)}, v);
    REQUIRE(x);
    return *x->at(0).v == 1;
  };
  CHECK(fires(typed("eq", {10})));
  CHECK_FALSE(fires(typed("ne", {10})));
  CHECK(fires(typed("gte", {10})));
  CHECK(fires(typed("lte", {10})));
  CHECK(fires(typed("within_range_included", {10, 0})));
  CHECK_FALSE(fires(typed("within_range", {10, 0})));
  CHECK(fires(typed("outside_range_included", {20, 10})));
  CHECK_FALSE(fires(typed("outside_range", {20, 10})));
  CHECK_FALSE(fires(typed("no_value", {})));
  Vars nulls;
  nulls["A"] = {series(Labels{}, {{0, std::nullopt}, {1, std::nullopt}})};
  auto n = classic_conditions({cond(EvaluatorType::kGt, {5}, false)}, nulls);
  CHECK_FALSE(n->at(0).v.has_value());
  // Matches (pkg/expr/classic EvalMatch): the values that met a condition, then a NoData
  // marker for a condition without data; $values are keyed by this position.
  REQUIRE(n->at(0).matches);
  REQUIRE(n->at(0).matches->size() == 1);
  CHECK(n->at(0).matches->at(0).metric == "NoData");
  Vars two;
  GValue s1 = series(Labels{{"host", "a"}}, {{0, 10.0}});
  s1.name = "cpu";
  GValue s2 = series(Labels{{"host", "b"}}, {{0, 1.0}});
  two["A"] = {s1, s2};
  auto m = classic_conditions({cond(EvaluatorType::kGt, {5}, false)}, two);
  REQUIRE(m);
  CHECK(*m->at(0).v == 1);
  REQUIRE(m->at(0).matches->size() == 1);
  CHECK(m->at(0).matches->at(0).metric == "cpu");
  CHECK(*m->at(0).matches->at(0).value == 10.0);
  CHECK(m->at(0).matches->at(0).labels.get("host") == "a");
  // A null value meeting no_value fires and is not no data (Grafana counts only values that
  // did not fire as no data).
  auto nv = classic_conditions({typed("no_value", {})}, nulls);
  REQUIRE(nv);
  REQUIRE(nv->at(0).v.has_value());
  CHECK(*nv->at(0).v == 1);
}

TEST_CASE("Series display names as Grafana's Prometheus datasource writes them") {
  CHECK(series_display_name(Labels{}) == "Value");
  CHECK(series_display_name(Labels{{"__name__", "up"}}) == "up");
  CHECK(series_display_name(Labels{{"__name__", "up"}, {"job", "a"}}) == "up{job=\"a\"}");
  CHECK(series_display_name(Labels{{"a", "1"}, {"b", "2"}}) == "{a=\"1\", b=\"2\"}");
}

TEST_CASE("RoundInterval and the range step Grafana asks Prometheus for") {
  CHECK(round_interval(6) == 1);
  CHECK(round_interval(1400) == 1000);
  CHECK(round_interval(8000) == 10'000);
  CHECK(round_interval(50'000) == 60'000);
  rules::GrafanaNode n;
  CHECK(query_step(n, 600 * kSec) == kSec);         // 10 minutes at 1 s
  CHECK(query_step(n, Millis{4} * 3600 * kSec) == kSec);
  CHECK(query_step(n, Millis{24} * 3600 * kSec) == 10 * kSec);  // the safe interval: 86400 s / 11000
  n.min_step_ms = 30 * kSec;
  CHECK(query_step(n, 600 * kSec) == 30 * kSec);
}

// ---- Rules through GroupRuntime on the embedded store -------------------------------------

namespace {

struct GFixture {
  Storage store;
  rules::LoadResult loaded;
  std::unique_ptr<GroupRuntime> group;
  std::vector<std::pair<Labels, double>> written;

  GFixture(const std::string& yaml, std::initializer_list<const char*> series_lines,
           Millis step = kMin) {
    for (const char* s : series_lines) {
      auto spec = parse_series_line(s);
      REQUIRE_MESSAGE(spec.has_value(), s);
      load_series(store, *spec, 0, step);
    }
    loaded = rules::load_rules_text(yaml, "grafana.yaml");
    for (const auto& d : loaded.diagnostics) {
      INFO(d.to_string());
      REQUIRE(d.severity != rules::Severity::Error);
    }
    REQUIRE(loaded.file.groups.size() == 1);
    GroupEnv env;
    env.external_url = "http://grafana.test";
    env.interval = loaded.file.groups[0].interval.ms;
    group = std::make_unique<GroupRuntime>(loaded.file.groups[0], "grafana.yaml", env);
  }
  void eval(Millis ts) {
    LocalRuleQuerier q(store, group->env().engine);
    group->eval(ts, q, [this](const Labels& l, Millis, double v) { written.emplace_back(l, v); });
  }
  const RuleRuntime& rule(size_t i = 0) const { return group->rules()[i]; }
  const GrafanaInstance* instance(std::string_view key, std::string_view value) const {
    for (const auto& [l, in] : rule().instances) {
      if (l.get(key) == value) return &in;
    }
    return nullptr;
  }
};

std::string rule_yaml(std::string_view extra, std::string_view expr, std::string_view data_extra,
                      std::string_view rtr = "{from: 300, to: 0}") {
  return subst(R"Y(apiVersion: 1
groups:
  - orgId: 1
    name: g
    folder: Infra
    interval: 1m
    rules:
      - uid: r1
        title: HighLoad
        condition: C
{}
        labels: {{severity: page}}
        annotations: {{summary: "{{{{ $labels.host }}}} at {{{{ $values.B.Value }}}}"}}
        data:
          - refId: A
            relativeTimeRange: {}
            datasourceUid: prom
            model: {{expr: '{}', instant: true}}
          - refId: B
            datasourceUid: __expr__
            model: {{type: reduce, expression: A, reducer: last}}
          - refId: C
            datasourceUid: __expr__
            model: {{type: math, expression: '$B > 5'}}
{}
)Y",
                     extra, rtr, expr, data_extra);
}

}  // namespace

TEST_CASE("Grafana rule: for and keepFiringFor (Pending, Alerting, Recovering, Normal)") {
  GFixture f(rule_yaml("        for: 1m\n        keepFiringFor: 2m", "load", ""),
             {R"(load{host="a"} 9 9 1 1 1 1)"});
  f.eval(0);
  auto* in = f.instance("host", "a");
  REQUIRE(in);
  CHECK(in->state == GrafanaState::kPending);
  f.eval(kMin);
  CHECK(in->state == GrafanaState::kAlerting);
  REQUIRE(f.rule().alerts.size() == 1);
  const auto& a = f.rule().alerts.begin()->second;
  CHECK(a.labels.get("grafana_folder") == "Infra");
  CHECK(a.labels.get("alertname") == "HighLoad");
  CHECK(a.annotations.get("summary") == "a at 9");
  f.eval(2 * kMin);
  CHECK(in->state == GrafanaState::kRecovering);
  f.eval(3 * kMin);
  CHECK(in->state == GrafanaState::kRecovering);
  f.eval(4 * kMin);
  CHECK(in->state == GrafanaState::kNormal);
  CHECK(in->resolved_at == 4 * kMin);
}

TEST_CASE("Grafana rule: NaN from math fires (Grafana alerts on any non-zero value)") {
  // 0/0 = NaN; NaN > 5 = NaN; a NaN condition value is Alerting.
  GFixture f(rule_yaml("", "load / load", ""), {R"(load{host="a"} 0 0)"});
  f.eval(0);
  auto* in = f.instance("host", "a");
  REQUIRE(in);
  CHECK(in->state == GrafanaState::kAlerting);
}

TEST_CASE("Grafana rule: relativeTimeRange.to shifts the query back in time") {
  // The value is high only in the last minute; with to: 300 the query looks 5 minutes back.
  const std::string yaml = rule_yaml("", "load", "", "{from: 600, to: 300}");
  GFixture f(yaml, {R"(load{host="a"} 1 1 1 1 1 1 1 1 1 9)"});
  f.eval(9 * kMin);
  auto* in = f.instance("host", "a");
  REQUIRE(in);
  CHECK(in->state == GrafanaState::kNormal);
  GFixture g(rule_yaml("", "load", ""), {R"(load{host="a"} 1 1 1 1 1 1 1 1 1 9)"});
  g.eval(9 * kMin);
  CHECK(g.instance("host", "a")->state == GrafanaState::kAlerting);
}

TEST_CASE("Grafana rule: no data from the datasource, by noDataState") {
  SUBCASE("NoData: a DatasourceNoData alert with datasource_uid and ref_id") {
    GFixture f(rule_yaml("        noDataState: NoData", "missing_metric", ""), {});
    f.eval(0);
    auto* in = f.instance("ref_id", "A");
    REQUIRE(in);
    CHECK(in->state == GrafanaState::kNoData);
    CHECK(in->labels.get("datasource_uid") == "prom");
    REQUIRE(f.rule().alerts.size() == 1);
    CHECK(f.rule().alerts.begin()->second.labels.get("alertname") == "HighLoad");
    auto sent = f.group->alerts_to_send(0, kMin);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].labels.get("alertname") == "DatasourceNoData");
    CHECK(sent[0].labels.get("rulename") == "HighLoad");
    CHECK(sent[0].generator_url == "http://grafana.test/alerting/grafana/r1/view");
  }
  SUBCASE("Alerting: existing instances go Alerting with reason NoData") {
    GFixture f(rule_yaml("        noDataState: Alerting", "load", ""), {R"(load{host="a"} 1 _x20)"});
    f.eval(0);
    auto* in = f.instance("host", "a");
    REQUIRE(in);
    CHECK(in->state == GrafanaState::kNormal);
    f.eval(10 * kMin);  // the sample is 10 minutes old: past the 5m lookback
    CHECK(in->state == GrafanaState::kAlerting);
    CHECK(in->state_reason == "NoData");
    REQUIRE(f.rule().alerts.size() == 1);
    CHECK(f.rule().alerts.begin()->second.annotations.get("grafana_state_reason") == "NoData");
  }
  SUBCASE("OK: Normal with reason NoData") {
    GFixture f(rule_yaml("        noDataState: OK", "load", ""), {R"(load{host="a"} 9 _x20)"});
    f.eval(0);
    auto* in = f.instance("host", "a");
    CHECK(in->state == GrafanaState::kAlerting);
    f.eval(10 * kMin);
    CHECK(in->state == GrafanaState::kNormal);
    CHECK(in->state_reason == "NoData");
  }
  SUBCASE("KeepLast: an Alerting instance stays Alerting") {
    GFixture f(rule_yaml("        noDataState: KeepLast", "load", ""), {R"(load{host="a"} 9 _x20)"});
    f.eval(0);
    f.eval(10 * kMin);
    auto* in = f.instance("host", "a");
    CHECK(in->state == GrafanaState::kAlerting);
    CHECK(in->state_reason == "NoData, KeepLast");
  }
}

TEST_CASE("Grafana rule: execution errors, by execErrState") {
  // Two series with the same labels after reduce: "frame cannot uniquely be identified".
  const char* dup = R"Y(apiVersion: 1
groups:
  - orgId: 1
    name: g
    folder: Infra
    interval: 1m
    rules:
      - uid: r1
        title: Broken
        condition: B
        execErrState: {}
        data:
          - refId: A
            relativeTimeRange: {{from: 300, to: 0}}
            datasourceUid: prom
            model: {{expr: 'load', range: true}}
          - refId: B
            datasourceUid: __expr__
            model: {{type: math, expression: '$A > 5'}}
)Y";
  SUBCASE("a series condition is an error, in Error state (DatasourceError)") {
    GFixture f(subst(dup, "Error"), {R"(load{host="a"} 9 9)"});
    f.eval(kMin);
    REQUIRE(f.rule().instances.size() == 1);
    const auto& in = f.rule().instances.begin()->second;
    CHECK(in.state == GrafanaState::kError);
    CHECK(f.rule().last_error.value_or("").find("looks like time series data") !=
          std::string::npos);
    auto sent = f.group->alerts_to_send(kMin, kMin);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].labels.get("alertname") == "DatasourceError");
    CHECK(sent[0].labels.get("rulename") == "Broken");
  }
  SUBCASE("Alerting: the error fires the rule, reason Error") {
    GFixture f(subst(dup, "Alerting"), {R"(load{host="a"} 9 9)"});
    f.eval(kMin);
    const auto& in = f.rule().instances.begin()->second;
    CHECK(in.state == GrafanaState::kAlerting);
    CHECK(in.state_reason == "Error");
    CHECK(in.extra_annotations.get("Error").find("time series") != std::string::npos);
  }
}

TEST_CASE("Grafana rule: a missing series resolves after missing_series_evals_to_resolve") {
  GFixture f(rule_yaml("        missing_series_evals_to_resolve: 2", "load > 0", ""),
             {R"(load{host="a"} 9 0 0 0 0)", R"(load{host="b"} 1x10)"});
  f.eval(0);
  auto* in = f.instance("host", "a");
  REQUIRE(in);
  CHECK(in->state == GrafanaState::kAlerting);
  f.eval(kMin);  // host a is not in the result: one interval missing, unchanged
  in = f.instance("host", "a");
  REQUIRE(in);
  CHECK(in->state == GrafanaState::kAlerting);
  f.eval(2 * kMin);  // 2 intervals since last seen: resolved as missing
  in = f.instance("host", "a");
  REQUIRE(in);
  CHECK(in->state == GrafanaState::kNormal);
  CHECK(in->state_reason == "MissingSeries");
  CHECK(in->resolved_at == 2 * kMin);
  f.eval(3 * kMin);
  CHECK(f.instance("host", "a") == nullptr);  // reported once, then deleted
}

TEST_CASE("Grafana recording rule writes record.metric with the rule labels") {
  const char* yaml = R"Y(apiVersion: 1
groups:
  - orgId: 1
    name: g
    folder: Infra
    interval: 1m
    rules:
      - uid: rec
        title: LoadRatio
        condition: C
        record: {metric: "host:load:ratio", from: C}
        labels: {team: infra}
        data:
          - refId: A
            relativeTimeRange: {from: 300, to: 0}
            datasourceUid: prom
            model: {expr: 'load', instant: true}
          - refId: C
            datasourceUid: __expr__
            model: {type: math, expression: '$A / 2'}
)Y";
  GFixture f(yaml, {R"(load{host="a"} 8 8)"});
  f.eval(kMin);
  REQUIRE(f.written.size() == 1);
  CHECK(f.written[0].first == Labels{{"__name__", "host:load:ratio"}, {"host", "a"},
                                      {"team", "infra"}});
  CHECK(f.written[0].second == 4);
  CHECK(f.rule().health == RuleHealth::kOk);
}

TEST_CASE("Grafana rule with isPaused is not evaluated") {
  GFixture f(rule_yaml("        isPaused: true", "load", ""), {R"(load{host="a"} 9 9)"});
  f.eval(0);
  CHECK(f.rule().instances.empty());
  CHECK(f.rule().alerts.empty());
}

TEST_CASE("Grafana rule: a range query reduced by mean, before and after the data starts") {
  const char* yaml = R"Y(apiVersion: 1
groups:
  - orgId: 1
    name: g
    folder: Infra
    interval: 1m
    rules:
      - uid: cpu
        title: CpuBusy
        condition: C
        data:
          - refId: A
            relativeTimeRange: {from: 300, to: 0}
            datasourceUid: prom
            model: {expr: 'sum by (instance) (rate(cpu_total[5m]))', range: true}
          - refId: B
            datasourceUid: __expr__
            model: {expression: A, reducer: mean, settings: {mode: dropNN}, type: reduce}
          - refId: C
            datasourceUid: __expr__
            model: {conditions: [{evaluator: {params: [0.8], type: gt}}], expression: B, type: threshold}
)Y";
  GFixture f(yaml, {R"(cpu_total{instance="web1"} 0+60x20)"});
  f.eval(8 * kMin);
  std::string dump = f.rule().last_error.value_or("");
  for (const auto& [l, i] : f.rule().instances) dump += " " + l.to_string() + "=" + std::string(to_string(i.state));
  INFO(dump);
  auto* in = f.instance("instance", "web1");
  REQUIRE(in);
  CHECK(in->state == GrafanaState::kAlerting);
  CHECK(in->values.at("B") > 0.8);
  CHECK(in->values.at("B") < 1.0);  // the first points of rate[5m] extrapolate less
}

TEST_CASE("Grafana rule: notification_settings label the sent alerts for the autogenerated routes") {
  GFixture f(rule_yaml("        notification_settings: {receiver: team-db}", "load", ""),
             {R"(load{host="a"} 9 9)"});
  f.eval(0);
  REQUIRE(f.rule().alerts.size() == 1);
  // Private labels stay out of the alert's identity (API, ALERTS, rule tests)...
  CHECK_FALSE(f.rule().alerts.begin()->second.labels.has("__grafana_receiver__"));
  // ...and go out with the alert, for routing (NotificationSettings.ToLabels).
  auto sent = f.group->alerts_to_send(0, kMin);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].labels.get("__grafana_receiver__") == "team-db");
  CHECK(sent[0].labels.get("__grafana_autogenerated__") == "true");
  CHECK_FALSE(sent[0].labels.has("__grafana_route_settings_hash__"));  // all defaults
  CHECK(sent[0].labels.get("__alert_rule_uid__") == "r1");

  GFixture g(rule_yaml("        notification_settings: {receiver: team-db, group_by: [alertname, "
                       "grafana_folder, host], repeat_interval: 1h}",
                       "load", ""),
             {R"(load{host="a"} 9 9)"});
  g.eval(0);
  auto sent2 = g.group->alerts_to_send(0, kMin);
  REQUIRE(sent2.size() == 1);
  const auto& ns = *g.loaded.file.groups[0].rules[0].grafana->notification;
  CHECK(ns.repeat_interval_ms == 3'600'000);
  CHECK(ns.normalized_group_by() == std::vector<std::string>{"alertname", "grafana_folder", "host"});
  CHECK(sent2[0].labels.get("__grafana_route_settings_hash__") == ns.fingerprint());
  CHECK(ns.fingerprint().size() == 16);
}

TEST_CASE("Grafana rule: result labels named like routing labels are renamed (LabelsUserCannotSpecify)") {
  GFixture f(rule_yaml("", "load", ""),
             {R"(load{host="a", __grafana_receiver__="x", grafana_autogenerated="y", __grafana_autogenerated__="z"} 9 9)"});
  f.eval(0);
  REQUIRE(f.rule().instances.size() == 1);
  const Labels& l = f.rule().instances.begin()->first;
  CHECK(l.get("grafana_receiver") == "x");
  CHECK(l.get("grafana_autogenerated") == "y");  // the result's own label stays
  CHECK(l.get("__grafana_autogenerated___user") == "z");
  CHECK_FALSE(l.has("__grafana_receiver__"));
}
