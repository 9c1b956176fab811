// The PromQL grammar, written with Boost.Spirit X3, and parse().
//
// The grammar is static (built once at namespace scope). Semantic actions feed a Builder that
// keeps a flat list of operands, unary signs and binary operators for each expression level; at
// the end of each level the list is folded by precedence climbing into the public AST. Errors:
// expectation points (`>`) raise x3::expectation_failure, turned into Prometheus-style messages
// by the top rule's error handler; semantic errors are thrown as detail::Failure.
#include <boost/spirit/home/x3.hpp>

#include <algorithm>
#include <cmath>

#include "promql_internal.hpp"
#include "ruleeval/common/gomath.hpp"
#include "promql_regex.hpp"

namespace ruleeval::promql {
namespace detail {
namespace {

namespace x3 = boost::spirit::x3;
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

struct builder_tag;

template <class Ctx>
Builder& bld(const Ctx& ctx) {
  return *x3::get<builder_tag>(ctx);
}

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

// ---------------------------------------------------------------------------------------------
// Folding an operand/operator list into a tree (precedence climbing).

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

// ---------------------------------------------------------------------------------------------
// Semantic actions.

auto const act_mark = [](auto& ctx) { bld(ctx).mark = attr_span(ctx).begin; };
auto const act_close = [](auto& ctx) { bld(ctx).last_end = attr_span(ctx).end; };

auto const act_chain_mark = [](auto& ctx) { x3::_val(ctx) = bld(ctx).items.size(); };

auto const act_chain_fold = [](auto& ctx) {
  auto& b = bld(ctx);
  size_t marker = x3::_val(ctx);
  if (b.items.size() <= marker) return;
  if (b.items.size() == marker + 1) return;  // a single operand: nothing to fold
  Folder f{b.items, marker, b.items.size()};
  ExprPtr lhs = f.primary();
  ExprPtr e = f.climb(std::move(lhs), 0);
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

PendingOp& last_op(Builder& b) { return b.items.back().op; }

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

std::vector<ExprPtr> take_args(Builder& b, size_t marker) {
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
Millis duration_or_fail(Builder& b, std::string_view raw, Span s) {
  auto d = duration_value(raw);
  if (!d) b.fail(s, d.error());
  return *d;
}
// ---------------------------------------------------------------------------------------------
// Experimental duration expressions: `[1m * 2]`, `[5m:(30s * 2)]`, `offset (1h / 2)`. A small
// recursive-descent reader (numbers and durations are seconds; + - * / % ^, unary signs,
// parentheses, step(), range(), min(a, b), max(a, b)). The tree is kept for the printer, and its
// value is folded into the Millis field when it does not depend on step()/range().

constexpr const char* kDurationExprFlag =
    "duration expressions are experimental and must be enabled with "
    "--enable-feature=promql-duration-expr";

enum class DurRole : uint8_t { Range, Step, Offset };

bool is_arith_char(char c) {
  return c == '+' || c == '-' || c == '*' || c == '/' || c == '%' || c == '^';
}
bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// End of the number/duration literal starting at p, or npos when there is none.
size_t literal_end(std::string_view in, size_t p) {
  if (p >= in.size()) return std::string_view::npos;
  if (in.size() - p >= 3) {
    std::string w(in.substr(p, 3));
    for (char& ch : w) ch = static_cast<char>(ch | 0x20);
    if ((w == "inf" || w == "nan") && (in.size() - p == 3 || !is_word_char(in[p + 3]))) {
      return p + 3;
    }
  }
  char c = in[p];
  bool digit = c >= '0' && c <= '9';
  bool dot = c == '.' && p + 1 < in.size() && in[p + 1] >= '0' && in[p + 1] <= '9';
  if (!digit && !dot) return std::string_view::npos;
  size_t i = p;
  while (i < in.size()) {
    char d = in[i];
    if (is_word_char(d) || d == '.') {  // NOLINT(bugprone-branch-clone): a separate lexical case
      ++i;
    } else if ((d == '+' || d == '-') && i > p && (in[i - 1] == 'e' || in[i - 1] == 'E') &&
               i + 1 < in.size() && in[i + 1] >= '0' && in[i + 1] <= '9' &&
               !(in.size() > p + 1 && (in[p + 1] == 'x' || in[p + 1] == 'X'))) {
      ++i;
    } else {
      break;
    }
  }
  return i;
}

// What the number token accepts: no fractional duration such as `1.5h`.
bool lexically_number(std::string_view t) {
  if (t.size() > 1 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) return true;
  bool dot = t.find('.') != std::string_view::npos;
  bool unit = false;
  for (char c : t) {
    if (((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) && c != 'e' && c != 'E') unit = true;
  }
  if (t.size() == 3 && unit && !dot) return true;  // inf, nan
  return !(dot && unit);
}

std::string_view word_at(std::string_view in, size_t p) {
  size_t i = p;
  while (i < in.size() && is_word_char(in[i])) ++i;
  return in.substr(p, i - p);
}

// Keywords are case-insensitive, as in Prometheus's lexer (`STEP()` is `step()`).
std::string lower_word(std::string_view w) {
  std::string s(w);
  for (char& ch : s) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch | 0x20);
  }
  return s;
}

bool is_duration_func(std::string_view word) {
  std::string w = lower_word(word);
  return w == "step" || w == "range" || w == "min" || w == "max" || w == "min_of" ||
         w == "max_of";
}

struct DurationReader {
  Builder& b;
  size_t pos = 0;
  size_t depth = 0;

  std::string_view in() const { return b.input; }
  char cur() {
    pos = skip_blank(b.input, pos);
    return pos < in().size() ? in()[pos] : '\0';
  }

  [[noreturn]] void unexpected(const char* expected) {
    size_t p = skip_blank(b.input, pos);
    size_t len = 0;
    std::string tok = describe_token(b.input, p, &len);
    b.fail(make_span(p, p + std::max<size_t>(len, 1)),
           "unexpected " + tok + " in duration expression, expected " + expected);
  }

  void expect(char c, const char* what) {
    if (cur() != c) unexpected(what);
    ++pos;
  }

  ExprPtr binary(BinaryOp op, ExprPtr l, ExprPtr r) {
    Span s{l->span.begin, r->span.end};
    // Bounds the depth of left-leaning chains, which the folder and printer walk recursively.
    if (++b.operators > kMaxOperators) b.fail(s, "expression too complex");
    Binary bin;
    bin.op = op;
    bin.lhs = std::move(l);
    bin.rhs = std::move(r);
    return make_expr(std::move(bin), s);
  }

  ExprPtr sum() {
    ExprPtr l = prod();
    for (char c = cur(); c == '+' || c == '-'; c = cur()) {
      ++pos;
      l = binary(c == '+' ? BinaryOp::Add : BinaryOp::Sub, std::move(l), prod());
    }
    return l;
  }

  ExprPtr prod() {
    ExprPtr l = unary();
    for (char c = cur(); c == '*' || c == '/' || c == '%'; c = cur()) {
      ++pos;
      BinaryOp op = c == '*' ? BinaryOp::Mul : c == '/' ? BinaryOp::Div : BinaryOp::Mod;
      l = binary(op, std::move(l), unary());
    }
    return l;
  }

  ExprPtr unary() {
    char c = cur();
    if (c == '+' || c == '-') {
      uint32_t b0 = static_cast<uint32_t>(pos);
      ++pos;
      if (++depth > kMaxNesting) b.fail(make_span(b0, b0 + 1), "expression nested too deeply");
      ExprPtr inner = unary();
      --depth;
      Span s{b0, inner->span.end};
      return make_expr(Unary{c == '-' ? UnaryOp::Minus : UnaryOp::Plus, std::move(inner)}, s);
    }
    return power();
  }

  ExprPtr power() {
    ExprPtr base = primary();
    if (cur() == '^') {
      ++pos;
      if (++depth > kMaxNesting) b.fail(base->span, "expression nested too deeply");
      ExprPtr exp = unary();
      --depth;
      return binary(BinaryOp::Pow, std::move(base), std::move(exp));
    }
    return base;
  }

  ExprPtr primary() {
    char c = cur();
    size_t start = pos;
    if (c == '(') {
      ++pos;
      if (++depth > kMaxNesting) {
        b.fail(make_span(start, start + 1), "expression nested too deeply");
      }
      ExprPtr inner = sum();
      --depth;
      expect(')', "\")\"");
      return make_expr(Paren{std::move(inner)}, make_span(start, pos));
    }
    size_t e = literal_end(in(), start);
    if (e != std::string_view::npos) {
      std::string_view text = in().substr(start, e - start);
      auto v = number_value(text);
      if (!v) b.fail(make_span(start, e), "error parsing duration: " + v.error());
      pos = e;
      char last = text.back();
      bool dur = !(text.size() > 1 && (text[1] == 'x' || text[1] == 'X')) &&
                 (last == 's' || last == 'm' || last == 'h' || last == 'd' || last == 'w' ||
                  last == 'y');
      return make_expr(NumberLiteral{*v, dur}, make_span(start, e));
    }
    std::string_view word = word_at(in(), start);
    if (is_duration_func(word)) {
      pos = start + word.size();
      std::string w = lower_word(word);
      Call call;
      if (w == "step" || w == "range") {
        call.func = find_function(w);
        expect('(', "\"(\"");
        expect(')', "\")\"");
      } else {
        call.func = find_function(w.starts_with("min") ? "min_of" : "max_of");
        expect('(', "\"(\"");
        if (++depth > kMaxNesting) b.fail(make_span(start, pos), "expression nested too deeply");
        call.args.push_back(sum());
        expect(',', "\",\"");
        call.args.push_back(sum());
        --depth;
        expect(')', "\")\"");
      }
      return make_expr(std::move(call), make_span(start, pos));
    }
    unexpected("number, duration, \"(\", step(), range(), min() or max()");
  }
};

// Value in seconds, or nullopt when the expression depends on step()/range().
std::optional<double> fold_duration(Builder& b, const Expr& e) {
  if (auto* n = e.as<NumberLiteral>()) return n->value;
  if (auto* p = e.as<Paren>()) return fold_duration(b, *p->expr);
  if (auto* u = e.as<Unary>()) {
    auto v = fold_duration(b, *u->expr);
    if (v && u->op == UnaryOp::Minus) return -*v;
    return v;
  }
  if (auto* c = e.as<Call>()) {
    if (c->args.size() != 2) return std::nullopt;  // step(), range()
    auto l = fold_duration(b, *c->args[0]);
    auto r = fold_duration(b, *c->args[1]);
    if (!l || !r) return std::nullopt;
    return c->func->name == "min_of" ? std::min(*l, *r) : std::max(*l, *r);
  }
  if (auto* bin = e.as<Binary>()) {
    auto l = fold_duration(b, *bin->lhs);
    auto r = fold_duration(b, *bin->rhs);
    if (!l || !r) return std::nullopt;
    switch (bin->op) {
      case BinaryOp::Add: return *l + *r;
      case BinaryOp::Sub: return *l - *r;
      case BinaryOp::Mul: return *l * *r;
      case BinaryOp::Div:
        if (*r == 0) b.fail(e.span, "division by zero in duration expression");
        return *l / *r;
      case BinaryOp::Mod:
        if (*r == 0) b.fail(e.span, "modulo by zero in duration expression");
        return std::fmod(*l, *r);
      case BinaryOp::Pow: return gomath::pow(*l, *r);
      default: break;
    }
  }
  return std::nullopt;
}

// Folds a duration expression to milliseconds (0 when not constant); fails on overflow.
Millis duration_expr_millis(Builder& b, const Expr& e, bool must_be_positive) {
  auto v = fold_duration(b, e);
  if (!v) return 0;
  double ms = *v * 1000.0;
  if (!std::isfinite(ms) || std::fabs(ms) >= 9.2e18) {
    b.fail(e.span, "duration out of range in duration expression");
  }
  auto out = static_cast<Millis>(ms);
  if (must_be_positive && out <= 0) b.fail(e.span, "duration must be greater than 0");
  return out;
}

void set_offset(Builder& b, Millis d, ExprPtr expr, Span ds);

// Parses the duration at `start` for a range, subquery step or offset. Returns the end offset,
// or npos without consuming when there is no duration there (the caller's expectation reports
// it, as before duration expressions existed).
size_t read_duration(Builder& b, size_t start, DurRole role) {
  std::string_view in = b.input;
  start = skip_blank(in, start);
  size_t lit_end = literal_end(in, start);
  if (lit_end != std::string_view::npos && !lexically_number(in.substr(start, lit_end - start))) {
    return std::string_view::npos;  // e.g. `1.5h`: not a number token, "expected duration"
  }
  if (lit_end != std::string_view::npos) {
    size_t next = skip_blank(in, lit_end);
    bool plain = role == DurRole::Offset || next >= in.size() || !is_arith_char(in[next]);
    if (plain) {
      Span s = make_span(start, lit_end);
      Millis d = duration_or_fail(b, in.substr(start, lit_end - start), s);
      if (role == DurRole::Range) {
        if (d <= 0) b.fail(s, "duration must be greater than 0");
        b.range = d;
      } else if (role == DurRole::Step) {
        if (d <= 0) b.fail(s, "duration must be greater than 0");
        b.step = d;
      } else {
        set_offset(b, d, nullptr, s);
      }
      return lit_end;
    }
    if (!b.opts.duration_expr) b.fail(make_span(start, next + 1), kDurationExprFlag);
  } else {
    char c = start < in.size() ? in[start] : '\0';
    bool opener = c == '(' || is_duration_func(word_at(in, start)) ||
                  (role != DurRole::Offset && (c == '-' || c == '+'));
    if (!opener) return std::string_view::npos;
    if (!b.opts.duration_expr) {
      if (c == '-' || c == '+') return std::string_view::npos;  // as before: "expected duration"
      b.fail(make_span(start, start + 1), kDurationExprFlag);
    }
  }
  DurationReader r{b, start};
  ExprPtr e = role == DurRole::Offset ? r.primary() : r.sum();
  size_t end = r.pos;
  Span s = make_span(start, end);
  Millis d = duration_expr_millis(b, *e, role != DurRole::Offset);
  if (role == DurRole::Range) {
    b.range = d;
    b.range_expr = std::move(e);
  } else if (role == DurRole::Step) {
    b.step = d;
    b.step_expr = std::move(e);
  } else {
    set_offset(b, d, std::move(e), s);
  }
  return end;
}

template <DurRole kRole>
struct DurationParser : x3::parser<DurationParser<kRole>> {
  using attribute_type = x3::unused_type;
  [[maybe_unused]] static bool const has_attribute = false;
  template <class Iterator, class Context, class RContext, class Attribute>
  bool parse(Iterator& first, const Iterator& last, const Context& ctx, RContext&,
             Attribute&) const {
    Builder& b = bld(ctx);
    size_t end = read_duration(b, b.pos(first), kRole);
    if (end == std::string_view::npos) return false;
    first = b.input.data() + end;
    (void)last;
    return true;
  }
};

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
auto const act_anchored = [](auto& ctx) { set_extended(bld(ctx), attr_span(ctx), true); };
auto const act_smoothed = [](auto& ctx) { set_extended(bld(ctx), attr_span(ctx), false); };

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

void set_at(Builder& b, uint32_t end, AtModifier at) {
  apply_modifier(b, end, "@", [&](Span s, Millis&, AtModifier& cur) {
    if (cur.kind != AtModifier::Kind::None) b.fail(s, "@ <timestamp> may not be set multiple times");
    cur = at;
  });
}
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

// ---------------------------------------------------------------------------------------------
// Tokens.

// The skipper: whitespace and `#` comments, consumed in one call (a primitive X3 parser; the
// generic `space | '#' >> *(char_ - eol)` spent a fifth of the parse time in isspace()).
struct BlankParser : x3::parser<BlankParser> {
  using attribute_type = x3::unused_type;
  [[maybe_unused]] static bool const has_attribute = false;
  template <class Iterator, class Context, class RContext, class Attribute>
  bool parse(Iterator& first, const Iterator& last, const Context&, RContext&, Attribute&) const {
    Iterator i = first;
    while (i != last) {
      char c = *i;
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++i;
      } else if (c == '#') {
        while (i != last && *i != '\n') ++i;
      } else {
        break;
      }
    }
    if (i == first) return false;
    first = i;
    return true;
  }
};
const BlankParser kBlank{};

auto const metric_char = x3::char_("a-zA-Z0-9_:");
auto const label_start = x3::char_("a-zA-Z_");
auto const label_char = x3::char_("a-zA-Z0-9_");

auto kw(const char* s) { return x3::lexeme[x3::no_case[x3::lit(s)] >> !metric_char]; }

auto const label_ident = x3::raw[x3::lexeme[label_start >> *label_char]];
auto const metric_ident = x3::raw[x3::lexeme[x3::char_("a-zA-Z_:") >> *metric_char]];

auto const dq_string = x3::lit('"') >> *((x3::lit('\\') >> x3::char_) | ~x3::char_("\"\\\n"));
auto const sq_string = x3::lit('\'') >> *((x3::lit('\\') >> x3::char_) | ~x3::char_("'\\\n"));
auto const bt_string = x3::lit('`') >> *~x3::char_('`');

x3::rule<class dq_close_class> const dq_close = "closing quote";
x3::rule<class sq_close_class> const sq_close = "closing quote";
x3::rule<class bt_close_class> const bt_close = "closing backtick";
auto const dq_close_def = x3::lit('"');
auto const sq_close_def = x3::lit('\'');
auto const bt_close_def = x3::lit('`');

auto const string_tok =
    x3::raw[x3::lexeme[(dq_string > dq_close) | (sq_string > sq_close) | (bt_string > bt_close)]];

auto const dec_digits = x3::digit >> *(-x3::lit('_') >> x3::digit);
auto const hex_number = x3::no_case[x3::lit("0x")] >> *x3::lit('_') >> x3::xdigit >>
                        *(-x3::lit('_') >> x3::xdigit);
auto const duration_unit = x3::lit("ms") | x3::lit('s') | x3::lit('m') | x3::lit('h') |
                           x3::lit('d') | x3::lit('w') | x3::lit('y');
auto const duration_number = +(dec_digits >> duration_unit);
auto const exponent = x3::no_case[x3::lit('e')] >> -(x3::lit('+') | x3::lit('-')) >> dec_digits;
auto const decimal_number =
    ((dec_digits >> -(x3::lit('.') >> -dec_digits)) | (x3::lit('.') >> dec_digits)) >> -exponent;
auto const inf_nan = x3::no_case[x3::lit("inf") | x3::lit("nan")];
auto const number_tok = x3::raw[x3::lexeme[
    (hex_number | duration_number | decimal_number | inf_nan) >> !label_char >> !x3::lit('.')]];

struct BinOpSymbols : x3::symbols<BinaryOp> {
  BinOpSymbols() {
    add("+", BinaryOp::Add)("-", BinaryOp::Sub)("*", BinaryOp::Mul)("/", BinaryOp::Div)(
        "%", BinaryOp::Mod)("^", BinaryOp::Pow)("==", BinaryOp::Eql)("!=", BinaryOp::Neq)(
        ">", BinaryOp::Gtr)("<", BinaryOp::Lss)(">=", BinaryOp::Gte)("<=", BinaryOp::Lte);
  }
};
struct BinKeywordSymbols : x3::symbols<BinaryOp> {
  BinKeywordSymbols() {
    add("and", BinaryOp::And)("or", BinaryOp::Or)("unless", BinaryOp::Unless)(
        "atan2", BinaryOp::Atan2);
  }
};
struct AggSymbols : x3::symbols<AggregateOp> {
  AggSymbols() {
    add("sum", AggregateOp::Sum)("avg", AggregateOp::Avg)("count", AggregateOp::Count)(
        "min", AggregateOp::Min)("max", AggregateOp::Max)("group", AggregateOp::Group)(
        "stddev", AggregateOp::Stddev)("stdvar", AggregateOp::Stdvar)("topk", AggregateOp::Topk)(
        "bottomk", AggregateOp::Bottomk)("count_values", AggregateOp::CountValues)(
        "quantile", AggregateOp::Quantile)("limitk", AggregateOp::Limitk)(
        "limit_ratio", AggregateOp::LimitRatio);
  }
};
struct MatchOpSymbols : x3::symbols<MatchOp> {
  MatchOpSymbols() {
    add("=", MatchOp::Equal)("!=", MatchOp::NotEqual)("=~", MatchOp::Regex)(
        "!~", MatchOp::NotRegex);
  }
};

const BinOpSymbols kBinOps;
const BinKeywordSymbols kBinKeywords;
const AggSymbols kAggOps;
const MatchOpSymbols kMatchOps;

auto const binop_tok =
    x3::raw[x3::eps][act_mark] >>
    (x3::lexeme[kBinOps][act_binop] |
     x3::lexeme[x3::no_case[kBinKeywords] >> !metric_char][act_binop]);
auto const agg_tok = x3::lexeme[x3::no_case[kAggOps] >> !metric_char];

// ---------------------------------------------------------------------------------------------
// Rules.

struct expr_class;
struct top_class;

x3::rule<expr_class, size_t> const expr = "expression";
x3::rule<class unary_class> const unary = "expression";
x3::rule<class primary_class> const primary = "expression";
x3::rule<top_class> const top = "expression";

x3::rule<class close_paren_class> const close_paren = "\")\"";
x3::rule<class close_brace_class> const close_brace = "\"}\"";
x3::rule<class close_bracket_class> const close_bracket = "\"]\"";
x3::rule<class open_paren_class> const open_paren = "\"(\"";
x3::rule<class range_end_class> const range_end = "\"]\" or \":\"";
x3::rule<class range_duration_class> const range_duration = "duration";
x3::rule<class step_duration_class> const step_duration = "duration";
x3::rule<class offset_duration_class> const offset_duration = "duration";
x3::rule<class label_list_class> const label_list = "label list";
x3::rule<class label_name_class> const label_name = "label name";
x3::rule<class matcher_value_class> const matcher_value = "string";
x3::rule<class at_value_class> const at_value = "timestamp";
x3::rule<class call_args_class> const call_args = "\"(\"";
x3::rule<class end_class> const end_of_input = "end of input";

auto const close_paren_def = x3::raw[x3::lit(')')][act_close];
auto const close_brace_def = x3::raw[x3::lit('}')][act_close];
auto const close_bracket_def = x3::raw[x3::lit(']')][act_close];
auto const open_paren_def = x3::lit('(');
auto const end_of_input_def = x3::eoi;

auto const label_name_def = label_ident[act_label_ident] | string_tok[act_label_string];
auto const label_list_def =
    x3::lit('(') > -((label_name % ',') >> -x3::lit(',')) > close_paren;

auto const range_duration_def = DurationParser<DurRole::Range>{};
auto const step_duration_def = DurationParser<DurRole::Step>{};
auto const offset_duration_def = DurationParser<DurRole::Offset>{};

auto const range_end_def =
    x3::omit[(x3::lit(':') >> -step_duration) > close_bracket][act_subquery] |
    x3::raw[x3::lit(']')][act_matrix];
auto const range_suffix = x3::raw[x3::lit('[')][act_bracket_begin] > range_duration > range_end;

auto const offset_suffix =
    x3::raw[kw("offset")][act_mod_begin] > -(x3::lit('-')[act_negative] | x3::lit('+')) >
    offset_duration;

auto const at_value_def = (kw("start") > open_paren > close_paren)[act_at_start] |
                          (kw("end") > open_paren > close_paren)[act_at_end] |
                          (-(x3::lit('-')[act_negative] | x3::lit('+')) >> number_tok[act_at_ts]);
auto const at_suffix = x3::raw[x3::lit('@')][act_mod_begin] > at_value;

auto const postfix = range_suffix | offset_suffix | at_suffix |
                     x3::raw[kw("anchored")][act_anchored] | x3::raw[kw("smoothed")][act_smoothed];

auto const call_args_def = x3::lit('(') > (-(expr % ',') >> -(x3::raw[x3::lit(',')][act_trailing_comma])) >
                           close_paren;

auto const grouping = (kw("by")[act_by] | kw("without")[act_without]) > label_list;

auto const aggregate =
    x3::raw[x3::eps][act_mark] >>
    (agg_tok >> &(x3::lit('(') | kw("by") | kw("without")))[act_agg_begin] >
    x3::omit[-grouping[act_grouping_pre] > (call_args >> -grouping[act_grouping_post])]
            [act_agg_end];

auto const call = (label_ident >> &x3::lit('('))[act_call_begin] > call_args[act_call_end];

auto const matcher_value_def = string_tok[act_m_value];
auto const matcher =
    x3::omit[(label_ident[act_m_name_ident] | string_tok[act_m_name_string]) >>
             -(x3::lexeme[kMatchOps][act_m_op] > matcher_value)][act_m_end];
auto const braces = x3::lit('{') > -((matcher % ',') >> -x3::lit(',')) > close_brace;
auto const selector =
    x3::raw[x3::eps][act_sel_begin] >>
    x3::omit[(metric_ident[act_sel_name] >> -braces) | braces][act_sel_end];

auto const paren = x3::raw[x3::lit('(')][act_paren_begin] > expr > close_paren >
                   x3::eps[act_paren_end];

auto const primary_def = number_tok[act_number] | string_tok[act_string] | paren | aggregate |
                         call | selector;

auto const unary_def = (x3::raw[x3::char_("+-")][act_sign] > unary) | (primary >> *postfix);

x3::rule<class fill_value_class> const fill_value = "number";
auto const fill_value_def = x3::raw[-x3::char_("+-") >> number_tok][act_fill_value];
auto fill_kw(const char* s) { return x3::raw[kw(s) >> &x3::lit('(')][act_fill_kw]; }
auto const fill_args = x3::lit('(') > fill_value > close_paren;
auto const fill_modifiers = (fill_kw("fill") > fill_args) |
                            +((fill_kw("fill_left") | fill_kw("fill_right")) > fill_args);

auto const binop_modifiers =
    -kw("bool")[act_bool] >>
    -((kw("on")[act_on] | kw("ignoring")[act_ignoring]) > label_list[act_on_labels]) >>
    -((x3::raw[kw("group_left")][act_group_left] | x3::raw[kw("group_right")][act_group_right]) >>
      -label_list[act_group_labels]) >>
    -fill_modifiers;

auto const expr_def =
    x3::eps[act_chain_mark] >> unary >> *((binop_tok >> binop_modifiers) > unary) >>
    x3::eps[act_chain_fold];

auto const top_def = expr > end_of_input;

// The error handler of the outermost rule: remember where an expectation failed and what was
// expected; parse() turns it into a ParseError.
struct top_class {
  template <class Iterator, class Exception, class Context>
  x3::error_handler_result on_error(Iterator&, const Iterator&, const Exception& x,
                                    const Context& ctx) {
    auto& b = bld(ctx);
    b.have_expect_error = true;
    b.expect_pos = static_cast<size_t>(x.where() - b.input.data());
    b.expect_what = x.which();
    return x3::error_handler_result::fail;
  }
};


BOOST_SPIRIT_DEFINE(expr, unary, primary, top, close_paren, close_brace, close_bracket,
                    open_paren, range_end, range_duration, step_duration, offset_duration, label_list, label_name, matcher_value,
                    at_value, call_args, end_of_input, fill_value, dq_close, sq_close, bt_close)

}  // namespace

namespace {

ParseError make_error(std::string_view input, Span span, std::string message) {
  ParseError e;
  e.message = std::move(message);
  e.span = span;
  uint32_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < span.begin && i < input.size(); ++i) {
    if (input[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  e.line = line;
  e.col = static_cast<uint32_t>(span.begin - line_start + 1);
  return e;
}

ParseError unexpected_at(std::string_view input, size_t pos, const std::string& expected) {
  pos = skip_blank(input, pos);
  size_t len = 0;
  std::string tok = describe_token(input, pos, &len);
  std::string msg;
  std::string expected_text = expected;
  if (expected_text.find("boost") != std::string::npos) expected_text.clear();
  if (expected == "closing quote") {
    msg = "unterminated quoted string";
  } else if (expected == "closing backtick") {
    msg = "unterminated raw string";
  } else if (tok.starts_with("character: ") || expected == "end of input") {
    msg = "unexpected " + tok;
  } else {
    msg = "unexpected " + tok;
    if (!expected_text.empty()) msg += ", expected " + expected_text;
  }
  return make_error(input, make_span(pos, pos + len), std::move(msg));
}

}  // namespace

std::expected<ExprPtr, ParseError> parse_impl(std::string_view input, const ParseOptions& opts) {
  if (input.size() > 0xFFFFFFF0u) {
    return std::unexpected(make_error(input, Span{}, "input too large"));
  }
  if (skip_blank(input, 0) >= input.size()) {
    return std::unexpected(
        make_error(input, make_span(input.size(), input.size()), "no expression found in input"));
  }
  Builder b;
  b.input = input;
  b.opts = opts;
  b.items.reserve(16);
  It first = input.data();
  It last = input.data() + input.size();
  auto const& skipper = kBlank;
  try {
    auto const grammar = x3::with<builder_tag>(&b)[top];
    bool ok = x3::phrase_parse(first, last, grammar, skipper);
    if (!ok) {
      if (b.have_expect_error) {
        return std::unexpected(unexpected_at(input, b.expect_pos, b.expect_what));
      }
      return std::unexpected(unexpected_at(input, static_cast<size_t>(first - input.data()), ""));
    }
    if (b.items.size() != 1 || b.items.back().kind != Item::Kind::Operand || !b.items[0].expr) {
      return std::unexpected(make_error(input, Span{}, "internal error: unbalanced parse"));
    }
    ExprPtr e = std::move(b.items[0].expr);
    check(input, *e);
    return e;
  } catch (const Failure& f) {
    return std::unexpected(make_error(input, f.span, f.message));
  } catch (const x3::expectation_failure<It>& x) {
    return std::unexpected(
        unexpected_at(input, static_cast<size_t>(x.where() - input.data()), x.which()));
  }
}

}  // namespace detail
}  // namespace ruleeval::promql
