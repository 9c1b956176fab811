// The semantic actions of the PromQL grammar for selectors and what follows them: label matchers,
// ranges and subqueries, offset, @, anchored and smoothed (see promql_actions.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "promql_actions.hpp"
#include "promql_regex.hpp"

namespace ruleeval::promql::detail::grammar {

// Selectors.
auto const act_sel_begin = [](auto& ctx) {
  auto& b = bld(ctx);
  b.sel = VectorSelector{};
  b.sel_begin = attr_span(ctx).begin;
  b.sel_name_span = Span{};
};
auto const act_sel_name = [](auto& ctx) {
  auto& b = bld(ctx);
  b.sel.name = std::string(text_of(x3::_attr(ctx)));
  b.sel_name_span = attr_span(ctx);
  b.last_end = b.sel_name_span.end;
};
auto const act_m_name_ident = [](auto& ctx) {
  auto& b = bld(ctx);
  b.m = LabelMatcher{};
  b.m.name = std::string(text_of(x3::_attr(ctx)));
  b.m.span = attr_span(ctx);
  b.m_quoted = false;
  b.m_has_op = false;
};
auto const act_m_name_string = [](auto& ctx) {
  auto& b = bld(ctx);
  Span s = attr_span(ctx);
  auto raw = text_of(x3::_attr(ctx));
  auto v = unquote(raw);
  if (!v) b.fail(s, "error unquoting string " + std::string(raw) + ": " + v.error());
  b.m = LabelMatcher{};
  b.m.name = std::move(*v);
  b.m.span = s;
  b.m_quoted = true;
  b.m_has_op = false;
};
auto const act_m_op = [](auto& ctx) {
  auto& b = bld(ctx);
  b.m.op = x3::_attr(ctx);
  b.m_has_op = true;
};
auto const act_m_value = [](auto& ctx) {
  auto& b = bld(ctx);
  Span s = attr_span(ctx);
  auto raw = text_of(x3::_attr(ctx));
  auto v = unquote(raw);
  if (!v) b.fail(s, "error unquoting string " + std::string(raw) + ": " + v.error());
  b.m.value = std::move(*v);
  b.m.span.end = s.end;
  if (b.m.op == MatchOp::Regex || b.m.op == MatchOp::NotRegex) {
    const auto& info = regex_info(b.m.value);
    if (!info.ok) b.fail(b.m.span, "error parsing regexp: " + info.error);
  }
};
auto const act_m_end = [](auto& ctx) {
  auto& b = bld(ctx);
  if (!b.m_has_op) {
    if (!b.m_quoted) {
      size_t len = 0;
      size_t p = skip_blank(b.input, b.m.span.end);
      std::string tok = describe_token(b.input, p, &len);
      b.fail(make_span(p, p + std::max<size_t>(len, 1)),
             "unexpected " + tok + " in label matching, expected label matching operator");
    }
    // {"metric.name"}: a bare string is the metric name.
    if (!b.sel.name.empty()) {
      b.fail(b.m.span, "metric name must not be set twice: \"" + b.sel.name + "\" or \"" +
                           b.m.name + "\"");
    }
    b.sel.name = b.m.name;
    b.sel.name_in_braces = true;
    b.sel_name_span = b.m.span;
    return;
  }
  if (b.m.name.empty()) b.fail(b.m.span, "label name must not be empty");
  b.sel.matchers.push_back(std::move(b.m));
};
auto const act_sel_end = [](auto& ctx) {
  auto& b = bld(ctx);
  Span s{b.sel_begin, b.last_end};
  if (!b.sel.name.empty()) {
    LabelMatcher nm;
    nm.op = MatchOp::Equal;
    nm.name = "__name__";
    nm.value = b.sel.name;
    nm.span = b.sel_name_span;
    b.sel.matchers.push_back(std::move(nm));
  }
  b.push_operand(make_expr(std::move(b.sel), s));
  b.sel = VectorSelector{};
};

// Range and subquery suffixes.
auto const act_bracket_begin = [](auto& ctx) {
  auto& b = bld(ctx);
  b.bracket_begin = attr_span(ctx).begin;
  b.step = 0;
  b.range_expr = nullptr;
  b.step_expr = nullptr;
};
auto const act_matrix = [](auto& ctx) {
  auto& b = bld(ctx);
  uint32_t end = attr_span(ctx).end;
  Item& it = b.top_operand(Span{b.bracket_begin, end});
  Span s{it.expr->span.begin, end};
  auto* vs = it.expr->as<VectorSelector>();
  if (!vs) b.fail(s, "ranges only allowed for vector selectors");
  if (vs->offset != 0) b.fail(s, "no offset modifiers allowed before range");
  if (vs->at.kind != AtModifier::Kind::None) b.fail(s, "no @ modifiers allowed before range");
  MatrixSelector ms;
  // `x anchored [5m]`: the modifier belongs to the range selector.
  ms.anchored = std::exchange(vs->anchored, false);
  ms.smoothed = std::exchange(vs->smoothed, false);
  ms.vector = std::move(it.expr);
  ms.range = b.range;
  ms.range_expr = std::move(b.range_expr);
  it.expr = make_expr(std::move(ms), s);
};
auto const act_subquery = [](auto& ctx) {
  auto& b = bld(ctx);
  uint32_t end = b.last_end;
  Item& it = b.top_operand(Span{b.bracket_begin, end});
  Span s{it.expr->span.begin, end};
  Subquery sq;
  sq.expr = std::move(it.expr);
  sq.range = b.range;
  sq.step = b.step;
  sq.range_expr = std::move(b.range_expr);
  sq.step_expr = std::move(b.step_expr);
  it.expr = make_expr(std::move(sq), s);
};

// offset and @.
auto const act_mod_begin = [](auto& ctx) {
  auto& b = bld(ctx);
  b.mod_begin = attr_span(ctx).begin;
  b.negative = false;
};
auto const act_negative = [](auto& ctx) { bld(ctx).negative = true; };

auto const act_anchored = [](auto& ctx) { set_extended(bld(ctx), attr_span(ctx), true); };
auto const act_smoothed = [](auto& ctx) { set_extended(bld(ctx), attr_span(ctx), false); };


auto const act_at_start = [](auto& ctx) {
  set_at(bld(ctx), bld(ctx).last_end, AtModifier{AtModifier::Kind::Start, 0});
};
auto const act_at_end = [](auto& ctx) {
  set_at(bld(ctx), bld(ctx).last_end, AtModifier{AtModifier::Kind::End, 0});
};
auto const act_at_ts = [](auto& ctx) {
  auto& b = bld(ctx);
  Span s = attr_span(ctx);
  auto v = number_value(text_of(x3::_attr(ctx)));
  if (!v) b.fail(s, "error parsing number: " + v.error());
  double ts = b.negative ? -*v : *v;
  if (!std::isfinite(ts) || ts >= 9.2e15 || ts <= -9.2e15) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%f", ts);
    b.fail(Span{b.mod_begin, s.end}, std::string("timestamp out of bounds for @ modifier: ") + buf);
  }
  set_at(b, s.end, AtModifier{AtModifier::Kind::Timestamp, std::llround(ts * 1000.0)});
};

}  // namespace ruleeval::promql::detail::grammar
