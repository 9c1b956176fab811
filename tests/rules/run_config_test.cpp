#include <doctest/doctest.h>

#include "ruleeval/rules/run_config.hpp"
#include "ruleeval/rules/unittest_file.hpp"

using namespace ruleeval;
using namespace ruleeval::rules;

namespace {
std::string first_error(const std::string& yaml) {
  auto c = parse_run_config(yaml, "/etc/ruleeval/ruleeval.yaml");
  REQUIRE_FALSE(c.has_value());
  return c.error().front().to_string();
}
}  // namespace

TEST_CASE("ruleeval.yaml decodes globals, datasources, rule files and remote write") {
  auto c = parse_run_config(R"(
global:
  evaluation_interval: 30s
  external_labels: {cluster: eu1}
  external_url: http://ruleeval.example/
  resolve_timeout: 5m        # Alertmanager's, left to the notifier decoder
datasources:
  default: {type: prometheus, url: http://127.0.0.1:9090, timeout: 10s, headers: {X-Org: "1"}}
  vm: {type: prometheus, url: http://127.0.0.1:8428, basic_auth: {username: u, password: p}}
rule_files: [rules/*.yaml]
remote_write: {url: http://127.0.0.1:9090/api/v1/write}
route: {receiver: x}
receivers: [{name: x}]
)",
                           "/etc/ruleeval/ruleeval.yaml");
  REQUIRE_MESSAGE(c.has_value(), (c ? "" : c.error().front().to_string()));
  CHECK(c->evaluation_interval_ms == 30'000);
  CHECK(c->external_labels.get("cluster") == "eu1");
  CHECK(c->external_url == "http://ruleeval.example");
  REQUIRE(c->datasources.size() == 2);
  CHECK(c->default_datasource == "default");
  CHECK(c->datasources[0].http.timeout_ms == 10'000);
  CHECK(c->datasources[0].http.headers.front().first == "X-Org");
  CHECK(c->datasources[1].http.basic_username == "u");
  CHECK(c->rule_files == std::vector<std::string>{"/etc/ruleeval/rules/*.yaml"});
  CHECK(c->remote_write.enabled);
  CHECK(c->has_notifications);
}

TEST_CASE("ruleeval.yaml errors name the key and its line:col") {
  CHECK(first_error("global:\n  evaluation_intervall: 1m\ndatasources: {d: {type: embedded}}\n") ==
        "/etc/ruleeval/ruleeval.yaml:2:3: global: unknown key \"evaluation_intervall\"");
  CHECK(first_error("global: {evaluation_interval: 1x}\ndatasources: {d: {type: embedded}}\n")
            .find("ruleeval.yaml:1:31: global.evaluation_interval: not a valid duration") !=
        std::string::npos);
  CHECK(first_error("datasources:\n  d: {type: graphite}\n").find("unknown datasource type") !=
        std::string::npos);
  CHECK(first_error("datasources:\n  d: {type: prometheus}\n").find("url is required") !=
        std::string::npos);
  CHECK(first_error("datasources:\n  d: {type: embedded, series_files: [nope.series]}\n")
            .find("does not exist") != std::string::npos);
  CHECK(first_error("global: [\n").rfind("/etc/ruleeval/ruleeval.yaml:", 0) == 0);
  CHECK(first_error("rule_files: []\n").find("at least one datasource") != std::string::npos);
}

TEST_CASE("promtool unit-test files decode strictly, with ruleeval's exp_state") {
  auto f = load_unittest_text(R"(
rule_files: [rules.yml]
evaluation_interval: 30s
fuzzy_compare: true
tests:
  - name: t
    interval: 1m
    start_timestamp: "2024-01-01T00:00:00Z"
    external_labels: {cluster: a}
    input_series:
      - {series: 'up{job="x"}', values: '0x10'}
    alert_rule_test:
      - eval_time: 5m
        alertname: Down
        exp_alerts:
          - exp_labels: {job: x}
            exp_state: pending
    promql_expr_test:
      - {expr: up, eval_time: 1m, exp_samples: [{labels: 'up{job="x"}', value: 0}]}
)",
                              "t.yml");
  REQUIRE(f.has_value());
  CHECK(f->evaluation_interval_ms == 30'000);
  CHECK(f->fuzzy_compare);
  REQUIRE(f->tests.size() == 1);
  CHECK(f->tests[0].start_ms == 1704067200000);
  CHECK(f->tests[0].alert_rule_test[0].exp_alerts[0].state == "pending");
  CHECK(f->tests[0].promql_expr_test[0].exp_samples[0].labels == "up{job=\"x\"}");

  auto bad = load_unittest_text("tests:\n  - name: t\n    intervall: 1m\n", "t.yml");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().front().to_string() == "t.yml:3:5: field intervall not found in type main.testGroup");
  auto relaxed = load_unittest_text("tests:\n  - name: t\n    intervall: 1m\n", "t.yml",
                                    UnitTestLoadOptions{true});
  CHECK(relaxed.has_value());
  auto dup = load_unittest_text("group_eval_order: [a, a]\n", "t.yml");
  REQUIRE_FALSE(dup.has_value());
  CHECK(dup.error().front().message == "group name repeated in evaluation order: a");
}

TEST_CASE("start timestamps accept RFC3339 and Unix seconds") {
  CHECK(parse_timestamp("1609459200") == 1609459200000);
  CHECK(parse_timestamp("1.5") == 1500);
  CHECK(parse_timestamp("2024-01-01T00:00:00Z") == 1704067200000);
  CHECK(parse_timestamp("2024-01-01T01:00:00.250+01:00") == 1704067200250);
  CHECK_FALSE(parse_timestamp("yesterday").has_value());
  CHECK_FALSE(parse_timestamp("2024-13-01T00:00:00Z").has_value());
}
