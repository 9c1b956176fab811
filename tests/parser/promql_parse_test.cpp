// PromQL parsing, feature by feature: what the parser accepts and the tree it builds.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "ruleeval/parser/promql.hpp"

namespace pq = ruleeval::promql;

namespace {

pq::ExprPtr must_parse(std::string_view input, bool experimental = false) {
  pq::ParseOptions o;
  o = (experimental) ? ruleeval::promql::ParseOptions::all() : ruleeval::promql::ParseOptions{};
  auto r = pq::parse(input, o);
  INFO("input: " << input);
  if (!r) INFO("error: " << pq::format_parse_error(r.error()));
  REQUIRE(r.has_value());
  return std::move(*r);
}

double number_of(std::string_view input) {
  auto e = must_parse(input);
  const auto* n = e->as<pq::NumberLiteral>();
  REQUIRE(n != nullptr);
  return n->value;
}

const pq::VectorSelector& selector_of(const pq::Expr& e) {
  const auto* vs = e.as<pq::VectorSelector>();
  REQUIRE(vs != nullptr);
  return *vs;
}

}  // namespace

TEST_CASE("a bare metric name becomes a selector with an implicit __name__ matcher last") {
  auto e = must_parse("http_requests_total");
  const auto& vs = selector_of(*e);
  CHECK(vs.name == "http_requests_total");
  REQUIRE(vs.matchers.size() == 1);
  CHECK(vs.matchers[0].name == "__name__");
  CHECK(vs.matchers[0].op == pq::MatchOp::Equal);
  CHECK(vs.matchers[0].value == "http_requests_total");
  CHECK(e->type() == pq::ValueType::Vector);
  CHECK(e->span.begin == 0);
  CHECK(e->span.end == 19);
}

TEST_CASE("label matchers accept all four operators, trailing commas and keywords as names") {
  auto e = must_parse(R"(foo{a="1", b!="2", c=~"3.*", d!~"4", by="x", offset="y",})");
  const auto& vs = selector_of(*e);
  REQUIRE(vs.matchers.size() == 7);
  CHECK(vs.matchers[0].op == pq::MatchOp::Equal);
  CHECK(vs.matchers[1].op == pq::MatchOp::NotEqual);
  CHECK(vs.matchers[2].op == pq::MatchOp::Regex);
  CHECK(vs.matchers[3].op == pq::MatchOp::NotRegex);
  CHECK(vs.matchers[4].name == "by");
  CHECK(vs.matchers[5].name == "offset");
  CHECK(vs.matchers[6].name == "__name__");
}

TEST_CASE("quoted UTF-8 metric and label names are accepted inside braces") {
  auto e = must_parse(R"({"my.metric", "label.with.dots"="v"})");
  const auto& vs = selector_of(*e);
  CHECK(vs.name == "my.metric");
  CHECK(vs.name_in_braces);
  REQUIRE(vs.matchers.size() == 2);
  CHECK(vs.matchers[0].name == "label.with.dots");
  CHECK(vs.matchers[1].name == "__name__");
  CHECK(vs.matchers[1].value == "my.metric");
}

TEST_CASE("a selector of only __name__ matchers has no name") {
  auto e = must_parse(R"({__name__=~"foo|bar"})");
  const auto& vs = selector_of(*e);
  CHECK(vs.name.empty());
  REQUIRE(vs.matchers.size() == 1);
  CHECK(vs.matchers[0].op == pq::MatchOp::Regex);
}

TEST_CASE("matches_empty follows Prometheus's anchored regex semantics") {
  pq::LabelMatcher m;
  m.op = pq::MatchOp::Equal;
  CHECK(m.matches_empty());
  m.value = "a";
  CHECK_FALSE(m.matches_empty());
  m.op = pq::MatchOp::NotEqual;
  CHECK(m.matches_empty());
  m.op = pq::MatchOp::Regex;
  m.value = ".*";
  CHECK(m.matches_empty());
  m.value = "a|";
  CHECK(m.matches_empty());
  m.value = "a+";
  CHECK_FALSE(m.matches_empty());
  m.op = pq::MatchOp::NotRegex;
  CHECK(m.matches_empty());
  m.value = ".*";
  CHECK_FALSE(m.matches_empty());
}

TEST_CASE("numbers cover decimal, float, hex, octal, separators, Inf and NaN") {
  CHECK(number_of("42") == 42);
  CHECK(number_of("1.5") == 1.5);
  CHECK(number_of(".5") == 0.5);
  CHECK(number_of("5.") == 5);
  CHECK(number_of("1e3") == 1000);
  CHECK(number_of("1E-3") == doctest::Approx(0.001));
  CHECK(number_of("+5.5e-3") == doctest::Approx(0.0055));
  CHECK(number_of("0x8f") == 143);
  CHECK(number_of("0X_53_AB") == 0x53AB);
  CHECK(number_of("0755") == 493);
  CHECK(number_of("08") == 8);
  CHECK(number_of("1_000_000") == 1000000);
  CHECK(std::isinf(number_of("Inf")));
  CHECK(std::isinf(number_of("inF")));
  CHECK(number_of("-Inf") < 0);
  CHECK(std::isnan(number_of("NaN")));
  CHECK(std::isnan(number_of("nan")));
  CHECK(number_of("-7") == -7);
}

TEST_CASE("duration literals are numbers of seconds") {
  CHECK(number_of("5m") == 300);
  CHECK(number_of("1h30m") == 5400);
  CHECK(number_of("54s321ms") == doctest::Approx(54.321));
  CHECK(number_of("1y") == 365 * 24 * 3600);
  CHECK(number_of("2w") == 14 * 24 * 3600);
}

TEST_CASE("strings support the three quote forms and Go escapes") {
  auto str = [](std::string_view in) {
    auto e = must_parse(in);
    const auto* s = e->as<pq::StringLiteral>();
    REQUIRE(s != nullptr);
    return s->value;
  };
  CHECK(str(R"("a\"b")") == "a\"b");
  CHECK(str(R"('it\'s')") == "it's");
  CHECK(str(R"('say "hi"')") == "say \"hi\"");
  CHECK(str(R"("\a\b\f\n\r\t\v\\")") == "\a\b\f\n\r\t\v\\");
  CHECK(str(R"("\101\x42\u0043\U00000044")") == "ABCD");
  CHECK(str(R"("\u00e9")") == "\xc3\xa9");
  CHECK(str("`raw\\n\nline`") == "raw\\n\nline");
  CHECK(str("\"caf\xc3\xa9\"") == "caf\xc3\xa9");
}

TEST_CASE("binary operators follow Prometheus precedence and associativity") {
  // 1 + 2 * 3 ^ 2 ^ 2  ==  1 + (2 * (3 ^ (2 ^ 2)))
  auto e = must_parse("1 + 2 * 3 ^ 2 ^ 2");
  const auto* add = e->as<pq::Binary>();
  REQUIRE(add);
  CHECK(add->op == pq::BinaryOp::Add);
  const auto* mul = add->rhs->as<pq::Binary>();
  REQUIRE(mul);
  CHECK(mul->op == pq::BinaryOp::Mul);
  const auto* pow1 = mul->rhs->as<pq::Binary>();
  REQUIRE(pow1);
  CHECK(pow1->op == pq::BinaryOp::Pow);
  CHECK(pow1->lhs->as<pq::NumberLiteral>()->value == 3);
  CHECK(pow1->rhs->is<pq::Binary>());

  // a - b - c is left-associative
  auto l = must_parse("a - b - c");
  const auto* outer = l->as<pq::Binary>();
  REQUIRE(outer);
  CHECK(outer->lhs->is<pq::Binary>());
  CHECK(outer->rhs->is<pq::VectorSelector>());

  // or < and/unless < comparisons < + < *
  auto s = must_parse("a or b and c unless d == e + f * g");
  const auto* o = s->as<pq::Binary>();
  REQUIRE(o);
  CHECK(o->op == pq::BinaryOp::Or);
  const auto* unless = o->rhs->as<pq::Binary>();
  REQUIRE(unless);
  CHECK(unless->op == pq::BinaryOp::Unless);
  CHECK(unless->lhs->as<pq::Binary>()->op == pq::BinaryOp::And);
  CHECK(unless->rhs->as<pq::Binary>()->op == pq::BinaryOp::Eql);

  auto at = must_parse("a atan2 b * c");
  CHECK(at->as<pq::Binary>()->op == pq::BinaryOp::Mul);
  CHECK(at->as<pq::Binary>()->lhs->as<pq::Binary>()->op == pq::BinaryOp::Atan2);
}

TEST_CASE("unary minus binds like multiplication so -2^2 is -(2^2)") {
  auto e = must_parse("-2^2");
  const auto* u = e->as<pq::Unary>();
  REQUIRE(u);
  CHECK(u->op == pq::UnaryOp::Minus);
  CHECK(u->expr->as<pq::Binary>()->op == pq::BinaryOp::Pow);

  auto m = must_parse("-a * b");
  const auto* mul = m->as<pq::Binary>();
  REQUIRE(mul);
  CHECK(mul->lhs->is<pq::Unary>());

  // A signed number literal folds into the literal; a parenthesised one does not.
  CHECK(must_parse("-(-1)")->as<pq::Unary>()->expr->is<pq::Paren>());
  CHECK(must_parse("- 5")->as<pq::NumberLiteral>()->value == -5);
  CHECK(must_parse("+foo")->as<pq::Unary>()->op == pq::UnaryOp::Plus);
}

TEST_CASE("keywords and aggregators are case-insensitive, function names are not") {
  auto e = must_parse("SUM BY (job) (foo) AND ON (job) bar");
  const auto* b = e->as<pq::Binary>();
  REQUIRE(b);
  CHECK(b->op == pq::BinaryOp::And);
  REQUIRE(b->matching);
  CHECK(b->matching->on);
  CHECK(b->lhs->as<pq::Aggregate>()->op == pq::AggregateOp::Sum);
  CHECK_FALSE(pq::parse("RATE(foo[5m])").has_value());
  CHECK(pq::parse("rate(foo[5m])").has_value());
}

TEST_CASE("bool and vector matching modifiers are recorded on the binary node") {
  auto e = must_parse("a > bool on (x, y) group_left (z) b");
  const auto* b = e->as<pq::Binary>();
  REQUIRE(b);
  CHECK(b->return_bool);
  REQUIRE(b->matching);
  CHECK(b->matching->on);
  CHECK(b->matching->explicit_matching);
  CHECK(b->matching->card == pq::Cardinality::ManyToOne);
  CHECK(b->matching->matching_labels == std::vector<std::string>{"x", "y"});
  CHECK(b->matching->include == std::vector<std::string>{"z"});

  auto r = must_parse("a / ignoring(x) group_right b");
  const auto* rb = r->as<pq::Binary>();
  CHECK_FALSE(rb->matching->on);
  CHECK(rb->matching->card == pq::Cardinality::OneToMany);
  CHECK(rb->matching->include.empty());

  auto set = must_parse("a unless b");
  CHECK(set->as<pq::Binary>()->matching->card == pq::Cardinality::ManyToMany);
  CHECK_FALSE(set->as<pq::Binary>()->matching->explicit_matching);

  // Scalar operands carry no vector matching.
  auto sc = must_parse("a * 2");
  CHECK_FALSE(sc->as<pq::Binary>()->matching.has_value());
  CHECK(sc->type() == pq::ValueType::Vector);
  CHECK(must_parse("1 + 2")->type() == pq::ValueType::Scalar);
}

TEST_CASE("aggregations take grouping before or after the arguments") {
  for (std::string_view in : {"sum by (job, \"a.b\",) (foo)", "sum(foo) by (job, \"a.b\")"}) {
    CAPTURE(in);
    auto e = must_parse(in);
    const auto* a = e->as<pq::Aggregate>();
    REQUIRE(a);
    CHECK(a->op == pq::AggregateOp::Sum);
    CHECK(a->by);
    CHECK_FALSE(a->without);
    CHECK(a->grouping == std::vector<std::string>{"job", "a.b"});
  }
  CHECK(must_parse("sum by (a) (x)")->as<pq::Aggregate>()->grouping_first);
  CHECK_FALSE(must_parse("sum(x) by (a)")->as<pq::Aggregate>()->grouping_first);
  auto w = must_parse("avg without () (foo)");
  CHECK(w->as<pq::Aggregate>()->without);
  CHECK(w->as<pq::Aggregate>()->grouping.empty());

  auto t = must_parse("topk(3, foo)");
  const auto* ta = t->as<pq::Aggregate>();
  REQUIRE(ta->param);
  CHECK(ta->param->as<pq::NumberLiteral>()->value == 3);
  auto cv = must_parse("count_values(\"v\", foo)");
  CHECK(cv->as<pq::Aggregate>()->param->is<pq::StringLiteral>());
  auto q = must_parse("quantile without (i) (0.9, foo)");
  CHECK(q->as<pq::Aggregate>()->op == pq::AggregateOp::Quantile);
  for (std::string_view op : {"avg", "count", "min", "max", "group", "stddev", "stdvar"}) {
    CHECK(pq::parse(std::string(op) + "(foo)").has_value());
  }
  CHECK(pq::parse("bottomk(1, foo)").has_value());
}

TEST_CASE("experimental aggregators and functions need ParseOptions::experimental_functions") {
  CHECK_FALSE(pq::parse("limitk(2, foo)").has_value());
  CHECK_FALSE(pq::parse("sort_by_label(foo, \"a\")").has_value());
  CHECK_FALSE(pq::parse("mad_over_time(foo[5m])").has_value());
  CHECK(must_parse("limitk(2, foo)", true)->as<pq::Aggregate>()->op == pq::AggregateOp::Limitk);
  CHECK(must_parse("limit_ratio(0.5, foo)", true)->is<pq::Aggregate>());
  CHECK(must_parse("sort_by_label(foo, \"a\", \"b\")", true)->is<pq::Call>());
  CHECK(must_parse("double_exponential_smoothing(foo[5m], 0.5, 0.5)", true)->is<pq::Call>());
}

TEST_CASE("range vectors and subqueries") {
  auto m = must_parse("foo[5m]");
  const auto* ms = m->as<pq::MatrixSelector>();
  REQUIRE(ms);
  CHECK(ms->range == 300000);
  CHECK(ms->vector->is<pq::VectorSelector>());
  CHECK(m->type() == pq::ValueType::Matrix);

  CHECK(must_parse("foo[90]")->as<pq::MatrixSelector>()->range == 90000);

  auto s = must_parse("rate(foo[5m])[30m:1m]");
  const auto* sq = s->as<pq::Subquery>();
  REQUIRE(sq);
  CHECK(sq->range == 30 * 60000);
  CHECK(sq->step == 60000);
  CHECK(sq->expr->is<pq::Call>());

  auto d = must_parse("foo[1h:]");
  CHECK(d->as<pq::Subquery>()->step == 0);
}

TEST_CASE("offset and @ modifiers land on the selector or subquery in either order") {
  auto a = must_parse("foo offset 5m @ 100");
  const auto& va = selector_of(*a);
  CHECK(va.offset == 300000);
  CHECK(va.at.kind == pq::AtModifier::Kind::Timestamp);
  CHECK(va.at.timestamp == 100000);

  auto b = must_parse("foo @ 1.5 offset -1h");
  const auto& vb = selector_of(*b);
  CHECK(vb.offset == -3600000);
  CHECK(vb.at.timestamp == 1500);

  auto c = must_parse("foo[5m] @ end() offset 1m");
  const auto* ms = c->as<pq::MatrixSelector>();
  REQUIRE(ms);
  const auto& vc = selector_of(*ms->vector);
  CHECK(vc.at.kind == pq::AtModifier::Kind::End);
  CHECK(vc.offset == 60000);

  auto d = must_parse("sum(foo)[10m:] @ start() offset 2m");
  const auto* sq = d->as<pq::Subquery>();
  REQUIRE(sq);
  CHECK(sq->at.kind == pq::AtModifier::Kind::Start);
  CHECK(sq->offset == 120000);

  CHECK(selector_of(*must_parse("foo @ -10")).at.timestamp == -10000);
}

TEST_CASE("function calls are typed against the function table") {
  auto e = must_parse("label_join(up, \"dst\", \",\", \"a\", \"b\", \"c\")");
  const auto* c = e->as<pq::Call>();
  REQUIRE(c);
  CHECK(c->func->name == "label_join");
  CHECK(c->args.size() == 6);
  CHECK(must_parse("time()")->type() == pq::ValueType::Scalar);
  CHECK(must_parse("scalar(foo)")->type() == pq::ValueType::Scalar);
  CHECK(must_parse("round(foo)")->is<pq::Call>());
  CHECK(must_parse("round(foo, 0.5)")->is<pq::Call>());
  CHECK(must_parse("day_of_week()")->is<pq::Call>());
  CHECK(must_parse("histogram_quantile(0.9, rate(b[5m]))")->is<pq::Call>());
  CHECK(must_parse("quantile_over_time(0.5, foo[5m])")->is<pq::Call>());
  CHECK(must_parse("predict_linear(foo[1h], 3600)")->is<pq::Call>());
  CHECK(must_parse("vector(1)")->type() == pq::ValueType::Vector);
}

TEST_CASE("the function table is sorted, complete and looked up by exact name") {
  CHECK(pq::find_function("rate") != nullptr);
  CHECK(pq::find_function("Rate") == nullptr);
  CHECK(pq::find_function("nope") == nullptr);
  const auto* hq = pq::find_function("histogram_quantile");
  REQUIRE(hq);
  CHECK(hq->arg_types.size() == 2);
  CHECK(hq->arg_types[0] == pq::ValueType::Scalar);
  const auto* lj = pq::find_function("label_join");
  REQUIRE(lj);
  CHECK(lj->variadic > 0);
  CHECK(lj->min_args == 3);
  size_t experimental = 0;
  for (const auto& f : pq::all_functions()) {
    CHECK(pq::find_function(f.name) == &f);
    if (f.experimental) ++experimental;
  }
  CHECK(pq::all_functions().size() > 80);
  CHECK(experimental > 10);
}

TEST_CASE("comments and all whitespace kinds are skipped") {
  auto e = must_parse("sum( # total\n\trate(foo[5m])\r\n) # done");
  CHECK(e->is<pq::Aggregate>());
}

TEST_CASE("parse_series_selector accepts selectors only") {
  auto ok = pq::parse_series_selector(R"(up{job="a"})");
  REQUIRE(ok.has_value());
  CHECK((*ok)->is<pq::VectorSelector>());
  CHECK_FALSE(pq::parse_series_selector("rate(up[5m])").has_value());
  CHECK_FALSE(pq::parse_series_selector("up{").has_value());
}

TEST_CASE("clone produces an equal, independent tree") {
  auto e = must_parse("sum by (a) (rate(x{y=~\"z\"}[5m] offset 1m)) / on(a) group_left b > bool 1");
  auto c = e->clone();
  CHECK(*c == *e);
  c->as<pq::Binary>()->return_bool = false;
  CHECK_FALSE(*c == *e);
}

TEST_CASE("equality ignores spans but not values") {
  auto a = must_parse("foo + 1");
  auto b = must_parse("  foo   +   1 ");
  CHECK(*a == *b);
  CHECK_FALSE(*a == *must_parse("foo + 2"));
  CHECK(*must_parse("NaN") == *must_parse("nan"));
}

TEST_CASE("walk visits parents before children") {
  auto e = must_parse("sum(rate(foo[5m])) + 1");
  std::vector<std::string> kinds;
  pq::walk(*e, [&](const pq::Expr& n) {
    if (n.is<pq::Binary>()) kinds.emplace_back("binary");
    if (n.is<pq::Aggregate>()) kinds.emplace_back("aggregate");
    if (n.is<pq::Call>()) kinds.emplace_back("call");
    if (n.is<pq::MatrixSelector>()) kinds.emplace_back("matrix");
    if (n.is<pq::VectorSelector>()) kinds.emplace_back("vector");
    if (n.is<pq::NumberLiteral>()) kinds.emplace_back("number");
  });
  CHECK(kinds == std::vector<std::string>{"binary", "aggregate", "call", "matrix", "vector",
                                          "number"});
}

TEST_CASE("spans cover the source text of each node") {
  std::string in = "sum(rate(foo[5m])) by (job) + on(job) bar offset 1m";
  auto e = must_parse(in);
  auto text = [&](const pq::Expr& n) { return in.substr(n.span.begin, n.span.end - n.span.begin); };
  const auto* b = e->as<pq::Binary>();
  REQUIRE(b);
  CHECK(text(*e) == in);
  CHECK(text(*b->lhs) == "sum(rate(foo[5m])) by (job)");
  CHECK(text(*b->rhs) == "bar offset 1m");
  const auto* call = b->lhs->as<pq::Aggregate>()->expr.get();
  CHECK(text(*call) == "rate(foo[5m])");
  CHECK(text(*call->as<pq::Call>()->args[0]) == "foo[5m]");
}

TEST_CASE("deeply nested input is rejected instead of overflowing the stack") {
  std::string deep(100000, '(');
  auto r = pq::parse(deep);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message == "expression nested too deeply");
  std::string signs(100000, '-');
  signs += "1";
  CHECK_FALSE(pq::parse(signs).has_value());

  std::string chain = "x";
  for (int i = 0; i < 3000; ++i) chain += " + x";
  auto c = pq::parse(chain);
  REQUIRE_FALSE(c.has_value());
  CHECK(c.error().message == "expression too complex");
  std::string ok_chain = "x";
  for (int i = 0; i < 500; ++i) ok_chain += " + x";
  CHECK(pq::parse(ok_chain).has_value());
}
