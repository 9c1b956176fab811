// What the PromQL grammar builds into (the place of ast.hpp in Spirit X3's examples). The grammar
// has no X3-side AST to adapt (so no ast_adapted.hpp): its semantic actions feed a Builder that
// keeps a flat list of operands, unary signs and binary operators for each expression level; at
// the end of each level the list is folded by precedence climbing (promql_fold.cpp) into the
// public, Boost-free AST of ruleeval/parser/promql_ast.hpp. Boost-free too, so the folding, the
// modifiers and the duration reader compile without X3. Layout of the grammar: promql_grammar.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "promql_internal.hpp"

namespace ruleeval::promql::detail::grammar {

using It = const char*;

constexpr size_t kMaxNesting = 256;
// Binary operators per expression: bounds the depth of the folded tree, which later passes
// (checker, printer, evaluator) walk recursively.
constexpr size_t kMaxOperators = 2000;

struct PendingOp {
  BinaryOp op = BinaryOp::Add;
  Span span;
  bool return_bool = false;
  bool has_matching = false;  // on/ignoring written
  bool on = false;
  std::vector<std::string> matching_labels;
  bool has_group = false;
  bool group_left = false;
  std::vector<std::string> include;
  std::optional<double> fill_left;
  std::optional<double> fill_right;
};

struct Item {
  enum class Kind : uint8_t { Operand, Sign, Op } kind = Kind::Operand;
  ExprPtr expr;
  UnaryOp sign = UnaryOp::Minus;
  uint32_t sign_pos = 0;
  PendingOp op;
};

struct Frame {
  enum class Kind : uint8_t { Paren, Call, Aggregate } kind = Kind::Paren;
  size_t marker = 0;
  uint32_t begin = 0;
  const FunctionInfo* func = nullptr;
  AggregateOp agg = AggregateOp::Sum;
  bool has_grouping = false;
  bool grouping_first = false;
  bool without = false;
  std::vector<std::string> grouping;
};

struct Builder {
  std::string_view input;
  ParseOptions opts;
  std::vector<Item> items;
  std::vector<Frame> frames;
  size_t sign_run = 0;
  size_t operators = 0;

  // Selector under construction (selectors never nest).
  VectorSelector sel;
  uint32_t sel_begin = 0;
  Span sel_name_span;
  // Matcher under construction.
  LabelMatcher m;
  bool m_quoted = false;
  bool m_has_op = false;
  // Label list under construction (grouping, on/ignoring, group_left/right).
  std::vector<std::string> labels;
  bool grouping_without = false;
  // Range/subquery suffix under construction.
  uint32_t bracket_begin = 0;
  Millis range = 0;
  Millis step = 0;
  ExprPtr range_expr;  // experimental duration expressions, null for plain durations
  ExprPtr step_expr;
  // Which fill modifier is being parsed: 0 fill(), 1 fill_left(), 2 fill_right().
  int fill_which = 0;
  // Offset / @ under construction.
  uint32_t mod_begin = 0;
  bool negative = false;
  // Start of the last marked token and end of the last closing token.
  uint32_t mark = 0;
  uint32_t last_end = 0;

  // Expectation failure details captured by the error handler.
  bool have_expect_error = false;
  size_t expect_pos = 0;
  std::string expect_what;

  uint32_t pos(It p) const { return static_cast<uint32_t>(p - input.data()); }
  // Offset of the first significant byte at or after p (skips what the skipper skipped).
  uint32_t start(It p) const { return static_cast<uint32_t>(skip_blank(input, pos(p))); }

  [[noreturn]] void fail(Span s, std::string msg) const { throw Failure{s, std::move(msg)}; }

  Item& top_operand(Span at) {
    if (items.empty() || items.back().kind != Item::Kind::Operand) {
      fail(at, "unexpected modifier");
    }
    return items.back();
  }

  void push_operand(ExprPtr e) {
    sign_run = 0;
    Item it;
    it.kind = Item::Kind::Operand;
    it.expr = std::move(e);
    items.push_back(std::move(it));
  }

  void nest(Span at) {
    if (frames.size() + sign_run > kMaxNesting) fail(at, "expression nested too deeply");
  }
};

// Folds items[marker..] (operands, signs and operators of one expression level) into one tree by
// precedence climbing (promql_fold.cpp).
ExprPtr fold_operands(std::vector<Item>& items, size_t marker);

// Modifiers on the operand on top of the list (promql_modifiers.cpp): offset (with its duration
// expression, or null), @, and the experimental anchored/smoothed.
void set_offset(Builder& b, Millis d, ExprPtr expr, Span ds);
void set_at(Builder& b, uint32_t end, AtModifier at);
void set_extended(Builder& b, Span kw_span, bool anchored);

}  // namespace ruleeval::promql::detail::grammar
