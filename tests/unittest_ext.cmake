# `ruleeval test` beyond promtool: Grafana-like rules, exp_state: pending, diffs, JUnit.
set(_ut "${RULEEVAL_TESTDATA_DIR}/unittest")
add_test(NAME "test: Grafana-like rules and pending alerts in promtool's format"
         COMMAND $<TARGET_FILE:ruleeval> test ${_ut}/tests.yaml)
add_test(NAME "test: a failing alert test prints a diff"
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh 1 $<TARGET_FILE:ruleeval> test --diff ${_ut}/failing_diff.yaml)
set_tests_properties("test: a failing alert test prints a diff" PROPERTIES
  FAIL_REGULAR_EXPRESSION "expect_exit: wanted"
  PASS_REGULAR_EXPRESSION "diff \\(- expected, \\+ got\\):\n *- Labels:{alertname=\"ErrorsRising\", job=\"api\", severity=\"page\"}")
add_test(NAME "test: native histograms in input_series, exp_samples and recording rules"
         COMMAND $<TARGET_FILE:ruleeval> test ${_ut}/histograms.yaml)
add_test(NAME "test: PromQL over native histograms (rate, sum, histogram_quantile) in rule tests"
         COMMAND $<TARGET_FILE:ruleeval> test ${_ut}/histogram_functions.yaml)
add_test(NAME "test: --enable-feature enables experimental PromQL in rule tests"
         COMMAND $<TARGET_FILE:ruleeval> test --enable-feature=promql-experimental-functions ${_ut}/experimental.yaml)
add_test(NAME "test: experimental PromQL in a rule test without --enable-feature fails"
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh 1 $<TARGET_FILE:ruleeval> test ${_ut}/experimental.yaml)
set_tests_properties("test: experimental PromQL in a rule test without --enable-feature fails" PROPERTIES
  FAIL_REGULAR_EXPRESSION "expect_exit: wanted"
  PASS_REGULAR_EXPRESSION "experimental")
add_test(NAME "test: a failing histogram expectation prints both histograms"
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh 1 $<TARGET_FILE:ruleeval> test ${_ut}/failing_histogram.yaml)
set_tests_properties("test: a failing histogram expectation prints both histograms" PROPERTIES
  FAIL_REGULAR_EXPRESSION "expect_exit: wanted"
  PASS_REGULAR_EXPRESSION "exp: latency_seconds {{count:4 sum:5 counter_reset_hint:not_reset buckets:\\[3 1\\]}}\n *got: latency_seconds {{count:4 sum:4 counter_reset_hint:not_reset buckets:\\[3 1\\]}}")
add_test(NAME "test: --junit writes one testsuite per file with its test cases"
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/junit_check.sh $<TARGET_FILE:ruleeval>
                 ${CMAKE_CURRENT_BINARY_DIR}/junit.xml ${_ut}/tests.yaml)
set_tests_properties("test: Grafana-like rules and pending alerts in promtool's format"
                     "test: a failing alert test prints a diff"
                     "test: --junit writes one testsuite per file with its test cases"
                     "test: native histograms in input_series, exp_samples and recording rules"
                     "test: PromQL over native histograms (rate, sum, histogram_quantile) in rule tests"
                     "test: --enable-feature enables experimental PromQL in rule tests"
                     "test: experimental PromQL in a rule test without --enable-feature fails"
                     "test: a failing histogram expectation prints both histograms"
                     PROPERTIES LABELS cli)
# Anchored/smoothed range selectors in a rule test need their own flag, as in Prometheus.
add_test(NAME "test: --enable-feature=promql-extended-range-selectors evaluates anchored and smoothed"
         COMMAND $<TARGET_FILE:ruleeval> test --enable-feature=promql-extended-range-selectors
                 ${_ut}/extended_range.yaml)
add_test(NAME "test: anchored in a rule test with only promql-experimental-functions fails"
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh 1 $<TARGET_FILE:ruleeval> test
                 --enable-feature=promql-experimental-functions ${_ut}/extended_range.yaml)
set_tests_properties("test: anchored in a rule test with only promql-experimental-functions fails"
  PROPERTIES FAIL_REGULAR_EXPRESSION "expect_exit: wanted"
  PASS_REGULAR_EXPRESSION "must be enabled with --enable-feature=promql-extended-range-selectors")
set_tests_properties("test: --enable-feature=promql-extended-range-selectors evaluates anchored and smoothed"
                     "test: anchored in a rule test with only promql-experimental-functions fails"
                     PROPERTIES LABELS cli)
# __name__ removal as promtool 3 does it: at each function by default (promtool 2.42 agrees on
# both files), at the end of the query with --enable-feature=promql-delayed-name-removal.
add_test(NAME "test: __name__ is dropped at each function by default, as promtool 3 does"
         COMMAND $<TARGET_FILE:ruleeval> test ${_ut}/name_removal_default.yaml)
add_test(NAME "test: a name collision inside an expression is an error by default"
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh 1 $<TARGET_FILE:ruleeval> test
                 ${_ut}/name_removal_collision.yaml)
set_tests_properties("test: a name collision inside an expression is an error by default"
  PROPERTIES FAIL_REGULAR_EXPRESSION "expect_exit: wanted"
  PASS_REGULAR_EXPRESSION "vector cannot contain metrics with the same labelset")
add_test(NAME "test: --enable-feature=promql-delayed-name-removal keeps __name__ until the end"
         COMMAND $<TARGET_FILE:ruleeval> test --enable-feature=promql-delayed-name-removal
                 ${_ut}/name_removal_delayed.yaml ${_ut}/name_removal_collision.yaml)
set_tests_properties("test: __name__ is dropped at each function by default, as promtool 3 does"
                     "test: a name collision inside an expression is an error by default"
                     "test: --enable-feature=promql-delayed-name-removal keeps __name__ until the end"
                     PROPERTIES LABELS cli)
