// The one instantiation of the PromQL grammar (src/rexpr.cpp in Spirit X3's examples): the top
// rule for the iterator and context of promql_grammar_config.hpp. See promql_grammar.hpp.
#include "promql_grammar_def.hpp"

namespace ruleeval::promql::detail::grammar {

BOOST_SPIRIT_INSTANTIATE(top_type, iterator_type, context_type)

const top_type& expression() { return top; }

}  // namespace ruleeval::promql::detail::grammar
