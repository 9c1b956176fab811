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
