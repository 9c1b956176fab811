// The semantic actions of the PromQL grammar for operators and their modifiers, literals,
// parentheses, calls and aggregations (selectors: promql_actions_selectors.hpp). Each one feeds the
// Builder of the parse (promql_builder.hpp) from the text the grammar matched, or throws Failure
// for a semantic error with Prometheus's wording. Included by promql_grammar_def.hpp only.
#pragma once

#include <string>

#include "promql_grammar_config.hpp"

namespace ruleeval::promql::detail::grammar {

// Span of the action's attribute, which is always an x3::raw[] iterator range.
template <class Ctx>
Span attr_span(const Ctx& ctx) {
  auto& b = bld(ctx);
  const auto& r = x3::_attr(ctx);
  return Span{b.pos(r.begin()), b.pos(r.end())};
}

template <class Range>
std::string_view text_of(const Range& r) {
  return std::string_view(r.begin(), static_cast<size_t>(r.end() - r.begin()));
}

auto const act_mark = [](auto& ctx) { bld(ctx).mark = attr_span(ctx).begin; };
auto const act_close = [](auto& ctx) { bld(ctx).last_end = attr_span(ctx).end; };

auto const act_chain_mark = [](auto& ctx) { x3::_val(ctx) = bld(ctx).items.size(); };

auto const act_chain_fold = [](auto& ctx) {
  auto& b = bld(ctx);
  size_t marker = x3::_val(ctx);
  if (b.items.size() <= marker) return;
  if (b.items.size() == marker + 1) return;  // a single operand: nothing to fold
  ExprPtr e = fold_operands(b.items, marker);
  b.items.resize(marker);
  b.push_operand(std::move(e));
};

auto const act_sign = [](auto& ctx) {
  auto& b = bld(ctx);
  Span s = attr_span(ctx);
  ++b.sign_run;
  b.nest(s);
  Item it;
  it.kind = Item::Kind::Sign;
  it.sign = *x3::_attr(ctx).begin() == '-' ? UnaryOp::Minus : UnaryOp::Plus;
  it.sign_pos = s.begin;
  b.items.push_back(std::move(it));
};

auto const act_binop = [](auto& ctx) {
  auto& b = bld(ctx);
  Item it;
  it.kind = Item::Kind::Op;
  it.op.op = x3::_attr(ctx);
  it.op.span = Span{b.mark, b.mark};
  if (++b.operators > kMaxOperators) b.fail(Span{b.mark, b.mark + 1}, "expression too complex");
  b.items.push_back(std::move(it));
};

inline PendingOp& last_op(Builder& b) { return b.items.back().op; }

auto const act_bool = [](auto& ctx) { last_op(bld(ctx)).return_bool = true; };
auto const act_on = [](auto& ctx) {
  auto& op = last_op(bld(ctx));
  op.has_matching = true;
  op.on = true;
  bld(ctx).labels.clear();
};
auto const act_ignoring = [](auto& ctx) {
  auto& op = last_op(bld(ctx));
  op.has_matching = true;
  op.on = false;
  bld(ctx).labels.clear();
};
auto const act_on_labels = [](auto& ctx) {
  auto& b = bld(ctx);
  last_op(b).matching_labels = std::move(b.labels);
  b.labels.clear();
};
// Prometheus's grammar only has group_left/group_right after on(...) or ignoring(...).
template <class Ctx>
void require_matching(Ctx& ctx, const char* kw) {
  auto& b = bld(ctx);
  if (!last_op(b).has_matching)
    b.fail(attr_span(ctx), std::string(kw) + " must follow on(...) or ignoring(...)");
}
auto const act_group_left = [](auto& ctx) {
  require_matching(ctx, "group_left");
  auto& op = last_op(bld(ctx));
  op.has_group = true;
  op.group_left = true;
  bld(ctx).labels.clear();
};
auto const act_group_right = [](auto& ctx) {
  require_matching(ctx, "group_right");
  auto& op = last_op(bld(ctx));
  op.has_group = true;
  op.group_left = false;
  bld(ctx).labels.clear();
};
auto const act_group_labels = [](auto& ctx) {
  auto& b = bld(ctx);
  last_op(b).include = std::move(b.labels);
  b.labels.clear();
};

// Experimental binop fill modifiers.
auto const act_fill_kw = [](auto& ctx) {
  auto& b = bld(ctx);
  Span s = attr_span(ctx);
  if (!b.opts.binop_fill_modifiers) {
    b.fail(s, "fill modifiers are experimental and must be enabled with "
              "--enable-feature=promql-binop-fill-modifiers");
  }
  std::string_view w = text_of(x3::_attr(ctx));
  b.fill_which = w.size() == 4 ? 0 : (w[5] == 'l' || w[5] == 'L') ? 1 : 2;
  auto& op = last_op(b);
  if ((b.fill_which != 2 && op.fill_left) || (b.fill_which != 1 && op.fill_right)) {
    b.fail(s, "fill modifier may not be set multiple times");
  }
};
auto const act_fill_value = [](auto& ctx) {
  auto& b = bld(ctx);
  Span s = attr_span(ctx);
  std::string_view raw = text_of(x3::_attr(ctx));
  bool neg = false;
  if (!raw.empty() && (raw[0] == '-' || raw[0] == '+')) {
    neg = raw[0] == '-';
    raw.remove_prefix(1);
    while (!raw.empty() && (raw[0] == ' ' || raw[0] == '\t' || raw[0] == '\n' || raw[0] == '\r')) {
      raw.remove_prefix(1);
    }
  }
  auto v = number_value(raw);
  if (!v) b.fail(s, "error parsing number: " + v.error());
  double x = neg ? -*v : *v;
  auto& op = last_op(b);
  if (b.fill_which != 2) op.fill_left = x;
  if (b.fill_which != 1) op.fill_right = x;
};

auto const act_label_ident = [](auto& ctx) {
  bld(ctx).labels.emplace_back(text_of(x3::_attr(ctx)));
};
auto const act_label_string = [](auto& ctx) {
  auto& b = bld(ctx);
  auto raw = text_of(x3::_attr(ctx));
  auto v = unquote(raw);
  if (!v) b.fail(attr_span(ctx), "error unquoting string " + std::string(raw) + ": " + v.error());
  b.labels.push_back(std::move(*v));
};

auto const act_number = [](auto& ctx) {
  auto& b = bld(ctx);
  auto raw = text_of(x3::_attr(ctx));
  Span s = attr_span(ctx);
  auto v = number_value(raw);
  if (!v) b.fail(s, "error parsing number: " + v.error());
  b.push_operand(make_expr(NumberLiteral{*v}, s));
};

auto const act_string = [](auto& ctx) {
  auto& b = bld(ctx);
  auto raw = text_of(x3::_attr(ctx));
  Span s = attr_span(ctx);
  auto v = unquote(raw);
  if (!v) b.fail(s, "error unquoting string " + std::string(raw) + ": " + v.error());
  b.push_operand(make_expr(StringLiteral{std::move(*v)}, s));
};

// Parentheses.
auto const act_paren_begin = [](auto& ctx) {
  auto& b = bld(ctx);
  Span s = attr_span(ctx);
  b.nest(s);
  Frame f;
  f.kind = Frame::Kind::Paren;
  f.marker = b.items.size();
  f.begin = s.begin;
  b.frames.push_back(std::move(f));
  b.sign_run = 0;
};
auto const act_paren_end = [](auto& ctx) {
  auto& b = bld(ctx);
  Frame f = std::move(b.frames.back());
  b.frames.pop_back();
  ExprPtr inner = std::move(b.items.back().expr);
  b.items.resize(f.marker);
  Span s{f.begin, b.last_end};
  b.push_operand(make_expr(Paren{std::move(inner)}, s));
};

// Function calls.
auto const act_call_begin = [](auto& ctx) {
  auto& b = bld(ctx);
  Span s = attr_span(ctx);
  auto name = text_of(x3::_attr(ctx));
  const FunctionInfo* fi = find_function(name);
  if (!fi) b.fail(s, "unknown function with name \"" + std::string(name) + "\"");
  if (fi->experimental && !b.opts.experimental_functions) {
    b.fail(s, "function \"" + std::string(name) + "\" is not enabled");
  }
  b.nest(s);
  Frame f;
  f.kind = Frame::Kind::Call;
  f.marker = b.items.size();
  f.begin = s.begin;
  f.func = fi;
  b.frames.push_back(std::move(f));
  b.sign_run = 0;
};

inline std::vector<ExprPtr> take_args(Builder& b, size_t marker) {
  std::vector<ExprPtr> args;
  args.reserve(b.items.size() - marker);
  for (size_t k = marker; k < b.items.size(); ++k) args.push_back(std::move(b.items[k].expr));
  b.items.resize(marker);
  return args;
}

auto const act_call_end = [](auto& ctx) {
  auto& b = bld(ctx);
  Frame f = std::move(b.frames.back());
  b.frames.pop_back();
  Call c;
  c.func = f.func;
  c.args = take_args(b, f.marker);
  Span s{f.begin, b.last_end};
  b.push_operand(make_expr(std::move(c), s));
};

auto const act_trailing_comma = [](auto& ctx) {
  bld(ctx).fail(attr_span(ctx), "trailing commas not allowed in function call args");
};

// Aggregations.
auto const act_agg_begin = [](auto& ctx) {
  auto& b = bld(ctx);
  AggregateOp op = x3::_attr(ctx);
  Span s{b.mark, static_cast<uint32_t>(b.mark + to_string(op).size())};
  if ((op == AggregateOp::Limitk || op == AggregateOp::LimitRatio) &&
      !b.opts.experimental_functions) {
    b.fail(s, std::string(to_string(op)) +
                  "() is experimental and must be enabled with "
                  "--enable-feature=promql-experimental-functions");
  }
  b.nest(s);
  Frame f;
  f.kind = Frame::Kind::Aggregate;
  f.marker = b.items.size();
  f.begin = s.begin;
  f.agg = op;
  b.frames.push_back(std::move(f));
  b.sign_run = 0;
};
auto const act_by = [](auto& ctx) {
  bld(ctx).grouping_without = false;
  bld(ctx).labels.clear();
};
auto const act_without = [](auto& ctx) {
  bld(ctx).grouping_without = true;
  bld(ctx).labels.clear();
};
auto const act_grouping_pre = [](auto& ctx) {
  auto& b = bld(ctx);
  auto& f = b.frames.back();
  f.has_grouping = true;
  f.grouping_first = true;
  f.without = b.grouping_without;
  f.grouping = std::move(b.labels);
  b.labels.clear();
};
auto const act_grouping_post = [](auto& ctx) {
  auto& b = bld(ctx);
  auto& f = b.frames.back();
  if (f.has_grouping) b.fail(Span{b.mark, b.last_end}, "aggregation grouping given twice");
  f.has_grouping = true;
  f.grouping_first = false;
  f.without = b.grouping_without;
  f.grouping = std::move(b.labels);
  b.labels.clear();
};
auto const act_agg_end = [](auto& ctx) {
  auto& b = bld(ctx);
  Frame f = std::move(b.frames.back());
  b.frames.pop_back();
  std::vector<ExprPtr> args = take_args(b, f.marker);
  Span s{f.begin, b.last_end};
  if (args.empty()) b.fail(s, "no arguments for aggregate expression provided");
  size_t want = takes_param(f.agg) ? 2 : 1;
  if (args.size() != want) {
    b.fail(s, "wrong number of arguments for aggregate expression provided, expected " +
                  std::to_string(want) + ", got " + std::to_string(args.size()));
  }
  Aggregate a;
  a.op = f.agg;
  if (want == 2) {
    a.param = std::move(args[0]);
    a.expr = std::move(args[1]);
  } else {
    a.expr = std::move(args[0]);
  }
  a.without = f.has_grouping && f.without;
  a.by = f.has_grouping && !f.without;
  a.grouping_first = f.grouping_first;
  a.grouping = std::move(f.grouping);
  b.push_operand(make_expr(std::move(a), s));
};

}  // namespace ruleeval::promql::detail::grammar
