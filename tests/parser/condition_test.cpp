// Grafana classic conditions: parsing, printing, reducers and the AND/OR fold.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "ruleeval/parser/condition.hpp"

using namespace ruleeval;
using namespace ruleeval::classic;

namespace {

std::string parse_error(std::string_view text) {
  auto r = parse_conditions(text);
  if (r) return "<parsed>";
  return r.error().message;
}

using Points = std::vector<std::optional<double>>;
const double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

TEST_CASE("a single classic condition parses into reducer, query and evaluator") {
  auto r = parse_conditions("WHEN avg() OF query(A, 5m, now) IS ABOVE 200");
  REQUIRE(r);
  REQUIRE(r->items.size() == 1);
  const Condition& c = r->items[0];
  CHECK(c.reducer == Reducer::kAvg);
  CHECK(c.ref_id == "A");
  CHECK(c.from_ms == 300000);
  CHECK(c.to == "now");
  CHECK(c.evaluator.type == EvaluatorType::kGt);
  CHECK(c.evaluator.params == std::vector<double>{200});
  CHECK(c.col == 1);
}

TEST_CASE("several conditions join with AND and OR, keywords are case-insensitive") {
  auto r = parse_conditions(
      "when max() of query(A, 5m, now) is above 10 OR WHEN last() OF query(B, 1m, now-1m) IS "
      "BELOW -3.5 and percent_diff_abs() OF query(C,1h,now) IS WITHIN RANGE 1, 2 Or "
      "WHEN count_non_null() OF query(D, 10s, now) IS OUTSIDE RANGE 0 TO 5 AND WHEN diff() OF "
      "query(A, 5m, now) HAS NO VALUE");
  REQUIRE(r);
  REQUIRE(r->items.size() == 5);
  CHECK(r->items[1].op == Operator::kOr);
  CHECK(r->items[1].reducer == Reducer::kLast);
  CHECK(r->items[1].to == "now-1m");
  CHECK(r->items[1].to_offset_ms == 60000);
  CHECK(r->items[1].evaluator.params == std::vector<double>{-3.5});
  CHECK(r->items[2].op == Operator::kAnd);
  CHECK(r->items[2].reducer == Reducer::kPercentDiffAbs);
  CHECK(r->items[2].evaluator.type == EvaluatorType::kWithinRange);
  CHECK(r->items[2].evaluator.params == std::vector<double>{1, 2});
  CHECK(r->items[3].reducer == Reducer::kCountNonNull);
  CHECK(r->items[3].evaluator.type == EvaluatorType::kOutsideRange);
  CHECK(r->items[3].evaluator.params == std::vector<double>{0, 5});
  CHECK(r->items[4].evaluator.type == EvaluatorType::kNoValue);
  CHECK(format(*r) ==
        "WHEN max() OF query(A, 5m, now) IS ABOVE 10 OR WHEN last() OF query(B, 1m, now-1m) IS "
        "BELOW -3.5 AND WHEN percent_diff_abs() OF query(C, 1h, now) IS WITHIN RANGE 1, 2 OR "
        "WHEN count_non_null() OF query(D, 10s, now) IS OUTSIDE RANGE 0, 5 AND WHEN diff() OF "
        "query(A, 5m, now) HAS NO VALUE");
  // Long numbers must survive a print/parse round trip (found by fuzzing).
  auto big = parse_conditions(
      "WHEN last() OF query(B, 1m, now) IS BELOW "
      "3555555555555555555555999999999999999999999999999999999999999999999999.5555555555");
  REQUIRE(big);
  auto big2 = parse_conditions(format(*big));
  REQUIRE(big2);
  CHECK(big2->items[0].evaluator.params == big->items[0].evaluator.params);
  CHECK(format(*big2) == format(*big));

  auto again = parse_conditions(format(*r));
  REQUIRE(again);
  CHECK(format(*again) == format(*r));
}

TEST_CASE("condition parse errors point at the offending column") {
  CHECK(parse_error("WHEN foo() OF query(A, 5m, now) IS ABOVE 1")
            .starts_with("1:6: expected a reducer"));
  CHECK(parse_error("WHEN avg() OF query(A, 5x, now) IS ABOVE 1") ==
        "1:24: expected a duration such as 5m, found \"5x, now) IS \"");
  CHECK(parse_error("WHEN avg() OF query(A, 5m, later) IS ABOVE 1") ==
        "1:28: expected now or now-<duration>, found \"later) IS AB\"");
  CHECK(parse_error("WHEN avg() OF query(A, 5m, now) IS ABOVE") ==
        "1:41: expected a number, found end of input");
  CHECK(parse_error("WHEN avg() OF query(A, 5m, now) IS NEAR 3")
            .starts_with("1:33: expected IS ABOVE"));
  CHECK(parse_error("WHEN avg() OF query(A, 5m, now) IS ABOVE 3 XOR") ==
        "1:44: expected AND, OR or the end of the input, found \"XOR\"");
  CHECK(parse_error("WHEN avg() query(A, 5m, now) IS ABOVE 3") ==
        "1:12: expected OF, found \"query(A, 5m,\"");
  CHECK(parse_error("") == "1:1: expected a condition, found end of input");
  auto r = parse_conditions("WHEN avg() OF query(A, 5m, now) IS ABOVE");
  REQUIRE_FALSE(r);
  CHECK(r.error().where.col == 41);
}

TEST_CASE("reducers skip null and NaN points like Grafana classic conditions") {
  const Points p{1.0, std::nullopt, 4.0, kNaN, 2.0};
  CHECK(*reduce(Reducer::kAvg, p) == doctest::Approx(7.0 / 3));
  CHECK(*reduce(Reducer::kSum, p) == 7.0);
  CHECK(*reduce(Reducer::kMin, p) == 1.0);
  CHECK(*reduce(Reducer::kMax, p) == 4.0);
  CHECK(*reduce(Reducer::kCount, p) == 5.0);
  CHECK(*reduce(Reducer::kCountNonNull, p) == 3.0);
  CHECK(*reduce(Reducer::kLast, p) == 2.0);
  CHECK(*reduce(Reducer::kMedian, p) == 2.0);
  CHECK(*reduce(Reducer::kMedian, Points{1.0, 2.0, 3.0, 10.0}) == 2.5);
  CHECK(*reduce(Reducer::kDiff, p) == 1.0);
  CHECK(*reduce(Reducer::kDiffAbs, Points{5.0, 2.0}) == 3.0);
  CHECK(*reduce(Reducer::kPercentDiff, Points{-4.0, 2.0}) == 150.0);
  CHECK(*reduce(Reducer::kPercentDiffAbs, Points{4.0, 2.0}) == 50.0);
  CHECK(*reduce(Reducer::kDiff, Points{3.0, std::nullopt}) == 0.0);

  CHECK_FALSE(reduce(Reducer::kAvg, Points{}).has_value());
  CHECK_FALSE(reduce(Reducer::kCount, Points{}).has_value());
  CHECK_FALSE(reduce(Reducer::kMax, Points{std::nullopt, kNaN}).has_value());
  CHECK_FALSE(reduce(Reducer::kCountNonNull, Points{std::nullopt}).has_value());
  CHECK(*reduce(Reducer::kCount, Points{std::nullopt}) == 1.0);
}

TEST_CASE("evaluators compare the reduced value, ranges are exclusive and order-free") {
  CHECK(evaluate(Evaluator{EvaluatorType::kGt, {5}}, 6.0));
  CHECK_FALSE(evaluate(Evaluator{EvaluatorType::kGt, {5}}, 5.0));
  CHECK(evaluate(Evaluator{EvaluatorType::kLt, {5}}, 4.0));
  CHECK_FALSE(evaluate(Evaluator{EvaluatorType::kLt, {5}}, std::nullopt));
  CHECK(evaluate(Evaluator{EvaluatorType::kWithinRange, {1, 10}}, 5.0));
  CHECK(evaluate(Evaluator{EvaluatorType::kWithinRange, {10, 1}}, 5.0));
  CHECK_FALSE(evaluate(Evaluator{EvaluatorType::kWithinRange, {1, 10}}, 10.0));
  CHECK(evaluate(Evaluator{EvaluatorType::kOutsideRange, {1, 10}}, 11.0));
  CHECK(evaluate(Evaluator{EvaluatorType::kOutsideRange, {10, 1}}, 0.0));
  CHECK_FALSE(evaluate(Evaluator{EvaluatorType::kOutsideRange, {1, 10}}, 1.0));
  CHECK(evaluate(Evaluator{EvaluatorType::kNoValue, {}}, std::nullopt));
  CHECK_FALSE(evaluate(Evaluator{EvaluatorType::kNoValue, {}}, 0.0));
}

TEST_CASE("conditions fold left to right without precedence") {
  // true OR false AND false == (true OR false) AND false == false (no precedence).
  auto r = parse_conditions(
      "WHEN last() OF query(A, 5m, now) IS ABOVE 1 OR WHEN last() OF query(B, 5m, now) IS ABOVE "
      "1 AND WHEN last() OF query(C, 5m, now) IS ABOVE 1");
  REQUIRE(r);
  const std::vector<std::optional<double>> vals{2.0, 0.0, 0.0};
  CHECK_FALSE(fold(*r, vals).firing);
  const std::vector<std::optional<double>> vals2{0.0, 0.0, 2.0};
  CHECK_FALSE(fold(*r, vals2).firing);
  const std::vector<std::optional<double>> vals3{2.0, 0.0, 2.0};
  CHECK(fold(*r, vals3).firing);

  SeriesByRef data;
  data["A"] = {{1.0, 0.5}, {3.0, 5.0}};  // second series fires
  data["B"] = {};
  data["C"] = {{std::nullopt}};
  auto res = evaluate(*r, data);
  CHECK_FALSE(res.firing);  // (A OR B) AND C: C reduces to null
  CHECK(res.no_data);       // (no OR yes(B has no series)) AND yes(C is null)

  auto nd = parse_conditions("WHEN avg() OF query(X, 5m, now) HAS NO VALUE");
  REQUIRE(nd);
  auto ndr = evaluate(*nd, SeriesByRef{});
  CHECK(ndr.firing);
  CHECK(ndr.no_data);
}
