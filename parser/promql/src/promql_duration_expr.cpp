// Experimental duration expressions: `[1m * 2]`, `[5m:(30s * 2)]`, `offset (1h / 2)`. A small
// recursive-descent reader (numbers and durations are seconds; + - * / % ^, unary signs,
// parentheses, step(), range(), min(a, b), max(a, b)). The tree is kept for the printer, and its
// value is folded into the Millis field when it does not depend on step()/range().
#include <algorithm>
#include <cmath>

#include "promql_duration_expr.hpp"
#include "ruleeval/common/gomath.hpp"

namespace ruleeval::promql::detail::grammar {
namespace {

Millis duration_or_fail(Builder& b, std::string_view raw, Span s) {
  auto d = duration_value(raw);
  if (!d) b.fail(s, d.error());
  return *d;
}

constexpr const char* kDurationExprFlag =
    "duration expressions are experimental and must be enabled with "
    "--enable-feature=promql-duration-expr";

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
      // Prometheus's durationLiteralOutOfRange: 1e400 (+Inf), Inf and 1e10 are refused here
      // rather than folded into a range.
      if (*v > kMaxDurationSeconds || *v < -kMaxDurationSeconds) {
        b.fail(make_span(start, e), "duration out of range");
      }
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


}  // namespace

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

}  // namespace ruleeval::promql::detail::grammar
