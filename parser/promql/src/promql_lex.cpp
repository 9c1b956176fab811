// Token-level helpers: literal values (numbers, durations, strings) and token descriptions used
// in error messages. The grammar itself (promql_grammar.cpp) decides where tokens start and end.
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "ruleeval/common/utf8.hpp"
#include "promql_internal.hpp"
#include "ruleeval/parser/duration.hpp"

namespace ruleeval::promql::detail {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_metric_char(char c) { return is_alpha(c) || is_digit(c) || c == ':'; }
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
int hex_val(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}


std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace

size_t skip_blank(std::string_view in, size_t pos) {
  while (pos < in.size()) {
    char c = in[pos];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++pos;
    } else if (c == '#') {
      while (pos < in.size() && in[pos] != '\n') ++pos;
    } else {
      break;
    }
  }
  return pos;
}

std::string describe_token(std::string_view in, size_t pos, size_t* len) {
  *len = 0;
  if (pos >= in.size()) return "end of input";
  char c = in[pos];
  size_t e = pos;
  if (is_alpha(c) || c == ':') {
    while (e < in.size() && is_metric_char(in[e])) ++e;
    *len = e - pos;
    std::string word(in.substr(pos, e - pos));
    std::string lw = lower(word);
    static constexpr std::string_view kAggr[] = {
        "sum",    "avg",     "count",        "min",      "max",    "group",      "stddev",
        "stdvar", "topk",    "bottomk",      "quantile", "limitk", "limit_ratio", "count_values"};
    for (auto a : kAggr) {
      if (lw == a) return "<aggr:" + lw + ">";
    }
    static constexpr std::string_view kOps[] = {"and", "or", "unless", "atan2"};
    for (auto o : kOps) {
      if (lw == o) return "<op:" + lw + ">";
    }
    static constexpr std::string_view kKeywords[] = {
        "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool"};
    for (auto k : kKeywords) {
      if (lw == k) return "<" + lw + ">";
    }
    if (lw == "inf" || lw == "nan") return "number \"" + word + "\"";
    return "identifier \"" + word + "\"";
  }
  if (is_digit(c) || (c == '.' && pos + 1 < in.size() && is_digit(in[pos + 1]))) {
    while (e < in.size() && (is_metric_char(in[e]) || in[e] == '.')) ++e;
    *len = e - pos;
    return "number \"" + std::string(in.substr(pos, e - pos)) + "\"";
  }
  if (c == '"' || c == '\'' || c == '`') {
    ++e;
    while (e < in.size() && in[e] != c && (c == '`' || in[e] != '\n')) {
      if (in[e] == '\\' && c != '`') ++e;
      ++e;
    }
    if (e < in.size() && in[e] == c) ++e;
    if (e > in.size()) e = in.size();
    *len = e - pos;
    return "string " + quoted(in.substr(pos, e - pos));
  }
  static constexpr std::string_view kTwo[] = {"==", "!=", "<=", ">=", "=~", "!~"};
  for (auto t : kTwo) {
    if (in.substr(pos, 2) == t) {
      *len = 2;
      if (t == "=~" || t == "!~") return "\"" + std::string(t) + "\"";
      return "<op:" + std::string(t) + ">";
    }
  }
  *len = 1;
  switch (c) {
    case '+': case '-': case '*': case '/': case '%': case '^': case '<': case '>':
      return std::string("<op:") + c + ">";
    case '(': case ')': case '{': case '}': case '[': case ']': case ',': case '=': case ':':
    case '@':
      return std::string("\"") + c + "\"";
    default: break;
  }
  // Unknown byte: show one UTF-8 sequence as Prometheus's lexer does.
  unsigned char uc = static_cast<unsigned char>(c);
  size_t n = uc >= 0xF0 ? 4 : uc >= 0xE0 ? 3 : uc >= 0xC0 ? 2 : 1;
  if (pos + n > in.size()) n = in.size() - pos;
  *len = n;
  if (uc < 0x20 || uc == 0x7F) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", uc);
    return std::string("character: '") + buf + "'";
  }
  return "character: '" + std::string(in.substr(pos, n)) + "'";
}

std::expected<std::string, std::string> unquote(std::string_view s) {
  if (s.size() < 2) return std::unexpected(std::string("invalid syntax"));
  char q = s.front();
  if (s.back() != q) return std::unexpected(std::string("invalid syntax"));
  std::string_view body = s.substr(1, s.size() - 2);
  std::string out;
  out.reserve(body.size());
  if (q == '`') {
    for (char c : body) {
      if (c == '`') return std::unexpected(std::string("invalid syntax"));
      if (c != '\r') out += c;
    }
    return out;
  }
  for (size_t i = 0; i < body.size();) {
    char c = body[i];
    if (c == '\n') return std::unexpected(std::string("invalid syntax"));
    if (c == q) return std::unexpected(std::string("invalid syntax"));
    if (c != '\\') {
      out += c;
      ++i;
      continue;
    }
    if (i + 1 >= body.size()) return std::unexpected(std::string("invalid syntax"));
    char e = body[i + 1];
    i += 2;
    switch (e) {
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '\'':
      case '"':
        if (e != q) return std::unexpected(std::string("invalid syntax"));
        out += e;
        break;
      case 'x': {
        if (i + 2 > body.size() || !is_hex(body[i]) || !is_hex(body[i + 1])) {
          return std::unexpected(std::string("invalid syntax"));
        }
        out += static_cast<char>(hex_val(body[i]) * 16 + hex_val(body[i + 1]));
        i += 2;
        break;
      }
      case 'u':
      case 'U': {
        size_t n = e == 'u' ? 4 : 8;
        if (i + n > body.size()) return std::unexpected(std::string("invalid syntax"));
        uint32_t cp = 0;
        for (size_t k = 0; k < n; ++k) {
          if (!is_hex(body[i + k])) return std::unexpected(std::string("invalid syntax"));
          cp = cp * 16 + static_cast<uint32_t>(hex_val(body[i + k]));
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) {
          return std::unexpected(std::string("invalid syntax"));
        }
        append_utf8(out, cp);
        i += n;
        break;
      }
      default: {
        if (e >= '0' && e <= '7') {
          if (i + 2 > body.size()) return std::unexpected(std::string("invalid syntax"));
          int v = e - '0';
          for (size_t k = 0; k < 2; ++k) {
            char d = body[i + k];
            if (d < '0' || d > '7') return std::unexpected(std::string("invalid syntax"));
            v = v * 8 + (d - '0');
          }
          if (v > 255) return std::unexpected(std::string("invalid syntax"));
          out += static_cast<char>(v);
          i += 2;
          break;
        }
        return std::unexpected(std::string("invalid syntax"));
      }
    }
  }
  return out;
}

std::expected<double, std::string> number_value(std::string_view text) {
  std::string t;
  t.reserve(text.size());
  for (char c : text) {
    if (c != '_') t += c;
  }
  std::string lt = lower(t);
  if (lt == "inf") return HUGE_VAL;
  if (lt == "nan") return std::nan("");
  bool hex = lt.size() > 1 && lt[0] == '0' && lt[1] == 'x';
  if (!hex && !lt.empty() && lt.find_first_of("smhdwy") != std::string::npos) {
    auto d = parse_duration(t);
    if (!d) return std::unexpected(d.error().message);
    return ms_to_seconds(*d);
  }
  if (t.empty()) return std::unexpected(std::string("invalid syntax"));
  errno = 0;
  char* end = nullptr;
  long long iv = std::strtoll(t.c_str(), &end, 0);
  if (errno == 0 && end == t.c_str() + t.size()) return static_cast<double>(iv);
  if (hex) {
    if (errno == ERANGE && end == t.c_str() + t.size()) {
      return std::unexpected("strconv.ParseInt: parsing \"" + t + "\": value out of range");
    }
    return std::unexpected(std::string("invalid syntax"));
  }
  errno = 0;
  double dv = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size()) return std::unexpected(std::string("invalid syntax"));
  return dv;
}

std::expected<int64_t, std::string> duration_value(std::string_view text) {
  bool has_unit = false;
  for (char c : text) {
    if (std::string_view("smhdwy").find(c) != std::string_view::npos) has_unit = true;
  }
  if (has_unit && !(text.size() > 1 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))) {
    std::string t;
    for (char c : text) {
      if (c != '_') t += c;
    }
    auto d = parse_duration(t);
    if (!d) return std::unexpected(d.error().message);
    return *d;
  }
  auto v = number_value(text);
  if (!v) return std::unexpected(v.error());
  if (!std::isfinite(*v) || *v > kMaxDurationSeconds || *v < -kMaxDurationSeconds) {
    return std::unexpected(std::string("duration out of range"));
  }
  return static_cast<int64_t>(std::llround(*v * 1000.0));
}

bool is_legacy_label_name(std::string_view s) {
  if (s.empty() || !is_alpha(s[0])) return false;
  for (char c : s) {
    if (!is_alpha(c) && !is_digit(c)) return false;
  }
  return true;
}

bool is_legacy_metric_name(std::string_view s) {
  if (s.empty() || !(is_alpha(s[0]) || s[0] == ':')) return false;
  for (char c : s) {
    if (!is_metric_char(c)) return false;
  }
  return true;
}

}  // namespace ruleeval::promql::detail
