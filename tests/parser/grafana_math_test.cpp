// Grafana's math expression language: precedence, Go number syntax, the lexer's operator runs,
// variables, functions and errors with line:col (pkg/expr/mathexp/parse behaviour).
#include <doctest/doctest.h>

#include "ruleeval/parser/grafana_math.hpp"

using namespace ruleeval;
using namespace ruleeval::grafana;

namespace {
std::string fmt_of(std::string_view text) {
  auto r = parse_math(text);
  if (!r) return "error: " + r.error().message;
  return format_math(*r);
}
std::string err_of(std::string_view text) {
  auto r = parse_math(text);
  if (r) return "<parsed " + format_math(*r) + ">";
  return r.error().message;
}
}  // namespace

TEST_CASE("math precedence: || < && < comparisons < + - < * / % < ** < unary, all left-assoc") {
  CHECK(fmt_of("$A / $B > 0.5") == "(($A / $B) > 0.5)");
  CHECK(fmt_of("1 + 2 * 3") == "(1 + (2 * 3))");
  CHECK(fmt_of("2**3**2") == "((2 ** 3) ** 2)");
  CHECK(fmt_of("-2**2") == "(-2 ** 2)");
  CHECK(fmt_of("1<2<3") == "((1 < 2) < 3)");
  CHECK(fmt_of("$A > 1 || $B < 2 && $C == 3") == "(($A > 1) || (($B < 2) && ($C == 3)))");
  CHECK(fmt_of("1 - 2 - 3") == "((1 - 2) - 3)");
  CHECK(fmt_of("10 % 3 * 2") == "((10 % 3) * 2)");
  CHECK(fmt_of("!$A && -$B") == "(!$A && -$B)");
  CHECK(fmt_of("(1 + 2) * 3") == "((1 + 2) * 3)");
  CHECK(fmt_of("$A >= 1 != $B <= 2") == "((($A >= 1) != $B) <= 2)");
}

TEST_CASE("math numbers follow Go: hex, octal with a leading zero, floats") {
  CHECK(fmt_of("010 + 1") == "(8 + 1)");
  CHECK(fmt_of("0x1f") == "31");
  CHECK(fmt_of("089") == "89");
  CHECK(fmt_of("1.5e3") == "1500");
  CHECK(fmt_of(".5") == "0.5");
  CHECK(fmt_of("1.") == "1");
  CHECK(err_of("1a") == "1:1: unexpected \"1\"");
  CHECK(err_of(".") == "1:1: illegal number syntax: .");
}

TEST_CASE("math operator runs must be exactly one operator") {
  CHECK(err_of("1*-1") == "1:2: invalid operator \"*-\"");
  CHECK(fmt_of("1 * -1") == "(1 * -1)");
  CHECK(err_of("$A>-1") == "1:3: invalid operator \">-\"");
  CHECK(err_of("!!$A") == "1:1: invalid operator \"!!\"");
  CHECK(err_of("1--1") == "1:2: invalid operator \"--\"");
  CHECK(fmt_of("- -1") == "-(-1)");
  CHECK(fmt_of("1e999") == "inf()");
  CHECK(err_of("1 = 2") == "1:3: invalid operator \"=\"");
  CHECK(err_of("1 & 2") == "1:3: invalid operator \"&\"");
}

TEST_CASE("math variables and functions") {
  auto r = parse_math("abs($A - ${my query}) >= 3 || is_nan($B_2) || $A");
  REQUIRE(r);
  CHECK(math_vars(*r) == std::vector<std::string>{"A", "my query", "B_2"});
  CHECK(format_math(*r) == "(((abs(($A - ${my query})) >= 3) || is_nan($B_2)) || $A)");
  CHECK(fmt_of("nan() + inf() + infn() + null()") == "(((nan() + inf()) + infn()) + null())");
  CHECK(fmt_of("round(ceil(floor(log($A))))") == "round(ceil(floor(log($A))))");
  CHECK(fmt_of("is_inf($A) + is_null($A) + is_number($A)") ==
        "((is_inf($A) + is_null($A)) + is_number($A))");
  CHECK(err_of("sqrt($A)") == "1:1: non existent function sqrt");
  CHECK(err_of("1 + abs()") == "1:5: not enough arguments for abs");
  CHECK(err_of("abs($A, $B)") == "1:1: too many arguments for abs");
  CHECK(err_of("nan(1)") == "1:1: too many arguments for nan");
  CHECK(err_of("abs(\"x\")") == "1:5: string literals are not allowed here: no math function takes one");
  CHECK(err_of("$") == "1:1: incomplete variable \"$\"");
  CHECK(err_of("${}") == "1:1: incomplete variable \"${}\"");
  CHECK(err_of("${A") == "1:4: unexpected end of expression, expected '}'");
}

TEST_CASE("math syntax errors name line:col") {
  CHECK(err_of("") == "1:1: unexpected end of expression");
  CHECK(err_of("$A +") == "1:5: unexpected end of expression, expected operand");
  CHECK(err_of("($A + 1") == "1:8: unexpected end of expression, expected ')'");
  CHECK(err_of("$A\n  + # 1") == "2:5: unexpected \"#\", expected operand");
  CHECK(err_of("$A 1") == "1:4: unexpected \"1\"");
  CHECK(err_of("abs $A") == "1:1: unexpected \"a\"");
  auto deep = std::string(100, '(') + "1" + std::string(100, ')');
  CHECK(err_of(deep) == "1:65: expression nested deeper than 64 levels");
  auto e = parse_math("\n\n  $A ^ 2");
  REQUIRE_FALSE(e);
  CHECK(e.error().where.line == 3);
  CHECK(e.error().where.col == 6);
}
