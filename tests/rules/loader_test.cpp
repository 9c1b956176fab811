#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "ruleeval/rules/loader.hpp"

using namespace ruleeval::rules;

namespace {

std::vector<std::string> messages(const LoadResult& r) {
  std::vector<std::string> out;
  out.reserve(r.diagnostics.size());
  for (const auto& d : r.diagnostics) out.push_back(d.to_string());
  return out;
}

bool has_message(const LoadResult& r, std::string_view needle) {
  return std::any_of(r.diagnostics.begin(), r.diagnostics.end(), [&](const Diagnostic& d) {
    return d.to_string().find(needle) != std::string::npos;
  });
}

}  // namespace

TEST_CASE("a Prometheus rule file loads every field with its line and column") {
  auto r = load_rules_text(R"(groups:
  - name: api
    interval: 30s
    query_offset: 1m
    limit: 10
    labels:
      team: infra
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: Down
        expr: up == 0
        for: 5m
        keep_firing_for: 10m
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.instance }} is down"
)",
                           "f.yml");
  INFO(messages(r));
  REQUIRE(r.diagnostics.empty());
  REQUIRE(r.file.groups.size() == 1);
  const RuleGroup& g = r.file.groups[0];
  CHECK(g.name == "api");
  CHECK(g.pos.line == 2);
  CHECK(g.interval.ms == 30'000);
  CHECK(g.query_offset.ms == 60'000);
  CHECK(g.limit == 10);
  REQUIRE(g.labels.size() == 1);
  CHECK(g.labels[0].key == "team");
  CHECK(g.labels[0].value.value == "infra");
  REQUIRE(g.rules.size() == 2);
  const Rule& rec = g.rules[0];
  CHECK(rec.kind == RuleKind::Recording);
  CHECK(rec.name == "job:up:sum");
  CHECK(rec.name_pos.line == 9);
  CHECK(rec.name_pos.col == 17);
  CHECK(rec.ast != nullptr);
  const Rule& alert = g.rules[1];
  CHECK(alert.is_alert());
  CHECK(alert.name == "Down");
  CHECK(alert.expr.value == "up == 0");
  CHECK(alert.expr.pos.line == 12);
  CHECK(alert.expr.pos.col == 15);
  CHECK(alert.for_.ms == 300'000);
  CHECK(alert.for_.pos.line == 13);
  CHECK(alert.keep_firing_for.ms == 600'000);
  REQUIRE(alert.annotations.size() == 1);
  CHECK(alert.annotations[0].value.style == ScalarStyle::DoubleQuoted);
  CHECK(alert.annotations[0].tmpl != nullptr);  // templates are parsed once at load
  CHECK(alert.last_line == 18);
  CHECK(r.file.rule_count() == 2);
}

TEST_CASE("unknown fields are errors unless ignore_unknown_fields is set") {
  const std::string text = R"(groups:
  - name: api
    namespace: foo
    rules:
      - alert: Down
        expr: up == 0
        owner: me
)";
  auto strict = load_rules_text(text, "f.yml");
  CHECK(strict.has_errors());
  CHECK(has_message(strict,
                    "f.yml:3:5: error: line 3: field namespace not found in type "
                    "rulefmt.RuleGroup [yaml/parse]"));
  CHECK(has_message(strict, "f.yml:7:9: error: line 7: field owner not found in type rulefmt.Rule"));
  LoadOptions relaxed;
  relaxed.ignore_unknown_fields = true;
  auto ok = load_rules_text(text, "f.yml", relaxed);
  INFO(messages(ok));
  CHECK(ok.diagnostics.empty());
  CHECK(ok.file.rule_count() == 1);
}

TEST_CASE("duplicate keys are found although yaml-cpp accepts them") {
  auto r = load_rules_text(R"(groups:
  - name: api
    rules:
      - alert: Down
        expr: up == 0
        expr: up == 1
)",
                           "f.yml");
  CHECK(has_message(r, "f.yml:6:9: error: line 6: mapping key \"expr\" already defined at line 5"));
}

TEST_CASE("wrong value types and bad durations name the line") {
  auto r = load_rules_text(R"(groups:
  - name: api
    limit: lots
    rules:
      - alert: Down
        expr: [up]
        for: 1.5h
        labels: [a, b]
)",
                           "f.yml");
  CHECK(has_message(r, "f.yml:3:12: error: line 3: cannot unmarshal !!str `lots` into int"));
  CHECK(has_message(r, "f.yml:6:15: error: line 6: cannot unmarshal !!seq into string"));
  CHECK(has_message(r, "f.yml:7:14: error: not a valid duration string: \"1.5h\""));
  CHECK(has_message(r, "f.yml:8:17: error: line 8: cannot unmarshal !!seq into map[string]string"));
}

TEST_CASE("malformed YAML gives one precise syntax error and no crash") {
  auto r = load_rules_text("groups:\n  - name: [unclosed\n", "f.yml");
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].check == "yaml/parse");
  CHECK(r.diagnostics[0].where.line >= 2);
  CHECK(r.diagnostics[0].message.starts_with("YAML syntax error: "));
  for (const char* junk : {"", "---\n", "42", "groups: 7", "groups: [1, [2]]", "[a, b]",
                           "groups:\n  - rules: {a: b}", "groups:\n- name: x\n  rules: [7]",
                           "{? [a]: b}", "groups:\n  - name: x\n    rules:\n      - {[a]: 1}"}) {
    CAPTURE(junk);
    auto j = load_rules_text(junk, "junk.yml");
    CHECK(j.file.rule_count() <= 1);
  }
}

TEST_CASE("PromQL parse errors point into the file, also inside block scalars") {
  auto r = load_rules_text(R"(groups:
  - name: api
    rules:
      - record: x
        expr: 'test +'
      - record: y
        expr: |
          sum(
            rate(foo[5m]
          )
)",
                           "f.yml");
  std::vector<const Diagnostic*> syntax;
  for (const auto& d : r.diagnostics) {
    if (d.check == "promql/syntax") syntax.push_back(&d);
  }
  REQUIRE(syntax.size() == 2);
  CHECK(syntax[0]->where.line == 5);
  CHECK(syntax[0]->where.col > 15);
  CHECK(syntax[0]->message.starts_with("could not parse expression: "));
  CHECK(syntax[0]->rule == "x");
  CHECK(syntax[1]->where.line >= 8);
  CHECK(syntax[1]->where.line <= 11);
}

TEST_CASE("record and alert must be exactly one") {
  auto r = load_rules_text(R"(groups:
  - name: api
    rules:
      - record: a
        alert: B
        expr: up
      - expr: up
)",
                           "f.yml");
  CHECK(has_message(r, "f.yml:4:17: error: only one of 'record' and 'alert' must be set"));
  CHECK(has_message(r, "f.yml:7:9: error: one of 'record' or 'alert' must be set"));
}

TEST_CASE("template errors of alert labels and annotations are reported at load") {
  auto r = load_rules_text(R"(groups:
  - name: api
    rules:
      - alert: InstanceDown
        expr: up == 0
        annotations:
          summary: "Instance {{ $label.foo }} down"
)",
                           "f.yml");
  REQUIRE(r.has_errors());
  const auto& d = r.diagnostics.front();
  CHECK(d.check == "alerts/template");
  CHECK(d.message.find("annotation \"summary\"") != std::string::npos);
  CHECK(d.message.find("__alert_InstanceDown") != std::string::npos);
  CHECK(d.where.line == 7);
  CHECK(r.file.groups[0].rules[0].annotations[0].tmpl == nullptr);
}

TEST_CASE("a Kubernetes PrometheusRule object and multi-document files are read") {
  auto r = load_rules_text(R"(apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: api
spec:
  groups:
    - name: api
      rules:
        - alert: Down
          expr: up == 0
---
groups:
  - name: second
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
)",
                           "crd.yml");
  INFO(messages(r));
  CHECK(r.diagnostics.empty());
  REQUIRE(r.file.groups.size() == 2);
  CHECK(r.file.groups[0].rules[0].name == "Down");
  CHECK(r.file.groups[0].rules[0].pos.line == 9);
  CHECK(r.file.groups[1].name == "second");
  CHECK(r.file.groups[1].pos.line == 13);
}

TEST_CASE("concise Grafana-like rules load query, reduce, threshold and hysteresis") {
  auto r = load_rules_text(R"(groups:
  - name: latency
    rules:
      - alert: HighLatency
        query: http_request_duration_ms_bucket{code="200"}
        range: 5m
        reduce: avg
        threshold: {above: 200}
        recover: {below: 180}
        for: 5m
        no_data: ok
        on_error: keep_last
      - alert: OutOfBand
        query: temperature
        threshold: {outside_range: [10, 30]}
      - alert: Classic
        query: temperature
        condition: "WHEN avg() OF query(A, 5m, now) IS ABOVE 200"
)",
                           "g.yml");
  INFO(messages(r));
  REQUIRE_FALSE(r.has_errors());
  const auto& rules = r.file.groups[0].rules;
  REQUIRE(rules.size() == 3);
  REQUIRE(rules[0].grafana.has_value());
  const GrafanaSpec& g = *rules[0].grafana;
  CHECK(g.query.value == "http_request_duration_ms_bucket{code=\"200\"}");
  CHECK(rules[0].ast != nullptr);
  CHECK(g.range_ms == 300'000);
  CHECK(g.reduce == Reducer::Avg);
  REQUIRE(g.threshold.has_value());
  CHECK(g.threshold->op == ThresholdOp::Above);
  CHECK(g.threshold->matches(201));
  CHECK_FALSE(g.threshold->matches(200));
  REQUIRE(g.recover.has_value());
  CHECK(g.recover->matches(179));
  CHECK(g.no_data == NoDataState::Ok);
  CHECK(g.on_error == ErrorState::KeepLast);
  const auto& band = *rules[1].grafana->threshold;
  CHECK(band.op == ThresholdOp::OutsideRange);
  CHECK(band.matches(9));
  CHECK_FALSE(band.matches(10));
  CHECK(band.matches(31));
  CHECK(rules[2].grafana->condition.value == "WHEN avg() OF query(A, 5m, now) IS ABOVE 200");
}

TEST_CASE("concise Grafana-like rules with wrong fields are explained") {
  auto r = load_rules_text(R"(groups:
  - name: latency
    rules:
      - alert: NoThreshold
        query: up
      - alert: BadReducer
        query: up
        reduce: mode
        threshold: {above: 1}
      - alert: BadRange
        query: up
        threshold: {within_range: [5, 1]}
      - alert: BadCondition
        query: up
        condition: "WHEN avg() OF query(B, 5m, now) IS ABOVE 1"
      - alert: BrokenCondition
        query: up
        condition: "WHEN avg() OF query(A, 5m, now) IS SOMEWHAT 1"
      - alert: Both
        query: up
        expr: up
        threshold: {above: 1}
      - record: notalert
        query: up
        threshold: {above: 1}
)",
                           "g.yml");
  CHECK(has_message(r, "g.yml:4:9: error: a Grafana-style rule needs `threshold` or `condition`"));
  CHECK(has_message(r, "g.yml:8:17: error: unknown reducer \"mode\""));
  CHECK(has_message(r, "within_range: low bound 5 is above high bound 1"));
  CHECK(has_message(r, "condition uses query(B); the rule's `query` is query A"));
  CHECK(has_message(r, "invalid condition: "));
  CHECK(has_message(r, "a Grafana-style rule takes `query`, not `expr`"));
  CHECK(has_message(r, "Grafana-style fields (query, threshold, ...) need `alert`"));
}

TEST_CASE("Grafana provisioning files become the same Grafana-like rules") {
  auto r = load_rules_text(R"(apiVersion: 1
groups:
  - orgId: 1
    name: my_group
    folder: my_folder
    interval: 1m
    rules:
      - uid: high-cpu
        title: High CPU
        condition: C
        for: 5m
        keepFiringFor: 2m
        noDataState: OK
        execErrState: Error
        labels: {severity: page}
        annotations: {summary: "CPU on {{ $labels.instance }}"}
        data:
          - refId: A
            relativeTimeRange: {from: 600, to: 0}
            datasourceUid: prometheus-uid
            model: {expr: 'rate(node_cpu_seconds_total{mode!="idle"}[5m])', refId: A}
          - refId: B
            datasourceUid: __expr__
            model: {type: reduce, expression: A, reducer: mean, settings: {mode: dropNN}, refId: B}
          - refId: C
            datasourceUid: __expr__
            model:
              type: threshold
              expression: B
              conditions:
                - evaluator: {type: gt, params: [0.9]}
                  unloadEvaluator: {type: lt, params: [0.8]}
              refId: C
      - uid: classic
        title: Classic
        condition: B
        data:
          - refId: A
            relativeTimeRange: {from: 300, to: 0}
            datasourceUid: prometheus-uid
            model: {expr: 'up'}
          - refId: B
            datasourceUid: __expr__
            model:
              type: classic_conditions
              conditions:
                - evaluator: {type: lt, params: [1]}
                  operator: {type: and}
                  query: {params: [A]}
                  reducer: {type: min}
                - evaluator: {type: within_range, params: [0, 0.5]}
                  operator: {type: or}
                  query: {params: [A]}
                  reducer: {type: avg}
)",
                           "prov.yml");
  INFO(messages(r));
  REQUIRE_FALSE(r.has_errors());
  REQUIRE(r.file.groups.size() == 1);
  CHECK(r.file.groups[0].interval.ms == 60'000);
  const auto& rules = r.file.groups[0].rules;
  REQUIRE(rules.size() == 2);
  const Rule& cpu = rules[0];
  CHECK(cpu.name == "High CPU");
  CHECK(cpu.for_.ms == 300'000);
  CHECK(cpu.keep_firing_for.ms == 120'000);
  REQUIRE(cpu.grafana);
  CHECK(cpu.grafana->from_provisioning);
  CHECK(cpu.grafana->uid == "high-cpu");
  CHECK(cpu.grafana->folder == "my_folder");
  CHECK(cpu.grafana->query.value == "rate(node_cpu_seconds_total{mode!=\"idle\"}[5m])");
  CHECK(cpu.ast != nullptr);
  REQUIRE(cpu.grafana->dag);
  const GrafanaDag& dag = *cpu.grafana->dag;
  CHECK(dag.condition == "C");
  REQUIRE(dag.nodes.size() == 3);
  const GrafanaNode& a = dag.nodes[0];
  CHECK(a.type == GrafanaNodeType::kQuery);
  CHECK(a.from_s == 600);
  CHECK(a.to_s == 0);
  CHECK(a.range);  // neither instant nor range set: a range query, as Grafana's Prometheus does
  CHECK_FALSE(a.instant);
  CHECK(a.interval_ms == 1000);
  CHECK(a.max_data_points == 43200);
  const GrafanaNode& b = dag.nodes[1];
  CHECK(b.type == GrafanaNodeType::kReduce);
  CHECK(b.input == "A");
  CHECK(b.reducer == SseReducer::kMean);
  CHECK(b.mode == SseMode::kDropNN);
  const GrafanaNode& c = dag.nodes[2];
  CHECK(c.type == GrafanaNodeType::kThreshold);
  CHECK(c.evaluator.type == "gt");
  CHECK(c.evaluator.params == std::vector<double>{0.9});
  REQUIRE(c.unload_evaluator);
  CHECK(c.unload_evaluator->type == "lt");
  CHECK(dag.order().size() == 3);
  CHECK(cpu.grafana->no_data == NoDataState::Ok);
  CHECK(cpu.grafana->on_error == ErrorState::Error);
  CHECK(cpu.annotations[0].tmpl != nullptr);
  const Rule& classic = rules[1];
  REQUIRE(classic.grafana);
  REQUIRE(classic.grafana->dag);
  const GrafanaNode* cc = classic.grafana->dag->find("B");
  REQUIRE(cc);
  REQUIRE(cc->conditions.size() == 2);
  CHECK(cc->conditions[0].reducer == ruleeval::classic::Reducer::kMin);
  CHECK(cc->conditions[1].op_or);
  CHECK(cc->conditions[1].evaluator.type == ruleeval::classic::EvaluatorType::kWithinRange);
  CHECK(classic.grafana->on_error == ErrorState::Alerting);  // the provisioning default
}

TEST_CASE("Grafana expressions we cannot evaluate are reported, never skipped") {
  auto r = load_rules_text(R"(apiVersion: 1
groups:
  - name: g
    folder: f
    interval: 1m
    rules:
      - uid: sql
        title: Sql
        condition: B
        data:
          - refId: A
            datasourceUid: mysql
            model: {rawSql: "select 1"}
          - refId: B
            datasourceUid: __expr__
            model: {type: sql, expression: "SELECT * FROM A"}
      - uid: nodata
        title: MissingQuery
        condition: B
        data:
          - refId: B
            datasourceUid: __expr__
            model: {type: threshold, expression: A, conditions: [{evaluator: {type: gt, params: [1]}}]}
)",
                           "prov.yml");
  INFO(messages(r));
  CHECK(has_message(r, "prov.yml:16:27: error: Grafana `sql` expressions are not supported"));
  CHECK(has_message(r, "prov.yml:11:13: error: refId \"A\" has no PromQL `expr` in its model"));
  CHECK(has_message(r, "threshold expression \"B\" reads refId \"A\", which is not defined"));
  CHECK(r.file.rule_count() == 2);
}

TEST_CASE("Grafana exports: no uid, labels {\"\": \"\"}, one group name in two folders, "
          "deleteRules, recording rules, JSON") {
  auto r = load_rules_text(R"J({"apiVersion": 1,
 "groups": [
  {"orgId": 1, "name": "slo", "folder": "Team A", "interval": "1m", "rules": [
    {"title": "Up", "condition": "A", "labels": {"": ""}, "isPaused": true,
     "missing_series_evals_to_resolve": 3,
     "notification_settings": {"receiver": "team-a"},
     "data": [{"refId": "A", "relativeTimeRange": {"from": 600, "to": 0},
               "datasourceUid": "p", "model": {"expr": "up == 0", "instant": true}}]}]},
  {"orgId": 1, "name": "slo", "folder": "Team B", "interval": "1m", "rules": [
    {"uid": "rec", "title": "Recorded", "condition": "A",
     "record": {"metric": "job:up:sum", "from": "A"},
     "data": [{"refId": "A", "relativeTimeRange": {"from": 600, "to": 0},
               "datasourceUid": "p", "model": {"expr": "sum by (job) (up)", "instant": true}}]},
    {"uid": "gone", "title": "Gone", "condition": "A",
     "data": [{"refId": "A", "relativeTimeRange": {"from": 600, "to": 0},
               "datasourceUid": "p", "model": {"expr": "up", "instant": true}}]}]}],
 "deleteRules": [{"orgId": 1, "uid": "gone"}]}
)J",
                           "export.json");
  INFO(messages(r));
  REQUIRE_FALSE(r.has_errors());
  REQUIRE(r.file.groups.size() == 2);
  CHECK(r.file.groups[0].grafana_folder == "Team A");
  CHECK(r.file.groups[1].grafana_folder == "Team B");
  CHECK(r.file.groups[0].name == "Team A/slo");  // one file, one name, two folders
  CHECK(r.file.groups[1].name == "Team B/slo");
  const Rule& up = r.file.groups[0].rules.at(0);
  CHECK(up.labels.empty());
  CHECK(up.grafana->uid == "Team A/slo/Up");
  CHECK(up.grafana->paused);
  CHECK(up.grafana->missing_series_evals_to_resolve == 3);
  CHECK(up.grafana->receiver == "team-a");
  REQUIRE(r.file.groups[1].rules.size() == 1);  // "gone" deleted by deleteRules
  const Rule& rec = r.file.groups[1].rules[0];
  CHECK(rec.kind == RuleKind::Recording);
  CHECK(rec.name == "job:up:sum");
  CHECK(rec.grafana->dag->condition == "A");
}

TEST_CASE("ruleeval disable comments attach to the next rule or to the rule they trail") {
  auto r = load_rules_text(R"(groups:
  - name: api
    rules:
      # ruleeval disable alerts/comparison, promql/rate
      - alert: A
        expr: vector(1)
      - alert: B
        expr: up  # ruleeval disable alerts
      - alert: C
        expr: up
)",
                           "f.yml");
  const auto& rules = r.file.groups[0].rules;
  REQUIRE(rules.size() == 3);
  CHECK(rules[0].disabled_checks == std::vector<std::string>{"alerts/comparison", "promql/rate"});
  CHECK(rules[0].check_disabled("promql/rate"));
  CHECK_FALSE(rules[0].check_disabled("alerts/for"));
  CHECK(rules[1].check_disabled("alerts/comparison"));  // a prefix disables the family
  CHECK(rules[2].disabled_checks.empty());
}

TEST_CASE("an unreadable file is one diagnostic, not a crash") {
  auto r = load_rules_file("/nonexistent/dir/rules.yml");
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].to_string() ==
        "/nonexistent/dir/rules.yml: error: cannot read file [yaml/parse]");
}

TEST_CASE("positions inside scalars map back to the file") {
  const std::string text = "a:\n  expr: |\n    sum(\n      x)\n";
  Scalar literal{"sum(\n  x)\n", Pos{2, 9}, ScalarStyle::Literal, true};
  CHECK(map_into_scalar(literal, text, 2, 3).line == 4);
  CHECK(map_into_scalar(literal, text, 2, 3).col == 7);
  Scalar quoted{"x + ", Pos{5, 11}, ScalarStyle::DoubleQuoted, true};
  CHECK(map_into_scalar(quoted, text, 1, 3).col == 14);
  Scalar plain{"x + ", Pos{5, 11}, ScalarStyle::Plain, true};
  CHECK(map_into_scalar(plain, text, 1, 3).col == 13);
}

TEST_CASE("Grafana rules: a label with an empty name and a value, and notification_settings errors") {
  auto r = load_rules_text(R"(apiVersion: 1
contactPoints: []
groups:
  - orgId: 1
    name: g
    folder: F
    interval: 1m
    rules:
      - uid: r
        title: T
        condition: A
        data:
          - refId: A
            datasourceUid: p
            model: {expr: 'up == 0', instant: true}
        labels:
          "": "oops"
        notification_settings:
          receiver: ops
          group_by: [instance]
          repeat_interval: 0s
          mute_time_intervals: [nights]
)",
                           "g.yml");
  INFO(messages(r));
  CHECK(has_message(r, "g.yml:17:11: error: label with an empty name (value \"oops\")"));
  CHECK(has_message(r, "g.yml:20:21: error: notification_settings.group_by must contain the two "
                       "required labels 'alertname' and 'grafana_folder'"));
  CHECK(has_message(r, "g.yml:21:28: error: notification_settings.repeat_interval must be a "
                       "positive duration"));
  const auto& ns = r.file.groups.at(0).rules.at(0).grafana->notification;
  REQUIRE(ns);
  CHECK(ns->receiver == "ops");
  CHECK(ns->mute_time_intervals == std::vector<std::string>{"nights"});
  CHECK(ns->interval_refs.at(0).second.line == 22);
}

// A group of n alerting rules <prefix>0..<prefix>n-1, each with the same annotations block.
static std::string repeated_rules(const std::string& prefix, int n,
                                  const std::string& annotations) {
  std::string text = "groups:\n  - name: g\n    rules:\n";
  for (int i = 0; i < n; ++i) {
    text += "      - alert: ";
    text += prefix;
    text += std::to_string(i);
    text += "\n        expr: up == 0\n        annotations:\n";
    text += annotations;
  }
  return text;
}

TEST_CASE("rules sharing an annotation text share one parsed template; failures name each rule") {
  // The loader parses a repeated template text once per file and shares the template (renderers
  // pass their own rule's name for execution errors: tests/engine/group_eval_test.cpp). A text
  // that fails to parse is parsed, and reported, for every rule.
  auto r = load_rules_text(repeated_rules("A", 3,
                                          "          summary: \"{{ $labels.job }} {{ if $value }}x{{ end }}\"\n"
                                          "          bad: \"{{ .Foo \"\n"),
                           "t.yml");
  const auto& rules = r.file.groups.at(0).rules;
  REQUIRE(rules.size() == 3);
  for (const auto& rule : rules) {
    const auto& t = rule.annotations.at(0).tmpl;
    REQUIRE(t != nullptr);
    CHECK(t == rules[0].annotations[0].tmpl);
    CHECK(!t->nodes().empty());
    CHECK(rule.annotations.at(1).tmpl == nullptr);
  }
  // A text that fails to parse is reported for every rule, each naming its own template.
  for (int i = 0; i < 3; ++i) {
    CHECK(has_message(r, "template: __alert_A" + std::to_string(i) + ":1:"));
  }
  // Templates with {{define}}s are checked against their own name: each rule gets its own copy.
  auto rd = load_rules_text(
      repeated_rules("D", 2, "          summary: '{{ define \"x\" }}X{{ end }}{{ template \"x\" }}'\n"),
      "d.yml");
  const auto& drules = rd.file.groups.at(0).rules;
  REQUIRE(drules.size() == 2);
  CHECK(drules[0].annotations.at(0).tmpl->name == "__alert_D0");
  CHECK(drules[1].annotations.at(0).tmpl->name == "__alert_D1");
  CHECK(drules[0].annotations[0].tmpl != drules[1].annotations[0].tmpl);
}
