// Type checking after parsing, in the order and with the wording of Prometheus's checkAST.
#include "promql_internal.hpp"

namespace ruleeval::promql::detail {
namespace {

struct Checker {
  std::string_view input;

  [[noreturn]] void fail(Span s, std::string msg) const { throw Failure{s, std::move(msg)}; }

  // The operator's bytes between the operands, for binary-expression errors.
  Span op_span(const Binary& b) const {
    size_t s = skip_blank(input, b.lhs->span.end);
    size_t e = b.rhs->span.begin;
    while (e > s && (input[e - 1] == ' ' || input[e - 1] == '\t' || input[e - 1] == '\n' ||
                     input[e - 1] == '\r')) {
      --e;
    }
    if (e <= s) e = s + 1;
    return make_span(s, e);
  }

  void expect_type(Expr& e, ValueType want, const std::string& context) {
    ValueType t = visit(e);
    if (t != want) {
      fail(e.span, "expected type " + std::string(to_string(want)) + " in " + context + ", got " +
                       std::string(to_string(t)));
    }
  }

  ValueType visit(Expr& e) {
    ValueType typ = e.type();
    std::visit([&](auto& n) { check_node(e, n); }, e.node);
    return typ;
  }

  void check_node(Expr&, NumberLiteral&) {}
  void check_node(Expr&, StringLiteral&) {}
  void check_node(Expr&, Paren& p) { visit(*p.expr); }
  void check_node(Expr&, MatrixSelector& m) { visit(*m.vector); }

  void check_node(Expr& e, Subquery& s) {
    ValueType t = visit(*s.expr);
    if (t != ValueType::Vector) {
      fail(e.span, "subquery is only allowed on instant vector, got " +
                       std::string(to_string(t)) + " instead");
    }
  }

  void check_node(Expr& e, Unary& u) {
    ValueType t = visit(*u.expr);
    if (t != ValueType::Scalar && t != ValueType::Vector) {
      fail(e.span, "unary expression only allowed on expressions of type scalar or instant "
                   "vector, got \"" + std::string(to_string(t)) + "\"");
    }
  }

  void check_node(Expr& e, Aggregate& a) {
    expect_type(*a.expr, ValueType::Vector, "aggregation expression");
    if (a.param) {
      ValueType want = a.op == AggregateOp::CountValues ? ValueType::String : ValueType::Scalar;
      expect_type(*a.param, want, "aggregation parameter");
    }
    (void)e;
  }

  void check_node(Expr& e, Binary& b) {
    ValueType lt = visit(*b.lhs);
    ValueType rt = visit(*b.rhs);
    bool cmp = is_comparison(b.op);
    bool set = is_set_operator(b.op);
    if (b.return_bool && !cmp) fail(op_span(b), "bool modifier can only be used on comparison operators");
    if (cmp && !b.return_bool && lt == ValueType::Scalar && rt == ValueType::Scalar) {
      fail(op_span(b), "comparisons between scalars must use BOOL modifier");
    }
    if (b.matching) {
      auto& vm = *b.matching;
      if (set && vm.card == Cardinality::OneToOne) vm.card = Cardinality::ManyToMany;
      if (vm.on) {
        for (const auto& l1 : vm.matching_labels) {
          for (const auto& l2 : vm.include) {
            if (l1 == l2) {
              fail(op_span(b), "label \"" + l1 + "\" must not occur in ON and GROUP clause at once");
            }
          }
        }
      }
    }
    if (lt != ValueType::Scalar && lt != ValueType::Vector) {
      fail(b.lhs->span, "binary expression must contain only scalar and instant vector types");
    }
    if (rt != ValueType::Scalar && rt != ValueType::Vector) {
      fail(b.rhs->span, "binary expression must contain only scalar and instant vector types");
    }
    if (b.matching && (b.matching->fill_left || b.matching->fill_right)) {
      if (lt != ValueType::Vector || rt != ValueType::Vector) {
        fail(op_span(b), "fill modifiers only allowed between instant vectors");
      }
      if (set) {
        fail(op_span(b), "fill modifiers not allowed for set operator \"" +
                             std::string(to_string(b.op)) + "\"");
      }
    }
    if ((lt != ValueType::Vector || rt != ValueType::Vector) && b.matching) {
      if (!b.matching->matching_labels.empty()) {
        fail(e.span, "vector matching only allowed between instant vectors");
      }
      b.matching.reset();
    } else if (set && b.matching) {
      auto card = b.matching->card;
      if (card == Cardinality::OneToMany || card == Cardinality::ManyToOne) {
        fail(e.span, "no grouping allowed for \"" + std::string(to_string(b.op)) + "\" operation");
      }
      if (card != Cardinality::ManyToMany) fail(e.span, "set operations must always be many-to-many");
    }
    if ((lt == ValueType::Scalar || rt == ValueType::Scalar) && set) {
      fail(e.span, "set operator \"" + std::string(to_string(b.op)) +
                       "\" not allowed in binary scalar expression");
    }
  }

  void check_node(Expr& e, Call& c) {
    const FunctionInfo& f = *c.func;
    int nargs = static_cast<int>(f.arg_types.size());
    int got = static_cast<int>(c.args.size());
    std::string name = "\"" + std::string(f.name) + "\"";
    if (f.variadic == 0) {
      if (got != nargs) {
        fail(e.span, "expected " + std::to_string(nargs) + " argument(s) in call to " + name +
                         ", got " + std::to_string(got));
      }
    } else {
      int max = f.variadic < 0 ? nargs : f.variadic;
      if (got < f.min_args) {
        fail(e.span, "expected at least " + std::to_string(f.min_args) +
                         " argument(s) in call to " + name + ", got " + std::to_string(got));
      }
      if (got > max) {
        fail(e.span, "expected at most " + std::to_string(max) + " argument(s) in call to " +
                         name + ", got " + std::to_string(got));
      }
    }
    bool info_labels = f.name == "info" && c.args.size() > 1;
    if (info_labels) {
      Expr& a = *c.args[1];
      if (a.type() != ValueType::Vector) {
        fail(e.span, "expected type instant vector in call to function \"info\", got " +
                         std::string(to_string(a.type())));
      }
      auto* vs = a.as<VectorSelector>();
      if (vs && !vs->name.empty()) {
        fail(a.span, "expected label selectors only, got vector selector instead");
      }
      if (!vs) fail(a.span, "expected label selectors only");
    }
    for (size_t i = 0; i < c.args.size(); ++i) {
      size_t ti = i;
      if (ti >= f.arg_types.size()) {
        if (f.variadic == 0) break;
        ti = f.arg_types.size() - 1;
      }
      ValueType t = (info_labels && i == 1) ? c.args[i]->type() : visit(*c.args[i]);
      if (t != f.arg_types[ti]) {
        fail(c.args[i]->span, "expected type " + std::string(to_string(f.arg_types[ti])) +
                                  " in call to function " + name + ", got " +
                                  std::string(to_string(t)));
      }
    }
  }

  void check_node(Expr& e, VectorSelector& vs) {
    if (!vs.name.empty()) {
      for (size_t i = 0; i + 1 < vs.matchers.size(); ++i) {
        if (vs.matchers[i].name == "__name__") {
          fail(e.span, "metric name must not be set twice: \"" + vs.name + "\" or \"" +
                           vs.matchers[i].value + "\"");
        }
      }
      return;
    }
    for (const auto& m : vs.matchers) {
      if (!m.matches_empty()) return;
    }
    fail(e.span, "vector selector must contain at least one non-empty matcher");
  }
};

}  // namespace

void check(std::string_view input, Expr& e) {
  Checker c{input};
  c.visit(e);
}

}  // namespace ruleeval::promql::detail
