// Folding an operand/operator list into a tree (precedence climbing): the end of each expression
// level of the PromQL grammar (see promql_builder.hpp).
#include "promql_builder.hpp"

namespace ruleeval::promql::detail::grammar {
namespace {

int precedence(BinaryOp op) {
  switch (op) {
    case BinaryOp::Or: return 1;
    case BinaryOp::And:
    case BinaryOp::Unless: return 2;
    case BinaryOp::Eql:
    case BinaryOp::Neq:
    case BinaryOp::Gtr:
    case BinaryOp::Lss:
    case BinaryOp::Gte:
    case BinaryOp::Lte: return 3;
    case BinaryOp::Add:
    case BinaryOp::Sub: return 4;
    case BinaryOp::Mul:
    case BinaryOp::Div:
    case BinaryOp::Mod:
    case BinaryOp::Atan2: return 5;
    case BinaryOp::Pow: return 6;
  }
  return 0;
}
constexpr int kUnaryPrecedence = 5;  // unary +/- bind like `*`

struct Folder {
  std::vector<Item>& items;
  size_t i;
  size_t end;

  bool peek_op(int min_prec) const {
    return i < end && items[i].kind == Item::Kind::Op && precedence(items[i].op.op) >= min_prec;
  }

  ExprPtr primary() {
    Item& it = items[i++];
    if (it.kind == Item::Kind::Sign) {
      uint32_t b = it.sign_pos;
      UnaryOp op = it.sign;
      ExprPtr inner = climb(primary(), kUnaryPrecedence + 1);
      Span s{b, inner->span.end};
      if (auto* num = inner->as<NumberLiteral>()) {
        if (op == UnaryOp::Minus) num->value = -num->value;
        inner->span = s;
        return inner;
      }
      return make_expr(Unary{op, std::move(inner)}, s);
    }
    return std::move(it.expr);
  }

  ExprPtr climb(ExprPtr lhs, int min_prec) {
    while (peek_op(min_prec)) {
      PendingOp op = std::move(items[i++].op);
      int p = precedence(op.op);
      ExprPtr rhs = primary();
      while (i < end && items[i].kind == Item::Kind::Op) {
        int q = precedence(items[i].op.op);
        bool right = items[i].op.op == BinaryOp::Pow;
        if (q > p) {
          rhs = climb(std::move(rhs), p + 1);
        } else if (right && q == p) {
          rhs = climb(std::move(rhs), p);
        } else {
          break;
        }
      }
      lhs = make_binary(std::move(op), std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  static ExprPtr make_binary(PendingOp op, ExprPtr lhs, ExprPtr rhs) {
    Span s{lhs->span.begin, rhs->span.end};
    Binary b;
    b.op = op.op;
    b.return_bool = op.return_bool;
    VectorMatching vm;
    vm.explicit_matching = op.has_matching;
    vm.on = op.on;
    vm.matching_labels = std::move(op.matching_labels);
    if (op.has_group) {
      vm.card = op.group_left ? Cardinality::ManyToOne : Cardinality::OneToMany;
      vm.include = std::move(op.include);
    }
    vm.fill_left = op.fill_left;
    vm.fill_right = op.fill_right;
    b.matching = std::move(vm);  // check() drops it again unless both sides are vectors
    b.lhs = std::move(lhs);
    b.rhs = std::move(rhs);
    return make_expr(std::move(b), s);
  }
};

}  // namespace

ExprPtr fold_operands(std::vector<Item>& items, size_t marker) {
  Folder f{items, marker, items.size()};
  ExprPtr lhs = f.primary();
  return f.climb(std::move(lhs), 0);
}

}  // namespace ruleeval::promql::detail::grammar
