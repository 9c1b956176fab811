// Grafana's server-side math expression language (`type: math`, pkg/expr/mathexp/parse):
//   $A / $B > 0.5          abs($A - ${my query}) >= 3 || is_nan($C)
// Operators, lowest to highest precedence, all left-associative:
//   ||   &&   == != > >= < <=   + -   * / %   **   unary ! -
// Numbers as Go reads them (0x1f hex, a leading 0 is octal: 010 = 8, 089 = 89, 1.5e3); a run of
// operator characters must be exactly one operator, so `1*-1` is an error and `1 * -1` is not.
// Functions: abs ceil floor log round is_nan is_inf is_null is_number (one argument) and the
// constants nan() inf() infn() null().
// Parsed with Spirit X3 (grafana_math_*.cpp); the tree below is Boost-free.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ruleeval/common/error.hpp"

namespace ruleeval::grafana {

enum class MathOp : uint8_t {
  kOr, kAnd, kEq, kNe, kGt, kGe, kLt, kLe, kAdd, kSub, kMul, kDiv, kMod, kPow,
  kNeg, kNot,  // unary
};
std::string_view to_string(MathOp op);  // "||", "-", "!", ...

enum class MathFunc : uint8_t {
  kAbs, kCeil, kFloor, kLog, kRound, kIsNaN, kIsInf, kIsNull, kIsNumber,
  kNaN, kInf, kInfN, kNull,  // zero-argument constants
};
std::string_view to_string(MathFunc f);

struct MathNode {
  enum class Kind : uint8_t { kNumber, kVar, kUnary, kBinary, kCall };
  Kind kind = Kind::kNumber;
  double number = 0;
  std::string var;  // refId without `$` / `${}`
  MathOp op = MathOp::kAdd;
  MathFunc func = MathFunc::kAbs;
  std::vector<MathNode> args;  // unary: 1, binary: 2, call: its arguments
  uint32_t offset = 0;         // byte offset of the node in the text
};

// Parses an expression. Errors read "LINE:COL: message" with Error::where.line/col set
// (1-based, relative to the text).
Result<MathNode> parse_math(std::string_view text);

// The refIds the expression reads, in order of first use, without duplicates.
std::vector<std::string> math_vars(const MathNode& n);

// Canonical text (fully parenthesised binary operations), for tests and messages.
std::string format_math(const MathNode& n);

}  // namespace ruleeval::grafana
