# `ruleeval test` on promtool's rule unit-test fixtures: the same verdicts as promtool v3.14
# (../shared/conformance/promtool/README.md, table "promtool test rules FILE").
set(_fx "${RULEEVAL_SHARED_DIR}/conformance/promtool")
set(_expect "${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh")

function(ruleeval_promtool_case name code)
  add_test(NAME "promtool test: ${name}" COMMAND ${_expect} ${code} $<TARGET_FILE:ruleeval> test ${ARGN})
  set_tests_properties("promtool test: ${name}" PROPERTIES LABELS conformance)
endfunction()

ruleeval_promtool_case(long-period 0 ${_fx}/long-period.yml)
ruleeval_promtool_case(no-test-group-interval 0 ${_fx}/no-test-group-interval.yml)
ruleeval_promtool_case(start-time-test 0 ${_fx}/start-time-test.yml)
ruleeval_promtool_case(at-modifier-test 0 ${_fx}/at-modifier-test.yml)
ruleeval_promtool_case(negative-offset-test 0 ${_fx}/negative-offset-test.yml)
ruleeval_promtool_case(failing 1 ${_fx}/failing.yml)
ruleeval_promtool_case(bad-input-series 1 ${_fx}/bad-input-series.yml)
ruleeval_promtool_case(bad-promql 1 ${_fx}/bad-promql.yml)
ruleeval_promtool_case(bad-rules-syntax-test 1 ${_fx}/bad-rules-syntax-test.yml)
ruleeval_promtool_case(bad-rules-error-test 1 ${_fx}/bad-rules-error-test.yml)
ruleeval_promtool_case(rules_run 1 ${_fx}/rules_run.yml)
ruleeval_promtool_case(rules_run-correct-and-wrong 1 --run correct --run wrong ${_fx}/rules_run.yml)
ruleeval_promtool_case(rules_run-correct 0 --run correct ${_fx}/rules_run.yml)
ruleeval_promtool_case(rules_run-wrong 1 --run wrong ${_fx}/rules_run.yml)
ruleeval_promtool_case(rules_run_extrafields-ignored 0 --ignore-unknown-fields ${_fx}/rules_run_extrafields.yml)
ruleeval_promtool_case(rules_run_extrafields-strict 1 ${_fx}/rules_run_extrafields.yml)
ruleeval_promtool_case(rules_run_no_fuzzy 1 ${_fx}/rules_run_no_fuzzy.yml)
ruleeval_promtool_case(rules_run_fuzzy-correct 0 --run correct ${_fx}/rules_run_fuzzy.yml)
ruleeval_promtool_case(rules_run_fuzzy-wrong 1 --run wrong ${_fx}/rules_run_fuzzy.yml)
# Not listed: unittest.yml (promtool: 0) needs native histograms in input_series and exp_samples,
# which the embedded store does not keep yet (see the closing notes of the engine issue).
