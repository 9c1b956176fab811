// The escaper functions html/template appends to pipelines (Go 1.19.8's html.go, js.go, css.go,
// url.go, content.go) and encoding/json's Marshal for the JS value escaper, written from their
// definitions and checked against Alertmanager 0.25 (tests/parser/template_html_test.cpp,
// tests/integration/notify_am_html_contexts_test.cpp).
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <map>

#include "html_context.hpp"
#include "template_html.hpp"
#include "template_internal.hpp"

namespace ruleeval::tmpl::detail {
namespace {

using html::ContentType;
constexpr std::string_view kFilterFailsafe = "ZgotmplZ";

std::shared_ptr<const TypeInfo> html_type() {
  static const auto t = [] {
    auto ti = std::make_shared<TypeInfo>();
    ti->name = "template.HTML";
    return std::shared_ptr<const TypeInfo>(ti);
  }();
  return t;
}

ContentType content_type(const Value& v) {
  if (v.kind() == Value::Kind::kString && v.type() == html_type().get()) return ContentType::kHTML;
  return ContentType::kPlain;
}

// UTF-8 decoding as Go's utf8.DecodeRuneInString (invalid: U+FFFD, width 1).
std::pair<uint32_t, size_t> rune_at(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return {b0, 1};
  auto cont = [&](size_t k) {
    return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
  };
  auto c = [&](size_t k) {
    return static_cast<uint32_t>(static_cast<unsigned char>(s[i + k]) & 0x3F);
  };
  if (b0 >= 0xC2 && b0 <= 0xDF && cont(1)) return {((b0 & 0x1Fu) << 6) | c(1), 2};
  if (b0 >= 0xE0 && b0 <= 0xEF && cont(1) && cont(2)) {
    const uint32_t r = ((b0 & 0x0Fu) << 12) | (c(1) << 6) | c(2);
    if (r >= 0x800 && (r < 0xD800 || r > 0xDFFF)) return {r, 3};
  }
  if (b0 >= 0xF0 && b0 <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    const uint32_t r = ((b0 & 0x07u) << 18) | (c(1) << 12) | (c(2) << 6) | c(3);
    if (r >= 0x10000 && r <= 0x10FFFF) return {r, 4};
  }
  return {0xFFFD, 1};
}

// content.go's stringify: one string (typed or not) as it is; otherwise fmt.Sprint of the
// arguments with untyped nils skipped.
std::pair<std::string, ContentType> stringify(std::span<const Value> args) {
  if (args.size() == 1 && args[0].kind() == Value::Kind::kString) {
    return {args[0].as_string(), content_type(args[0])};
  }
  std::vector<Value> kept;
  for (const auto& a : args) {
    if (!a.is_nil()) kept.push_back(a);
  }
  return {go_sprint(kept), ContentType::kPlain};
}

// html.go's htmlReplacer over a table given as a function of the rune ("" = keep).
template <class Table>
std::string html_replacer(std::string_view s, Table table, bool bad_runes) {
  std::string out;
  size_t written = 0;
  for (size_t i = 0; i < s.size();) {
    auto [r, w] = rune_at(s, i);
    if (r < 0x80) {
      if (std::string_view repl = table(static_cast<char>(r)); !repl.empty()) {
        out.append(s.substr(written, i - written));
        out.append(repl);
        written = i + w;
      }
    } else if (!bad_runes && ((r >= 0xFDD0 && r <= 0xFDEF) || (r >= 0xFFF0 && r <= 0xFFFF))) {
      out.append(s.substr(written, i - written));
      out += fmt::format("&#x{:x};", r);
      written = i + w;
    }
    i += w;
  }
  if (written == 0) return std::string(s);
  out.append(s.substr(written));
  return out;
}

std::string_view html_table(char c, bool amp) {
  switch (c) {
    case '\0': return "\xEF\xBF\xBD";
    case '"': return "&#34;";
    case '&': return amp ? "&amp;" : "";
    case '\'': return "&#39;";
    case '+': return "&#43;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    default: return "";
  }
}

std::string_view nospace_table(char c, bool amp) {
  switch (c) {
    case '\0': return "&#xfffd;";
    case '\t': return "&#9;";
    case '\n': return "&#10;";
    case '\v': return "&#11;";
    case '\f': return "&#12;";
    case '\r': return "&#13;";
    case ' ': return "&#32;";
    case '"': return "&#34;";
    case '&': return amp ? "&amp;" : "";
    case '\'': return "&#39;";
    case '+': return "&#43;";
    case '<': return "&lt;";
    case '=': return "&#61;";
    case '>': return "&gt;";
    case '`': return "&#96;";
    default: return "";
  }
}

// html.go's stripTags: the text content of an HTML snippet.
std::string strip_tags(const std::string& h) {
  using html::Context;
  using html::Delim;
  using html::State;
  std::string b;
  std::string_view s = h;
  Context c;
  size_t i = 0;
  bool all_text = true;
  while (i != s.size()) {
    if (c.delim == Delim::kNone) {
      State st = c.state;
      if (c.element != html::Element::kNone && !html::is_in_tag(st)) st = State::kRCDATA;
      Context cs = c;
      cs.state = st;
      auto [d, nread] = html::transition(cs, s.substr(i));
      const size_t i1 = i + nread;
      if (c.state == State::kText || c.state == State::kRCDATA) {
        size_t j = i1;
        if (d.state != c.state) {
          for (size_t j1 = j; j1-- > i;) {
            if (s[j1] == '<') {
              j = j1;
              break;
            }
          }
        }
        b.append(s.substr(i, j - i));
      } else {
        all_text = false;
      }
      c = d;
      i = i1;
      continue;
    }
    std::string_view ends = c.delim == Delim::kDoubleQuote   ? "\""
                            : c.delim == Delim::kSingleQuote ? "'"
                                                             : " \t\n\f\r>";
    size_t i1 = s.find_first_of(ends, i);
    if (i1 == std::string_view::npos) break;
    if (c.delim != Delim::kSpaceOrTagEnd) ++i1;
    Context d;
    d.state = State::kTag;
    d.element = c.element;
    c = d;
    i = i1;
  }
  if (all_text) return h;
  if (c.state == State::kText || c.state == State::kRCDATA) b.append(s.substr(i));
  return b;
}

Value str(std::string s) { return Value(std::move(s)); }

Result<Value> html_escaper(std::span<const Value> a) {
  auto [s, t] = stringify(a);
  if (t == ContentType::kHTML) return str(s);
  return str(html_replacer(s, [](char c) { return html_table(c, true); }, true));
}
Result<Value> attr_escaper(std::span<const Value> a) {
  auto [s, t] = stringify(a);
  if (t == ContentType::kHTML) {
    return str(html_replacer(strip_tags(s), [](char c) { return html_table(c, false); }, true));
  }
  return str(html_replacer(s, [](char c) { return html_table(c, true); }, true));
}
Result<Value> rcdata_escaper(std::span<const Value> a) {
  auto [s, t] = stringify(a);
  const bool amp = t != ContentType::kHTML;
  return str(html_replacer(s, [amp](char c) { return html_table(c, amp); }, true));
}
Result<Value> nospace_escaper(std::span<const Value> a) {
  auto [s, t] = stringify(a);
  if (t == ContentType::kHTML) {
    return str(
        html_replacer(strip_tags(s), [](char c) { return nospace_table(c, false); }, false));
  }
  return str(html_replacer(s, [](char c) { return nospace_table(c, true); }, false));
}
Result<Value> comment_escaper(std::span<const Value>) { return str(""); }

Result<Value> html_name_filter(std::span<const Value> a) {
  auto [s, t] = stringify(a);
  if (t == ContentType::kHTMLAttr) return str(s);
  if (s.empty()) return str(std::string(kFilterFailsafe));
  std::string l = s;
  for (char& c : l) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (html::attr_type(l) != ContentType::kPlain) return str(std::string(kFilterFailsafe));
  for (char c : l) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) {
      return str(std::string(kFilterFailsafe));
    }
  }
  return str(l);
}

// js.go's replace with Go 1.19.8's tables: control characters as \uXXXX (\t \n \f \r short),
// U+2028/U+2029 escaped, `table` for the rest of ASCII.
template <class Table>
std::string js_replace(std::string_view s, Table table) {
  std::string out;
  size_t written = 0;
  bool changed = false;
  for (size_t i = 0; i < s.size();) {
    auto [r, w] = rune_at(s, i);
    std::string repl;
    if (r < 0x20) {
      switch (r) {
        case '\t': repl = "\\t"; break;
        case '\n': repl = "\\n"; break;
        case '\f': repl = "\\f"; break;
        case '\r': repl = "\\r"; break;
        default: repl = fmt::format("\\u{:04x}", r);
      }
    } else if (r < 0x80) {
      repl = table(static_cast<char>(r));
    } else if (r == 0x2028) {
      repl = "\\u2028";
    } else if (r == 0x2029) {
      repl = "\\u2029";
    }
    if (!repl.empty()) {
      out.append(s.substr(written, i - written));
      out += repl;
      written = i + w;
      changed = true;
    }
    i += w;
  }
  if (!changed) return std::string(s);
  out.append(s.substr(written));
  return out;
}

std::string js_str_table(char c, bool backslash) {
  switch (c) {
    case '"': return "\\u0022";
    case '`': return "\\u0060";
    case '&': return "\\u0026";
    case '\'': return "\\u0027";
    case '+': return "\\u002b";
    case '/': return "\\/";
    case '<': return "\\u003c";
    case '>': return "\\u003e";
    case '\\': return backslash ? "\\\\" : "";
    default: return "";
  }
}

std::string js_regexp_table(char c) {
  switch (c) {
    case '"': return "\\u0022";
    case '&': return "\\u0026";
    case '\'': return "\\u0027";
    case '+': return "\\u002b";
    case '<': return "\\u003c";
    case '>': return "\\u003e";
    case '$': case '(': case ')': case '*': case '-': case '.': case '/': case '?': case '[':
    case '\\': case ']': case '^': case '{': case '|': case '}':
      return std::string("\\") + c;
    default: return "";
  }
}

Result<Value> js_str_escaper(std::span<const Value> a) {
  auto [s, t] = stringify(a);
  const bool norm = t == ContentType::kJSStr;
  return str(js_replace(s, [norm](char c) { return js_str_table(c, !norm); }));
}

Result<Value> js_regexp_escaper(std::span<const Value> a) {
  auto [s, t] = stringify(a);
  (void)t;
  std::string r = js_replace(s, js_regexp_table);
  if (r.empty()) return str("(?:)");
  return str(std::move(r));
}

bool is_js_ident_part(uint32_t r) {
  return r == '$' || (r >= '0' && r <= '9') || (r >= 'A' && r <= 'Z') || r == '_' ||
         (r >= 'a' && r <= 'z');
}

Result<Value> js_val_escaper(std::span<const Value> args) {
  Value a;
  if (args.size() == 1) {
    a = args[0];
    const TypeInfo* ti = a.type();
    // time.Time is a json.Marshaler; Stringers (time.Duration, named types) print themselves.
    if (a.kind() == Value::Kind::kDuration || (ti != nullptr && ti->stringer)) {
      a = Value(a.to_string());
    }
  } else {
    a = Value(go_sprint(args));
  }
  auto b = go_json_marshal(a);
  if (!b) {
    std::string m = b.error().message;
    for (size_t p; (p = m.find("*/")) != std::string::npos;) m.replace(p, 2, "* /");
    return str(fmt::format(" /* {} */null ", m));
  }
  if (b->empty()) return str(" null ");
  const uint32_t first = rune_at(*b, 0).first;
  size_t lst = b->size() - 1;
  while (lst > 0 && (static_cast<unsigned char>((*b)[lst]) & 0xC0) == 0x80) --lst;
  const uint32_t last = rune_at(*b, lst).first;
  if (is_js_ident_part(first) || is_js_ident_part(last)) return str(" " + *b + " ");
  return str(std::move(*b));
}

const char* css_table(uint32_t r) {
  switch (r) {
    case 0: return "\\0";
    case '\t': return "\\9";
    case '\n': return "\\a";
    case '\f': return "\\c";
    case '\r': return "\\d";
    case '"': return "\\22";
    case '&': return "\\26";
    case '\'': return "\\27";
    case '(': return "\\28";
    case ')': return "\\29";
    case '+': return "\\2b";
    case '/': return "\\2f";
    case ':': return "\\3a";
    case ';': return "\\3b";
    case '<': return "\\3c";
    case '>': return "\\3e";
    case '\\': return "\\\\";
    case '{': return "\\7b";
    case '}': return "\\7d";
    default: return nullptr;
  }
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_css_space(char c) {
  return c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' ';
}

Result<Value> css_escaper(std::span<const Value> a) {
  auto [s, t] = stringify(a);
  (void)t;
  std::string out;
  size_t written = 0;
  for (size_t i = 0; i < s.size();) {
    auto [r, w] = rune_at(s, i);
    const char* repl = css_table(r);
    if (repl != nullptr) {
      out.append(s.substr(written, i - written));
      out += repl;
      written = i + w;
      if (std::string_view(repl) != "\\\\" &&
          (written == s.size() || is_hex(s[written]) || is_css_space(s[written]))) {
        out += ' ';
      }
    }
    i += w;
  }
  if (written == 0) return str(s);
  out.append(s.substr(written));
  return str(std::move(out));
}

Result<Value> css_value_filter(std::span<const Value> a) {
  auto [s, t] = stringify(a);
  if (t == ContentType::kCSS) return str(s);
  const std::string b = html::decode_css(s);
  std::string id;
  for (size_t i = 0; i < b.size(); ++i) {
    const char c = b[i];
    switch (c) {
      case '\0': case '"': case '\'': case '(': case ')': case '/': case ';': case '@':
      case '[': case '\\': case ']': case '`': case '{': case '}':
        return str(std::string(kFilterFailsafe));
      case '-':
        if (i != 0 && b[i - 1] == '-') return str(std::string(kFilterFailsafe));
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x80 &&
            html::is_css_nmchar(static_cast<unsigned char>(c))) {
          id += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        }
    }
  }
  if (id.find("expression") != std::string::npos || id.find("mozbinding") != std::string::npos) {
    return str(std::string(kFilterFailsafe));
  }
  return str(b);
}

bool is_safe_url(std::string_view s) {
  if (auto colon = s.find(':'); colon != std::string_view::npos) {
    std::string p(s.substr(0, colon));
    if (p.find('/') == std::string::npos) {
      for (char& c : p) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      if (p != "http" && p != "https" && p != "mailto") return false;
    }
  }
  return true;
}

// url.go's processURLOnto; returns whether anything was encoded.
bool process_url_onto(std::string_view s, bool norm, std::string& b) {
  size_t written = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    switch (c) {
      case '!': case '#': case '$': case '&': case '*': case '+': case ',': case '/': case ':':
      case ';': case '=': case '?': case '@': case '[': case ']':
        if (norm) continue;
        break;
      case '-': case '.': case '_': case '~':
        continue;
      case '%':
        if (norm && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) continue;
        break;
      default:
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) continue;
    }
    b.append(s.substr(written, i - written));
    b += fmt::format("%{:02x}", static_cast<unsigned char>(c));
    written = i + 1;
  }
  b.append(s.substr(written));
  return written != 0;
}

Result<Value> url_filter(std::span<const Value> a) {
  auto [s, t] = stringify(a);
  if (t == ContentType::kURL) return str(s);
  if (!is_safe_url(s)) return str("#" + std::string(kFilterFailsafe));
  return str(s);
}

Value url_processor(bool norm, std::span<const Value> a) {
  auto [s, t] = stringify(a);
  if (t == ContentType::kURL) norm = true;
  std::string b;
  if (process_url_onto(s, norm, b)) return str(std::move(b));
  return str(s);
}

bool is_html_space(char c) {
  return c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' ';
}

void filter_srcset_element(std::string_view s, size_t left, size_t right, std::string& b) {
  size_t start = left;
  while (start < right && is_html_space(s[start])) ++start;
  size_t end = right;
  for (size_t i = start; i < right; ++i) {
    if (is_html_space(s[i])) {
      end = i;
      break;
    }
  }
  if (std::string_view url = s.substr(start, end - start); is_safe_url(url)) {
    bool metadata_ok = true;
    for (size_t i = end; i < right; ++i) {
      const char c = s[i];
      const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!is_html_space(c) && !alnum) {
        metadata_ok = false;
        break;
      }
    }
    if (metadata_ok) {
      b.append(s.substr(left, start - left));
      process_url_onto(url, true, b);
      b.append(s.substr(end, right - end));
      return;
    }
  }
  b += "#";
  b += kFilterFailsafe;
}

Result<Value> srcset_escaper(std::span<const Value> a) {
  auto [s, t] = stringify(a);
  if (t == ContentType::kSrcset) return str(s);
  if (t == ContentType::kURL) {
    std::string b;
    if (process_url_onto(s, true, b)) s = b;
    std::string out;
    for (char c : s) out += c == ',' ? std::string("%2c") : std::string(1, c);
    return str(out);
  }
  std::string b;
  size_t written = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ',') {
      filter_srcset_element(s, written, i, b);
      b += ',';
      written = i + 1;
    }
  }
  filter_srcset_element(s, written, s.size(), b);
  return str(std::move(b));
}

Result<Value> eval_args(std::span<const Value> a) {
  if (a.size() == 1 && a[0].kind() == Value::Kind::kString && a[0].type() == nullptr) {
    return str(a[0].as_string());
  }
  return str(go_sprint(a));
}

// ---- encoding/json -------------------------------------------------------------------------

void json_string(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      switch (b) {
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (b < 0x20 || b == '<' || b == '>' || b == '&') {
            out += "\\u00";
            out += kHex[b >> 4];
            out += kHex[b & 0xF];
          } else {
            out += static_cast<char>(b);
          }
      }
      ++i;
      continue;
    }
    auto [r, w] = rune_at(s, i);
    if (r == 0xFFFD && w == 1) {
      out += "\\ufffd";
    } else if (r == 0x2028 || r == 0x2029) {
      out += r == 0x2028 ? "\\u2028" : "\\u2029";
    } else {
      out.append(s.substr(i, w));
    }
    i += w;
  }
  out += '"';
}

Result<void> json_value(const Value& v, std::string& out, int depth) {
  if (depth > 1000) return make_error("json: unsupported value: encountered a cycle");
  switch (v.kind()) {
    case Value::Kind::kNil: out += "null"; return {};
    case Value::Kind::kBool: out += v.as_bool() ? "true" : "false"; return {};
    case Value::Kind::kInt: out += std::to_string(v.as_int()); return {};
    case Value::Kind::kDuration: out += std::to_string(v.as_duration().nanos); return {};
    case Value::Kind::kFloat: {
      const double f = v.as_float();
      if (std::isnan(f) || std::isinf(f)) {
        return make_error(fmt::format("json: unsupported value: {}", go_format_float(f)));
      }
      const double abs = std::fabs(f);
      const bool exp = abs != 0 && (abs < 1e-6 || abs >= 1e21);
      char buf[64];
      auto r = std::to_chars(buf, buf + sizeof buf, f,
                             exp ? std::chars_format::scientific : std::chars_format::fixed);
      std::string s(buf, r.ptr);
      if (exp) {
        const size_t n = s.size();
        if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') s.erase(n - 2, 1);
      }
      out += s;
      return {};
    }
    case Value::Kind::kString: json_string(v.as_string(), out); return {};
    case Value::Kind::kTime:
      json_string(go_time_format(v.as_time(), "2006-01-02T15:04:05.999999999Z07:00"), out);
      return {};
    case Value::Kind::kList: {
      out += '[';
      bool first = true;
      for (const auto& e : v.as_list()) {
        if (!first) out += ',';
        first = false;
        if (auto r = json_value(e, out, depth + 1); !r) return r;
      }
      out += ']';
      return {};
    }
    case Value::Kind::kMap: {
      const TypeInfo* ti = v.type();
      const auto& m = v.as_map();
      out += '{';
      bool first = true;
      auto field = [&](const std::string& key, const Value& e) -> Result<void> {
        if (!first) out += ',';
        first = false;
        json_string(key, out);
        out += ':';
        return json_value(e, out, depth + 1);
      };
      if (ti != nullptr && ti->is_struct && !ti->json_fields.empty()) {
        for (const auto& [name, key] : ti->json_fields) {
          auto it = m.find(name);
          if (it == m.end()) continue;
          if (auto r = field(key, it->second); !r) return r;
        }
      } else {
        for (const auto& [k, e] : m) {
          if (auto r = field(k, e); !r) return r;
        }
      }
      out += '}';
      return {};
    }
    case Value::Kind::kFunc:
      return make_error("json: unsupported type: func");
  }
  return {};
}

}  // namespace

Value html_value(std::string s) { return Value(std::move(s), html_type()); }

Result<std::string> go_json_marshal(const Value& v) {
  std::string out;
  if (auto r = json_value(v, out, 0); !r) return std::unexpected(r.error());
  return out;
}

const FuncSpec* html_escaper_function(std::string_view name) {
  static const std::map<std::string, FuncSpec, std::less<>> kFuncs = [] {
    std::map<std::string, FuncSpec, std::less<>> m;
    auto add = [&m](const char* n, Function f) { m[n] = FuncSpec{std::move(f), 0, -1}; };
    add("_html_template_attrescaper", attr_escaper);
    add("_html_template_commentescaper", comment_escaper);
    add("_html_template_cssescaper", css_escaper);
    add("_html_template_cssvaluefilter", css_value_filter);
    add("_html_template_htmlnamefilter", html_name_filter);
    add("_html_template_htmlescaper", html_escaper);
    add("_html_template_jsregexpescaper", js_regexp_escaper);
    add("_html_template_jsstrescaper", js_str_escaper);
    add("_html_template_jsvalescaper", js_val_escaper);
    add("_html_template_nospaceescaper", nospace_escaper);
    add("_html_template_rcdataescaper", rcdata_escaper);
    add("_html_template_srcsetescaper", srcset_escaper);
    add("_html_template_urlescaper",
        [](std::span<const Value> a) -> Result<Value> { return url_processor(false, a); });
    add("_html_template_urlfilter", url_filter);
    add("_html_template_urlnormalizer",
        [](std::span<const Value> a) -> Result<Value> { return url_processor(true, a); });
    add("_eval_args_", eval_args);
    return m;
  }();
  auto it = kFuncs.find(name);
  return it == kFuncs.end() ? nullptr : &it->second;
}

}  // namespace ruleeval::tmpl::detail
