// Go text/template parsing: runs the X3 grammar, then lowers its flat item list into the public
// tree, applying trim markers and checking what Go's parser checks (nesting, variables, function
// names, literal syntax).
#include <fmt/format.h>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_set>

#include "ruleeval/common/utf8.hpp"
#include "ruleeval/parser/template_exec.hpp"
#include "ruleeval/parser/template_parse.hpp"
#include "template_grammar.hpp"

namespace ruleeval::tmpl {
namespace {

namespace g = grammar;

constexpr size_t kMaxNesting = 500;
constexpr size_t kMaxTextBytes = 4u << 20;

struct ParseFailure {
  uint32_t pos;
  std::string message;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

const std::set<std::string, std::less<>> kKeywords = {
    "if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"};

// Go's item.String() for the token at `pos`, used in "unexpected X in Y".
std::string token_at(std::string_view text, size_t pos) {
  if (pos >= text.size()) return "EOF";
  std::string_view rest = text.substr(pos);
  if (rest.starts_with("}}")) return "\"}}\"";
  if (rest.starts_with("-}}")) return "\" -}}\"";
  size_t n = 0;
  if (is_ident_char(rest[0]) || rest[0] == '$' || rest[0] == '.') {
    n = 1;
    while (n < rest.size() && (is_ident_char(rest[n]) || rest[n] == '.')) ++n;
  } else {
    // one UTF-8 sequence
    n = 1;
    while (n < rest.size() && (static_cast<unsigned char>(rest[n]) & 0xC0) == 0x80) ++n;
  }
  std::string word(rest.substr(0, n));
  if (kKeywords.contains(word)) return "<" + word + ">";
  if (word.size() > 10) return go_quote(word.substr(0, 10)) + "...";
  return go_quote(word);
}

size_t skip_spaces(std::string_view text, size_t pos) {
  while (pos < text.size() && is_space(text[pos])) ++pos;
  return pos;
}

ParseFailure describe_expectation(std::string_view text, size_t where, const std::string& which) {
  const auto pos = static_cast<uint32_t>(skip_spaces(text, where));
  const bool at_eof = pos >= text.size();
  std::string_view rest = text.substr(std::min<size_t>(pos, text.size()));
  const bool at_close = rest.starts_with("}}") || rest.starts_with("-}}");
  auto unexpected = [&](std::string_view ctx) {
    return ParseFailure{pos, fmt::format("unexpected {} in {}", token_at(text, pos), ctx)};
  };
  if (which.starts_with("unterminated") || which == "unclosed comment") {
    return {pos, which};
  }
  if (at_eof) return {pos, "unclosed action"};
  if (which == "command") {
    if (at_close) return {pos, "missing value for command"};
    if (rest[0] == ')') return {pos, "unexpected right paren"};
    return unexpected("command");
  }
  if (which == "close") {
    if (rest[0] == ')') return {pos, "unexpected right paren"};
    if (rest[0] == '(') return {pos, "unexpected \"(\" in operand"};
    return unexpected("operand");
  }
  if (which == "if" || which == "range" || which == "with" || which == "block") {
    if (at_close) return {pos, "missing value for " + which};
    return unexpected(which);
  }
  if (which == "parenthesized pipeline") {
    if (rest[0] == ')') return {pos, "missing value for parenthesized pipeline"};
    if (at_close) return {pos, "unclosed left paren"};
    return unexpected("operand");
  }
  if (which == "unclosed left paren") {
    if (at_close) return {pos, "unclosed left paren"};
    return unexpected("operand");
  }
  if (which.ends_with("clause")) return unexpected(which);
  return unexpected(which);
}

// ---- literals ------------------------------------------------------------------------------


int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// strconv.Unquote for "..." and '...' bodies (quote = the delimiter). Returns false on bad syntax.
bool go_unquote_body(std::string_view in, char quote, std::string& out) {
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == quote || c == '\n') return false;
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= in.size()) return false;
    c = in[i];
    switch (c) {
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case '\\':
        out += '\\';
        break;
      case '"':
      case '\'':
        if (c != quote) return false;
        out += c;
        break;
      case 'x':
      case 'u':
      case 'U': {
        const size_t n = c == 'x' ? 2 : (c == 'u' ? 4 : 8);
        if (i + n >= in.size()) return false;
        uint32_t v = 0;
        for (size_t k = 1; k <= n; ++k) {
          const int h = hex_value(in[i + k]);
          if (h < 0) return false;
          v = v * 16 + static_cast<uint32_t>(h);
        }
        i += n;
        if (c == 'x') {
          out += static_cast<char>(v);
        } else {
          if (v > 0x10FFFF || (v >= 0xD800 && v < 0xE000)) return false;
          append_utf8(out, v);
        }
        break;
      }
      default:
        if (c >= '0' && c <= '7') {
          if (i + 2 >= in.size()) return false;
          uint32_t v = 0;
          for (size_t k = 0; k < 3; ++k) {
            const char d = in[i + k];
            if (d < '0' || d > '7') return false;
            v = v * 8 + static_cast<uint32_t>(d - '0');
          }
          if (v > 255) return false;
          out += static_cast<char>(v);
          i += 2;
          break;
        }
        return false;
    }
  }
  return true;
}

uint32_t decode_utf8(std::string_view s, size_t& len) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) {
    len = 1;
    return b0;
  }
  int n = (b0 >= 0xF0) ? 4 : (b0 >= 0xE0) ? 3 : (b0 >= 0xC0) ? 2 : 1;
  if (n == 1 || static_cast<size_t>(n) > s.size()) {
    len = 1;
    return 0xFFFD;
  }
  uint32_t cp = b0 & (0x7F >> n);
  for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[k]) & 0x3F);
  len = static_cast<size_t>(n);
  return cp;
}

// Go's NumberNode rules: ints (with 0x 0o 0b prefixes and underscores), floats, char constants.
bool parse_number(const std::string& text, Operand& out) {
  std::string s;
  for (char c : text) {
    if (c != '_') s += c;
  }
  if (s.empty()) return false;
  bool neg = false;
  std::string_view body = s;
  if (body[0] == '+' || body[0] == '-') {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body.empty()) return false;
  int base = 10;
  std::string_view digits = body;
  if (body.size() > 1 && body[0] == '0') {
    const char p = static_cast<char>(std::tolower(static_cast<unsigned char>(body[1])));
    if (p == 'x') base = 16;
    if (p == 'o') base = 8;
    if (p == 'b') base = 2;
    if (base != 10) digits = body.substr(2);
  }
  const bool hex = base == 16;
  const bool floaty = hex ? digits.find_first_of(".pP") != std::string_view::npos
                          : digits.find_first_of(".eE") != std::string_view::npos;
  if (!floaty) {
    if (base == 10 && digits.size() > 1 && digits[0] == '0') base = 8;  // legacy octal 017
    if (base == 8 && digits.size() > 1 && digits[0] == '0') digits.remove_prefix(1);
    uint64_t u = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), u, base);
    if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size()) return false;
    if (u > static_cast<uint64_t>(INT64_MAX) + (neg ? 1 : 0)) {
      // Too big for int64: Go keeps it as a float.
      out.is_int = false;
      out.float_value = neg ? -static_cast<double>(u) : static_cast<double>(u);
      return true;
    }
    out.is_int = true;
    out.int_value = neg ? static_cast<int64_t>(0 - u) : static_cast<int64_t>(u);
    out.float_value = static_cast<double>(out.int_value);
    return true;
  }
  if (base == 8 || base == 2) return false;
  std::string copy(s);
  char* end = nullptr;
  const double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return false;
  if (std::isinf(v)) return false;
  out.is_int = false;
  out.float_value = v;
  return true;
}

// ---- lowering ------------------------------------------------------------------------------

struct Frame {
  Node node;
  bool in_else = false;
  bool chained = false;    // an {{else if}} / {{else with}}: closes with its parent's {{end}}
  bool is_define = false;  // {{define}} or {{block}}
  std::string define_name;
  size_t var_mark = 0;
  std::vector<std::string> saved_vars;  // define bodies start a fresh scope
  uint32_t open_pos = 0;
};

class Lowerer {
 public:
  // `funcs` must outlive the Lowerer.
  Lowerer(std::string_view text, const std::unordered_set<std::string>& funcs)
      : text_(text), funcs_(funcs) {}

  std::expected<void, ParseFailure> run(g::ItemsX& items, Template& out);
  // Starts from the state a parsed prefix left: its top-level nodes and declared variables.
  void seed(std::vector<Node> root, std::vector<std::string> vars) {
    root_ = std::move(root);
    vars_ = std::move(vars);
  }
  const std::vector<std::string>& vars() const { return vars_; }

 private:
  std::expected<Operand, ParseFailure> lower_operand(const g::OperandX& o);
  std::expected<Command, ParseFailure> lower_command(const g::CommandX& c);
  std::expected<Pipeline, ParseFailure> lower_pipeline(const g::PipelineX& p,
                                                       std::string_view context, size_t max_decl);
  std::expected<void, ParseFailure> use_var(const std::string& name, uint32_t pos) {
    if (std::find(vars_.begin(), vars_.end(), name) == vars_.end()) {
      return std::unexpected(
          ParseFailure{pos, fmt::format("undefined variable {}", go_quote(name))});
    }
    return {};
  }
  std::vector<Node>& current_list() {
    if (stack_.empty()) return root_;
    Frame& f = stack_.back();
    return f.in_else ? f.node.else_list : f.node.list;
  }
  void close_frame(Template& out);

  std::string_view text_;
  const std::unordered_set<std::string>& funcs_;
  std::vector<std::string> vars_{"$"};
  std::vector<Frame> stack_;
  std::vector<Node> root_;
  int range_depth_ = 0;
};

std::expected<Operand, ParseFailure> Lowerer::lower_operand(const g::OperandX& o) {
  Operand out;
  out.pos = o.pos;
  out.fields = o.fields;
  if (const auto* sub = boost::get<g::x3::forward_ast<g::PipelineX>>(&o.term)) {
    auto p = lower_pipeline(sub->get(), "parenthesized pipeline", 1);
    if (!p) return std::unexpected(p.error());
    out.kind = Operand::Kind::kPipeline;
    out.pipe = std::make_shared<const Pipeline>(std::move(*p));
    return out;
  }
  const auto& t = boost::get<g::Tagged>(o.term);
  auto no_chain = [&]() -> std::expected<void, ParseFailure> {
    if (!o.fields.empty()) {
      return std::unexpected(ParseFailure{
          o.pos,
          fmt::format("unexpected . after term {}", go_quote(t.text.empty() ? "." : t.text))});
    }
    return {};
  };
  switch (t.tag) {
    case '.':
      if (auto r = no_chain(); !r) return std::unexpected(r.error());
      out.kind = Operand::Kind::kDot;
      break;
    case 'f':
      out.kind = Operand::Kind::kField;
      out.fields.insert(out.fields.begin(), t.text);
      break;
    case '$': {
      out.kind = Operand::Kind::kVariable;
      out.name = "$" + t.text;
      if (auto r = use_var(out.name, o.pos); !r) return std::unexpected(r.error());
      break;
    }
    case 'i':
      if (auto r = no_chain(); !r) return std::unexpected(r.error());
      if (kKeywords.contains(t.text)) {
        return std::unexpected(
            ParseFailure{o.pos, fmt::format("unexpected <{}> in command", t.text)});
      }
      if (!funcs_.contains(t.text)) {
        return std::unexpected(
            ParseFailure{o.pos, fmt::format("function {} not defined", go_quote(t.text))});
      }
      out.kind = Operand::Kind::kIdentifier;
      out.name = t.text;
      break;
    case '"':
    case '`': {
      if (auto r = no_chain(); !r) return std::unexpected(r.error());
      out.kind = Operand::Kind::kString;
      out.name = t.text;
      std::string_view body(t.text);
      body = body.substr(1, body.size() - 2);
      if (t.tag == '`') {
        // Go drops carriage returns from raw strings.
        for (char c : body) {
          if (c != '\r') out.str += c;
        }
      } else if (!go_unquote_body(body, '"', out.str)) {
        return std::unexpected(ParseFailure{o.pos, "invalid syntax"});
      }
      break;
    }
    case '\'': {
      if (auto r = no_chain(); !r) return std::unexpected(r.error());
      std::string v;
      std::string_view body(t.text);
      body = body.substr(1, body.size() - 2);
      if (!go_unquote_body(body, '\'', v) || v.empty()) {
        return std::unexpected(
            ParseFailure{o.pos, fmt::format("malformed character constant: {}", t.text)});
      }
      size_t len = 0;
      const uint32_t cp = decode_utf8(v, len);
      if (len != v.size()) {
        return std::unexpected(
            ParseFailure{o.pos, fmt::format("malformed character constant: {}", t.text)});
      }
      out.kind = Operand::Kind::kNumber;
      out.name = t.text;
      out.is_int = true;
      out.int_value = cp;
      out.float_value = cp;
      break;
    }
    case 'n':
      if (auto r = no_chain(); !r) return std::unexpected(r.error());
      out.kind = Operand::Kind::kNumber;
      out.name = t.text;
      if (!parse_number(t.text, out)) {
        return std::unexpected(
            ParseFailure{o.pos, fmt::format("bad number syntax: {}", go_quote(t.text))});
      }
      break;
    case 'b':
      if (auto r = no_chain(); !r) return std::unexpected(r.error());
      out.kind = Operand::Kind::kBool;
      out.bool_value = t.text == "true";
      break;
    case '0':
      if (auto r = no_chain(); !r) return std::unexpected(r.error());
      out.kind = Operand::Kind::kNil;
      break;
    default:
      return std::unexpected(ParseFailure{o.pos, "internal error: unknown operand"});
  }
  return out;
}

std::expected<Command, ParseFailure> Lowerer::lower_command(const g::CommandX& c) {
  Command out;
  out.pos = c.empty() ? 0 : c.front().pos;
  for (const auto& o : c) {
    auto op = lower_operand(o);
    if (!op) return std::unexpected(op.error());
    out.args.push_back(std::move(*op));
  }
  return out;
}

std::expected<Pipeline, ParseFailure> Lowerer::lower_pipeline(const g::PipelineX& p,
                                                              std::string_view context,
                                                              size_t max_decl) {
  Pipeline out;
  out.pos = p.pos;
  if (p.decl) {
    if (p.decl->vars.size() > max_decl) {
      return std::unexpected(
          ParseFailure{p.pos, fmt::format("too many declarations in {}", context)});
    }
    out.is_assign = p.decl->op == "=";
    for (const auto& v : p.decl->vars) {
      if (out.is_assign) {
        if (auto r = use_var(v, p.pos); !r) return std::unexpected(r.error());
      }
      out.decl.push_back(v);
    }
    if (!out.is_assign) {
      // Go declares the variables before parsing the commands.
      for (const auto& v : out.decl) vars_.push_back(v);
    }
  }
  for (const auto& c : p.cmds) {
    auto cmd = lower_command(c);
    if (!cmd) return std::unexpected(cmd.error());
    out.cmds.push_back(std::move(*cmd));
  }
  if (out.cmds.empty()) {
    return std::unexpected(ParseFailure{p.pos, fmt::format("missing value for {}", context)});
  }
  // Go's checkPipeline: later stages must be executable.
  for (size_t i = 1; i < out.cmds.size(); ++i) {
    const auto k = out.cmds[i].args[0].kind;
    if (k == Operand::Kind::kBool || k == Operand::Kind::kDot || k == Operand::Kind::kNil ||
        k == Operand::Kind::kNumber || k == Operand::Kind::kString ||
        (k == Operand::Kind::kPipeline && out.cmds[i].args[0].fields.empty())) {
      return std::unexpected(ParseFailure{
          out.cmds[i].pos, fmt::format("non executable command in pipeline stage {}", i + 1)});
    }
  }
  return out;
}

void Lowerer::close_frame(Template& out) {
  Frame f = std::move(stack_.back());
  stack_.pop_back();
  vars_.resize(f.var_mark);
  if (f.node.kind == Node::Kind::kRange) --range_depth_;
  if (f.is_define) {
    vars_ = std::move(f.saved_vars);
    out.defines[f.define_name] = std::move(f.node.list);
    return;
  }
  current_list().push_back(std::move(f.node));
}

std::expected<void, ParseFailure> Lowerer::run(g::ItemsX& items, Template& out) {
  // Trim markers first: they only touch neighbouring text.
  for (size_t i = 0; i < items.size(); ++i) {
    auto* a = boost::get<g::ActionX>(&items[i]);
    if (a == nullptr) continue;
    if (a->trim_left && i > 0) {
      if (auto* t = boost::get<g::TextX>(&items[i - 1])) {
        while (!t->text.empty() && is_space(t->text.back())) t->text.pop_back();
      }
    }
    if (a->trim_right && i + 1 < items.size()) {
      if (auto* t = boost::get<g::TextX>(&items[i + 1])) {
        size_t n = 0;
        while (n < t->text.size() && is_space(t->text[n])) ++n;
        t->text.erase(0, n);
      }
    }
  }

  for (const auto& item : items) {
    if (const auto* t = boost::get<g::TextX>(&item)) {
      if (t->text.empty()) continue;
      Node n;
      n.kind = Node::Kind::kText;
      n.pos = t->pos;
      n.text = t->text;
      current_list().push_back(std::move(n));
      continue;
    }
    const auto& a = boost::get<g::ActionX>(item);
    if (const auto* p = boost::get<g::PipelineX>(&a.body)) {
      auto pipe = lower_pipeline(*p, "command", 1);
      if (!pipe) return std::unexpected(pipe.error());
      Node n;
      n.kind = Node::Kind::kAction;
      n.pos = a.pos;
      n.pipe = std::move(*pipe);
      current_list().push_back(std::move(n));
      continue;
    }
    const auto& k = boost::get<g::KeywordX>(a.body);
    const uint32_t kpos = a.pos;
    auto unexpected_kw = [&](std::string_view what) {
      return std::unexpected(ParseFailure{kpos, fmt::format("unexpected {{{{{}}}}}", what)});
    };
    if (k.kw == "comment") continue;
    if (stack_.size() >= kMaxNesting) {
      return std::unexpected(ParseFailure{kpos, "template nested too deeply"});
    }
    if (k.kw == "if" || k.kw == "range" || k.kw == "with") {
      Frame f;
      f.var_mark = vars_.size();
      f.open_pos = kpos;
      f.node.kind = k.kw == "if" ? Node::Kind::kIf
                                 : (k.kw == "range" ? Node::Kind::kRange : Node::Kind::kWith);
      f.node.pos = kpos;
      auto pipe = lower_pipeline(k.pipe, k.kw, k.kw == "range" ? 2 : 1);
      if (!pipe) return std::unexpected(pipe.error());
      f.node.pipe = std::move(*pipe);
      if (f.node.kind == Node::Kind::kRange) ++range_depth_;
      stack_.push_back(std::move(f));
      continue;
    }
    if (k.kw == "else" || k.kw == "elseif" || k.kw == "elsewith") {
      if (stack_.empty() || stack_.back().is_define || stack_.back().in_else) {
        return unexpected_kw("else");
      }
      Frame& top = stack_.back();
      top.in_else = true;
      if (top.node.kind == Node::Kind::kRange) --range_depth_;  // else of range runs outside it
      if (k.kw == "else") continue;
      Frame f;
      f.var_mark = vars_.size();
      f.open_pos = kpos;
      f.chained = true;
      f.node.kind = k.kw == "elseif" ? Node::Kind::kIf : Node::Kind::kWith;
      f.node.pos = kpos;
      auto pipe = lower_pipeline(k.pipe, k.kw == "elseif" ? "if" : "with", 1);
      if (!pipe) return std::unexpected(pipe.error());
      f.node.pipe = std::move(*pipe);
      stack_.push_back(std::move(f));
      continue;
    }
    if (k.kw == "end") {
      if (stack_.empty()) return unexpected_kw("end");
      bool chained = true;
      while (chained) {
        chained = stack_.back().chained;
        if (stack_.back().node.kind == Node::Kind::kRange && stack_.back().in_else) {
          ++range_depth_;  // undo the else adjustment before close_frame decrements
        }
        close_frame(out);
      }
      continue;
    }
    if (k.kw == "break" || k.kw == "continue") {
      if (range_depth_ <= 0) {
        return std::unexpected(
            ParseFailure{kpos, fmt::format("{{{{{}}}}} outside {{{{range}}}}", k.kw)});
      }
      Node n;
      n.kind = k.kw == "break" ? Node::Kind::kBreak : Node::Kind::kContinue;
      n.pos = kpos;
      current_list().push_back(std::move(n));
      continue;
    }
    if (k.kw == "define" || k.kw == "template" || k.kw == "block") {
      std::string name;
      std::string_view body(k.name);
      body = body.substr(1, body.size() - 2);
      if (k.name[0] == '`') {
        name = std::string(body);
      } else if (!go_unquote_body(body, '"', name)) {
        return std::unexpected(ParseFailure{kpos, "invalid syntax"});
      }
      if (k.kw == "define") {
        if (!stack_.empty())
          return std::unexpected(ParseFailure{kpos, "unexpected <define> in command"});
        Frame f;
        f.is_define = true;
        f.define_name = name;
        f.open_pos = kpos;
        f.saved_vars = std::move(vars_);
        vars_ = {"$"};
        f.var_mark = 1;
        stack_.push_back(std::move(f));
        continue;
      }
      Node n;
      n.kind = Node::Kind::kTemplate;
      n.pos = kpos;
      n.text = name;
      if (!k.pipe.cmds.empty()) {
        auto pipe = lower_pipeline(k.pipe, k.kw == "block" ? "block clause" : "template clause", 1);
        if (!pipe) return std::unexpected(pipe.error());
        n.pipe = std::move(*pipe);
        n.has_pipe = true;
      }
      current_list().push_back(std::move(n));
      if (k.kw == "block") {
        Frame f;
        f.is_define = true;
        f.define_name = name;
        f.open_pos = kpos;
        f.saved_vars = vars_;
        vars_ = {"$"};
        f.var_mark = 1;
        stack_.push_back(std::move(f));
      }
      continue;
    }
    return std::unexpected(ParseFailure{kpos, "internal error: unknown keyword " + k.kw});
  }
  if (!stack_.empty()) {
    return std::unexpected(ParseFailure{static_cast<uint32_t>(text_.size()), "unexpected EOF"});
  }
  out.root = std::move(root_);
  return {};
}

std::unordered_set<std::string> known_functions(const ParseOptions& opts) {
  std::unordered_set<std::string> s;
  for (const auto& n : function_names(opts.dialect)) s.insert(n);
  for (const auto& n : opts.extra_functions) s.insert(n);
  return s;
}

// The common case (no extra functions) shares one set per dialect instead of building it on
// every parse.
const std::unordered_set<std::string>& dialect_functions(Dialect d) {
  static const std::unordered_set<std::string> kProm = [] {
    ParseOptions o;
    o.dialect = Dialect::kPrometheus;
    return known_functions(o);
  }();
  static const std::unordered_set<std::string> kAm = [] {
    ParseOptions o;
    o.dialect = Dialect::kAlertmanager;
    return known_functions(o);
  }();
  return d == Dialect::kPrometheus ? kProm : kAm;
}

uint32_t line_of(std::string_view text, size_t pos) {
  pos = std::min(pos, text.size());
  return 1 + static_cast<uint32_t>(
                 std::count(text.begin(), text.begin() + static_cast<long>(pos), '\n'));
}

// Parenthesis nesting is recursive in the grammar; refuse absurd depths before parsing.
bool paren_depth_ok(std::string_view text) {
  int depth = 0;
  for (char c : text) {
    if (c == '(') {
      if (++depth > 200) return false;
    } else if (c == ')' && depth > 0) {
      --depth;
    }
  }
  return true;
}

const std::vector<std::string> kBuiltins = {
    "and", "or", "not", "len", "index", "print", "printf",   "println", "eq",  "ne",
    "lt",  "le", "gt",  "ge",  "html",  "js",    "urlquery", "slice",   "call"};

}  // namespace

const std::vector<std::string>& function_names(Dialect dialect) {
  static const std::vector<std::string> kProm = [] {
    std::vector<std::string> v = kBuiltins;
    for (const char* n : {"query",
                          "first",
                          "label",
                          "value",
                          "strvalue",
                          "args",
                          "reReplaceAll",
                          "safeHtml",
                          "match",
                          "title",
                          "toUpper",
                          "toLower",
                          "graphLink",
                          "tableLink",
                          "sortByLabel",
                          "stripPort",
                          "stripDomain",
                          "humanize",
                          "humanize1024",
                          "humanizeDuration",
                          "humanizePercentage",
                          "humanizeTimestamp",
                          "toTime",
                          "toDuration",
                          "now",
                          "pathPrefix",
                          "externalURL",
                          "parseDuration",
                          "urlQueryEscape",
                          "tmpl"}) {
      v.emplace_back(n);
    }
    return v;
  }();
  static const std::vector<std::string> kAm = [] {
    std::vector<std::string> v = kBuiltins;
    for (const char* n :
         {"toUpper", "toLower", "title", "join", "match", "safeHtml", "reReplaceAll", "stringSlice",
          "date", "tz", "since", "humanizeDuration", "trimSpace"}) {
      v.emplace_back(n);
    }
    return v;
  }();
  return dialect == Dialect::kPrometheus ? kProm : kAm;
}

std::string Template::go_position(uint32_t pos) const {
  std::string_view text = source;
  if (go_positions_in_text && pos >= prefix_len && prefix_len <= text.size()) {
    text.remove_prefix(prefix_len);
    pos -= prefix_len;
  }
  pos = std::min<uint32_t>(pos, static_cast<uint32_t>(text.size()));
  const size_t nl = text.substr(0, pos).rfind('\n');
  const size_t byte = nl == std::string_view::npos ? pos : pos - (nl + 1);
  return fmt::format("{}:{}", line_of(text, pos), byte);
}

SourceLocation Template::user_location(uint32_t pos) const {
  std::string_view user =
      std::string_view(source).substr(std::min<size_t>(prefix_len, source.size()));
  const size_t p = pos >= prefix_len ? pos - prefix_len : 0;
  const size_t clamped = std::min(p, user.size());
  const size_t nl = user.substr(0, clamped).rfind('\n');
  const size_t col = nl == std::string_view::npos ? clamped + 1 : clamped - nl;
  SourceLocation loc;
  loc.line = line_of(user, clamped);
  loc.col = static_cast<uint32_t>(col);
  return loc;
}

namespace {

// A prefix (Prometheus's `{{$labels := .Labels}}...` in front of every alert label and
// annotation) lowered once: its nodes and the variables it declares. Parsing the prefix again
// for each of a 10,000-rule file's templates was about half of their parse time.
struct LoweredPrefix {
  std::shared_ptr<const std::vector<Node>> root;  // every template shares these nodes
  std::vector<std::string> vars;
};

// Null when the prefix cannot be split off: it must parse on its own, end with an action at the
// top level and define nothing, so that the items of prefix + text are the prefix's items
// followed by the text's, and lowering the text from the prefix's state gives the same tree.
std::shared_ptr<const LoweredPrefix> lowered_prefix(const std::string& prefix, Dialect dialect) {
  static std::mutex mu;
  static std::map<std::pair<std::string, Dialect>, std::shared_ptr<const LoweredPrefix>> cache;
  std::lock_guard lock(mu);
  auto key = std::make_pair(prefix, dialect);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  std::shared_ptr<const LoweredPrefix> result;
  g::ItemsX items;
  const char* stop = nullptr;
  bool ok = prefix.ends_with("}}") && !prefix.ends_with("-}}") && prefix.size() <= kMaxTextBytes &&
            paren_depth_ok(prefix);
  try {
    ok = ok && g::parse_items(prefix.data(), prefix.data() + prefix.size(), items, stop);
  } catch (const g::x3::expectation_failure<const char*>&) {
    ok = false;
  }
  ok = ok && !items.empty() && boost::get<g::ActionX>(&items.back()) != nullptr;
  if (ok) {
    Template t;
    Lowerer lower(prefix, dialect_functions(dialect));
    if (lower.run(items, t) && t.defines.empty()) {
      auto lp = std::make_shared<LoweredPrefix>();
      lp->root = std::make_shared<const std::vector<Node>>(std::move(t.root));
      lp->vars = lower.vars();
      result = std::move(lp);
    }
  }
  if (cache.size() < 16) cache.emplace(std::move(key), result);
  return result;
}

}  // namespace

Result<Template> parse(std::string_view user_text, const ParseOptions& opts) {
  Template t;
  t.name = opts.name;
  t.source = opts.prefix;
  t.source += user_text;
  t.prefix_len = static_cast<uint32_t>(opts.prefix.size());
  t.go_positions_in_text = opts.go_positions_in_text;
  auto fail = [&](const ParseFailure& f) -> Result<Template> {
    SourceLocation loc = t.user_location(f.pos);
    const bool in_text = t.go_positions_in_text && f.pos >= t.prefix_len;
    const auto line = in_text ? line_of(user_text, f.pos - t.prefix_len) : line_of(t.source, f.pos);
    return make_error(fmt::format("template: {}:{}: {}", t.name, line, f.message), loc);
  };
  if (t.source.size() > kMaxTextBytes) return fail({0, "template too large"});
  if (!paren_depth_ok(t.source)) return fail({0, "parenthesized pipelines nested too deeply"});

  std::string_view text = t.source;
  std::shared_ptr<const LoweredPrefix> pre;
  if (!opts.prefix.empty() && opts.extra_functions.empty()) {
    pre = lowered_prefix(opts.prefix, opts.dialect);
  }
  g::ItemsX items;
  const char* stop = nullptr;
  try {
    const char* from = pre ? text.data() + t.prefix_len : text.data();
    if (!g::parse_items(text.data(), from, text.data() + text.size(), items, stop)) {
      const auto pos = static_cast<uint32_t>(stop - text.data());
      return fail({pos, fmt::format("unexpected {}", token_at(text, pos))});
    }
  } catch (const g::x3::expectation_failure<const char*>& e) {
    return fail(
        describe_expectation(text, static_cast<size_t>(e.where() - text.data()), e.which()));
  }
  std::unordered_set<std::string> custom;
  if (!opts.extra_functions.empty()) custom = known_functions(opts);
  Lowerer lower(text, opts.extra_functions.empty() ? dialect_functions(opts.dialect) : custom);
  if (pre) {
    lower.seed({}, pre->vars);
    t.prelude = pre->root;
  }
  if (auto r = lower.run(items, t); !r) return fail(r.error());
  t.root.shrink_to_fit();  // kept for the rule's lifetime: 10,000s of them in a big rule file
  return t;
}

void add_definitions(Template& into, const Template& from) {
  for (const auto& [name, body] : from.defines) into.defines[name] = body;
}

Result<Template> parse_alert_template(std::string_view text, std::string_view rule_name) {
  ParseOptions opts;
  opts.name = fmt::format("__alert_{}", rule_name);
  opts.dialect = Dialect::kPrometheus;
  opts.prefix = std::string(kAlertTemplatePrefix);
  return parse(text, opts);
}

// ---- Go's String() of nodes ----------------------------------------------------------------

std::string to_string(const Operand& o) {
  std::string s;
  auto chain = [&](size_t from) {
    for (size_t i = from; i < o.fields.size(); ++i) s += "." + o.fields[i];
  };
  switch (o.kind) {
    case Operand::Kind::kDot:
      return ".";
    case Operand::Kind::kField:
      chain(0);
      return s;
    case Operand::Kind::kVariable:
      s = o.name;
      chain(0);
      return s;
    case Operand::Kind::kIdentifier:
    case Operand::Kind::kString:
    case Operand::Kind::kNumber:
      return o.name;
    case Operand::Kind::kBool:
      return o.bool_value ? "true" : "false";
    case Operand::Kind::kNil:
      return "nil";
    case Operand::Kind::kPipeline:
      s = "(" + (o.pipe ? to_string(*o.pipe) : std::string()) + ")";
      chain(0);
      return s;
  }
  return s;
}

std::string to_string(const Command& c) {
  std::string s;
  for (size_t i = 0; i < c.args.size(); ++i) {
    if (i > 0) s += ' ';
    s += to_string(c.args[i]);
  }
  return s;
}

std::string to_string(const Pipeline& p) {
  std::string s;
  for (size_t i = 0; i < p.decl.size(); ++i) {
    if (i > 0) s += ", ";
    s += p.decl[i];
  }
  if (!p.decl.empty()) s += p.is_assign ? " = " : " := ";
  for (size_t i = 0; i < p.cmds.size(); ++i) {
    if (i > 0) s += " | ";
    s += to_string(p.cmds[i]);
  }
  return s;
}

}  // namespace ruleeval::tmpl
