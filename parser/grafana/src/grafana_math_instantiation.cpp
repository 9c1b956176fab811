// Instantiates the math grammar's rules once (X3's example layout: def / instantiation).
#include "grafana_math_def.hpp"

namespace ruleeval::grafana::mathx3 {

// cppcheck-suppress unknownMacro ; defined in a Boost header cppcheck is not given (no system paths)
BOOST_SPIRIT_INSTANTIATE(top_type, iterator_type, context_type)

const top_type& top() { return top_rule; }

}  // namespace ruleeval::grafana::mathx3
