// The rules of the PromQL grammar (rexpr_def.hpp in Spirit X3's examples), with their definitions;
// included only by promql_grammar.cpp, which instantiates the top rule. The grammar is static
// (built once at namespace scope). Rules that follow an expectation point (`>`) are named after
// what Prometheus says is expected there (promql_error_handler.hpp turns the name into the error).
#pragma once

#include "promql_actions_selectors.hpp"
#include "promql_error_handler.hpp"
#include "promql_grammar.hpp"
#include "promql_tokens.hpp"

namespace ruleeval::promql::detail::grammar {

// The outermost rule handles expectation failures (promql_error_handler.hpp).
struct top_class : error_handler_base {};

struct expr_class;

x3::rule<expr_class, size_t> const expr = "expression";
x3::rule<class unary_class> const unary = "expression";
x3::rule<class primary_class> const primary = "expression";
top_type const top = "expression";

x3::rule<class close_paren_class> const close_paren = "\")\"";
x3::rule<class close_brace_class> const close_brace = "\"}\"";
x3::rule<class close_bracket_class> const close_bracket = "\"]\"";
x3::rule<class open_paren_class> const open_paren = "\"(\"";
x3::rule<class range_end_class> const range_end = "\"]\" or \":\"";
x3::rule<class range_duration_class> const range_duration = "duration";
x3::rule<class step_duration_class> const step_duration = "duration";
x3::rule<class offset_duration_class> const offset_duration = "duration";
x3::rule<class label_list_class> const label_list = "label list";
x3::rule<class label_name_class> const label_name = "label name";
x3::rule<class matcher_value_class> const matcher_value = "string";
x3::rule<class at_value_class> const at_value = "timestamp";
x3::rule<class call_args_class> const call_args = "\"(\"";
x3::rule<class end_class> const end_of_input = "end of input";

auto const close_paren_def = x3::raw[x3::lit(')')][act_close];
auto const close_brace_def = x3::raw[x3::lit('}')][act_close];
auto const close_bracket_def = x3::raw[x3::lit(']')][act_close];
auto const open_paren_def = x3::lit('(');
auto const end_of_input_def = x3::eoi;

auto const label_name_def = label_ident[act_label_ident] | string_tok[act_label_string];
auto const label_list_def =
    x3::lit('(') > -((label_name % ',') >> -x3::lit(',')) > close_paren;

auto const range_duration_def = DurationParser<DurRole::Range>{};
auto const step_duration_def = DurationParser<DurRole::Step>{};
auto const offset_duration_def = DurationParser<DurRole::Offset>{};

auto const range_end_def =
    x3::omit[(x3::lit(':') >> -step_duration) > close_bracket][act_subquery] |
    x3::raw[x3::lit(']')][act_matrix];
auto const range_suffix = x3::raw[x3::lit('[')][act_bracket_begin] > range_duration > range_end;

auto const offset_suffix =
    x3::raw[kw("offset")][act_mod_begin] > -(x3::lit('-')[act_negative] | x3::lit('+')) >
    offset_duration;

auto const at_value_def = (kw("start") > open_paren > close_paren)[act_at_start] |
                          (kw("end") > open_paren > close_paren)[act_at_end] |
                          (-(x3::lit('-')[act_negative] | x3::lit('+')) >> number_tok[act_at_ts]);
auto const at_suffix = x3::raw[x3::lit('@')][act_mod_begin] > at_value;

auto const postfix = range_suffix | offset_suffix | at_suffix |
                     x3::raw[kw("anchored")][act_anchored] | x3::raw[kw("smoothed")][act_smoothed];

auto const call_args_def = x3::lit('(') > (-(expr % ',') >> -(x3::raw[x3::lit(',')][act_trailing_comma])) >
                           close_paren;

auto const grouping = (kw("by")[act_by] | kw("without")[act_without]) > label_list;

auto const aggregate =
    x3::raw[x3::eps][act_mark] >>
    (agg_tok >> &(x3::lit('(') | kw("by") | kw("without")))[act_agg_begin] >
    x3::omit[-grouping[act_grouping_pre] > (call_args >> -grouping[act_grouping_post])]
            [act_agg_end];

auto const call = (label_ident >> &x3::lit('('))[act_call_begin] > call_args[act_call_end];

auto const matcher_value_def = string_tok[act_m_value];
auto const matcher =
    x3::omit[(label_ident[act_m_name_ident] | string_tok[act_m_name_string]) >>
             -(x3::lexeme[kMatchOps][act_m_op] > matcher_value)][act_m_end];
auto const braces = x3::lit('{') > -((matcher % ',') >> -x3::lit(',')) > close_brace;
auto const selector =
    x3::raw[x3::eps][act_sel_begin] >>
    x3::omit[(metric_ident[act_sel_name] >> -braces) | braces][act_sel_end];

auto const paren = x3::raw[x3::lit('(')][act_paren_begin] > expr > close_paren >
                   x3::eps[act_paren_end];

auto const primary_def = number_tok[act_number] | string_tok[act_string] | paren | aggregate |
                         call | selector;

auto const unary_def = (x3::raw[x3::char_("+-")][act_sign] > unary) | (primary >> *postfix);

x3::rule<class fill_value_class> const fill_value = "number";
auto const fill_value_def = x3::raw[-x3::char_("+-") >> number_tok][act_fill_value];
inline auto fill_kw(const char* s) { return x3::raw[kw(s) >> &x3::lit('(')][act_fill_kw]; }
auto const fill_args = x3::lit('(') > fill_value > close_paren;
auto const fill_modifiers = (fill_kw("fill") > fill_args) |
                            +((fill_kw("fill_left") | fill_kw("fill_right")) > fill_args);

auto const binop_modifiers =
    -kw("bool")[act_bool] >>
    -((kw("on")[act_on] | kw("ignoring")[act_ignoring]) > label_list[act_on_labels]) >>
    -((x3::raw[kw("group_left")][act_group_left] | x3::raw[kw("group_right")][act_group_right]) >>
      -label_list[act_group_labels]) >>
    -fill_modifiers;

auto const expr_def =
    x3::eps[act_chain_mark] >> unary >> *((binop_tok >> binop_modifiers) > unary) >>
    x3::eps[act_chain_fold];

auto const top_def = expr > end_of_input;

BOOST_SPIRIT_DEFINE(expr, unary, primary, top, close_paren, close_brace, close_bracket,
                    open_paren, range_end, range_duration, step_duration, offset_duration, label_list, label_name, matcher_value,
                    at_value, call_args, end_of_input, fill_value, dq_close, sq_close, bt_close)

}  // namespace ruleeval::promql::detail::grammar
