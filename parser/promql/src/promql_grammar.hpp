// The PromQL grammar, written with Boost.Spirit X3, in the file layout of Spirit X3's examples
// (calc, rexpr, employee):
//   promql_grammar.hpp             this file: the top rule, declared for the configuration below
//   promql_grammar_config.hpp      iterator, skipper, context (the context carries the Builder)
//   promql_builder.hpp             what the grammar builds (X3's ast.hpp): operand/operator lists
//   promql_grammar_def.hpp         the rules and their definitions
//   promql_tokens.hpp              the tokens the rules are made of
//   promql_actions.hpp             semantic actions: operators, literals, calls, aggregations
//   promql_actions_selectors.hpp   semantic actions: selectors, ranges, subqueries, offset, @
//   promql_error_handler.hpp       the top rule's handler of expectation failures
//   promql_grammar.cpp             the one instantiation of the top rule (BOOST_SPIRIT_INSTANTIATE)
//   promql_fold.cpp                precedence climbing at the end of each expression level
//   promql_modifiers.cpp           where offset, @, anchored and smoothed land
//   promql_duration_expr.hpp/.cpp  the hand-written reader of durations and duration expressions
//   promql_parse.cpp               parse(): runs the grammar and the checker, makes the parse Errors
// Only promql_grammar.cpp includes the definitions, so the X3 templates compile in one unit.
#pragma once

#include "promql_grammar_config.hpp"

namespace ruleeval::promql::detail::grammar {

struct top_class;
using top_type = x3::rule<top_class>;
// cppcheck-suppress unknownMacro ; defined in a Boost header cppcheck is not given (no system paths)
BOOST_SPIRIT_DECLARE(top_type)

// A whole PromQL expression up to the end of input; instantiated for iterator_type and
// context_type.
const top_type& expression();

}  // namespace ruleeval::promql::detail::grammar
