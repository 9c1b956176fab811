// Public PromQL AST. Boost-free. Produced by ruleeval::promql::parse(), consumed by the
// evaluator (engine/), lint checks (rules/) and the canonical printer.
//
// Ownership: an Expr owns its children through unique_ptr. Every node carries the byte span of
// the source text it came from (half-open [begin, end) offsets into the parsed string).
// Equality (operator==) compares structure and values and ignores spans, so that
// parse(format(e)) == e holds for every expression.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ruleeval/common/millis.hpp"

namespace ruleeval::promql {

struct Span {
  uint32_t begin = 0;
  uint32_t end = 0;
};

enum class ValueType : uint8_t { None, Scalar, Vector, Matrix, String };
std::string_view to_string(ValueType t);  // "scalar", "instant vector", "range vector", "string"

enum class MatchOp : uint8_t { Equal, NotEqual, Regex, NotRegex };
std::string_view to_string(MatchOp op);  // "=", "!=", "=~", "!~"

struct LabelMatcher {
  MatchOp op = MatchOp::Equal;
  std::string name;
  std::string value;
  Span span;
  // True when this matcher matches the empty string (e.g. x="", x=~".*", x!="a").
  bool matches_empty() const;
  friend bool operator==(const LabelMatcher& a, const LabelMatcher& b) {
    return a.op == b.op && a.name == b.name && a.value == b.value;
  }
};

// Durations and timestamps are milliseconds (ruleeval::Millis).

// The `@` modifier.
struct AtModifier {
  enum class Kind : uint8_t { None, Timestamp, Start, End };
  Kind kind = Kind::None;
  Millis timestamp = 0;  // for Kind::Timestamp (Prometheus rounds the float seconds to ms)
  friend bool operator==(const AtModifier&, const AtModifier&) = default;
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct NumberLiteral {
  double value = 0;
  // Printer hint inside duration expressions: the literal was written as a duration (`1m`), the
  // value is still in seconds. Ignored by operator==.
  bool is_duration = false;
};

struct StringLiteral {
  std::string value;
};

// metric{matchers} [offset] [@]
struct VectorSelector {
  std::string name;                    // metric name if given outside braces or as a bare string
                                       // inside braces; also present as a __name__ matcher
  std::vector<LabelMatcher> matchers;  // including the implicit __name__="name" matcher, last
  Millis offset = 0;
  AtModifier at;
  bool name_in_braces = false;         // {"metric.name"} form, kept for the printer
  // Experimental duration expression after `offset` (e.g. `offset (1h / 2)`, `offset -step()`),
  // null for a plain duration. `offset` holds its value when it is constant (no step()/range()),
  // else 0. Shared so that VectorSelector stays copyable; never mutated after parsing.
  std::shared_ptr<const Expr> offset_expr;
  // Experimental extended selector modifiers on an instant selector (`x smoothed`: the value
  // interpolated at the evaluation time; `anchored` has no effect on an instant selector, as in
  // Prometheus). A range selector carries them on the MatrixSelector.
  bool anchored = false;
  bool smoothed = false;
};

// vector_selector[range]; offset/@ live on the inner selector, as in Prometheus.
struct MatrixSelector {
  ExprPtr vector;  // always holds a VectorSelector
  Millis range = 0;
  // Experimental duration expression inside the brackets (`[1m * 2]`), null for a plain
  // duration. `range` holds its value when it is constant (no step()/range()), else 0.
  ExprPtr range_expr;
  // Experimental extended range selector modifiers (`[5m] anchored`, `[5m] smoothed`).
  bool anchored = false;
  bool smoothed = false;
};

// expr[range:step] [offset] [@]
struct Subquery {
  ExprPtr expr;
  Millis range = 0;
  Millis step = 0;  // 0 = default (the evaluation interval)
  Millis offset = 0;
  AtModifier at;
  // Experimental duration expressions (see MatrixSelector::range_expr); the Millis fields hold
  // their values when constant, else 0.
  ExprPtr range_expr;
  ExprPtr step_expr;
  ExprPtr offset_expr;
};

struct Paren {
  ExprPtr expr;
};

enum class UnaryOp : uint8_t { Plus, Minus };
struct Unary {
  UnaryOp op = UnaryOp::Minus;
  ExprPtr expr;
};

enum class BinaryOp : uint8_t {
  Add, Sub, Mul, Div, Mod, Pow, Atan2,
  Eql, Neq, Gtr, Lss, Gte, Lte,
  And, Or, Unless,
};
std::string_view to_string(BinaryOp op);  // "+", "==", "and", "atan2", ...
bool is_comparison(BinaryOp op);
bool is_set_operator(BinaryOp op);

enum class Cardinality : uint8_t { OneToOne, ManyToOne, OneToMany, ManyToMany };

struct VectorMatching {
  Cardinality card = Cardinality::OneToOne;
  bool on = false;                          // on(...) given (else ignoring(...) or nothing)
  bool explicit_matching = false;           // on/ignoring was written in the source
  std::vector<std::string> matching_labels;  // the on/ignoring list
  std::vector<std::string> include;          // the group_left/group_right list
  // Experimental binop fill modifiers: fill(v) sets both, fill_left(v)/fill_right(v) one side.
  std::optional<double> fill_left = std::nullopt;
  std::optional<double> fill_right = std::nullopt;
  friend bool operator==(const VectorMatching& a, const VectorMatching& b);
};

struct Binary {
  BinaryOp op = BinaryOp::Add;
  ExprPtr lhs;
  ExprPtr rhs;
  bool return_bool = false;
  // Present when both sides are vectors (set by the parser, as Prometheus does: set operators
  // get ManyToMany). Absent for scalar-scalar and scalar-vector operations.
  std::optional<VectorMatching> matching;
};

enum class AggregateOp : uint8_t {
  Sum, Avg, Count, Min, Max, Group, Stddev, Stdvar,
  Topk, Bottomk, CountValues, Quantile, Limitk, LimitRatio,
};
std::string_view to_string(AggregateOp op);  // lower-case name
bool takes_param(AggregateOp op);

struct Aggregate {
  AggregateOp op = AggregateOp::Sum;
  ExprPtr expr;
  ExprPtr param;  // topk/bottomk/quantile/count_values/limitk/limit_ratio; else null
  std::vector<std::string> grouping;
  bool without = false;
  bool by = false;              // `by` written (even with an empty list)
  bool grouping_first = false;  // `sum by (x) (...)` rather than `sum(...) by (x)`; printer hint
};

struct FunctionInfo;  // promql_functions.hpp

struct Call {
  const FunctionInfo* func = nullptr;  // never null in a parsed tree
  std::vector<ExprPtr> args;
};

struct Expr {
  using Node = std::variant<NumberLiteral, StringLiteral, VectorSelector, MatrixSelector, Subquery,
                            Paren, Unary, Binary, Aggregate, Call>;
  Node node;
  Span span;

  template <class T>
  const T* as() const { return std::get_if<T>(&node); }
  template <class T>
  T* as() { return std::get_if<T>(&node); }
  template <class T>
  bool is() const { return std::holds_alternative<T>(node); }

  // The static type, as Prometheus's Expr.Type().
  ValueType type() const;

  ExprPtr clone() const;
};

bool operator==(const Expr& a, const Expr& b);

template <class T>
ExprPtr make_expr(T node, Span span = {}) {
  auto e = std::make_unique<Expr>();
  e->node = std::move(node);
  e->span = span;
  return e;
}

// Calls fn(const Expr&) on e and every descendant, parents before children (including the
// nodes of experimental duration expressions, after the node they belong to's other children).
template <class Fn>
void walk(const Expr& e, Fn&& fn);

}  // namespace ruleeval::promql

#include "ruleeval/parser/promql_walk.inl"
