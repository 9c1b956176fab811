# `ruleeval replay`'s alert-fatigue report against a real Prometheus backfilled with promtool.
add_test(NAME "replay: fatigue report counts, what-if and HTML against a backfilled Prometheus"
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/replay_report_test.py $<TARGET_FILE:ruleeval>)
set_tests_properties("replay: fatigue report counts, what-if and HTML against a backfilled Prometheus"
                     PROPERTIES LABELS integration TIMEOUT 180 SKIP_RETURN_CODE 77)
add_test(NAME "lint: online checks (--datasource) against a real Prometheus"
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/lint_online_test.py $<TARGET_FILE:ruleeval>)
set_tests_properties("lint: online checks (--datasource) against a real Prometheus"
                     PROPERTIES LABELS integration TIMEOUT 180 SKIP_RETURN_CODE 77)

# Usage errors of the report flags: a clear message and exit 2, never a crash.
foreach(_case "bogus=1;unknown key \"bogus\"" "for=5x;is not a duration" "for=5m,;empty value"
              "threshold=abc;is not a number")
  list(GET _case 0 _arg)
  list(GET _case 1 _msg)
  add_test(NAME "replay: --what-if ${_arg} is refused"
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh 2 $<TARGET_FILE:ruleeval> replay
                   --config ${CMAKE_SOURCE_DIR}/examples/demo/ruleeval.yaml --from -5m --what-if ${_arg})
  set_tests_properties("replay: --what-if ${_arg} is refused" PROPERTIES LABELS cli
                       PASS_REGULAR_EXPRESSION "${_msg}" FAIL_REGULAR_EXPRESSION "expect_exit: wanted")
endforeach()
add_test(NAME "replay: an invalid --rule regex is refused"
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh 2 $<TARGET_FILE:ruleeval> replay
                 --config ${CMAKE_SOURCE_DIR}/examples/demo/ruleeval.yaml --from -5m --rule "(")
set_tests_properties("replay: an invalid --rule regex is refused" PROPERTIES LABELS cli
                     PASS_REGULAR_EXPRESSION "--rule" FAIL_REGULAR_EXPRESSION "expect_exit: wanted")
add_test(NAME "replay: the demo's summary JSON and HTML report are written"
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh 0 $<TARGET_FILE:ruleeval> replay
                 --config ${CMAKE_SOURCE_DIR}/examples/demo/ruleeval.yaml --from -30m --quiet
                 --no-alert-lines --what-if for=0s,10m --summary-json /dev/null --report /dev/null)
set_tests_properties("replay: the demo's summary JSON and HTML report are written" PROPERTIES
                     LABELS cli PASS_REGULAR_EXPRESSION "for=10m" FAIL_REGULAR_EXPRESSION "expect_exit: wanted")
