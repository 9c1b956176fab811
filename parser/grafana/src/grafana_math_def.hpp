// Private: the Spirit X3 grammar of Grafana's math language (pkg/expr/mathexp/parse/lex.go and
// parse.go). Binary operators form one flat chain here; precedence is applied afterwards.
#pragma once

#include <boost/spirit/home/x3.hpp>
#include <string_view>

#include "grafana_math_ast_adapted.hpp"
#include "grafana_math_error_handler.hpp"
#include "grafana_math_grammar.hpp"
#include "ruleeval/parser/grafana_math.hpp"

namespace ruleeval::grafana::mathx3 {

// An operator token as Grafana's lexer reads it: the maximal run of operator characters, which
// must be exactly one operator (so `*-` in `1*-1` is an error, not `*` then `-`).
struct op_parser : x3::parser<op_parser> {
  using attribute_type = int;
  static const bool has_attribute = true;
  bool unary = false;

  template <class It, class Ctx, class RCtx, class Attr>
  bool parse(It& first, const It& last, const Ctx& ctx, RCtx&, Attr& attr) const {
    x3::skip_over(first, last, ctx);
    It it = first;
    while (it != last && is_op_char(*it)) ++it;
    if (it == first) return false;
    int code = op_code(std::string_view(&*first, static_cast<size_t>(it - first)));
    if (code < 0) return false;
    const bool is_unary = code == static_cast<int>(MathOp::kNot) ||
                          code == static_cast<int>(MathOp::kSub);
    const bool is_binary = code != static_cast<int>(MathOp::kNot);
    if (unary ? !is_unary : !is_binary) return false;
    if (unary && code == static_cast<int>(MathOp::kSub)) code = static_cast<int>(MathOp::kNeg);
    x3::traits::move_to(code, attr);
    first = it;
    return true;
  }
};

const op_parser binary_op{{}, false};
const op_parser unary_op{{}, true};

struct number_class : annotate {};
struct var_class : annotate {};
struct string_class : annotate {};
struct call_class : annotate, error_handler {};
struct unary_class : annotate {};
struct primary_class {};
struct operand_class {};
struct close_paren_class {};
struct close_brace_class {};
struct close_quote_class {};
struct args_class {};
struct chain_class : annotate, error_handler {};
struct top_class : error_handler {};

const x3::rule<number_class, NumberX> number = "number";
const x3::rule<var_class, VarX> variable = "variable";
const x3::rule<string_class, StringX> string_lit = "string";
const x3::rule<call_class, CallX> call = "function call";
const x3::rule<unary_class, UnaryX> unary = "operand";
const x3::rule<primary_class, PrimaryX> primary = "operand";
const x3::rule<operand_class, UnaryX> operand = "operand";
const x3::rule<close_paren_class> close_paren = "')'";
const x3::rule<close_brace_class> close_brace = "'}'";
const x3::rule<close_quote_class> close_quote = "'\"'";
const x3::rule<args_class, std::vector<ChainX>> args = "function arguments";
const chain_type chain = "expression";
const top_type top_rule = "expression";

const auto alnum_ = x3::char_("a-zA-Z0-9_");
const auto digits = +x3::char_("0-9");

const auto number_def = x3::lexeme[x3::raw[(x3::char_('0') >> x3::char_("xX") >>
                                             +x3::char_("0-9a-fA-F")) |
                                            (x3::char_("0-9.") >> *x3::char_("0-9") >>
                                             -(x3::char_('.') >> *x3::char_("0-9")) >>
                                             -(x3::char_("eE") >> -x3::char_("+-") >> digits))] >>
                                   !(alnum_ | x3::char_('.'))];
const auto close_brace_def = x3::lit('}');
const auto variable_def = x3::lexeme[x3::raw[x3::char_('$') >>
                                              ((x3::char_('{') >>
                                                *x3::char_("a-zA-Z0-9_ \t\r\n") > close_brace) |
                                               *alnum_)]];
const auto close_quote_def = x3::lit('"');
const auto string_lit_def = x3::lexeme['"' >> *(x3::char_ - '"') > close_quote];
const auto close_paren_def = x3::lit(')');
const auto args_def = -(chain % ',') > close_paren;
const x3::rule<struct func_name_class, std::string> func_name = "function name";
const auto func_name_def = x3::lexeme[x3::char_("a-zA-Z") >> *x3::char_("a-zA-Z_")];
const auto call_def = func_name >> '(' > args;
const auto primary_def = number | variable | string_lit | call | ('(' > chain > close_paren);
const auto unary_def = *unary_op >> primary;
const auto operand_def = unary;
const auto chain_def = unary >> *(binary_op > operand);
const auto top_rule_def = chain > x3::eoi;

BOOST_SPIRIT_DEFINE(func_name, number, variable, string_lit, call, unary, primary, operand, close_paren,
                    close_brace, close_quote, args, chain, top_rule)

}  // namespace ruleeval::grafana::mathx3
