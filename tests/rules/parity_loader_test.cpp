// Rule files in the shapes teams already have: empty mixin outputs, VictoriaMetrics VMRule
// objects (issue 10).
#include <doctest/doctest.h>

#include <string>

#include "ruleeval/rules/lint.hpp"
#include "ruleeval/rules/loader.hpp"
#include "ruleeval/rules/run_config.hpp"

using namespace ruleeval::rules;

namespace {

std::string all(const LoadResult& r) {
  std::string out;
  for (const auto& d : r.diagnostics) out += d.to_string() + "\n";
  return out;
}

}  // namespace

TEST_CASE("files promtool accepts with 0 rules load without diagnostics") {
  for (const char* text : {"{}\n", "", "groups: []\n", "groups: null\n", "groups:\n",
                           "# only a comment\n", "---\n---\n"}) {
    auto r = load_rules_text(text, "empty.yaml");
    CAPTURE(text);
    CHECK(r.diagnostics.empty());
    CHECK(r.file.rule_count() == 0);
  }
}

TEST_CASE("an unknown top-level key is still an error (as in promtool)") {
  auto r = load_rules_text("foo: 1\n", "f.yaml");
  CHECK(r.has_errors());
  CHECK(all(r).find("field foo not found") != std::string::npos);
}

TEST_CASE("a VMRule object is read like a PrometheusRule") {
  auto r = load_rules_text(R"(apiVersion: operator.victoriametrics.com/v1beta1
kind: VMRule
metadata: {name: x}
spec:
  groups:
    - name: g
      rules:
        - record: job:x:sum
          expr: sum by (job) (x)
        - alert: XHigh
          expr: job:x:sum > 1
)",
                           "vm.yaml");
  CHECK_MESSAGE(!r.has_errors(), all(r));
  CHECK(r.file.rule_count() == 2);
}

TEST_CASE("a MetricsQL-only function in a VMRule gets one error naming it, at its position") {
  auto r = load_rules_text(R"(apiVersion: operator.victoriametrics.com/v1beta1
kind: VMRule
metadata: {name: x}
spec:
  groups:
    - name: g
      rules:
        - alert: A
          expr: 'sum(rate(x[5m])) + range_median(y) > 1'
        - record: b
          expr: 'label_set(x, "a", "b")'
        - record: c
          expr: 'sum(x'
)",
                           "vm.yaml");
  int errors = 0;
  for (const auto& d : r.diagnostics) errors += d.severity == Severity::Error ? 1 : 0;
  CHECK(errors == 3);
  const std::string msgs = all(r);
  CHECK(msgs.find("vm.yaml:9:37: error: MetricsQL function range_median is not PromQL") !=
        std::string::npos);
  CHECK(msgs.find("MetricsQL function label_set is not PromQL") != std::string::npos);
  // Not a MetricsQL function: the ordinary parse error.
  CHECK(msgs.find("could not parse expression") != std::string::npos);
}

TEST_CASE("in a plain rule file a MetricsQL function is an ordinary unknown function") {
  auto r = load_rules_text("groups:\n- name: g\n  rules:\n  - record: a\n    expr: median(x)\n",
                           "f.yaml");
  CHECK(all(r).find("unknown function with name \"median\"") != std::string::npos);
}

TEST_CASE(".ruleeval.yaml enable_features turns on experimental PromQL, unknown names fail") {
  auto ok = parse_lint_config("enable_features: [promql-experimental-functions]\n", "c.yaml");
  REQUIRE(ok.has_value());
  CHECK(ok->experimental_promql);
  auto bad = parse_lint_config("enable_features: [promql-nope]\n", "c.yaml");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message.find("unknown feature \"promql-nope\"") != std::string::npos);
}

TEST_CASE("vmalert-only settings in a VMRule are refused by name") {
  auto r = load_rules_text(R"(apiVersion: operator.victoriametrics.com/v1beta1
kind: VMRule
metadata: {name: x}
spec:
  groups:
    - name: g
      concurrency: 2
      rules:
        - alert: A
          expr: up == 0
          debug: true
)",
                           "vm.yaml");
  const std::string msgs = all(r);
  CHECK(msgs.find("vm.yaml:7:7: error: line 7: vmalert's `concurrency` is not supported") !=
        std::string::npos);
  CHECK(msgs.find("vm.yaml:11:11: error: line 11: vmalert's `debug` is not supported") !=
        std::string::npos);
}

TEST_CASE("ruleeval.yaml enable_features turns on experimental PromQL for run and replay") {
  auto ok = parse_run_config("enable_features: [promql-experimental-functions]\n"
                             "datasources: {local: {type: embedded}}\n"
                             "rule_files: [rules.yaml]\n",
                             "/etc/ruleeval/ruleeval.yaml");
  REQUIRE(ok.has_value());
  CHECK(ok->experimental_promql);
  auto off = parse_run_config("datasources: {local: {type: embedded}}\nrule_files: [rules.yaml]\n",
                              "/etc/ruleeval/ruleeval.yaml");
  REQUIRE(off.has_value());
  CHECK_FALSE(off->experimental_promql);
  auto bad = parse_run_config("enable_features: [nope]\n", "/etc/ruleeval/ruleeval.yaml");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().front().message.find("unknown feature \"nope\"") != std::string::npos);
}

TEST_CASE("braces in a recording rule name are an error, as in promtool 3") {
  // Found by the differential harness (rules case 9 of seed 11): ruleeval only warned.
  for (const char* name : {"job:x{a=\"b\"}", "job:x{", "x}"}) {
    std::string text = std::string("groups:\n- name: g\n  rules:\n  - record: '") + name +
                        "'\n    expr: up\n";
    auto diags = lint_text(text, "f.yaml", LoadOptions{}, LintConfig{});
    bool found = false;
    for (const auto& d : diags) {
      if (d.message.find("braces present in the recording rule name; should it be in expr?") !=
          std::string::npos) {
        found = d.severity == Severity::Error && d.where.line == 4 && d.where.col == 13;
      }
    }
    CAPTURE(name);
    CHECK(found);
  }
}
