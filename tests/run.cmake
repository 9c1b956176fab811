# `ruleeval run` end to end (embedded backend, HTTP API, file receiver).
add_test(NAME "run: alert lifecycle on the embedded backend"
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/run_lifecycle_test.py
                 $<TARGET_FILE:ruleeval> ${RULEEVAL_TESTDATA_DIR}/run)
set_tests_properties("run: alert lifecycle on the embedded backend" PROPERTIES LABELS integration TIMEOUT 120)
add_test(NAME "run: a closed standard output (SIGPIPE) fails only the file receiver writing to it, never the process"
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/run_sigpipe_test.py
                 $<TARGET_FILE:ruleeval> ${RULEEVAL_TESTDATA_DIR}/run)
set_tests_properties("run: a closed standard output (SIGPIPE) fails only the file receiver writing to it, never the process"
                     PROPERTIES LABELS integration TIMEOUT 120)
add_test(NAME "run: --check-config accepts the bundled demo"
         COMMAND $<TARGET_FILE:ruleeval> run --check-config --config ${CMAKE_SOURCE_DIR}/examples/demo/ruleeval.yaml)
set_tests_properties("run: --check-config accepts the bundled demo" PROPERTIES LABELS cli)
add_test(NAME "run: kill -9 and restart keep a firing alert without a second page"
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/run_restart_test.py
                 $<TARGET_FILE:ruleeval> ${RULEEVAL_TESTDATA_DIR}/run)
set_tests_properties("run: kill -9 and restart keep a firing alert without a second page"
                     PROPERTIES LABELS integration TIMEOUT 120)
add_test(NAME "run: against a real VictoriaMetrics, with remote write"
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/run_backend_test.py $<TARGET_FILE:ruleeval>)
set_tests_properties("run: against a real VictoriaMetrics, with remote write"
                     PROPERTIES LABELS integration TIMEOUT 120 SKIP_RETURN_CODE 77)
add_test(NAME "replay: alert states equal a real Prometheus's ALERTS at the same evaluation times"
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/replay_vs_prometheus_test.py $<TARGET_FILE:ruleeval>)
set_tests_properties("replay: alert states equal a real Prometheus's ALERTS at the same evaluation times"
                     PROPERTIES LABELS integration TIMEOUT 180 SKIP_RETURN_CODE 77 COST 45)
add_test(NAME "notify: a page waiting for a down receiver survives kill -9 and arrives exactly once"
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/notify_crash_test.py
                 $<TARGET_FILE:ruleeval> ${RULEEVAL_TESTDATA_DIR}/run)
set_tests_properties("notify: a page waiting for a down receiver survives kill -9 and arrives exactly once"
                     PROPERTIES LABELS integration TIMEOUT 120)
add_test(NAME "run: chaos (kill -9 at random and chosen moments) keeps the state seen and every page"
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/run_chaos_test.py $<TARGET_FILE:ruleeval>)
set_tests_properties("run: chaos (kill -9 at random and chosen moments) keeps the state seen and every page"
                     PROPERTIES LABELS integration TIMEOUT 240 SKIP_RETURN_CODE 77 COST 80)
add_test(NAME "run: hardening (check-config files, redaction, idle clients, deep JSON, state write failure, bounded SIGTERM)"
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/run_hardening_test.py $<TARGET_FILE:ruleeval>)
set_tests_properties("run: hardening (check-config files, redaction, idle clients, deep JSON, state write failure, bounded SIGTERM)"
                     PROPERTIES LABELS integration TIMEOUT 180)
add_test(NAME "run: POST /api/v2/silences answers as a real Alertmanager 0.25 (required createdBy, comment, ...)"
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/silences_am_parity_test.py
                 $<TARGET_FILE:ruleeval> ${RULEEVAL_TESTDATA_DIR}/run)
set_tests_properties("run: POST /api/v2/silences answers as a real Alertmanager 0.25 (required createdBy, comment, ...)"
                     PROPERTIES LABELS integration TIMEOUT 120 SKIP_RETURN_CODE 77)
add_test(NAME "run: SIGHUP storms and SIGTERM during start-up and reloads never kill it (every thread blocks them)"
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/run_signals_test.py $<TARGET_FILE:ruleeval>)
# About 70 s in CI's coverage build (20,000 rules loaded four times and reloaded at -O0): started
# early (COST), with room under load (TIMEOUT).
set_tests_properties("run: SIGHUP storms and SIGTERM during start-up and reloads never kill it (every thread blocks them)"
                     PROPERTIES LABELS integration TIMEOUT 300 COST 60)
