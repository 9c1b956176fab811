// Grafana's provisioning interpolation in rule files: environment variables ($VAR, ${VAR},
// $__env{}) and $__file{} in the values Grafana interpolates (group name, folder, interval, rule
// uid, title, for, labels, notification settings, refIds), never in annotations or query models
// (their `{{ $labels.x }}` and `$__interval` stay), `$$` for a literal `$`; errors at file:line:col.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "ruleeval/rules/loader.hpp"

using namespace ruleeval::rules;

namespace {

std::string label(const std::vector<KeyValue>& kvs, const std::string& key) {
  for (const auto& kv : kvs) {
    if (kv.key == key) return kv.value.value;
  }
  return "<absent>";
}

}  // namespace

TEST_CASE("Grafana rule files: interpolated values, raw annotations and query models") {
  // NOLINTBEGIN(concurrency-mt-unsafe): the tests run on one thread
  ::setenv("RULEEVAL_T_FOLDER", "Payments", 1);
  ::setenv("RULEEVAL_T_ENV", "prod", 1);
  ::setenv("RULEEVAL_T_FOR", "5m", 1);
  // NOLINTEND(concurrency-mt-unsafe)
  const std::string text = R"(apiVersion: 1
groups:
  - orgId: 1
    name: checkout-${RULEEVAL_T_ENV}
    folder: $RULEEVAL_T_FOLDER
    interval: 1m
    rules:
      - uid: checkout-errors-$RULEEVAL_T_ENV
        title: CheckoutErrors ($RULEEVAL_T_ENV)
        condition: C
        data:
          - refId: A
            relativeTimeRange: {from: 600, to: 0}
            datasourceUid: prom
            model: {expr: 'sum(rate(http_errors_total{env="$RULEEVAL_T_ENV"}[5m]))', instant: true, refId: A}
          - refId: C
            datasourceUid: __expr__
            model:
              type: threshold
              expression: $A
              conditions: [{evaluator: {type: gt, params: [1]}}]
              refId: C
        for: $__env{RULEEVAL_T_FOR}
        annotations:
          summary: '{{ $labels.env }} has {{ $values.A }} errors/s'
        labels:
          env: $RULEEVAL_T_ENV
          price: '$$5'
          owner: 'team-{{ $$labels.team }}'
)";
  LoadResult r = load_rules_text(text, "rules.yaml");
  for (const auto& d : r.diagnostics) CAPTURE(d.to_string());
  REQUIRE_FALSE(r.has_errors());
  REQUIRE(r.file.groups.size() == 1);
  const RuleGroup& g = r.file.groups[0];
  CHECK(g.name == "checkout-prod");
  CHECK(g.grafana_folder == "Payments");
  REQUIRE(g.rules.size() == 1);
  const Rule& rule = g.rules[0];
  CHECK(rule.name == "CheckoutErrors (prod)");
  REQUIRE(rule.grafana);
  CHECK(rule.grafana->uid == "checkout-errors-prod");
  CHECK(rule.for_.ms == 5 * 60'000);
  CHECK(label(rule.labels, "env") == "prod");
  CHECK(label(rule.labels, "price") == "$5");
  CHECK(label(rule.labels, "owner") == "team-{{ $labels.team }}");
  // Annotations and the query model keep their text.
  CHECK(label(rule.annotations, "summary") == "{{ $labels.env }} has {{ $values.A }} errors/s");
  CHECK(rule.grafana->query.value.find("env=\"$RULEEVAL_T_ENV\"") != std::string::npos);
}

TEST_CASE("Grafana rule files: an unreadable $__file{} is an error at its value") {
  const std::string missing =
      (std::filesystem::temp_directory_path() / "ruleeval_no_such_title_file").string();
  const std::string text = "apiVersion: 1\ngroups:\n  - orgId: 1\n    name: g\n    folder: f\n"
                           "    interval: 1m\n    rules:\n      - uid: u\n        title: $__file{" +
                           missing + "}\n        condition: A\n        data: []\n";
  LoadResult r = load_rules_text(text, "rules.yaml");
  REQUIRE(r.has_errors());
  bool found = false;
  for (const auto& d : r.diagnostics) {
    if (d.to_string().starts_with("rules.yaml:9:16: error: $__file{" + missing + "}")) found = true;
  }
  for (const auto& d : r.diagnostics) CAPTURE(d.to_string());
  CHECK(found);
}
