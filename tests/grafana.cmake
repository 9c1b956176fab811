# Grafana alert rules (issue 16): rule tests over a Grafana export, and the exports lint clean.
set(_ut "${RULEEVAL_TESTDATA_DIR}/unittest")
add_test(NAME "test: Grafana export rules (math, reduce, threshold, classic; NoData, Error, keepFiringFor)"
         COMMAND $<TARGET_FILE:ruleeval> test ${_ut}/grafana_tests.yaml)
add_test(NAME "lint: the Grafana export of the rule tests lints clean"
         COMMAND $<TARGET_FILE:ruleeval> lint --fail-on info ${_ut}/grafana_export.yaml)
add_test(NAME "lint: the demo's Grafana export lints clean"
         COMMAND $<TARGET_FILE:ruleeval> lint --fail-on info
                 ${CMAKE_SOURCE_DIR}/examples/demo/grafana_rules.yaml)
set_tests_properties(
  "test: Grafana export rules (math, reduce, threshold, classic; NoData, Error, keepFiringFor)"
  "lint: the Grafana export of the rule tests lints clean"
  "lint: the demo's Grafana export lints clean"
  PROPERTIES LABELS cli)

# Every Prometheus query of a Grafana rule is linted, not only the first.
set(_gd "${CMAKE_CURRENT_SOURCE_DIR}/testdata/grafana")
ruleeval_lint_test("Grafana rule: PromQL checks run on the second query (rate window)" cli
                   EXPECT 1 ARGS --fail-on warning ${_gd}/multi_query_lint.yaml
                   MATCH "multi_query_lint.yaml:27:39: warning: rate\\(\\) over \\[30s\\][^\n]*promql/rate")
ruleeval_lint_test("Grafana rule: PromQL checks run on the second query (regexp)" cli
                   EXPECT 1 ARGS --fail-on warning ${_gd}/multi_query_lint.yaml
                   MATCH "multi_query_lint.yaml:27:64: warning: unnecessary regexp match on a static string code=~\"500\"")
