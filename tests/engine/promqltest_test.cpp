// The .test script runner: parsing of commands and expectations, comparison rules, the harness
// re-runs, and failure reporting.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "ruleeval/engine/promqltest.hpp"

using namespace ruleeval::engine;

namespace {

PromqlTestReport run(std::string_view script, const PromqlTestOptions& opts = {}) {
  return run_promql_test("inline.test", script, opts);
}

}  // namespace

TEST_CASE("almost_equal uses relative tolerance and treats NaN and StaleNaN specially") {
  CHECK(almost_equal(1.0, 1.0 + 1e-9));
  CHECK_FALSE(almost_equal(1.0, 1.001));
  CHECK(almost_equal(NAN, NAN));
  CHECK_FALSE(almost_equal(NAN, stale_nan()));
  CHECK(almost_equal(stale_nan(), stale_nan()));
  CHECK(almost_equal(INFINITY, INFINITY));
  CHECK_FALSE(almost_equal(0.0, 1e-300));
}

TEST_CASE("a script with passing instant and range evals reports them as passed") {
  auto r = run(R"(
# comment
load 1m
  m{a="1"} 0+1x10
  m{a="2"} 0+2x10

eval instant at 5m m
  m{a="1"} 5
  m{a="2"} 10

eval instant at 5m sum(m)
  {} 15

eval range from 0 to 2m step 1m m{a="2"}
  m{a="2"} 0 2 4

eval instant at 0 1 + 1
  2

eval instant at 0 "hello"
  expect string "hello"

eval instant at 2m m{a="1"}[2m]
  expect range vector from 1m to 2m step 1m
  m{a="1"} 1 2
)");
  CHECK(r.failed == 0);
  CHECK(r.passed == 6);
  for (const auto& f : r.failures) MESSAGE(f.line << ": " << f.message);
}

TEST_CASE("a wrong expected value is a failure with its line and both values") {
  auto r = run(R"(load 1m
  m 1 2 3

eval instant at 2m m
  m 4
)");
  REQUIRE(r.failed == 1);
  CHECK(r.failures[0].line == 4);
  CHECK(r.failures[0].expr == "m");
  CHECK(r.failures[0].message.find("expected 4") != std::string::npos);
  CHECK(r.failures[0].message.find("got 3") != std::string::npos);
}

TEST_CASE("missing and unexpected series are reported") {
  auto r = run(R"(load 1m
  m{a="1"} 1
  m{a="2"} 1

eval instant at 0 m
  m{a="1"} 1

eval instant at 0 m
  m{a="1"} 1
  m{a="2"} 1
  m{a="3"} 1
)");
  REQUIRE(r.failed == 2);
  CHECK(r.failures[0].message.find("unexpected metric") != std::string::npos);
  CHECK(r.failures[1].message.find("not found") != std::string::npos);
}

TEST_CASE("expect fail checks the error message, legacy forms included") {
  auto r = run(R"(load 1m
  a{x="1"} 1
  a{x="1",y="2"} 1
  b{x="1"} 1

eval instant at 0 b + on(x) a
  expect fail msg: found duplicate series for the match group {x="1"} on the right hand-side of the operation: [a{x="1"}, a{x="1", y="2"}];many-to-many matching not allowed: matching labels must be unique on one side

eval instant at 0 b + on(x) a
  expect fail regex: many-to-many matching not allowed

eval_fail instant at 0 b + on(x) a
  expected_fail_regexp matching labels must be unique

eval instant at 0 b + on(x) a
  expect fail msg: something else

eval instant at 0 b
  expect fail
)");
  CHECK(r.passed == 3);
  REQUIRE(r.failed == 2);
  CHECK(r.failures[0].line == 15);
  CHECK(r.failures[1].line == 18);
  CHECK(r.failures[1].message.find("expected error") != std::string::npos);
}

TEST_CASE("annotation expectations: warn, info, no_warn, no_info") {
  auto r = run(R"(load 1m
  gauge 0+1x10
  m 1

eval instant at 5m rate(gauge[5m])
  expect info
  expect no_warn
  {} 0.016666666666666666

eval instant at 0 quantile(2, m)
  expect warn msg: PromQL warning: quantile value should be between 0 and 1, got 2
  {} +Inf

eval instant at 5m rate(gauge[5m])
  expect no_info
  {} 0.016666666666666666
)");
  CHECK(r.passed == 2);
  REQUIRE(r.failed == 1);
  CHECK(r.failures[0].message.find("unexpected info") != std::string::npos);
}

TEST_CASE("ordered results must come in the expected order") {
  auto r = run(R"(load 1m
  m{a="1"} 3
  m{a="2"} 1
  m{a="3"} 2

eval instant at 0 sort(m)
  expect ordered
  m{a="2"} 1
  m{a="3"} 2
  m{a="1"} 3

eval_ordered instant at 0 sort_desc(m)
  m{a="2"} 1
  m{a="3"} 2
  m{a="1"} 3
)");
  CHECK(r.passed == 1);
  REQUIRE(r.failed == 1);
  CHECK(r.failures[0].message.find("position") != std::string::npos);
}

TEST_CASE("skip lines are counted and not run") {
  PromqlTestOptions opts;
  opts.skip_lines = {4};
  auto r = run("load 1m\n  m 1\n\neval instant at 0 m\n  m 2\n", opts);
  CHECK(r.skipped == 1);
  CHECK(r.failed == 0);
  CHECK(r.passed == 0);
}

TEST_CASE("malformed commands are failures at their line, and the run goes on") {
  auto r = run(R"(load 1m
  m 1 zz

eval instant at 0 m(
  m 1

bogus command

eval instant at 0 vector(1)
  {} 1
)");
  CHECK(r.passed == 1);
  CHECK(r.failed == 3);
  CHECK(r.failures[0].line == 2);
  CHECK(r.failures[1].line == 4);
  CHECK(r.failures[2].line == 7);
}

TEST_CASE("the range-mode re-run catches results that differ between instant and range") {
  // timestamp() is @-unsafe (no @ variants) but still re-run in range mode, where it must agree.
  auto r = run(R"(load 10s
  metric 1 1

eval instant at 20s timestamp(metric)
  {} 10
)");
  CHECK(r.passed == 1);
  CHECK(r.failed == 0);
}

TEST_CASE("the shared conformance script for literals passes completely") {
  std::ifstream in(std::string(RULEEVAL_SHARED_DIR) + "/conformance/promqltest/literals.test");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  auto r = run_promql_test("literals.test", ss.str());
  CHECK(r.failed == 0);
  CHECK(r.passed == 17);
}

TEST_CASE("histogram expectations compare like compareNativeHistogram") {
  auto r = run(R"(
load 1m
  h {{schema:0 count:2 sum:3 buckets:[1 1]}}+{{count:1 sum:1 buckets:[1]}}x3
  f 1

eval instant at 2m h
  h {{count:4 sum:5 buckets:[3 1 0]}}

eval instant at 2m h
  h {{count:4 sum:5 counter_reset_hint:not_reset buckets:[3 1]}}

eval instant at 2m h
  h {{count:4 sum:5 counter_reset_hint:reset buckets:[3 1]}}

eval instant at 2m h
  h 4

eval instant at 2m f
  f {{count:1}}
)");
  CHECK(r.passed == 2);
  REQUIRE(r.failed == 3);
  CHECK(r.histogram_samples_loaded == 4);
  CHECK(r.failures[0].message.find("counter_reset_hint:reset") != std::string::npos);
  CHECK(r.failures[1].message.find("expected float value 4 for h but got histogram") != std::string::npos);
  CHECK(r.failures[2].message.find("expected histogram {{count:1}} for f but got float value 1") !=
        std::string::npos);
}
