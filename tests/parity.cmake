# promtool parity on files in the shapes teams already have (issue 10). Where promtool 2.42 has
# the behaviour, the test runs it on the same input and both must give the same exit code.
set(_p "${RULEEVAL_TESTDATA_DIR}/parity")
set(_sv ${CMAKE_CURRENT_SOURCE_DIR}/same_verdict.sh)
set(_ee ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh)
set(_re $<TARGET_FILE:ruleeval>)
set(_parity_tests "")
macro(parity_test name)
  add_test(NAME "parity: ${name}" ${ARGN})
  list(APPEND _parity_tests "parity: ${name}")
endmacro()

foreach(f empty_object empty_document groups_empty groups_null comment_only)
  parity_test("empty rule file ${f} has 0 rules, like promtool"
    COMMAND ${_sv} 0 -- ${_re} lint --fail-on error ${_p}/empty/${f}.yaml
                  -- promtool check rules ${_p}/empty/${f}.yaml)
  parity_test("check rules ${f}"
    COMMAND ${_sv} 0 -- ${_re} check rules ${_p}/empty/${f}.yaml
                  -- promtool check rules ${_p}/empty/${f}.yaml)
endforeach()
parity_test("exp_samples labels: {}, name{}, {__name__=...}, trailing comma, empty string"
  COMMAND ${_sv} 0 -- ${_re} test ${_p}/labels/tests.yaml -- promtool test rules ${_p}/labels/tests.yaml)
parity_test("test rules alias with promtool's spelling"
  COMMAND ${_sv} 0 -- ${_re} test rules ${_p}/labels/tests.yaml ${_p}/rules_dir/payments_tests.yaml
                -- promtool test rules ${_p}/labels/tests.yaml ${_p}/rules_dir/payments_tests.yaml)
parity_test("check rules: a broken file exits 1 like promtool"
  COMMAND ${_sv} 1 -- ${_re} check rules ${_p}/rules_dir/payments.yaml ${_p}/rules_dir/payments_tests.yaml
                -- promtool check rules ${_p}/rules_dir/payments.yaml ${_p}/rules_dir/payments_tests.yaml)
parity_test("check rules: a missing file exits 1 like promtool"
  COMMAND ${_sv} 1 -- ${_re} check rules ${_p}/no-such-file.yaml
                -- promtool check rules ${_p}/no-such-file.yaml)
parity_test("check rules --lint-fatal: duplicate rules exit 3 like promtool"
  COMMAND ${_sv} 3 -- ${_re} check rules --lint-fatal ${RULEEVAL_SHARED_DIR}/conformance/promtool/prometheus-rules.lint.yml
                -- promtool check rules --lint-fatal ${RULEEVAL_SHARED_DIR}/conformance/promtool/prometheus-rules.lint.yml)
parity_test("check rules --lint=none: duplicates are not reported"
  COMMAND ${_sv} 0 -- ${_re} check rules --lint=none --lint-fatal ${RULEEVAL_SHARED_DIR}/conformance/promtool/prometheus-rules.lint.yml
                -- promtool check rules --lint=none --lint-fatal ${RULEEVAL_SHARED_DIR}/conformance/promtool/prometheus-rules.lint.yml)
# promtool's duplicate-rules lint, output byte for byte: each duplicated rule once (sorted by
# name, then labels), FAILED with no SUCCESS line, exit 0, or 3 with --lint-fatal.
set(_so ${CMAKE_CURRENT_SOURCE_DIR}/same_output.sh)
foreach(_flags "--lint=duplicate-rules" "--lint-fatal" "--lint=none")
  parity_test("check rules ${_flags} prints promtool's duplicate-rules lint"
    COMMAND ${_so} -- ${_re} check rules ${_flags} ${_p}/duplicates/rules.yaml ${_p}/rules_dir/payments.yaml
                  -- promtool check rules ${_flags} ${_p}/duplicates/rules.yaml ${_p}/rules_dir/payments.yaml)
endforeach()
parity_test("check rules prints promtool's SUCCESS line"
  COMMAND ${_re} check rules ${_p}/rules_dir/payments.yaml)
set_tests_properties("parity: check rules prints promtool's SUCCESS line" PROPERTIES
  PASS_REGULAR_EXPRESSION "Checking [^\n]*payments.yaml\n  SUCCESS: 1 rules found")

parity_test("lint DIR skips co-located rule-test files with an info line"
  COMMAND ${_re} lint --fail-on info ${_p}/rules_dir)
set_tests_properties("parity: lint DIR skips co-located rule-test files with an info line" PROPERTIES
  PASS_REGULAR_EXPRESSION "info: skipping [^\n]*payments_tests.yaml: a rule unit-test file"
  FAIL_REGULAR_EXPRESSION "error:")
parity_test("lint of a missing file is an error, not 'no problems in 0 files'"
  COMMAND ${_ee} 2 ${_re} lint ${_p}/no-such-file.yaml)
set_tests_properties("parity: lint of a missing file is an error, not 'no problems in 0 files'" PROPERTIES
  PASS_REGULAR_EXPRESSION "error: [^\n]*no-such-file.yaml: no such file or directory"
  FAIL_REGULAR_EXPRESSION "no problems;expect_exit: wanted")
parity_test("an unknown subcommand names itself"
  COMMAND ${_ee} 2 ${_re} chek rules x.yaml)
set_tests_properties("parity: an unknown subcommand names itself" PROPERTIES
  PASS_REGULAR_EXPRESSION "unknown command \"chek\""
  FAIL_REGULAR_EXPRESSION "expect_exit: wanted")

parity_test("test prints no diff without --diff"
  COMMAND ${_ee} 1 ${_re} test ${RULEEVAL_TESTDATA_DIR}/unittest/failing_diff.yaml)
set_tests_properties("parity: test prints no diff without --diff" PROPERTIES
  PASS_REGULAR_EXPRESSION "FAILED" FAIL_REGULAR_EXPRESSION "diff \\(- expected;expect_exit: wanted")

# Experimental PromQL on every command that parses it.
parity_test("test --enable-feature=promql-experimental-functions"
  COMMAND ${_re} test --enable-feature=promql-experimental-functions ${_p}/features/tests.yaml)
parity_test("test without the feature rejects sort_by_label"
  COMMAND ${_ee} 1 ${_re} test ${_p}/features/tests.yaml)
set_tests_properties("parity: test without the feature rejects sort_by_label" PROPERTIES
  PASS_REGULAR_EXPRESSION "function \"sort_by_label\" is not enabled" FAIL_REGULAR_EXPRESSION "expect_exit: wanted")
parity_test("lint reads enable_features from .ruleeval.yaml"
  COMMAND ${_re} lint --fail-on error ${_p}/features/rules.yaml)
parity_test("check rules --enable-feature"
  COMMAND ${_re} check rules --enable-feature=promql-experimental-functions ${_p}/features/rules.yaml)
parity_test("promql format --enable-feature"
  COMMAND ${_re} promql format --enable-feature=promql-experimental-functions "sort_by_label(up, \"job\")")
parity_test("promql format --experimental is an alias"
  COMMAND ${_re} promql format --experimental "sort_by_label(up, \"job\")")
parity_test("run reads enable_features from ruleeval.yaml"
  COMMAND ${_re} run --check-config -c ${_p}/features/ruleeval.yaml)
parity_test("run --enable-feature"
  COMMAND ${_re} run --check-config --enable-feature=promql-experimental-functions
          -c ${_p}/features/ruleeval_no_features.yaml)
parity_test("run without the feature rejects sort_by_label"
  COMMAND ${_ee} 2 ${_re} run --check-config -c ${_p}/features/ruleeval_no_features.yaml)
set_tests_properties("parity: run without the feature rejects sort_by_label" PROPERTIES
  PASS_REGULAR_EXPRESSION "rules.yaml:5:15: could not parse expression: function \"sort_by_label\" is not enabled"
  FAIL_REGULAR_EXPRESSION "expect_exit: wanted")
parity_test("an unknown feature is refused"
  COMMAND ${_ee} 2 ${_re} test --enable-feature=no-such-feature ${_p}/features/tests.yaml)
set_tests_properties("parity: an unknown feature is refused" PROPERTIES
  PASS_REGULAR_EXPRESSION "unknown feature \"no-such-feature\"" FAIL_REGULAR_EXPRESSION "expect_exit: wanted")

# VictoriaMetrics VMRule objects.
parity_test("VMRule objects are read like PrometheusRule"
  COMMAND ${_re} lint --fail-on error ${_p}/vmrule.yaml)
set_tests_properties("parity: VMRule objects are read like PrometheusRule" PROPERTIES
  PASS_REGULAR_EXPRESSION "2 rules")
parity_test("VMRule: one error per MetricsQL-only function"
  COMMAND ${_ee} 1 ${_re} lint --fail-on error ${_p}/vmrule_metricsql.yaml)
set_tests_properties("parity: VMRule: one error per MetricsQL-only function" PROPERTIES
  PASS_REGULAR_EXPRESSION "vmrule_metricsql.yaml:10:17: error: MetricsQL function histogram_share is not PromQL[^\n]*\n(.*\n)*[^\n]*vmrule_metricsql.yaml:14:13: error: MetricsQL function median is not PromQL"
  FAIL_REGULAR_EXPRESSION "expect_exit: wanted;could not parse")

# Prometheus 2 suites: --promql-compat=2 passes where promtool 2.42 passes.
parity_test("test --promql-compat=2 passes a Prometheus 2 suite as promtool 2.42 does"
  COMMAND ${_sv} 0 -- ${_re} test --promql-compat=2 ${_p}/compat2/tests.yaml
                -- promtool test rules ${_p}/compat2/tests.yaml)
parity_test("the same suite fails with the default Prometheus 3 semantics"
  COMMAND ${_ee} 1 ${_re} test ${_p}/compat2/tests.yaml)
set_tests_properties("parity: the same suite fails with the default Prometheus 3 semantics" PROPERTIES
  FAIL_REGULAR_EXPRESSION "expect_exit: wanted")

set_tests_properties(${_parity_tests} PROPERTIES LABELS cli SKIP_RETURN_CODE 77)
