# `ruleeval lint --routes`: the route tree is checked against the alerting rules.
set(_rt "${RULEEVAL_TESTDATA_DIR}/routes")
add_test(NAME "lint --routes: undefined receiver fails, unrouted alerts are reported"
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh 1 $<TARGET_FILE:ruleeval> lint
                 --routes ${_rt}/ruleeval.yaml ${_rt}/rules.yaml)
set_tests_properties("lint --routes: undefined receiver fails, unrouted alerts are reported" PROPERTIES
  LABELS cli
  FAIL_REGULAR_EXPRESSION "expect_exit: wanted"
  PASS_REGULAR_EXPRESSION "undefined receiver \"dba\" \\[routes/receiver\\]")
add_test(NAME "lint --routes: the demo's route tree is clean"
         COMMAND $<TARGET_FILE:ruleeval> lint --fail-on warning
                 --routes ${CMAKE_SOURCE_DIR}/examples/demo/ruleeval.yaml
                 ${CMAKE_SOURCE_DIR}/examples/demo/rules.yaml)
set_tests_properties("lint --routes: the demo's route tree is clean" PROPERTIES LABELS cli)
