// `ruleeval test` for promtool's rule unit-test files (`promtool test rules`), with promtool v3's
// semantics and output, plus: a missing rule file is an error (promtool only warns), `exp_state:
// pending` asserts pending alerts, Grafana-like rules are testable, and failures show a diff.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace ruleeval::engine {

struct RuleUnitTestOptions {
  std::vector<std::string> run;  // --run REGEX (joined with |, unanchored) on test group names
  std::string junit_path;        // --junit FILE
  bool diff = false;             // --diff: print a unified-style diff of expected vs got alerts
  bool ignore_unknown_fields = false;
  bool debug = false;            // --debug: print every evaluated rule error and series count
  // --enable-feature=promql-experimental-functions (or promql-extended-range-selectors,
  // promql-duration-expr, promql-binop-fill-modifiers): experimental PromQL in rules and exprs.
  unsigned experimental_promql = 0;  // promql::PromqlFeature bits
  int promql_compat = 3;  // --promql-compat=2: Prometheus 2's closed range windows and lookback
};

struct RuleUnitTestSummary {
  int groups_passed = 0;
  int groups_failed = 0;
  int files_failed = 0;
  int files_not_loaded = 0;  // counted as one failure each
};

// Runs every file; prints promtool's report to `out` (progress) and `err` (failures).
// Exit code: 0 when every test passed, 1 otherwise.
int run_rule_unittests(const std::vector<std::string>& files, const RuleUnitTestOptions& opts,
                       std::ostream& out, std::ostream& err, RuleUnitTestSummary* summary = nullptr);

}  // namespace ruleeval::engine
