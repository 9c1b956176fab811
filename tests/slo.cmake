# `ruleeval slo`: golden outputs (rule for rule, byte for byte), validation errors with
# file:line:col, in-process generated tests; the promtool round trip is in tests/integration.
set(_slo "${CMAKE_CURRENT_SOURCE_DIR}/testdata/slo")
set(_slo_golden "${CMAKE_CURRENT_SOURCE_DIR}/slo_golden.sh")
set(_slo_expect "${CMAKE_CURRENT_SOURCE_DIR}/slo_expect.sh")

function(ruleeval_slo_golden name)
  add_test(NAME "slo golden: ${name}"
           COMMAND ${_slo_golden} ${_slo}/golden/${name}.yml $<TARGET_FILE:ruleeval> slo generate ${ARGN}
           WORKING_DIRECTORY ${_slo})
  set_tests_properties("slo golden: ${name}" PROPERTIES LABELS cli)
endfunction()

function(ruleeval_slo_case name code regex)
  add_test(NAME "slo: ${name}" COMMAND ${_slo_expect} ${code} ${regex} $<TARGET_FILE:ruleeval> slo ${ARGN}
           WORKING_DIRECTORY ${_slo})
  set_tests_properties("slo: ${name}" PROPERTIES LABELS cli)
endfunction()

ruleeval_slo_golden(events -i specs/events.yaml)
ruleeval_slo_golden(events-28d -i specs/events.yaml --default-slo-period 28d)
ruleeval_slo_golden(events-7d -i specs/events.yaml --default-slo-period 7d)
ruleeval_slo_golden(events-custom-windows -i specs/events.yaml --slo-period-windows-path windows)
ruleeval_slo_golden(events-extra-labels -i specs/events.yaml -l env=prod -l region=eu-west-1)
ruleeval_slo_golden(events-no-alerts -i specs/events.yaml --disable-alerts)
ruleeval_slo_golden(events-no-recordings -i specs/events.yaml --disable-recordings)
ruleeval_slo_golden(k8s -i specs/k8s.yaml)
ruleeval_slo_golden(openslo -i specs/openslo.yaml)

ruleeval_slo_case(validate-good 0 "1 file\\(s\\), 2 SLO\\(s\\) valid" validate -i specs/events.yaml)
ruleeval_slo_case(validate-plugin 1 "bad/plugin.yaml:8:9: plugin SLIs are not supported" validate -i bad/plugin.yaml)
ruleeval_slo_case(validate-unknown-key 1 "bad/objective.yaml:12:7: unknown field \"pager_alert\" in alerting"
                  validate -i bad/objective.yaml)
ruleeval_slo_case(validate-objective 1 "bad/objective.yaml:4:5: objective must be > 0 and <= 100"
                  validate -i bad/objective.yaml)
ruleeval_slo_case(validate-pyrra 0 "1 SLO\\(s\\) valid" validate -i specs/pyrra.yaml)
ruleeval_slo_case(unknown-period 1 "the 90d SLO period time window is not supported"
                  generate -i specs/events.yaml --default-slo-period 90d)
ruleeval_slo_case(bad-windows 1 "inverted.yaml:6:12: invalid page quick: the short window must be shorter"
                  generate -i specs/events.yaml --slo-period-windows-path badwindows)
ruleeval_slo_case(test-events 0 "26 passed, 0 failed" test -i specs/events.yaml)
ruleeval_slo_case(test-custom-windows 0 "26 passed, 0 failed" test -i specs/events.yaml --slo-period-windows-path windows)
ruleeval_slo_case(test-k8s 0 "9 passed, 0 failed" test -i specs/k8s.yaml)

# COST (here and on the other long integration tests): a fresh CI machine has no timing history,
# so the longest tests say how long they take and ctest starts them first rather than last.
add_test(NAME "slo: promtool round trip and mutations"
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/slo_promtool_test.py $<TARGET_FILE:ruleeval> ${_slo})
set_tests_properties("slo: promtool round trip and mutations" PROPERTIES LABELS integration TIMEOUT 1800
                     COST 140)

ruleeval_slo_golden(pyrra-ratio -i specs/pyrra.yaml --style pyrra)
ruleeval_slo_golden(pyrra-latency -i specs/pyrra-latency.yaml --style pyrra)
ruleeval_slo_golden(pyrra-options -i specs/pyrra-options.yaml --style pyrra)
ruleeval_slo_golden(pyrra-no-recordings -i specs/pyrra.yaml --style pyrra --disable-recordings)
ruleeval_slo_case(pyrra-needs-style 1 "pyrra.yaml:2:1: Pyrra specs need --style pyrra" generate -i specs/pyrra.yaml)
ruleeval_slo_case(test-pyrra 0 "53 passed, 0 failed" test -i specs/pyrra-latency.yaml --style pyrra)
ruleeval_slo_case(test-pyrra-options 0 "18 passed, 0 failed" test -i specs/pyrra-options.yaml --style pyrra)
ruleeval_slo_case(test-openslo-no-alerts 0 "no burn-rate alerts to test" test -i specs/openslo.yaml)
ruleeval_slo_case(validate-promql 1 "bad/promql.yaml:4:4: sli error query is not valid PromQL: 1:16: unexpected end of input"
                  validate -i bad/promql.yaml)
ruleeval_slo_case(bad-extra-label 2 "invalid label name \"1bad\"" generate -i specs/events.yaml -l 1bad=x)
