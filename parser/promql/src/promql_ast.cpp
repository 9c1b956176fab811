// Non-parsing parts of the public PromQL AST: names, static types, deep copy, equality.
#include <cmath>

#include "promql_regex.hpp"
#include "ruleeval/parser/promql_ast.hpp"
#include "ruleeval/parser/promql_functions.hpp"

namespace ruleeval::promql {

std::string_view to_string(ValueType t) {
  switch (t) {
    case ValueType::None: return "none";
    case ValueType::Scalar: return "scalar";
    case ValueType::Vector: return "instant vector";
    case ValueType::Matrix: return "range vector";
    case ValueType::String: return "string";
  }
  return "unknown";
}

std::string_view to_string(MatchOp op) {
  switch (op) {
    case MatchOp::Equal: return "=";
    case MatchOp::NotEqual: return "!=";
    case MatchOp::Regex: return "=~";
    case MatchOp::NotRegex: return "!~";
  }
  return "?";
}

std::string_view to_string(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "+";
    case BinaryOp::Sub: return "-";
    case BinaryOp::Mul: return "*";
    case BinaryOp::Div: return "/";
    case BinaryOp::Mod: return "%";
    case BinaryOp::Pow: return "^";
    case BinaryOp::Atan2: return "atan2";
    case BinaryOp::Eql: return "==";
    case BinaryOp::Neq: return "!=";
    case BinaryOp::Gtr: return ">";
    case BinaryOp::Lss: return "<";
    case BinaryOp::Gte: return ">=";
    case BinaryOp::Lte: return "<=";
    case BinaryOp::And: return "and";
    case BinaryOp::Or: return "or";
    case BinaryOp::Unless: return "unless";
  }
  return "?";
}

bool is_comparison(BinaryOp op) {
  switch (op) {
    case BinaryOp::Eql:
    case BinaryOp::Neq:
    case BinaryOp::Gtr:
    case BinaryOp::Lss:
    case BinaryOp::Gte:
    case BinaryOp::Lte: return true;
    default: return false;
  }
}

bool is_set_operator(BinaryOp op) {
  return op == BinaryOp::And || op == BinaryOp::Or || op == BinaryOp::Unless;
}

std::string_view to_string(AggregateOp op) {
  switch (op) {
    case AggregateOp::Sum: return "sum";
    case AggregateOp::Avg: return "avg";
    case AggregateOp::Count: return "count";
    case AggregateOp::Min: return "min";
    case AggregateOp::Max: return "max";
    case AggregateOp::Group: return "group";
    case AggregateOp::Stddev: return "stddev";
    case AggregateOp::Stdvar: return "stdvar";
    case AggregateOp::Topk: return "topk";
    case AggregateOp::Bottomk: return "bottomk";
    case AggregateOp::CountValues: return "count_values";
    case AggregateOp::Quantile: return "quantile";
    case AggregateOp::Limitk: return "limitk";
    case AggregateOp::LimitRatio: return "limit_ratio";
  }
  return "?";
}

bool takes_param(AggregateOp op) {
  switch (op) {
    case AggregateOp::Topk:
    case AggregateOp::Bottomk:
    case AggregateOp::CountValues:
    case AggregateOp::Quantile:
    case AggregateOp::Limitk:
    case AggregateOp::LimitRatio: return true;
    default: return false;
  }
}

bool LabelMatcher::matches_empty() const {
  switch (op) {
    case MatchOp::Equal: return value.empty();
    case MatchOp::NotEqual: return !value.empty();
    case MatchOp::Regex:
    case MatchOp::NotRegex: {
      const auto& info = detail::regex_info(value);
      bool m = info.ok && info.matches_empty;
      return op == MatchOp::Regex ? m : !m;
    }
  }
  return false;
}

ValueType Expr::type() const {
  return std::visit(
      [](const auto& n) -> ValueType {
        using T = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<T, NumberLiteral>) {
          return ValueType::Scalar;
        } else if constexpr (std::is_same_v<T, StringLiteral>) {
          return ValueType::String;
          // NOLINTNEXTLINE(bugprone-branch-clone): one branch per node kind, in the variant's order
        } else if constexpr (std::is_same_v<T, VectorSelector>) {
          return ValueType::Vector;
        } else if constexpr (std::is_same_v<T, MatrixSelector> || std::is_same_v<T, Subquery>) {
          return ValueType::Matrix;
        } else if constexpr (std::is_same_v<T, Paren> || std::is_same_v<T, Unary>) {
          return n.expr ? n.expr->type() : ValueType::None;
        } else if constexpr (std::is_same_v<T, Binary>) {
          if (n.lhs && n.rhs && n.lhs->type() == ValueType::Scalar &&
              n.rhs->type() == ValueType::Scalar) {
            return ValueType::Scalar;
          }
          return ValueType::Vector;
        } else if constexpr (std::is_same_v<T, Aggregate>) {
          return ValueType::Vector;
        } else {
          return n.func ? n.func->return_type : ValueType::None;
        }
      },
      node);
}

namespace {

ExprPtr clone_ptr(const ExprPtr& p) { return p ? p->clone() : nullptr; }

bool eq_ptr(const ExprPtr& a, const ExprPtr& b) {
  if (!a || !b) return !a && !b;
  return *a == *b;
}

bool eq_num(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return a == b && std::signbit(a) == std::signbit(b);
}

bool eq_opt_num(const std::optional<double>& a, const std::optional<double>& b) {
  if (!a || !b) return !a && !b;
  return eq_num(*a, *b);
}

bool eq_shared(const std::shared_ptr<const Expr>& a, const std::shared_ptr<const Expr>& b) {
  if (!a || !b) return !a && !b;
  return *a == *b;
}

}  // namespace

bool operator==(const VectorMatching& a, const VectorMatching& b) {
  return a.card == b.card && a.on == b.on && a.explicit_matching == b.explicit_matching &&
         a.matching_labels == b.matching_labels && a.include == b.include &&
         eq_opt_num(a.fill_left, b.fill_left) && eq_opt_num(a.fill_right, b.fill_right);
}

ExprPtr Expr::clone() const {
  auto out = std::make_unique<Expr>();
  out->span = span;
  out->node = std::visit(
      [](const auto& n) -> Node {
        using T = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<T, MatrixSelector>) {
          return MatrixSelector{clone_ptr(n.vector), n.range, clone_ptr(n.range_expr), n.anchored,
                                n.smoothed};
        } else if constexpr (std::is_same_v<T, Subquery>) {
          return Subquery{clone_ptr(n.expr),       n.range,
                          n.step,                  n.offset,
                          n.at,                    clone_ptr(n.range_expr),
                          clone_ptr(n.step_expr),  clone_ptr(n.offset_expr)};
        } else if constexpr (std::is_same_v<T, VectorSelector>) {
          VectorSelector v = n;
          if (n.offset_expr) v.offset_expr = std::shared_ptr<const Expr>(n.offset_expr->clone());
          return v;
        } else if constexpr (std::is_same_v<T, Paren>) {
          return Paren{clone_ptr(n.expr)};
        } else if constexpr (std::is_same_v<T, Unary>) {
          return Unary{n.op, clone_ptr(n.expr)};
        } else if constexpr (std::is_same_v<T, Binary>) {
          return Binary{n.op, clone_ptr(n.lhs), clone_ptr(n.rhs), n.return_bool, n.matching};
        } else if constexpr (std::is_same_v<T, Aggregate>) {
          return Aggregate{n.op,      clone_ptr(n.expr), clone_ptr(n.param), n.grouping,
                           n.without, n.by,              n.grouping_first};
        } else if constexpr (std::is_same_v<T, Call>) {
          Call c{n.func, {}};
          c.args.reserve(n.args.size());
          for (const auto& a : n.args) c.args.push_back(clone_ptr(a));
          return c;
        } else {
          return n;  // literals and vector selectors are plain values
        }
      },
      node);
  return out;
}

// Structural equality. Spans and pure printer hints (Aggregate::by, grouping_first) are ignored:
// `sum(x) by (a)` and `sum by (a) (x)` are the same expression.
bool operator==(const Expr& a, const Expr& b) {
  if (a.node.index() != b.node.index()) return false;
  return std::visit(
      [&b](const auto& x) -> bool {
        using T = std::decay_t<decltype(x)>;
        const T& y = std::get<T>(b.node);
        if constexpr (std::is_same_v<T, NumberLiteral>) {
          return eq_num(x.value, y.value);
        } else if constexpr (std::is_same_v<T, StringLiteral>) {
          return x.value == y.value;
        } else if constexpr (std::is_same_v<T, VectorSelector>) {
          return x.name == y.name && x.matchers == y.matchers && x.offset == y.offset &&
                 x.at == y.at && x.name_in_braces == y.name_in_braces &&
                 x.anchored == y.anchored && x.smoothed == y.smoothed &&
                 eq_shared(x.offset_expr, y.offset_expr);
        } else if constexpr (std::is_same_v<T, MatrixSelector>) {
          return x.range == y.range && x.anchored == y.anchored && x.smoothed == y.smoothed &&
                 eq_ptr(x.range_expr, y.range_expr) && eq_ptr(x.vector, y.vector);
        } else if constexpr (std::is_same_v<T, Subquery>) {
          return x.range == y.range && x.step == y.step && x.offset == y.offset && x.at == y.at &&
                 eq_ptr(x.range_expr, y.range_expr) && eq_ptr(x.step_expr, y.step_expr) &&
                 eq_ptr(x.offset_expr, y.offset_expr) && eq_ptr(x.expr, y.expr);
        } else if constexpr (std::is_same_v<T, Paren>) {
          return eq_ptr(x.expr, y.expr);
        } else if constexpr (std::is_same_v<T, Unary>) {
          return x.op == y.op && eq_ptr(x.expr, y.expr);
        } else if constexpr (std::is_same_v<T, Binary>) {
          return x.op == y.op && x.return_bool == y.return_bool && x.matching == y.matching &&
                 eq_ptr(x.lhs, y.lhs) && eq_ptr(x.rhs, y.rhs);
        } else if constexpr (std::is_same_v<T, Aggregate>) {
          return x.op == y.op && x.grouping == y.grouping && x.without == y.without &&
                 eq_ptr(x.param, y.param) && eq_ptr(x.expr, y.expr);
        } else {
          if (x.func != y.func || x.args.size() != y.args.size()) return false;
          for (size_t i = 0; i < x.args.size(); ++i) {
            if (!eq_ptr(x.args[i], y.args[i])) return false;
          }
          return true;
        }
      },
      a.node);
}

}  // namespace ruleeval::promql
