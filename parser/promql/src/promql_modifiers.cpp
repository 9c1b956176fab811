// Where the PromQL modifiers land: offset and @ on a selector, the selector inside a range or a
// subquery; the experimental anchored/smoothed on instant and range selectors.
#include <string>

#include "promql_builder.hpp"

namespace ruleeval::promql::detail::grammar {
namespace {

// Where an offset/@ lands: the selector, the selector inside a range, or the subquery.
template <class Fn>
void apply_modifier(Builder& b, uint32_t end, const char* what, Fn&& fn) {
  Item& it = b.top_operand(Span{b.mod_begin, end});
  Span s{it.expr->span.begin, end};
  Expr* target = it.expr.get();
  if (auto* ms = target->as<MatrixSelector>()) target = ms->vector.get();
  if (auto* vs = target->as<VectorSelector>()) {
    fn(s, vs->offset, vs->at);
  } else if (auto* sq = target->as<Subquery>()) {
    fn(s, sq->offset, sq->at);
  } else {
    b.fail(s, std::string(what) +
                  " modifier must be preceded by an instant vector selector or range vector "
                  "selector or a subquery");
  }
  it.expr->span.end = end;
}

}  // namespace

void set_offset(Builder& b, Millis d, ExprPtr expr, Span ds) {
  if (b.negative) {
    d = -d;
    if (expr) {
      Span s{b.mod_begin, expr->span.end};
      expr = make_expr(Unary{UnaryOp::Minus, std::move(expr)}, s);
    }
  }
  Item& it = b.top_operand(Span{b.mod_begin, ds.end});
  Expr* target = it.expr.get();
  if (auto* ms = target->as<MatrixSelector>()) target = ms->vector.get();
  bool had_expr = false;
  if (auto* vs = target->as<VectorSelector>()) had_expr = vs->offset_expr != nullptr;
  if (auto* sq = target->as<Subquery>()) had_expr = sq->offset_expr != nullptr;
  apply_modifier(b, ds.end, "offset", [&](Span s, Millis& offset, AtModifier&) {
    if (offset != 0 || had_expr) b.fail(s, "offset may not be set multiple times");
    offset = d;
  });
  if (!expr) return;
  if (auto* vs = target->as<VectorSelector>()) {
    vs->offset_expr = std::shared_ptr<const Expr>(std::move(expr));
  } else if (auto* sq = target->as<Subquery>()) {
    sq->offset_expr = std::move(expr);
  }
}

// Experimental extended selector modifiers, as Prometheus's setAnchored/setSmoothed: on an
// instant selector or a range selector; refused on subqueries and other expressions.
void set_extended(Builder& b, Span kw_span, bool anchored) {
  std::string name = anchored ? "anchored" : "smoothed";
  if (!b.opts.extended_range_selectors) {
    b.fail(kw_span, name + " modifier is experimental and must be enabled with "
                           "--enable-feature=promql-extended-range-selectors");
  }
  Item& it = b.top_operand(kw_span);
  Span s{it.expr->span.begin, kw_span.end};
  bool* a = nullptr;
  bool* sm = nullptr;
  if (auto* ms = it.expr->as<MatrixSelector>()) {
    a = &ms->anchored;
    sm = &ms->smoothed;
  } else if (auto* vs = it.expr->as<VectorSelector>()) {
    a = &vs->anchored;
    sm = &vs->smoothed;
  } else if (it.expr->as<Subquery>()) {
    b.fail(s, name + " modifier is not supported for subqueries");
  } else {
    b.fail(s, name + " modifier not implemented");
  }
  (anchored ? *a : *sm) = true;
  if (*a && *sm) b.fail(s, "anchored and smoothed modifiers cannot be used together");
  it.expr->span.end = kw_span.end;
}

void set_at(Builder& b, uint32_t end, AtModifier at) {
  apply_modifier(b, end, "@", [&](Span s, Millis&, AtModifier& cur) {
    if (cur.kind != AtModifier::Kind::None) b.fail(s, "@ <timestamp> may not be set multiple times");
    cur = at;
  });
}

}  // namespace ruleeval::promql::detail::grammar
