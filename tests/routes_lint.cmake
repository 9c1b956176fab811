# `ruleeval lint --routes`: the route tree is checked against the alerting rules.
set(_rt "${RULEEVAL_TESTDATA_DIR}/routes")
add_test(NAME "lint --routes: undefined receiver fails, unrouted alerts are reported"
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh 1 $<TARGET_FILE:ruleeval> lint
                 --routes ${_rt}/ruleeval.yaml ${_rt}/rules.yaml)
set_tests_properties("lint --routes: undefined receiver fails, unrouted alerts are reported" PROPERTIES
  LABELS cli
  FAIL_REGULAR_EXPRESSION "expect_exit: wanted"
  PASS_REGULAR_EXPRESSION "undefined receiver \"dba\" used in route \\[routes/receiver\\]")
add_test(NAME "lint --routes: the demo's route tree is clean"
         COMMAND $<TARGET_FILE:ruleeval> lint --fail-on warning
                 --routes ${CMAKE_SOURCE_DIR}/examples/demo/ruleeval.yaml
                 ${CMAKE_SOURCE_DIR}/examples/demo/rules.yaml)
set_tests_properties("lint --routes: the demo's route tree is clean" PROPERTIES LABELS cli)

# An unchanged alertmanager.yml is accepted by --routes, and checked like amtool checks it.
set(_am "${RULEEVAL_TESTDATA_DIR}/amconfig")
add_test(NAME "lint --routes: an alertmanager.yml routes the rules"
         COMMAND $<TARGET_FILE:ruleeval> lint --routes ${_am}/good/simple_email_pagerduty_v1.yml
                 ${_rt}/rules.yaml)
set_tests_properties("lint --routes: an alertmanager.yml routes the rules" PROPERTIES
  LABELS cli
  PASS_REGULAR_EXPRESSION "only the default receiver \"ops-mails\" gets it \\[routes/default-only\\]")
add_test(NAME "lint --routes: a broken alertmanager.yml names the problem and its line"
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh 1 $<TARGET_FILE:ruleeval> lint
                 --routes ${_am}/bad/weekday_bad.yml ${_rt}/rules.yaml)
set_tests_properties("lint --routes: a broken alertmanager.yml names the problem and its line"
  PROPERTIES LABELS cli
  FAIL_REGULAR_EXPRESSION "expect_exit: wanted"
  PASS_REGULAR_EXPRESSION "weekday_bad.yml:9:20: error: .*notaday is not a valid weekday")
add_test(NAME "run --check-config: alertmanager_config_file excludes the inline blocks"
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh 2 $<TARGET_FILE:ruleeval> run
                 --check-config --config ${_am}/ruleeval_with_both.yaml)
set_tests_properties("run --check-config: alertmanager_config_file excludes the inline blocks"
  PROPERTIES LABELS cli
  FAIL_REGULAR_EXPRESSION "expect_exit: wanted"
  PASS_REGULAR_EXPRESSION "route: cannot be combined with alertmanager_config_file")
