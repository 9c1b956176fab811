// Prometheus 3.x experimental syntax behind ParseOptions::experimental_functions: duration
// expressions, `anchored`/`smoothed` range selectors, binop fill modifiers.
#include <doctest/doctest.h>

#include <string>

#include "ruleeval/parser/promql.hpp"

namespace pq = ruleeval::promql;

namespace {

pq::ParseOptions experimental() { return pq::ParseOptions::all(); }

pq::ExprPtr parse_ok(std::string_view in) {
  auto r = pq::parse(in, experimental());
  INFO("input: " << in);
  if (!r) INFO("error: " << pq::format_parse_error(r.error()));
  REQUIRE(r.has_value());
  return std::move(*r);
}

// Formats, re-parses and checks parse(format(e)) == e and a stable canonical form.
std::string round_trip(std::string_view in) {
  pq::ExprPtr e = parse_ok(in);
  std::string out = pq::format(*e);
  INFO("input: " << in << " formatted: " << out);
  auto again = pq::parse(out, experimental());
  if (!again) INFO("error: " << pq::format_parse_error(again.error()));
  REQUIRE(again.has_value());
  CHECK(**again == *e);
  CHECK(pq::format(**again) == out);
  pq::ExprPtr copy = e->clone();
  CHECK(*copy == *e);
  return out;
}

ruleeval::Error parse_err(std::string_view in, bool exp = true) {
  pq::ParseOptions o = exp ? pq::ParseOptions::all() : pq::ParseOptions{};
  if (!exp) o.duration_expr = false;
  auto r = pq::parse(in, o);
  INFO("input: " << in);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().kind == ruleeval::ErrorKind::kParse);
  return r.error();
}

const pq::MatrixSelector& matrix_arg(const pq::Expr& e) {
  const auto* call = e.as<pq::Call>();
  REQUIRE(call != nullptr);
  REQUIRE(call->args.size() == 1);
  const auto* ms = call->args[0]->as<pq::MatrixSelector>();
  REQUIRE(ms != nullptr);
  return *ms;
}

}  // namespace

TEST_CASE("constant duration expressions in ranges fold into the range in milliseconds") {
  auto e = parse_ok("rate(up[1m * 2])");
  const auto& ms = matrix_arg(*e);
  CHECK(ms.range == 120000);
  REQUIRE(ms.range_expr != nullptr);
  CHECK(ms.range_expr->is<pq::Binary>());

  CHECK(matrix_arg(*parse_ok("rate(up[(5m + 30s) / 2])")).range == 165000);
  CHECK(matrix_arg(*parse_ok("rate(up[2 ^ 3])")).range == 8000);
  CHECK(matrix_arg(*parse_ok("rate(up[-1m + 3m])")).range == 120000);
  CHECK(matrix_arg(*parse_ok("rate(up[10m % 3m])")).range == 60000);
  CHECK(matrix_arg(*parse_ok("rate(up[min(5m, 2m) + max(1m, 30s)])")).range == 180000);
  // A plain duration keeps the old representation.
  CHECK(matrix_arg(*parse_ok("rate(up[5m])")).range_expr == nullptr);
}

TEST_CASE("duration expressions work in subquery ranges, steps and offsets") {
  auto e = parse_ok("x[5m:(30s*2)]");
  const auto* sq = e->as<pq::Subquery>();
  REQUIRE(sq != nullptr);
  CHECK(sq->range == 300000);
  CHECK(sq->range_expr == nullptr);
  CHECK(sq->step == 60000);
  REQUIRE(sq->step_expr != nullptr);

  auto o = parse_ok("up offset (1h / 2)");
  const auto* vs = o->as<pq::VectorSelector>();
  REQUIRE(vs != nullptr);
  CHECK(vs->offset == 1800000);
  REQUIRE(vs->offset_expr != nullptr);

  auto n = parse_ok("up offset -(1h / 2)");
  CHECK(n->as<pq::VectorSelector>()->offset == -1800000);

  auto s = parse_ok("rate(up[5m] offset (2m * 3))");
  const auto& ms = matrix_arg(*s);
  CHECK(ms.vector->as<pq::VectorSelector>()->offset == 360000);

  auto q = parse_ok("sum_over_time(up[10m:1m] offset (1m + 1m))");
  const auto* call = q->as<pq::Call>();
  REQUIRE(call != nullptr);
  CHECK(call->args[0]->as<pq::Subquery>()->offset == 120000);
}

TEST_CASE("step() and range() make a duration expression non-constant (folded value 0)") {
  auto e = parse_ok("rate(up[step() * 5])");
  const auto& ms = matrix_arg(*e);
  CHECK(ms.range == 0);
  REQUIRE(ms.range_expr != nullptr);
  auto o = parse_ok("up offset step()");
  CHECK(o->as<pq::VectorSelector>()->offset == 0);
  CHECK(o->as<pq::VectorSelector>()->offset_expr != nullptr);
  // The step() call is reachable through walk().
  bool saw_step = false;
  pq::walk(*e, [&](const pq::Expr& n) {
    if (auto* c = n.as<pq::Call>(); c && c->func->name == "step") saw_step = true;
  });
  CHECK(saw_step);
}

TEST_CASE("duration expressions round-trip through the printer") {
  CHECK(round_trip("rate(up[1m * 2])") == "rate(up[1m * 2])");
  CHECK(round_trip("rate(up[(1m+30s)/2])") == "rate(up[(1m + 30s) / 2])");
  CHECK(round_trip("x[5m:(30s*2)]") == "x[5m:(30s * 2)]");
  CHECK(round_trip("x[5m*2:]") == "x[5m * 2:]");
  CHECK(round_trip("up offset (1h / 2)") == "up offset (1h / 2)");
  CHECK(round_trip("up offset -(1h / 2)") == "up offset -(1h / 2)");
  CHECK(round_trip("up offset step()") == "up offset step()");
  CHECK(round_trip("rate(up[max(step(), 1m)])") == "rate(up[max(step(), 1m)])");
  CHECK(round_trip("rate(up[min_of(5m, range())])") == "rate(up[min(5m, range())])");
  CHECK(round_trip("rate(up[-step() + 10m])") == "rate(up[-step() + 10m])");
  CHECK(round_trip("rate(up[5m] offset (1m * 2) @ 100)") ==
        "rate(up[5m] @ 100.000 offset (1m * 2))");
}

TEST_CASE("anchored and smoothed modify range selectors") {
  auto e = parse_ok("rate(up[1m] anchored)");
  CHECK(matrix_arg(*e).anchored);
  CHECK_FALSE(matrix_arg(*e).smoothed);
  auto s = parse_ok("rate(up[1m] smoothed)");
  CHECK(matrix_arg(*s).smoothed);
  auto o = parse_ok("rate(up[1m] offset 5m anchored)");
  CHECK(matrix_arg(*o).anchored);
  CHECK(matrix_arg(*o).vector->as<pq::VectorSelector>()->offset == 300000);
  auto o2 = parse_ok("rate(up[1m] anchored offset 5m)");
  CHECK(*o2 == *o);
  CHECK_FALSE(*e == *s);

  CHECK(round_trip("rate(up[1m] anchored)") == "rate(up[1m] anchored)");
  CHECK(round_trip("rate(up[1m]   smoothed)") == "rate(up[1m] smoothed)");
  CHECK(round_trip("increase(up[1m] anchored offset 5m)") == "increase(up[1m] offset 5m anchored)");
  CHECK(round_trip("rate(up[1m*2] anchored)") == "rate(up[1m * 2] anchored)");

  // On an instant selector (Prometheus's VectorSelector.Smoothed/Anchored), and before the range.
  auto v = parse_ok("up smoothed");
  REQUIRE(v->as<pq::VectorSelector>() != nullptr);
  CHECK(v->as<pq::VectorSelector>()->smoothed);
  CHECK(round_trip("up offset 1m smoothed") == "up offset 1m smoothed");
  CHECK(round_trip("up anchored") == "up anchored");
  auto before = parse_ok("rate(up anchored [1m])");
  CHECK(matrix_arg(*before).anchored);
  CHECK_FALSE(matrix_arg(*before).vector->as<pq::VectorSelector>()->anchored);
  CHECK(*before == *e);
}

TEST_CASE("binop fill modifiers come after bool, on/ignoring and group modifiers") {
  auto e = parse_ok("rate(up[5m]) + fill(0) rate(down[5m])");
  const auto* b = e->as<pq::Binary>();
  REQUIRE(b != nullptr);
  REQUIRE(b->matching.has_value());
  CHECK(b->matching->fill_left == 0.0);
  CHECK(b->matching->fill_right == 0.0);

  auto lr = parse_ok("a > bool on (x) group_left (y) fill_left(1) fill_right(-2.5) b");
  const auto* blr = lr->as<pq::Binary>();
  REQUIRE(blr != nullptr);
  CHECK(blr->return_bool);
  CHECK(blr->matching->card == pq::Cardinality::ManyToOne);
  CHECK(blr->matching->fill_left == 1.0);
  CHECK(blr->matching->fill_right == -2.5);

  auto r = parse_ok("a / ignoring(x) fill_right(5) b");
  CHECK_FALSE(r->as<pq::Binary>()->matching->fill_left.has_value());
  CHECK(r->as<pq::Binary>()->matching->fill_right == 5.0);

  CHECK(round_trip("rate(up[5m]) + fill(0) rate(down[5m])") ==
        "rate(up[5m]) + fill(0) rate(down[5m])");
  CHECK(round_trip("a>bool on(x)group_left(y)fill_left(1)fill_right(-2.5)b") ==
        "a > bool on (x) group_left (y) fill_left(1) fill_right(-2.5) b");
  CHECK(round_trip("a - fill_right(NaN) b") == "a - fill_right(NaN) b");
  CHECK(round_trip("a - fill_left(3) fill_right(3) b") == "a - fill(3) b");
  CHECK_FALSE(*parse_ok("a + fill(1) b") == *parse_ok("a + fill(2) b"));
  CHECK(pq::to_json(*e).find("\"fillLeft\":\"0\"") != std::string::npos);
}

TEST_CASE("to_json shows the experimental fields") {
  std::string j = pq::to_json(*parse_ok("rate(up[1m * 2] anchored)"));
  CHECK(j.find("\"range\":120000") != std::string::npos);
  CHECK(j.find("\"rangeExpr\":{\"type\":\"binary\"") != std::string::npos);
  CHECK(j.find("\"anchored\":true") != std::string::npos);
  std::string o = pq::to_json(*parse_ok("up offset (1h / 2)"));
  CHECK(o.find("\"offset\":1800000") != std::string::npos);
  CHECK(o.find("\"offsetExpr\":{\"type\":\"paren\"") != std::string::npos);
}

TEST_CASE("the experimental syntax is rejected without the option, naming the feature flag") {
  auto d = parse_err("rate(up[1m * 2])", false);
  CHECK(d.message.find("--enable-feature=promql-duration-expr") != std::string::npos);
  CHECK(pq::format_parse_error(d).starts_with("1:9: parse error: duration expressions are experimental"));
  auto o = parse_err("up offset (1h / 2)", false);
  CHECK(o.message.find("promql-duration-expr") != std::string::npos);
  CHECK(o.where.col == 11);
  auto a = parse_err("rate(up[1m] anchored)", false);
  CHECK(a.message.find("--enable-feature=promql-extended-range-selectors") != std::string::npos);
  CHECK(pq::format_parse_error(a).starts_with("1:13: parse error: anchored modifier is experimental"));
  auto s = parse_err("rate(up[1m] smoothed)", false);
  CHECK(s.message.find("smoothed modifier is experimental") != std::string::npos);
  auto f = parse_err("rate(up[5m]) + fill(0) rate(down[5m])", false);
  CHECK(f.message.find("--enable-feature=promql-binop-fill-modifiers") != std::string::npos);
  CHECK(pq::format_parse_error(f).starts_with("1:16: parse error: fill modifiers are experimental"));
  // The one already supported experimental function keeps its own error.
  auto fn = parse_err("sort_by_label(up, \"instance\")", false);
  CHECK(fn.message.find("not enabled") != std::string::npos);
  // Each feature has its own flag, as in Prometheus: one flag does not enable another.
  pq::ParseOptions only_functions;
  only_functions.experimental_functions = true;
  auto a2 = pq::parse("rate(up[1m] anchored)", only_functions);
  REQUIRE_FALSE(a2.has_value());
  CHECK(a2.error().message.find("promql-extended-range-selectors") != std::string::npos);
  pq::ParseOptions only_range;
  only_range.extended_range_selectors = true;
  CHECK(pq::parse("rate(up[1m] anchored)", only_range).has_value());
  CHECK_FALSE(pq::parse("sort_by_label(up, \"instance\")", only_range).has_value());
  CHECK_FALSE(pq::parse("a + fill(0) b", only_range).has_value());
  pq::ParseOptions only_fill;
  only_fill.binop_fill_modifiers = true;
  CHECK(pq::parse("a + fill(0) b", only_fill).has_value());
  CHECK(pq::parse_options_for(pq::kFeatureExtendedRangeSelectors).extended_range_selectors);
  CHECK_FALSE(pq::parse_options_for(pq::kFeatureExtendedRangeSelectors).experimental_functions);
  // Duration expressions are on by default: Prometheus made promql-duration-expr permanent.
  CHECK(pq::parse("rate(up[1m * 2])").has_value());
  // Plain syntax is unaffected by the option being off.
  CHECK(pq::parse("rate(up[5m] offset 1m) + on(a) b").has_value());
  CHECK(pq::parse("x[5m:1m]").has_value());
}

TEST_CASE("malformed experimental syntax gives parse errors with line and column") {
  auto e1 = parse_err("up[1m * ]");
  CHECK(pq::format_parse_error(e1) ==
        "1:9: parse error: unexpected \"]\" in duration expression, expected number, duration, "
        "\"(\", step(), range(), min() or max()");
  auto e2 = parse_err("a + fill(x) b");
  CHECK(e2.where.line == 1);
  CHECK(e2.where.col == 10);
  CHECK(e2.message.find("unexpected identifier \"x\"") != std::string::npos);
  // As Prometheus's setAnchored/setSmoothed.
  auto e3 = parse_err("sum(up) anchored");
  CHECK(pq::format_parse_error(e3) == "1:1: parse error: anchored modifier not implemented");
  auto e4 = parse_err("sum(x)[5m:] smoothed");
  CHECK(e4.message == "smoothed modifier is not supported for subqueries");
  auto e5 = parse_err("rate(up[1m] anchored smoothed)");
  CHECK(e5.message == "anchored and smoothed modifiers cannot be used together");
  CHECK(e5.where.col == 6);
  auto e6 = parse_err("rate(up[1m / 0])");
  CHECK(pq::format_parse_error(e6) == "1:9: parse error: division by zero in duration expression");
  auto e7 = parse_err("rate(up[1m - 2m])");
  CHECK(e7.message == "duration must be greater than 0");
  auto e8 = parse_err("rate(up[(1m * 2])");
  CHECK(e8.message.find("expected \")\"") != std::string::npos);
  auto e9 = parse_err("1 + fill(0) 2");
  CHECK(e9.message == "fill modifiers only allowed between instant vectors");
  auto e10 = parse_err("a and fill(0) b");
  CHECK(e10.message == "fill modifiers not allowed for set operator \"and\"");
  auto e11 = parse_err("a + fill_left(1) fill_left(2) b");
  CHECK(e11.message == "fill modifier may not be set multiple times");
  auto e12 = parse_err("up offset step() offset 1m");
  CHECK(e12.message == "offset may not be set multiple times");
  auto e13 = parse_err("a + fill(0 b");
  CHECK(e13.message.find("expected \")\"") != std::string::npos);
  std::string chain = "rate(up[1m";
  for (int i = 0; i < 100000; ++i) chain += " + 1";
  chain += "])";
  CHECK(parse_err(chain).message == "expression too complex");
  auto multi = parse_err("rate(\n  up[1m * ])");
  CHECK(multi.where.line == 2);
  CHECK(multi.where.col == 11);
}
