// Grafana math expressions: runs the X3 grammar (grafana_math_def.hpp) and lowers its flat
// operator chains into the public MathNode tree, with Grafana's precedence and checks.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <fmt/format.h>

#include "grafana_math_grammar.hpp"
#include "ruleeval/parser/grafana_math.hpp"

namespace ruleeval::grafana {
namespace {

namespace x3 = boost::spirit::x3;
using namespace mathx3;

// Longer expressions and deeper nesting are refused: the grammar and the evaluator recurse.
constexpr size_t kMaxLength = size_t{16} * 1024;
constexpr int kMaxDepth = 64;

struct Func {
  std::string_view name;
  MathFunc f;
  size_t arity;
};
constexpr Func kFuncs[] = {
    {"abs", MathFunc::kAbs, 1},        {"ceil", MathFunc::kCeil, 1},
    {"floor", MathFunc::kFloor, 1},    {"log", MathFunc::kLog, 1},
    {"round", MathFunc::kRound, 1},    {"is_nan", MathFunc::kIsNaN, 1},
    {"is_inf", MathFunc::kIsInf, 1},   {"is_null", MathFunc::kIsNull, 1},
    {"is_number", MathFunc::kIsNumber, 1}, {"nan", MathFunc::kNaN, 0},
    {"inf", MathFunc::kInf, 0},        {"infn", MathFunc::kInfN, 0},
    {"null", MathFunc::kNull, 0},
};

int precedence(MathOp op) {
  switch (op) {
    case MathOp::kOr:
      return 1;
    case MathOp::kAnd:
      return 2;
    case MathOp::kEq:
    case MathOp::kNe:
    case MathOp::kGt:
    case MathOp::kGe:
    case MathOp::kLt:
    case MathOp::kLe:
      return 3;
    case MathOp::kAdd:
    case MathOp::kSub:
      return 4;
    case MathOp::kMul:
    case MathOp::kDiv:
    case MathOp::kMod:
      return 5;
    case MathOp::kPow:
      return 6;
    default:
      return 7;
  }
}

struct Pos {
  uint32_t line = 1;
  uint32_t col = 1;
};

Pos position(std::string_view text, size_t offset) {
  Pos p;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.col = 1;
    } else {
      ++p.col;
    }
  }
  return p;
}

std::unexpected<Error> fail_at(std::string_view text, size_t offset, const std::string& msg) {
  Pos p = position(text, offset);
  return make_error(fmt::format("{}:{}: {}", p.line, p.col, msg),
                    SourceLocation{"", p.line, p.col});
}

// Go's strconv.ParseUint(s, 0, 64), then ParseFloat (parse/node.go newNumber).
std::optional<double> go_number(const std::string& s) {
  if (s.empty()) return std::nullopt;
  bool all_digits = s.find_first_not_of("0123456789") == std::string::npos;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    errno = 0;
    char* end = nullptr;
    unsigned long long v = std::strtoull(s.c_str() + 2, &end, 16);
    if (errno != 0 || *end != '\0') return std::nullopt;
    return static_cast<double>(v);
  }
  if (all_digits) {
    const bool octal = s.size() > 1 && s[0] == '0';
    if (!octal || s.find_first_of("89") == std::string::npos) {
      errno = 0;
      char* end = nullptr;
      unsigned long long v = std::strtoull(s.c_str(), &end, octal ? 8 : 10);
      if (errno == 0 && *end == '\0') return static_cast<double>(v);
    }
  }
  // Go's ParseFloat: decimal only (no hex here, no inf/nan words: the grammar excludes them).
  if (s == "." || s.find_first_of("0123456789") == std::string::npos) return std::nullopt;
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (*end != '\0') return std::nullopt;
  return d;  // out-of-range values are ±Inf or 0 in Go too (with an error Grafana reports)
}

class Lowerer {
 public:
  explicit Lowerer(std::string_view text) : text_(text) {}

  Result<MathNode> chain(const ChainX& c) {
    std::vector<MathNode> operands;
    std::vector<MathOp> ops;
    auto first = unary(c.first);
    if (!first) return first;
    operands.push_back(std::move(*first));
    auto reduce_top = [&] {
      MathNode n;
      n.kind = MathNode::Kind::kBinary;
      n.op = ops.back();
      ops.pop_back();
      MathNode rhs = std::move(operands.back());
      operands.pop_back();
      MathNode lhs = std::move(operands.back());
      operands.pop_back();
      n.offset = lhs.offset;
      n.args.push_back(std::move(lhs));
      n.args.push_back(std::move(rhs));
      operands.push_back(std::move(n));
    };
    for (const auto& o : c.rest) {
      auto op = static_cast<MathOp>(o.op);
      // Left-associative: fold everything of equal or higher precedence first.
      while (!ops.empty() && precedence(ops.back()) >= precedence(op)) reduce_top();
      ops.push_back(op);
      auto rhs = unary(o.operand);
      if (!rhs) return rhs;
      operands.push_back(std::move(*rhs));
    }
    while (!ops.empty()) reduce_top();
    return std::move(operands.back());
  }

 private:
  Result<MathNode> unary(const UnaryX& u) {
    auto inner = primary(u.operand);
    if (!inner) return inner;
    MathNode n = std::move(*inner);
    for (auto it = u.ops.rbegin(); it != u.ops.rend(); ++it) {
      MathNode wrapped;
      wrapped.kind = MathNode::Kind::kUnary;
      wrapped.op = static_cast<MathOp>(*it);
      wrapped.offset = u.offset;
      wrapped.args.push_back(std::move(n));
      n = std::move(wrapped);
    }
    return n;
  }

  Result<MathNode> primary(const PrimaryX& p) {
    struct Visitor {
      Lowerer& self;
      Result<MathNode> operator()(const NumberX& x) const { return self.number(x); }
      Result<MathNode> operator()(const VarX& x) const { return self.var(x); }
      Result<MathNode> operator()(const StringX& x) const {
        return fail_at(self.text_, x.offset,
                       "string literals are not allowed here: no math function takes one");
      }
      Result<MathNode> operator()(const x3::forward_ast<CallX>& x) const {
        return self.call(x.get());
      }
      Result<MathNode> operator()(const x3::forward_ast<ChainX>& x) const {
        return self.chain(x.get());
      }
    };
    return boost::apply_visitor(Visitor{*this}, p);
  }

  Result<MathNode> number(const NumberX& x) {
    auto v = go_number(x.text);
    if (!v) return fail_at(text_, x.offset, fmt::format("illegal number syntax: {}", x.text));
    MathNode n;
    n.kind = MathNode::Kind::kNumber;
    n.number = *v;
    n.offset = x.offset;
    return n;
  }

  Result<MathNode> var(const VarX& x) {
    std::string name = x.text.substr(1);
    if (!name.empty() && name.front() == '{') name = name.substr(1, name.size() - 2);
    if (name.empty()) {
      return fail_at(text_, x.offset, fmt::format("incomplete variable \"{}\"", x.text));
    }
    MathNode n;
    n.kind = MathNode::Kind::kVar;
    n.var = std::move(name);
    n.offset = x.offset;
    return n;
  }

  Result<MathNode> call(const CallX& c) {
    const Func* f = nullptr;
    for (const auto& cand : kFuncs) {
      if (cand.name == c.name) f = &cand;
    }
    if (!f) return fail_at(text_, c.offset, fmt::format("non existent function {}", c.name));
    if (c.args.size() < f->arity) {
      return fail_at(text_, c.offset, fmt::format("not enough arguments for {}", c.name));
    }
    if (c.args.size() > f->arity) {
      return fail_at(text_, c.offset, fmt::format("too many arguments for {}", c.name));
    }
    MathNode n;
    n.kind = MathNode::Kind::kCall;
    n.func = f->f;
    n.offset = c.offset;
    for (const auto& a : c.args) {
      auto arg = chain(a);
      if (!arg) return arg;
      n.args.push_back(std::move(*arg));
    }
    return n;
  }

  std::string_view text_;
};

std::string describe(std::string_view text, size_t offset) {
  if (offset >= text.size()) return "unexpected end of expression";
  char c = text[offset];
  if (mathx3::is_op_char(c)) {
    size_t end = offset;
    while (end < text.size() && mathx3::is_op_char(text[end])) ++end;
    std::string_view run = text.substr(offset, end - offset);
    if (mathx3::op_code(run) < 0) return fmt::format("invalid operator \"{}\"", run);
    return fmt::format("unexpected operator \"{}\"", run);
  }
  if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
    return fmt::format("invalid character (byte 0x{:02x})", static_cast<unsigned char>(c));
  }
  return fmt::format("unexpected \"{}\"", c);
}

void vars_into(const MathNode& n, std::vector<std::string>& out) {
  if (n.kind == MathNode::Kind::kVar) {
    if (std::find(out.begin(), out.end(), n.var) == out.end()) out.push_back(n.var);
  }
  for (const auto& a : n.args) vars_into(a, out);
}

}  // namespace

std::string_view to_string(MathOp op) {
  switch (op) {
    case MathOp::kOr: return "||";
    case MathOp::kAnd: return "&&";
    case MathOp::kEq: return "==";
    case MathOp::kNe: return "!=";
    case MathOp::kGt: return ">";
    case MathOp::kGe: return ">=";
    case MathOp::kLt: return "<";
    case MathOp::kLe: return "<=";
    case MathOp::kAdd: return "+";
    case MathOp::kSub: return "-";
    case MathOp::kMul: return "*";
    case MathOp::kDiv: return "/";
    case MathOp::kMod: return "%";
    case MathOp::kPow: return "**";
    case MathOp::kNeg: return "-";
    case MathOp::kNot: return "!";
  }
  return "?";
}

std::string_view to_string(MathFunc f) {
  for (const auto& cand : kFuncs) {
    if (cand.f == f) return cand.name;
  }
  return "?";
}

Result<MathNode> parse_math(std::string_view text) {
  if (text.size() > kMaxLength) {
    return fail_at(text, 0, fmt::format("expression longer than {} bytes", kMaxLength));
  }
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') in_string = !in_string;
    if (in_string) continue;
    if (c == '(' && ++depth > kMaxDepth) {
      return fail_at(text, i, fmt::format("expression nested deeper than {} levels", kMaxDepth));
    }
    if (c == ')') --depth;
  }
  ErrorSink sink;
  sink.begin = text.data();
  const char* first = text.data();
  const char* last = text.data() + text.size();
  ChainX ast;
  bool ok = false;
  try {
    ok = x3::phrase_parse(first, last, x3::with<error_sink_tag>(std::ref(sink))[mathx3::top()],
                          x3::ascii::space, ast);
  } catch (const x3::expectation_failure<const char*>& e) {
    sink.failed = true;
    sink.offset = static_cast<size_t>(e.where() - text.data());
    sink.expected = e.which();
  }
  if (!ok || first != last) {
    size_t offset = sink.failed ? sink.offset : static_cast<size_t>(first - text.data());
    while (offset < text.size() && std::isspace(static_cast<unsigned char>(text[offset]))) {
      ++offset;
    }
    std::string msg = describe(text, offset);
    if (sink.failed && !sink.expected.empty() && sink.expected != "eoi") {
      msg += fmt::format(", expected {}", sink.expected);
    }
    return fail_at(text, offset, msg);
  }
  return Lowerer(text).chain(ast);
}

std::vector<std::string> math_vars(const MathNode& n) {
  std::vector<std::string> out;
  vars_into(n, out);
  return out;
}

std::string format_math(const MathNode& n) {
  switch (n.kind) {
    case MathNode::Kind::kNumber:
      return std::isinf(n.number) ? std::string("inf()") : fmt::format("{}", n.number);
    case MathNode::Kind::kVar: {
      const bool plain = std::all_of(n.var.begin(), n.var.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
      });
      return plain ? "$" + n.var : "${" + n.var + "}";
    }
    case MathNode::Kind::kUnary:
      if (n.args[0].kind == MathNode::Kind::kUnary) {
        return fmt::format("{}({})", to_string(n.op), format_math(n.args[0]));
      }
      return fmt::format("{}{}", to_string(n.op), format_math(n.args[0]));
    case MathNode::Kind::kBinary:
      return fmt::format("({} {} {})", format_math(n.args[0]), to_string(n.op),
                         format_math(n.args[1]));
    case MathNode::Kind::kCall: {
      std::string s = fmt::format("{}(", to_string(n.func));
      for (size_t i = 0; i < n.args.size(); ++i) {
        if (i) s += ", ";
        s += format_math(n.args[i]);
      }
      return s + ")";
    }
  }
  return "";
}

}  // namespace ruleeval::grafana
