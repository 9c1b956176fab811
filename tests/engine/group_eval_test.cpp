// GroupRuntime: one alert's life, step by step, through the embedded store.
#include <doctest/doctest.h>

#include "ruleeval/engine/group_eval.hpp"
#include "ruleeval/engine/load_notation.hpp"
#include "ruleeval/parser/promql.hpp"
#include "ruleeval/rules/loader.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;

namespace {

constexpr Millis kMin = 60'000;

struct Fixture {
  Storage store;
  rules::LoadResult loaded;
  std::unique_ptr<GroupRuntime> group;

  Fixture(const std::string& rules_yaml, std::initializer_list<const char*> series,
          GroupEnv env = {}) {
    for (const char* s : series) {
      auto spec = parse_series_line(s);
      REQUIRE_MESSAGE(spec.has_value(), s);
      load_series(store, *spec, 0, kMin);
    }
    loaded = rules::load_rules_text(rules_yaml, "rules.yaml");
    for (const auto& d : loaded.diagnostics) {
      INFO(d.to_string());
      REQUIRE(d.severity != rules::Severity::Error);
    }
    REQUIRE(loaded.file.groups.size() == 1);
    env.external_url = env.external_url.empty() ? "http://ruleeval.test" : env.external_url;
    group = std::make_unique<GroupRuntime>(loaded.file.groups[0], "rules.yaml", env);
  }

  void eval(Millis ts) {
    LocalRuleQuerier q(store, group->env().engine);
    group->eval(ts, q, [this](const Labels& l, Millis t, double v) { store.append(l, t, v); });
  }

  const RuleRuntime& rule(size_t i) const { return group->rules()[i]; }

  double query(const std::string& expr, Millis t) {
    auto e = promql::parse(expr);
    REQUIRE(e.has_value());
    auto r = instant_query(store, **e, t);
    REQUIRE(r.has_value());
    auto* v = std::get_if<Vector>(&r->value);
    REQUIRE(v != nullptr);
    REQUIRE(v->size() == 1);
    return (*v)[0].v;
  }
};

const char* kInstanceDown = R"Y(groups:
  - name: g
    rules:
      - alert: InstanceDown
        expr: up == 0
        for: 2m
        labels: {severity: page}
        annotations:
          summary: "{{ $labels.instance }} of {{ $labels.job }} is down ({{ $value }})"
)Y";

}  // namespace

TEST_CASE("an alert goes pending, fires after `for`, resolves and is remembered for 15 minutes") {
  GroupEnv env;
  env.external_labels = Labels{{"cluster", "eu1"}};
  Fixture f(kInstanceDown, {R"(up{job="api", instance="x:1"} 1 1 0 0 0 0 0 1 1)"}, env);
  const Labels id{
      {"alertname", "InstanceDown"}, {"instance", "x:1"}, {"job", "api"}, {"severity", "page"}};

  SUBCASE("the whole life") {
    f.eval(0);
    f.eval(1 * kMin);
    CHECK(f.rule(0).alerts.empty());
    CHECK(f.rule(0).health == RuleHealth::kOk);

    f.eval(2 * kMin);
    REQUIRE(f.rule(0).alerts.size() == 1);
    const ActiveAlert& a = f.rule(0).alerts.begin()->second;
    CHECK(a.labels == id);
    CHECK(a.state == AlertState::kPending);
    CHECK(a.active_at == 2 * kMin);
    CHECK(a.annotations.get("summary") == "x:1 of api is down (0)");
    // Pending alerts are never sent.
    CHECK(f.group->alerts_to_send(2 * kMin, kMin).empty());

    f.eval(3 * kMin);
    CHECK(f.rule(0).alerts.begin()->second.state == AlertState::kPending);

    f.eval(4 * kMin);
    CHECK(f.rule(0).alerts.begin()->second.state == AlertState::kFiring);
    CHECK(f.rule(0).alerts.begin()->second.fired_at == 4 * kMin);
    // ALERTS and ALERTS_FOR_STATE are written at the evaluation time.
    CHECK(f.query(R"(ALERTS{alertname="InstanceDown", alertstate="firing"})", 4 * kMin) == 1);
    CHECK(f.query(R"(ALERTS_FOR_STATE{alertname="InstanceDown"})", 4 * kMin) == 120);

    auto sent = f.group->alerts_to_send(4 * kMin, kMin);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].labels.get("cluster") == "eu1");  // external labels are added
    CHECK(sent[0].starts_at == 4 * kMin);
    CHECK(sent[0].ends_at > 4 * kMin);
    CHECK(sent[0].generator_url == "http://ruleeval.test/graph?g0.expr=up+%3D%3D+0&g0.tab=1");
    // Not re-sent before the resend delay has passed.
    f.eval(5 * kMin);
    CHECK(f.group->alerts_to_send(5 * kMin, kMin).empty());

    f.eval(6 * kMin);
    f.eval(7 * kMin);  // up is back to 1
    const ActiveAlert& r = f.rule(0).alerts.begin()->second;
    CHECK(r.state == AlertState::kInactive);
    CHECK(r.resolved_at == 7 * kMin);
    auto resolved = f.group->alerts_to_send(7 * kMin, kMin);
    REQUIRE(resolved.size() == 1);
    CHECK(resolved[0].ends_at == 7 * kMin);
    // The firing ALERTS series got a staleness marker.
    auto e = promql::parse(R"(ALERTS{alertname="InstanceDown"})");
    auto res = instant_query(f.store, **e, 7 * kMin);
    REQUIRE(res.has_value());
    CHECK(std::get<Vector>(res->value).empty());

    // Resolved alerts are kept (and re-sent) for 15 minutes, then dropped.
    f.eval(22 * kMin);
    CHECK(f.rule(0).alerts.size() == 1);
    f.eval(23 * kMin);
    CHECK(f.rule(0).alerts.empty());
  }
}

TEST_CASE("keep_firing_for holds a firing alert after its series disappears") {
  Fixture f(R"Y(groups:
  - name: g
    rules:
      - alert: Flappy
        expr: errors > 0
        keep_firing_for: 3m
)Y",
            {"errors 1 1 0 0 0 0 0"});
  f.eval(0);
  CHECK(f.rule(0).alerts.begin()->second.state == AlertState::kFiring);  // for: 0 fires at once
  f.eval(1 * kMin);
  f.eval(2 * kMin);  // condition gone: keep firing
  const ActiveAlert& a = f.rule(0).alerts.begin()->second;
  CHECK(a.state == AlertState::kFiring);
  CHECK(a.keep_firing_since == 2 * kMin);
  f.eval(4 * kMin);
  CHECK(f.rule(0).alerts.begin()->second.state == AlertState::kFiring);
  f.eval(5 * kMin);  // 3m after the condition went away
  CHECK(f.rule(0).alerts.begin()->second.state == AlertState::kInactive);
}

TEST_CASE("later rules in a group see the recording results of earlier ones") {
  Fixture f(R"Y(groups:
  - name: g
    labels: {team: infra}
    rules:
      - record: job:requests:sum
        expr: sum by (job) (requests)
      - alert: TooManyRequests
        expr: job:requests:sum > 10
)Y",
            {R"(requests{job="a", instance="1"} 5 6)", R"(requests{job="a", instance="2"} 4 7)"});
  f.eval(0);
  CHECK(f.query(R"(job:requests:sum{job="a", team="infra"})", 0) == 9);
  CHECK(f.rule(1).alerts.empty());
  f.eval(1 * kMin);
  CHECK(f.query("job:requests:sum", 1 * kMin) == 13);
  REQUIRE(f.rule(1).alerts.size() == 1);
  // Group labels are added to the alert too.
  CHECK(f.rule(1).alerts.begin()->second.labels.get("team") == "infra");
}

TEST_CASE("a query error keeps the alert state and is reported on the rule") {
  Fixture f(R"Y(groups:
  - name: g
    rules:
      - alert: Joined
        expr: a + on(x) b
)Y",
            {R"(a{x="1"} 1 1)", R"(b{x="1"} 1 1)", R"(b{x="1", y="2"} _ 1)"});
  f.eval(0);
  REQUIRE(f.rule(0).alerts.size() == 1);
  CHECK(f.rule(0).health == RuleHealth::kOk);
  f.eval(1 * kMin);  // now many-to-many
  CHECK(f.rule(0).health == RuleHealth::kErr);
  REQUIRE(f.rule(0).last_error.has_value());
  CHECK(f.rule(0).last_error->find("many") != std::string::npos);
  CHECK(f.rule(0).alerts.size() == 1);
  CHECK(f.rule(0).alerts.begin()->second.state == AlertState::kFiring);
}

TEST_CASE("recording rules reject result sets that collide after relabelling") {
  Fixture f(R"Y(groups:
  - name: g
    rules:
      - record: collapsed
        expr: requests
        labels: {instance: same}
)Y",
            {R"(requests{instance="1"} 1)", R"(requests{instance="2"} 1)"});
  f.eval(0);
  CHECK(f.rule(0).health == RuleHealth::kErr);
  CHECK(*f.rule(0).last_error ==
        "vector contains metrics with the same labelset after applying rule labels");
}

TEST_CASE("a broken annotation template shows Prometheus's visible error text") {
  Fixture f(R"Y(groups:
  - name: g
    rules:
      - alert: BadTemplate
        expr: vector(1)
        annotations:
          summary: '{{ humanize "not a number" }}'
)Y",
            {});
  f.eval(0);
  REQUIRE(f.rule(0).alerts.size() == 1);
  std::string summary(f.rule(0).alerts.begin()->second.annotations.get("summary"));
  CHECK(summary.rfind("<error expanding template: ", 0) == 0);
}

TEST_CASE("identically written templates share one tree and each error names its own rule") {
  Fixture f(R"Y(groups:
  - name: g
    rules:
      - alert: First
        expr: vector(1)
        annotations:
          summary: '{{ humanize "not a number" }}'
          other: 'x {{ $value }}'
      - alert: Second
        expr: vector(2)
        annotations:
          summary: '{{ humanize "not a number" }}'
          other: 'y {{ $value }}'
)Y",
            {});
  const auto& r0 = f.loaded.file.groups[0].rules[0];
  const auto& r1 = f.loaded.file.groups[0].rules[1];
  CHECK(r0.annotations[0].tmpl == r1.annotations[0].tmpl);  // the same text: one parsed tree
  CHECK(r0.annotations[1].tmpl != r1.annotations[1].tmpl);
  f.eval(0);
  REQUIRE(f.rule(0).alerts.size() == 1);
  REQUIRE(f.rule(1).alerts.size() == 1);
  const auto& a0 = f.rule(0).alerts.begin()->second.annotations;
  const auto& a1 = f.rule(1).alerts.begin()->second.annotations;
  // Prometheus: "<error expanding template: error executing template NAME: template: NAME:1:..."
  const std::string e0(a0.get("summary")), e1(a1.get("summary"));
  CHECK(e0.starts_with("<error expanding template: error executing template __alert_First: "
                       "template: __alert_First:1:"));
  CHECK(e0.find("executing \"__alert_First\" at <humanize") != std::string::npos);
  std::string want1 = e0;  // the same message under the second rule's name
  for (size_t p; (p = want1.find("__alert_First")) != std::string::npos;)
    want1.replace(p, 13, "__alert_Second");
  CHECK(e1 == want1);
  CHECK(std::string(a0.get("other")) == "x 1");
  CHECK(std::string(a1.get("other")) == "y 2");
}

TEST_CASE("templates see each evaluation's time, query results and the external labels") {
  GroupEnv env;
  env.external_labels = Labels{{"cluster", "eu1"}};
  Fixture f(R"Y(groups:
  - name: g
    rules:
      - alert: Clock
        expr: vector(1)
        annotations:
          now: '{{ now }}'
          up: '{{ with query "sum(up)" }}{{ . | first | value }}{{ end }}'
          cluster: '{{ $externalLabels.cluster }}'
)Y",
            {"up{instance=\"a\"} 1 1 1", "up{instance=\"b\"} 0 1 1"}, env);
  auto annotation = [&](const char* key) {
    REQUIRE(f.rule(0).alerts.size() == 1);
    return std::string(f.rule(0).alerts.begin()->second.annotations.get(key));
  };
  f.eval(0);
  CHECK(annotation("now") == "0");
  CHECK(annotation("up") == "1");
  CHECK(annotation("cluster") == "eu1");
  f.eval(kMin);  // the functions are shared between evaluations, their context is not
  CHECK(annotation("now") == "60");
  CHECK(annotation("up") == "2");
  CHECK(annotation("cluster") == "eu1");
}

TEST_CASE("Grafana-like rules reduce a range, compare a threshold and recover with hysteresis") {
  Fixture f(R"Y(groups:
  - name: g
    rules:
      - alert: HighLatency
        query: latency_ms
        range: 2m
        reduce: avg
        threshold: {above: 200}
        recover: {below: 180}
)Y",
            {"latency_ms 100 100 300 300 300 190 190 190 150 150 150"});
  auto state = [&] {
    return f.rule(0).alerts.empty()
               ? std::string("none")
               : std::string(to_string(f.rule(0).alerts.begin()->second.state));
  };
  f.eval(1 * kMin);
  CHECK(state() == "none");
  f.eval(3 * kMin);  // avg over (1m, 3m] = 300 > 200
  CHECK(state() == "firing");
  f.eval(6 * kMin);  // avg(300, 190, 190) = 226: still above
  CHECK(state() == "firing");
  f.eval(7 * kMin);  // avg(190, 190) = 190: below 200 but not below 180: hysteresis holds it
  CHECK(state() == "firing");
  f.eval(9 * kMin);  // avg(190, 150) = 170 < 180: recovers
  CHECK(state() == "inactive");
}

TEST_CASE("a Grafana classic condition yields one rule-wide alert") {
  Fixture f(R"Y(groups:
  - name: g
    rules:
      - alert: SlowAnywhere
        query: latency_ms
        condition: "WHEN max() OF query(A, 2m, now) IS ABOVE 250"
        no_data: ok
)Y",
            {R"(latency_ms{host="a"} 100 100 100 100 100)",
             R"(latency_ms{host="b"} 100 100 300 100 100)"});
  auto firing = [&] {
    for (const auto& [_, a] : f.rule(0).alerts) {
      if (a.state == AlertState::kFiring) return true;
    }
    return false;
  };
  f.eval(1 * kMin);
  CHECK_FALSE(firing());
  f.eval(2 * kMin);  // host b peaks at 300 inside the window
  CHECK(firing());
  REQUIRE(f.rule(0).alerts.size() == 1);
  // Not multi-dimensional: the alert carries only the rule's identity.
  CHECK(f.rule(0).alerts.begin()->second.labels == Labels{{"alertname", "SlowAnywhere"}});
  f.eval(5 * kMin);  // the peak has left the 2m window
  CHECK_FALSE(firing());
}
