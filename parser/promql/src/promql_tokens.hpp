// The tokens of the PromQL grammar: identifiers, strings, numbers, durations, operator and
// aggregation keywords. Included by promql_grammar_def.hpp only.
#pragma once

#include "promql_actions.hpp"
#include "promql_duration_expr.hpp"

namespace ruleeval::promql::detail::grammar {

// A duration (range, subquery step, offset) is read by promql_duration_expr.cpp's reader, run here
// as a primitive X3 parser.
template <DurRole kRole>
struct DurationParser : x3::parser<DurationParser<kRole>> {
  using attribute_type = x3::unused_type;
  [[maybe_unused]] static bool const has_attribute = false;
  template <class Iterator, class Context, class RContext, class Attribute>
  bool parse(Iterator& first, const Iterator& last, const Context& ctx, RContext&,
             Attribute&) const {
    Builder& b = bld(ctx);
    size_t end = read_duration(b, b.pos(first), kRole);
    if (end == std::string_view::npos) return false;
    first = b.input.data() + end;
    (void)last;
    return true;
  }
};

auto const metric_char = x3::char_("a-zA-Z0-9_:");
auto const label_start = x3::char_("a-zA-Z_");
auto const label_char = x3::char_("a-zA-Z0-9_");

inline auto kw(const char* s) { return x3::lexeme[x3::no_case[x3::lit(s)] >> !metric_char]; }

auto const label_ident = x3::raw[x3::lexeme[label_start >> *label_char]];
auto const metric_ident = x3::raw[x3::lexeme[x3::char_("a-zA-Z_:") >> *metric_char]];

auto const dq_string = x3::lit('"') >> *((x3::lit('\\') >> x3::char_) | ~x3::char_("\"\\\n"));
auto const sq_string = x3::lit('\'') >> *((x3::lit('\\') >> x3::char_) | ~x3::char_("'\\\n"));
auto const bt_string = x3::lit('`') >> *~x3::char_('`');

x3::rule<class dq_close_class> const dq_close = "closing quote";
x3::rule<class sq_close_class> const sq_close = "closing quote";
x3::rule<class bt_close_class> const bt_close = "closing backtick";
auto const dq_close_def = x3::lit('"');
auto const sq_close_def = x3::lit('\'');
auto const bt_close_def = x3::lit('`');

auto const string_tok =
    x3::raw[x3::lexeme[(dq_string > dq_close) | (sq_string > sq_close) | (bt_string > bt_close)]];

auto const dec_digits = x3::digit >> *(-x3::lit('_') >> x3::digit);
auto const hex_number = x3::no_case[x3::lit("0x")] >> *x3::lit('_') >> x3::xdigit >>
                        *(-x3::lit('_') >> x3::xdigit);
auto const duration_unit = x3::lit("ms") | x3::lit('s') | x3::lit('m') | x3::lit('h') |
                           x3::lit('d') | x3::lit('w') | x3::lit('y');
auto const duration_number = +(dec_digits >> duration_unit);
auto const exponent = x3::no_case[x3::lit('e')] >> -(x3::lit('+') | x3::lit('-')) >> dec_digits;
auto const decimal_number =
    ((dec_digits >> -(x3::lit('.') >> -dec_digits)) | (x3::lit('.') >> dec_digits)) >> -exponent;
auto const inf_nan = x3::no_case[x3::lit("inf") | x3::lit("nan")];
auto const number_tok = x3::raw[x3::lexeme[
    (hex_number | duration_number | decimal_number | inf_nan) >> !label_char >> !x3::lit('.')]];

struct BinOpSymbols : x3::symbols<BinaryOp> {
  BinOpSymbols() {
    add("+", BinaryOp::Add)("-", BinaryOp::Sub)("*", BinaryOp::Mul)("/", BinaryOp::Div)(
        "%", BinaryOp::Mod)("^", BinaryOp::Pow)("==", BinaryOp::Eql)("!=", BinaryOp::Neq)(
        ">", BinaryOp::Gtr)("<", BinaryOp::Lss)(">=", BinaryOp::Gte)("<=", BinaryOp::Lte);
  }
};
struct BinKeywordSymbols : x3::symbols<BinaryOp> {
  BinKeywordSymbols() {
    add("and", BinaryOp::And)("or", BinaryOp::Or)("unless", BinaryOp::Unless)(
        "atan2", BinaryOp::Atan2);
  }
};
struct AggSymbols : x3::symbols<AggregateOp> {
  AggSymbols() {
    add("sum", AggregateOp::Sum)("avg", AggregateOp::Avg)("count", AggregateOp::Count)(
        "min", AggregateOp::Min)("max", AggregateOp::Max)("group", AggregateOp::Group)(
        "stddev", AggregateOp::Stddev)("stdvar", AggregateOp::Stdvar)("topk", AggregateOp::Topk)(
        "bottomk", AggregateOp::Bottomk)("count_values", AggregateOp::CountValues)(
        "quantile", AggregateOp::Quantile)("limitk", AggregateOp::Limitk)(
        "limit_ratio", AggregateOp::LimitRatio);
  }
};
struct MatchOpSymbols : x3::symbols<MatchOp> {
  MatchOpSymbols() {
    add("=", MatchOp::Equal)("!=", MatchOp::NotEqual)("=~", MatchOp::Regex)(
        "!~", MatchOp::NotRegex);
  }
};

const BinOpSymbols kBinOps;
const BinKeywordSymbols kBinKeywords;
const AggSymbols kAggOps;
const MatchOpSymbols kMatchOps;

auto const binop_tok =
    x3::raw[x3::eps][act_mark] >>
    (x3::lexeme[kBinOps][act_binop] |
     x3::lexeme[x3::no_case[kBinKeywords] >> !metric_char][act_binop]);
auto const agg_tok = x3::lexeme[x3::no_case[kAggOps] >> !metric_char];

}  // namespace ruleeval::promql::detail::grammar
