// PromQL diagnostics: every rejection carries Prometheus's wording and points at the right bytes.
#include <doctest/doctest.h>

#include <string>

#include "ruleeval/parser/promql.hpp"

namespace pq = ruleeval::promql;

namespace {

struct Case {
  const char* input;
  const char* message;  // exact message
  uint32_t col;         // 1-based column of the error
};

void check_cases(std::initializer_list<Case> cases, bool experimental = false) {
  pq::ParseOptions o;
  o = (experimental) ? ruleeval::promql::ParseOptions::all() : ruleeval::promql::ParseOptions{};
  for (const auto& c : cases) {
    std::string input = c.input;
    CAPTURE(input);
    auto r = pq::parse(c.input, o);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message == c.message);
    CHECK(r.error().where.col == c.col);
    CHECK(r.error().kind == ruleeval::ErrorKind::kParse);
  }
}

}  // namespace

TEST_CASE("type errors use Prometheus's messages") {
  check_cases({
      {"rate(foo)", "expected type range vector in call to function \"rate\", got instant vector",
       6},
      {"abs(foo[5m])", "expected type instant vector in call to function \"abs\", got range vector",
       5},
      {"histogram_quantile(\"a\", foo)",
       "expected type scalar in call to function \"histogram_quantile\", got string", 20},
      {"sum(foo[5m])", "expected type instant vector in aggregation expression, got range vector",
       5},
      {"topk(\"a\", foo)", "expected type scalar in aggregation parameter, got string", 6},
      {"count_values(1, foo)", "expected type string in aggregation parameter, got scalar", 14},
      {"foo[5m] + 1", "binary expression must contain only scalar and instant vector types", 1},
      {"-foo[5m]",
       "unary expression only allowed on expressions of type scalar or instant vector, got "
       "\"range vector\"",
       1},
      {"foo[5m][10m:]", "subquery is only allowed on instant vector, got range vector instead", 1},
      {"\"a\"[5m:]", "subquery is only allowed on instant vector, got string instead", 1},
  });
}

TEST_CASE("arity errors name the function and both counts") {
  check_cases({
      {"rate()", "expected 1 argument(s) in call to \"rate\", got 0", 1},
      {"clamp(foo, 1)", "expected 3 argument(s) in call to \"clamp\", got 2", 1},
      {"label_join(foo, \"a\")", "expected at least 3 argument(s) in call to \"label_join\", got 2",
       1},
      {"round(foo, 1, 2)", "expected at most 2 argument(s) in call to \"round\", got 3", 1},
      {"hour(foo, foo)", "expected at most 1 argument(s) in call to \"hour\", got 2", 1},
      {"sum(foo, bar)",
       "wrong number of arguments for aggregate expression provided, expected 1, got 2", 1},
      {"topk(foo)",
       "wrong number of arguments for aggregate expression provided, expected 2, got 1", 1},
      {"sum()", "no arguments for aggregate expression provided", 1},
      {"rate(foo[5m],)", "trailing commas not allowed in function call args", 13},
  });
}

TEST_CASE("binary operator rules") {
  check_cases({
      {"1 > 2", "comparisons between scalars must use BOOL modifier", 3},
      {"foo + bool bar", "bool modifier can only be used on comparison operators", 5},
      {"foo / group_left(y) bar", "group_left must follow on(...) or ignoring(...)", 7},
      {"foo > bool group_right bar", "group_right must follow on(...) or ignoring(...)", 12},
      {"1 and 2", "set operator \"and\" not allowed in binary scalar expression", 1},
      {"foo or 1", "set operator \"or\" not allowed in binary scalar expression", 1},
      {"foo + on(a) 1", "vector matching only allowed between instant vectors", 1},
      {"foo + on(a) group_left(a) bar",
       "label \"a\" must not occur in ON and GROUP clause at once", 5},
      {"foo and on(a) group_left bar", "no grouping allowed for \"and\" operation", 1},
  });
}

TEST_CASE("selector rules") {
  check_cases({
      {"{}", "vector selector must contain at least one non-empty matcher", 1},
      {"{a=\"\"}", "vector selector must contain at least one non-empty matcher", 1},
      {"{a=~\".*\", b!~\".+\"}", "vector selector must contain at least one non-empty matcher", 1},
      {"foo{__name__=\"bar\"}", "metric name must not be set twice: \"foo\" or \"bar\"", 1},
      {"{\"foo\", \"bar\"}", "metric name must not be set twice: \"foo\" or \"bar\"", 9},
      {"foo{a=~\"(\"}", "error parsing regexp: missing ): (", 5},
      {"foo{a}", "unexpected \"}\" in label matching, expected label matching operator", 6},
  });
}

TEST_CASE("range, offset and @ rules") {
  check_cases({
      {"(foo)[5m]", "ranges only allowed for vector selectors", 1},
      {"sum(foo)[5m]", "ranges only allowed for vector selectors", 1},
      {"foo offset 5m[5m]", "no offset modifiers allowed before range", 1},
      {"foo @ 10 [5m]", "no @ modifiers allowed before range", 1},
      {"foo offset 1m offset 2m", "offset may not be set multiple times", 1},
      {"foo @ 1 @ 2", "@ <timestamp> may not be set multiple times", 1},
      {"foo @ start() @ end()", "@ <timestamp> may not be set multiple times", 1},
      {"(foo) offset 5m",
       "offset modifier must be preceded by an instant vector selector or range vector selector "
       "or a subquery",
       1},
      {"sum(foo) @ 10",
       "@ modifier must be preceded by an instant vector selector or range vector selector or a "
       "subquery",
       1},
      {"foo[0s]", "duration must be greater than 0", 5},
      {"foo[5m:0s]", "duration must be greater than 0", 8},
      {"foo[1.5h]", "unexpected number \"1.5h\", expected duration", 5},
      {"foo @ Inf", "timestamp out of bounds for @ modifier: inf", 5},
      // Prometheus's durationLiteralOutOfRange: a number of seconds must fit a Go time.Duration
      // (+-2^63 ns, about 292 years). Found by fuzz_promql: 44444E44444 (+Inf) inside a duration
      // expression was accepted and printed as `+Inf`, which reads back as a unary plus.
      {"foo[1e10]", "duration out of range", 5},
      {"foo[Inf]", "duration out of range", 5},
      {"foo offset 1e10", "duration out of range", 12},
      {"foo[5m:1e11]", "duration out of range", 8},
  });
}

TEST_CASE("duration expressions: a literal out of a Go time.Duration's range is refused") {
  pq::ParseOptions o;
  o.duration_expr = true;
  for (const char* q : {"s[1+44444E44444]", "s[1m + 1e10]", "s offset (2 * 1e10)",
                        "s[81444444+4+.444444%44444/44444E44444+4+.44]"}) {
    CAPTURE(q);
    auto r = pq::parse(q, o);
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "duration out of range");
  }
  for (const char* q : {"s[9223372036]", "s offset 9223372036", "s[1e9 + 1m]"}) {
    CAPTURE(q);
    CHECK(pq::parse(q, o));
  }
}

TEST_CASE("syntax errors name the unexpected token") {
  check_cases({
      {"", "no expression found in input", 1},
      {"   # only a comment", "no expression found in input", 20},
      {"foo +", "unexpected end of input, expected expression", 6},
      {"foo bar", "unexpected identifier \"bar\"", 5},
      {"sum(foo", "unexpected end of input, expected \")\"", 8},
      {"foo{a=\"b\"", "unexpected end of input, expected \"}\"", 10},
      {"foo{a=\"b", "unterminated quoted string", 9},
      {"foo[5m", "unexpected end of input, expected \"]\" or \":\"", 7},
      {"foo ~ bar", "unexpected character: '~'", 5},
      {"1 == = 2", "unexpected \"=\", expected expression", 6},
      {"sum by (a foo)", "unexpected identifier \"foo\", expected \")\"", 11},
      {"foo offset", "unexpected end of input, expected duration", 11},
      {"foo{a=1}", "unexpected number \"1\", expected string", 7},
      {"unknown_fn(foo)", "unknown function with name \"unknown_fn\"", 1},
      {"\"a\\q\"", "error unquoting string \"a\\q\": invalid syntax", 1},
      {"1 +\n  )", "unexpected \")\", expected expression", 3},
  });
}

TEST_CASE("errors report line and column and render a caret under the token") {
  std::string in = "sum(\n  rate(foo[5m])\n) by (job) +";
  auto r = pq::parse(in);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().where.line == 3);
  CHECK(r.error().where.col == 13);
  CHECK(r.error().where.end_col == 0);  // end of input: a point
  CHECK(pq::format_parse_error(r.error()) == "3:13: parse error: unexpected end of input, expected expression");

  std::string in2 = "sum(rate(foo)) by (job)";
  auto r2 = pq::parse(in2);
  REQUIRE_FALSE(r2.has_value());
  CHECK(r2.error().where.end_col == 13);  // `foo`: columns 10 to 12
  CHECK(pq::render_parse_error(r2.error(), in2) ==
        "1:10: parse error: expected type range vector in call to function \"rate\", got instant "
        "vector\n"
        "  sum(rate(foo)) by (job)\n"
        "           ^~~\n");

  // On a later line: the caret is placed from line and columns alone.
  std::string in3 = "sum(\n  rate(foo)\n)";
  auto r3 = pq::parse(in3);
  REQUIRE_FALSE(r3.has_value());
  CHECK(r3.error().where.line == 2);
  CHECK(r3.error().where.col == 8);
  CHECK(r3.error().where.end_col == 11);
  CHECK(r3.error().to_string() == pq::format_parse_error(r3.error()));
  CHECK(pq::render_parse_error(r3.error(), in3) ==
        "2:8: parse error: expected type range vector in call to function \"rate\", got instant "
        "vector\n"
        "    rate(foo)\n"
        "         ^~~\n");
}

TEST_CASE("invalid input never crashes the parser") {
  const char* nasty[] = {"(",     ")",        "[",         "{",        "}",    "@",
                         "foo[",    "foo[5m:",   "foo{,}",   "\\",   "\xff\xfe",
                         "sum by", "sum by (", "a and on(", "foo @",   "1e",   "0x",
                         "`",      "'\\",     "foo[5m] @ start(", "\"\\u12\"", "foo{\"a\"=}"};
  for (std::string in : nasty) {
    CAPTURE(in);
    auto r = pq::parse(in);
    CHECK_FALSE(r.has_value());
  }
}
