# Grafana alert rules (issue 16): rule tests over a Grafana export, and the exports lint clean.
set(_ut "${RULEEVAL_TESTDATA_DIR}/unittest")
add_test(NAME "test: Grafana export rules (math, reduce, threshold, classic; NoData, Error, keepFiringFor)"
         COMMAND $<TARGET_FILE:ruleeval> test ${_ut}/grafana_tests.yaml)
add_test(NAME "lint: the Grafana export of the rule tests lints clean"
         COMMAND $<TARGET_FILE:ruleeval> lint --fail-on info ${_ut}/grafana_export.yaml)
add_test(NAME "lint: the demo's Grafana export lints clean"
         COMMAND $<TARGET_FILE:ruleeval> lint --fail-on info
                 ${CMAKE_SOURCE_DIR}/examples/demo/grafana_rules.yaml)
set_tests_properties(
  "test: Grafana export rules (math, reduce, threshold, classic; NoData, Error, keepFiringFor)"
  "lint: the Grafana export of the rule tests lints clean"
  "lint: the demo's Grafana export lints clean"
  PROPERTIES LABELS cli)

# Every Prometheus query of a Grafana rule is linted, not only the first.
set(_gd "${CMAKE_CURRENT_SOURCE_DIR}/testdata/grafana")
set(_gexpect ${CMAKE_CURRENT_SOURCE_DIR}/testdata/rules/expect_exit.cmake)
# grafana_cli_test(NAME EXPECT <rc> ARGS <args...> [MATCH re] [NOMATCH re])
function(grafana_cli_test name)
  cmake_parse_arguments(T "" "EXPECT;MATCH;NOMATCH" "ARGS" ${ARGN})
  string(REPLACE ";" "|" _args "${T_ARGS}")
  set(_defs -DCMD=$<TARGET_FILE:ruleeval>|${_args} -DEXPECT=${T_EXPECT})
  foreach(opt MATCH NOMATCH)
    if(DEFINED T_${opt})
      list(APPEND _defs "-D${opt}=${T_${opt}}")
    endif()
  endforeach()
  add_test(NAME "grafana: ${name}" COMMAND ${CMAKE_COMMAND} ${_defs} -P ${_gexpect})
  set_tests_properties("grafana: ${name}" PROPERTIES LABELS cli)
endfunction()
grafana_cli_test("PromQL checks run on the second query of a rule (rate window)"
                 EXPECT 1 ARGS lint --fail-on warning ${_gd}/multi_query_lint.yaml
                 MATCH "multi_query_lint.yaml:27:39: warning: rate\\(\\) over \\[30s\\][^\n]*promql/rate")
grafana_cli_test("PromQL checks run on the second query of a rule (regexp)"
                 EXPECT 1 ARGS lint --fail-on warning ${_gd}/multi_query_lint.yaml
                 MATCH "multi_query_lint.yaml:27:64: warning: unnecessary regexp match on a static string code=~\"500\"")
