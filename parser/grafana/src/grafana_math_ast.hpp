// Private: the X3-side AST of Grafana's math language (see grafana_math.hpp). The grammar reads
// binary operators as one flat chain (operand op operand op ...); grafana_math_api.cpp folds the
// chain by precedence into the public MathNode tree and checks function names and arities.
#pragma once

#include <boost/spirit/home/x3/support/ast/variant.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace ruleeval::grafana::mathx3 {

namespace x3 = boost::spirit::x3;

// Every node records the byte offset where it starts (filled by the annotation handler).
struct Tagged {
  uint32_t offset = 0;
};

struct NumberX : Tagged {
  std::string text;
};
struct VarX : Tagged {
  std::string text;  // "$A", "${my query}"
};
struct StringX : Tagged {
  std::string text;  // without the quotes
};
struct CallX;
struct ChainX;

struct PrimaryX : x3::variant<NumberX, VarX, StringX, x3::forward_ast<CallX>,
                              x3::forward_ast<ChainX>> {
  using base_type::base_type;
  using base_type::operator=;
};

struct UnaryX : Tagged {
  std::vector<int> ops;  // MathOp codes of prefix operators, outermost first
  PrimaryX operand;
};

struct OperationX {
  int op = 0;  // MathOp code
  UnaryX operand;
};

struct ChainX : Tagged {
  UnaryX first;
  std::vector<OperationX> rest;
};

struct CallX : Tagged {
  std::string name;
  std::vector<ChainX> args;
};

}  // namespace ruleeval::grafana::mathx3
