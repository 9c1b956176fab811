# `ruleeval replay`'s alert-fatigue report against a real Prometheus backfilled with promtool.
add_test(NAME "replay: fatigue report counts, what-if and HTML against a backfilled Prometheus"
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/replay_report_test.py $<TARGET_FILE:ruleeval>)
set_tests_properties("replay: fatigue report counts, what-if and HTML against a backfilled Prometheus"
                     PROPERTIES LABELS integration TIMEOUT 180 SKIP_RETURN_CODE 77)
add_test(NAME "lint: online checks (--datasource) against a real Prometheus"
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/lint_online_test.py $<TARGET_FILE:ruleeval>)
set_tests_properties("lint: online checks (--datasource) against a real Prometheus"
                     PROPERTIES LABELS integration TIMEOUT 180 SKIP_RETURN_CODE 77)
