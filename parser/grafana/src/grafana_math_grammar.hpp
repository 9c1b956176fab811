// Private: declarations of the math grammar's rules (defined in grafana_math_def.hpp,
// instantiated once in grafana_math_instantiation.cpp).
#pragma once

#include <boost/spirit/home/x3.hpp>
#include <string_view>
#include <utility>

#include "grafana_math_ast.hpp"
#include "grafana_math_error_handler.hpp"
#include "ruleeval/parser/grafana_math.hpp"

namespace ruleeval::grafana::mathx3 {

struct chain_class;
struct top_class;
using chain_type = x3::rule<chain_class, ChainX>;
using top_type = x3::rule<top_class, ChainX>;
BOOST_SPIRIT_DECLARE(top_type)

using iterator_type = const char*;
using phrase_context_type = x3::phrase_parse_context<x3::ascii::space_type>::type;
using context_type =
    x3::context<error_sink_tag, std::reference_wrapper<ErrorSink>, phrase_context_type>;

const top_type& top();

inline bool is_op_char(char c) {
  return c == '!' || c == '<' || c == '>' || c == '=' || c == '&' || c == '|' || c == '+' ||
         c == '-' || c == '*' || c == '/' || c == '%';
}

inline int op_code(std::string_view run) {
  static constexpr std::pair<std::string_view, MathOp> kOps[] = {
      {"||", MathOp::kOr},  {"&&", MathOp::kAnd}, {"==", MathOp::kEq},  {"!=", MathOp::kNe},
      {">", MathOp::kGt},   {">=", MathOp::kGe},  {"<", MathOp::kLt},   {"<=", MathOp::kLe},
      {"+", MathOp::kAdd},  {"-", MathOp::kSub},  {"*", MathOp::kMul},  {"/", MathOp::kDiv},
      {"%", MathOp::kMod},  {"**", MathOp::kPow}, {"!", MathOp::kNot},
  };
  for (const auto& [s, op] : kOps) {
    if (s == run) return static_cast<int>(op);
  }
  return -1;
}


}  // namespace ruleeval::grafana::mathx3
