# `ruleeval lint` on promtool's features.yml (Prometheus 3.x experimental PromQL: sort_by_label,
# duration expressions, anchored range selectors, binop fill modifiers). Same verdicts as
# `promtool check rules`: 0 with the four --enable-feature flags, 1 without them.
set(_features_yml ${RULEEVAL_SHARED_DIR}/conformance/promtool/features.yml)
if(EXISTS ${_features_yml})
  add_test(NAME "lint: features.yml passes with the experimental PromQL feature flags"
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh 0 $<TARGET_FILE:ruleeval> lint
                   --enable-feature=promql-experimental-functions
                   --enable-feature=promql-duration-expr
                   --enable-feature=promql-extended-range-selectors
                   --enable-feature=promql-binop-fill-modifiers
                   ${_features_yml})
  set_tests_properties("lint: features.yml passes with the experimental PromQL feature flags"
                       PROPERTIES LABELS conformance FAIL_REGULAR_EXPRESSION "expect_exit: wanted")
  add_test(NAME "lint: features.yml fails without the experimental PromQL feature flags"
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh 1 $<TARGET_FILE:ruleeval> lint
                   ${_features_yml})
  set_tests_properties("lint: features.yml fails without the experimental PromQL feature flags"
                       PROPERTIES LABELS conformance
                       FAIL_REGULAR_EXPRESSION "expect_exit: wanted"
                       PASS_REGULAR_EXPRESSION "must be enabled with --enable-feature")
endif()

# Each experimental PromQL feature has its own flag, as in Prometheus: the rule file using only
# that feature passes with its flag, and fails (naming the flag, or as Prometheus says it for a
# function: `function "info" is not enabled`) with any other.
set(_feat ${CMAKE_CURRENT_SOURCE_DIR}/testdata/rules/features)
foreach(_case "extended_range.yml|promql-extended-range-selectors|promql-experimental-functions"
              "fill.yml|promql-binop-fill-modifiers|promql-extended-range-selectors"
              "info.yml|promql-experimental-functions|promql-binop-fill-modifiers")
  string(REPLACE "|" ";" _parts "${_case}")
  list(GET _parts 0 _file)
  list(GET _parts 1 _flag)
  list(GET _parts 2 _other)
  add_test(NAME "lint: ${_file} passes with --enable-feature=${_flag}"
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh 0 $<TARGET_FILE:ruleeval> lint
                   --enable-feature=${_flag} ${_feat}/${_file})
  set_tests_properties("lint: ${_file} passes with --enable-feature=${_flag}"
                       PROPERTIES LABELS cli FAIL_REGULAR_EXPRESSION "expect_exit: wanted")
  add_test(NAME "lint: ${_file} fails with only --enable-feature=${_other}"
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh 1 $<TARGET_FILE:ruleeval> lint
                   --enable-feature=${_other} ${_feat}/${_file})
  set_tests_properties("lint: ${_file} fails with only --enable-feature=${_other}"
                       PROPERTIES LABELS cli FAIL_REGULAR_EXPRESSION "expect_exit: wanted"
                       PASS_REGULAR_EXPRESSION
                       "must be enabled with --enable-feature=${_flag}|function \"info\" is not enabled")
endforeach()
