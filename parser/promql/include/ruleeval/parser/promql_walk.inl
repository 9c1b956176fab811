// Implementation of ruleeval::promql::walk (included from promql_ast.hpp).
#pragma once

namespace ruleeval::promql {

template <class Fn>
void walk(const Expr& e, Fn&& fn) {
  fn(e);
  std::visit(
      [&](const auto& n) {
        using T = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<T, MatrixSelector>) {
          if (n.vector) walk(*n.vector, fn);
          if (n.range_expr) walk(*n.range_expr, fn);
        } else if constexpr (std::is_same_v<T, VectorSelector>) {
          if (n.offset_expr) walk(*n.offset_expr, fn);
        } else if constexpr (std::is_same_v<T, Subquery>) {
          if (n.expr) walk(*n.expr, fn);
          if (n.range_expr) walk(*n.range_expr, fn);
          if (n.step_expr) walk(*n.step_expr, fn);
          if (n.offset_expr) walk(*n.offset_expr, fn);
        } else if constexpr (std::is_same_v<T, Paren> || std::is_same_v<T, Unary>) {
          if (n.expr) walk(*n.expr, fn);
        } else if constexpr (std::is_same_v<T, Binary>) {
          if (n.lhs) walk(*n.lhs, fn);
          if (n.rhs) walk(*n.rhs, fn);
        } else if constexpr (std::is_same_v<T, Aggregate>) {
          if (n.param) walk(*n.param, fn);
          if (n.expr) walk(*n.expr, fn);
        } else if constexpr (std::is_same_v<T, Call>) {
          for (const auto& a : n.args) walk(*a, fn);
        }
      },
      e.node);
}

}  // namespace ruleeval::promql
