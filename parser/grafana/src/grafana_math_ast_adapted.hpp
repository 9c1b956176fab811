// Private: Boost.Fusion adaptation of the math AST, so X3 can fill it from sequences.
#pragma once

#include <boost/fusion/include/adapt_struct.hpp>

#include "grafana_math_ast.hpp"

BOOST_FUSION_ADAPT_STRUCT(ruleeval::grafana::mathx3::NumberX, text)
BOOST_FUSION_ADAPT_STRUCT(ruleeval::grafana::mathx3::VarX, text)
BOOST_FUSION_ADAPT_STRUCT(ruleeval::grafana::mathx3::StringX, text)
BOOST_FUSION_ADAPT_STRUCT(ruleeval::grafana::mathx3::UnaryX, ops, operand)
BOOST_FUSION_ADAPT_STRUCT(ruleeval::grafana::mathx3::OperationX, op, operand)
BOOST_FUSION_ADAPT_STRUCT(ruleeval::grafana::mathx3::ChainX, first, rest)
BOOST_FUSION_ADAPT_STRUCT(ruleeval::grafana::mathx3::CallX, name, args)
