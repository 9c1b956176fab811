# `ruleeval lint` CLI tests. Label `conformance`: the same pass/fail verdict as
# `promtool check rules` (v3.14) on every rule fixture of ../shared/conformance/promtool (see its
# README). Label `cli`: output formats, exit codes, directories, globs, stdin.
set(_lint_expect ${CMAKE_CURRENT_SOURCE_DIR}/testdata/rules/expect_exit.cmake)
set(_promtool_dir ${RULEEVAL_SHARED_DIR}/conformance/promtool)

# ruleeval_lint_test(NAME LABEL EXPECT <rc> ARGS <args...> [MATCH re] [NOMATCH re] [INPUT f] [WORKDIR d])
function(ruleeval_lint_test name label)
  cmake_parse_arguments(T "" "EXPECT;MATCH;NOMATCH;INPUT;WORKDIR" "ARGS" ${ARGN})
  string(REPLACE ";" "|" _args "${T_ARGS}")
  set(_defs -DCMD=$<TARGET_FILE:ruleeval>|lint|${_args} -DEXPECT=${T_EXPECT})
  foreach(opt MATCH NOMATCH INPUT WORKDIR)
    if(DEFINED T_${opt})
      list(APPEND _defs "-D${opt}=${T_${opt}}")
    endif()
  endforeach()
  add_test(NAME "lint: ${name}" COMMAND ${CMAKE_COMMAND} ${_defs} -P ${_lint_expect})
  set_tests_properties("lint: ${name}" PROPERTIES LABELS ${label})
endfunction()

if(EXISTS ${_promtool_dir}/rules.yml)
  # promtool check rules: exit 0 (success, lint problems are warnings) or 1 (errors).
  foreach(pair
      "rules.yml=0" "rules-bad.yml=1" "prometheus-rules.lint.yml=0" "rules_duplicates.yml=0"
      "rules_large.yml=0" "features.yml=1" "rules_extrafields.yml=1" "bad-rules-syntax.yml=1"
      "bad-rules-error.yml=0" "at-modifier.yml=0" "negative-offset.yml=0"
      "prometheus-config.rules.good.yml=0")
    string(REPLACE "=" ";" kv ${pair})
    list(GET kv 0 file)
    list(GET kv 1 rc)
    ruleeval_lint_test("promtool parity ${file}" conformance EXPECT ${rc}
                       ARGS ${_promtool_dir}/${file})
  endforeach()
  ruleeval_lint_test("promtool parity rules-bad.yml names the template error" conformance
                     EXPECT 1 ARGS ${_promtool_dir}/rules-bad.yml
                     MATCH "rules-bad.yml:12:[0-9]+: error: annotation \"summary\": template: __alert_InstanceDown:1:[^\n]*label[^\n]*alerts/template")
  ruleeval_lint_test("promtool parity bad-rules-syntax.yml names the PromQL error" conformance
                     EXPECT 1 ARGS ${_promtool_dir}/bad-rules-syntax.yml
                     MATCH "bad-rules-syntax.yml:7:[0-9]+: error: could not parse expression: [^\n]*unexpected end of input")
  # --lint-fatal makes promtool exit 3 on duplicates; ours is --fail-on warning.
  ruleeval_lint_test("promtool parity lint-fatal on prometheus-rules.lint.yml" conformance
                     EXPECT 1 ARGS --fail-on warning ${_promtool_dir}/prometheus-rules.lint.yml
                     MATCH "duplicate rule \"HighRequestLatency\"")
  ruleeval_lint_test("promtool parity duplicates are the one promtool lists" conformance
                     EXPECT 0 ARGS --format json ${_promtool_dir}/rules_duplicates.yml
                     MATCH "rule/duplicate\",\"message\":\"duplicate rule \\\\\"job:test:count_over_time1m\\\\\""
                     NOMATCH "duplicate rule \\\\\"(fixed_data|suquery_interval_test)")
  ruleeval_lint_test("promtool parity rules_extrafields.yml with --ignore-unknown-fields"
                     conformance EXPECT 0
                     ARGS --ignore-unknown-fields ${_promtool_dir}/rules_extrafields.yml)
  # features.yml with the feature flags passes promtool v3.14; our PromQL parser does not have
  # duration expressions, `anchored` or `fill()` yet, so only the experimental-function part is
  # tested (testdata/rules/experimental.yml below).
  ruleeval_lint_test("promtool parity rules.yml from stdin" conformance EXPECT 0 ARGS -
                     INPUT ${_promtool_dir}/rules.yml)
  ruleeval_lint_test("promtool parity rules-bad.yml from stdin" conformance EXPECT 1 ARGS -
                     INPUT ${_promtool_dir}/rules-bad.yml MATCH "<stdin>:12:")
endif()

set(_checks ${CMAKE_CURRENT_SOURCE_DIR}/testdata/rules/checks)
ruleeval_lint_test("experimental functions need --enable-feature" cli EXPECT 1
                   ARGS ${CMAKE_CURRENT_SOURCE_DIR}/testdata/rules/experimental.yml
                   MATCH "promql/syntax")
ruleeval_lint_test("experimental functions parse with --enable-feature" cli EXPECT 0
                   ARGS --enable-feature=promql-experimental-functions
                        ${CMAKE_CURRENT_SOURCE_DIR}/testdata/rules/experimental.yml)
ruleeval_lint_test("the bundled examples are clean" cli EXPECT 0
                   ARGS ${CMAKE_SOURCE_DIR}/examples/rules/ MATCH "no problems in 4 files|info")
# `--config /dev/null` (no lint config, as the differential harness and scripts pass it) is read
# as an empty file, not refused as a device.
ruleeval_lint_test("--config /dev/null is an empty lint config" cli EXPECT 0
                   ARGS --config /dev/null ${CMAKE_SOURCE_DIR}/examples/rules/
                   NOMATCH "cannot read config file")
ruleeval_lint_test("text output has file:line:col, the source line and a caret" cli EXPECT 1
                   ARGS ${_checks}/promql_syntax/bad.yml
                   MATCH "bad.yml:5:[0-9]+: error: could not parse expression: [^\n]*\\[promql/syntax\\]\n 5 \\|         expr: 'test \\+'\n   \\| +\\^")
ruleeval_lint_test("json output" cli EXPECT 1 ARGS --format json ${_checks}/yaml_parse/bad.yml
                   MATCH "\"line\":7,\"column\":9,\"severity\":\"error\",\"check\":\"yaml/parse\"")
ruleeval_lint_test("github output" cli EXPECT 1 ARGS --format github ${_checks}/yaml_parse/bad.yml
                   MATCH "::error file=[^,]*bad.yml,line=7,col=9,title=yaml/parse::")
ruleeval_lint_test("sarif output" cli EXPECT 1 ARGS --format sarif ${_checks}/yaml_parse/bad.yml
                   MATCH "\"version\":\"2.1.0\".*\"ruleId\":\"yaml/parse\"")
ruleeval_lint_test("checkstyle output" cli EXPECT 1 ARGS --format checkstyle
                   ${_checks}/yaml_parse/bad.yml MATCH "<checkstyle version=\"4.3\">.*source=\"ruleeval.yaml/parse\"")
ruleeval_lint_test("warnings pass unless --fail-on warning" cli EXPECT 0
                   ARGS ${_checks}/alerts_for/bad.yml MATCH "warning")
ruleeval_lint_test("--fail-on warning fails on warnings" cli EXPECT 1
                   ARGS --fail-on warning ${_checks}/alerts_for/bad.yml)
ruleeval_lint_test("a directory lints every yml file and a broken file does not stop the others"
                   cli EXPECT 1 ARGS ${_checks}/yaml_parse
                   MATCH "bad.yml:7:9: error.*2 files")
ruleeval_lint_test("globs expand" cli EXPECT 0 ARGS "${_checks}/alerts_for/*.yml"
                   MATCH "2 files")
ruleeval_lint_test("a missing path is an I/O error" cli EXPECT 2
                   ARGS ${_checks}/no-such-file.yml MATCH "no such file")
ruleeval_lint_test("a glob matching nothing is an I/O error" cli EXPECT 2
                   ARGS "${_checks}/*.nothing" MATCH "no files match")
ruleeval_lint_test("an unknown format is a usage error" cli EXPECT 2
                   ARGS --format xml ${_checks}/alerts_for/good.yml)
ruleeval_lint_test("a config disables checks" cli EXPECT 0
                   ARGS --config ${_checks}/../lint_config_disable.yaml ${_checks}/rule_format/bad.yml
                   NOMATCH "rule/format")
ruleeval_lint_test("a broken config is a usage error with its position" cli EXPECT 2
                   ARGS --config ${_checks}/../lint_config_broken.yaml ${_checks}/alerts_for/good.yml
                   MATCH "lint_config_broken.yaml:3:[0-9]+: unknown check \"alerts/nope\"")
ruleeval_lint_test("list checks" cli EXPECT 0 ARGS --list-checks MATCH "alerts/template")
