// Go 1.19.8's html/template contexts and text transitions (context.go, transition.go, attr.go,
// css.go's decoder, js.go's nextJSCtx), written from their definitions.
#include "ruleeval/common/utf8.hpp"
#include "html_context.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>

#include "ruleeval/common/labels.hpp"

namespace ruleeval::tmpl::html {
namespace {

constexpr std::array<const char*, 27> kStateNames = {
    "stateText", "stateTag", "stateAttrName", "stateAfterName", "stateBeforeValue",
    "stateHTMLCmt", "stateRCDATA", "stateAttr", "stateURL", "stateSrcset", "stateJS",
    "stateJSDqStr", "stateJSSqStr", "stateJSBqStr", "stateJSRegexp", "stateJSBlockCmt",
    "stateJSLineCmt", "stateCSS", "stateCSSDqStr", "stateCSSSqStr", "stateCSSDqURL",
    "stateCSSSqURL", "stateCSSURL", "stateCSSBlockCmt", "stateCSSLineCmt", "stateError",
    "stateDead"};
constexpr std::array<const char*, 4> kDelimNames = {"delimNone", "delimDoubleQuote",
                                                    "delimSingleQuote", "delimSpaceOrTagEnd"};
constexpr std::array<const char*, 4> kUrlPartNames = {"urlPartNone", "urlPartPreQuery",
                                                      "urlPartQueryOrFrag", "urlPartUnknown"};
constexpr std::array<const char*, 3> kJsCtxNames = {"jsCtxRegexp", "jsCtxDivOp", "jsCtxUnknown"};
constexpr std::array<const char*, 6> kAttrNames = {"attrNone",  "attrScript", "attrScriptType",
                                                   "attrStyle", "attrURL",    "attrSrcset"};
constexpr std::array<const char*, 5> kElementNames = {"elementNone", "elementScript",
                                                      "elementStyle", "elementTextarea",
                                                      "elementTitle"};

template <class A, class E>
const char* name_of(const A& names, E e) {
  return names[static_cast<size_t>(e)];
}

bool ascii_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool ascii_alnum(char c) { return ascii_alpha(c) || (c >= '0' && c <= '9'); }
bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}
bool equal_fold(std::string_view a, std::string_view b) { return lower(a) == lower(b); }

size_t index_any(std::string_view s, std::string_view chars) {
  size_t i = s.find_first_of(chars);
  return i;
}

size_t eat_white_space(std::string_view s, size_t i) {
  for (size_t j = i; j < s.size(); ++j) {
    switch (s[j]) {
      case ' ': case '\t': case '\n': case '\f': case '\r':
        break;
      default:
        return j;
    }
  }
  return s.size();
}

// UTF-8 helpers (Go's utf8.DecodeRune: an invalid byte decodes to U+FFFD, width 1).
std::pair<uint32_t, size_t> decode_rune(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return {b0, 1};
  auto cont = [&](size_t k) {
    return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
  };
  auto c = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(s[i + k]) & 0x3F); };
  if (b0 >= 0xC2 && b0 <= 0xDF && cont(1)) return {((b0 & 0x1Fu) << 6) | c(1), 2};
  if (b0 >= 0xE0 && b0 <= 0xEF && cont(1) && cont(2)) {
    uint32_t r = ((b0 & 0x0Fu) << 12) | (c(1) << 6) | c(2);
    if (r >= 0x800 && (r < 0xD800 || r > 0xDFFF)) return {r, 3};
  }
  if (b0 >= 0xF0 && b0 <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    uint32_t r = ((b0 & 0x07u) << 18) | (c(1) << 12) | (c(2) << 6) | c(3);
    if (r >= 0x10000 && r <= 0x10FFFF) return {r, 4};
  }
  return {0xFFFD, 1};
}


// eatAttrName: the end of the attribute name starting at i, or an error.
std::pair<size_t, std::shared_ptr<Error>> eat_attr_name(std::string_view s, size_t i) {
  for (size_t j = i; j < s.size(); ++j) {
    switch (s[j]) {
      case ' ': case '\t': case '\n': case '\f': case '\r': case '=': case '>':
        return {j, nullptr};
      case '\'': case '"': case '<': {
        auto e = std::make_shared<Error>();
        e->code = Error::kBadHTML;
        e->description = fmt::format("{} in attribute name: {}", go_quote(s.substr(j, 1)),
                                     go_quote_bytes(s, 32));
        return {std::string_view::npos, e};
      }
      default:
        break;
    }
  }
  return {s.size(), nullptr};
}

std::pair<size_t, Element> eat_tag_name(std::string_view s, size_t i) {
  if (i == s.size() || !ascii_alpha(s[i])) return {i, Element::kNone};
  size_t j = i + 1;
  while (j < s.size()) {
    const char x = s[j];
    if (ascii_alnum(x)) {
      ++j;
      continue;
    }
    if ((x == ':' || x == '-') && j + 1 < s.size() && ascii_alnum(s[j + 1])) {
      j += 2;
      continue;
    }
    break;
  }
  const std::string name = lower(s.substr(i, j - i));
  Element e = Element::kNone;
  if (name == "script") e = Element::kScript;
  if (name == "style") e = Element::kStyle;
  if (name == "textarea") e = Element::kTextarea;
  if (name == "title") e = Element::kTitle;
  return {j, e};
}

std::pair<Context, size_t> t_text(const Context& c, std::string_view s) {
  size_t k = 0;
  for (;;) {
    const size_t f = s.find('<', k);
    if (f == std::string_view::npos || f + 1 == s.size()) return {c, s.size()};
    size_t i = f;
    if (i + 4 <= s.size() && s.substr(i, 4) == "<!--") {
      Context d;
      d.state = State::kHTMLCmt;
      return {d, i + 4};
    }
    ++i;
    bool end = false;
    if (s[i] == '/') {
      if (i + 1 == s.size()) return {c, s.size()};
      end = true;
      ++i;
    }
    auto [j, e] = eat_tag_name(s, i);
    if (j != i) {
      if (end) e = Element::kNone;
      Context d;
      d.state = State::kTag;
      d.element = e;
      return {d, j};
    }
    k = j;
  }
}

State element_content_type(Element e) {
  switch (e) {
    case Element::kNone: return State::kText;
    case Element::kScript: return State::kJS;
    case Element::kStyle: return State::kCSS;
    case Element::kTextarea:
    case Element::kTitle: return State::kRCDATA;
  }
  return State::kText;
}

std::pair<Context, size_t> t_tag(const Context& c, std::string_view s) {
  const size_t i = eat_white_space(s, 0);
  if (i == s.size()) return {c, s.size()};
  if (s[i] == '>') {
    Context d;
    d.state = element_content_type(c.element);
    d.element = c.element;
    return {d, i + 1};
  }
  auto [j, err] = eat_attr_name(s, i);
  if (err) {
    Context d;
    d.state = State::kError;
    d.err = err;
    return {d, s.size()};
  }
  if (i == j) {
    return {error_context(Error::kBadHTML,
                          fmt::format("expected space, attr name, or end of tag, but got {}",
                                      go_quote(s.substr(i)))),
            s.size()};
  }
  const std::string name = lower(s.substr(i, j - i));
  Attr attr = Attr::kNone;
  if (c.element == Element::kScript && name == "type") {
    attr = Attr::kScriptType;
  } else {
    switch (attr_type(name)) {
      case ContentType::kURL: attr = Attr::kURL; break;
      case ContentType::kCSS: attr = Attr::kStyle; break;
      case ContentType::kJS: attr = Attr::kScript; break;
      case ContentType::kSrcset: attr = Attr::kSrcset; break;
      default: break;
    }
  }
  Context d;
  d.state = j == s.size() ? State::kAttrName : State::kAfterName;
  d.element = c.element;
  d.attr = attr;
  return {d, j};
}

std::pair<Context, size_t> t_attr_name(Context c, std::string_view s) {
  auto [i, err] = eat_attr_name(s, 0);
  if (err) {
    Context d;
    d.state = State::kError;
    d.err = err;
    return {d, s.size()};
  }
  if (i != s.size()) c.state = State::kAfterName;
  return {c, i};
}

std::pair<Context, size_t> t_after_name(Context c, std::string_view s) {
  const size_t i = eat_white_space(s, 0);
  if (i == s.size()) return {c, s.size()};
  if (s[i] != '=') {
    c.state = State::kTag;
    return {c, i};
  }
  c.state = State::kBeforeValue;
  return {c, i + 1};
}

State attr_start_state(Attr a) {
  switch (a) {
    case Attr::kNone: return State::kAttr;
    case Attr::kScript: return State::kJS;
    case Attr::kScriptType: return State::kAttr;
    case Attr::kStyle: return State::kCSS;
    case Attr::kURL: return State::kURL;
    case Attr::kSrcset: return State::kSrcset;
  }
  return State::kAttr;
}

std::pair<Context, size_t> t_before_value(Context c, std::string_view s) {
  size_t i = eat_white_space(s, 0);
  if (i == s.size()) return {c, s.size()};
  Delim delim = Delim::kSpaceOrTagEnd;
  if (s[i] == '\'') {
    delim = Delim::kSingleQuote;
    ++i;
  } else if (s[i] == '"') {
    delim = Delim::kDoubleQuote;
    ++i;
  }
  c.state = attr_start_state(c.attr);
  c.delim = delim;
  return {c, i};
}

std::pair<Context, size_t> t_html_cmt(const Context& c, std::string_view s) {
  if (auto i = s.find("-->"); i != std::string_view::npos) return {Context{}, i + 3};
  return {c, s.size()};
}

// indexTagEnd: the index of "</tag" followed by a separator, case-insensitively, or npos.
size_t index_tag_end(std::string_view s, std::string_view tag) {
  size_t res = 0;
  while (!s.empty()) {
    const size_t i = s.find("</");
    if (i == std::string_view::npos) return i;
    s.remove_prefix(i + 2);
    if (tag.size() <= s.size() && equal_fold(tag, s.substr(0, tag.size()))) {
      s.remove_prefix(tag.size());
      if (!s.empty() && std::string_view("> \t\n\f/").find(s[0]) != std::string_view::npos) {
        return res + i;
      }
      res += tag.size();
    }
    res += i + 2;
  }
  return std::string_view::npos;
}

std::pair<Context, size_t> t_special_tag_end(const Context& c, std::string_view s) {
  if (c.element != Element::kNone) {
    const char* tag = c.element == Element::kScript   ? "script"
                      : c.element == Element::kStyle  ? "style"
                      : c.element == Element::kTextarea ? "textarea"
                                                        : "title";
    if (size_t i = index_tag_end(s, tag); i != std::string_view::npos) return {Context{}, i};
  }
  return {c, s.size()};
}

std::pair<Context, size_t> t_url(Context c, std::string_view s) {
  if (s.find_first_of("#?") != std::string_view::npos) {
    c.url_part = UrlPart::kQueryOrFrag;
  } else if (s.size() != eat_white_space(s, 0) && c.url_part == UrlPart::kNone) {
    c.url_part = UrlPart::kPreQuery;
  }
  return {c, s.size()};
}

bool is_js_ident_part(uint32_t r) {
  return r == '$' || (r >= '0' && r <= '9') || (r >= 'A' && r <= 'Z') || r == '_' ||
         (r >= 'a' && r <= 'z');
}

// Go 1.19.8's nextJSCtx (trailing "\t\n\f\r \u2028\u2029" trimmed).
JsCtx next_js_ctx(std::string_view s, JsCtx preceding) {
  for (;;) {
    if (!s.empty() && std::string_view("\t\n\f\r ").find(s.back()) != std::string_view::npos) {
      s.remove_suffix(1);
    } else if (s.size() >= 3 && (s.ends_with("\xE2\x80\xA8") || s.ends_with("\xE2\x80\xA9"))) {
      s.remove_suffix(3);
    } else {
      break;
    }
  }
  if (s.empty()) return preceding;
  const char c = s.back();
  const size_t n = s.size();
  switch (c) {
    case '+': case '-': {
      size_t start = n - 1;
      while (start > 0 && s[start - 1] == c) --start;
      return ((n - start) & 1) == 1 ? JsCtx::kRegexp : JsCtx::kDivOp;
    }
    case '.':
      if (n != 1 && s[n - 2] >= '0' && s[n - 2] <= '9') return JsCtx::kDivOp;
      return JsCtx::kRegexp;
    case ',': case '<': case '>': case '=': case '*': case '%': case '&': case '|': case '^':
    case '?': case '!': case '~': case '(': case '[': case ':': case ';': case '{': case '}':
      return JsCtx::kRegexp;
    default: {
      size_t j = n;
      while (j > 0 && is_js_ident_part(static_cast<unsigned char>(s[j - 1]))) --j;
      static const char* const kw[] = {"break", "case",   "continue", "delete", "do",
                                       "else",  "finally", "in",      "instanceof", "return",
                                       "throw", "try",    "typeof",   "void"};
      const std::string_view word = s.substr(j);
      for (const char* k : kw) {
        if (word == k) return JsCtx::kRegexp;
      }
    }
  }
  return JsCtx::kDivOp;
}

std::pair<Context, size_t> t_js(Context c, std::string_view s) {
  size_t i = s.find_first_of("\"`'/");
  if (i == std::string_view::npos) {
    c.js_ctx = next_js_ctx(s, c.js_ctx);
    return {c, s.size()};
  }
  c.js_ctx = next_js_ctx(s.substr(0, i), c.js_ctx);
  switch (s[i]) {
    case '"': c.state = State::kJSDqStr; c.js_ctx = JsCtx::kRegexp; break;
    case '\'': c.state = State::kJSSqStr; c.js_ctx = JsCtx::kRegexp; break;
    case '`': c.state = State::kJSBqStr; c.js_ctx = JsCtx::kRegexp; break;
    case '/':
      if (i + 1 < s.size() && s[i + 1] == '/') {
        c.state = State::kJSLineCmt;
        ++i;
      } else if (i + 1 < s.size() && s[i + 1] == '*') {
        c.state = State::kJSBlockCmt;
        ++i;
      } else if (c.js_ctx == JsCtx::kRegexp) {
        c.state = State::kJSRegexp;
      } else if (c.js_ctx == JsCtx::kDivOp) {
        c.js_ctx = JsCtx::kRegexp;
      } else {
        std::string_view rest = s.substr(i);
        return {error_context(Error::kSlashAmbig,
                              fmt::format("'/' could start a division or regexp: {}",
                                          go_quote_bytes(rest, 32))),
                s.size()};
      }
      break;
    default:
      break;
  }
  return {c, i + 1};
}

std::pair<Context, size_t> t_js_delimited(Context c, std::string_view s) {
  std::string_view specials = "\\\"";
  if (c.state == State::kJSSqStr) specials = "\\'";
  if (c.state == State::kJSBqStr) specials = "`\\";
  if (c.state == State::kJSRegexp) specials = "\\/[]";
  size_t k = 0;
  bool in_charset = false;
  for (;;) {
    size_t i = s.find_first_of(specials, k);
    if (i == std::string_view::npos) break;
    switch (s[i]) {
      case '\\':
        ++i;
        if (i == s.size()) {
          return {error_context(Error::kPartialEscape,
                                fmt::format("unfinished escape sequence in JS string: {}",
                                            go_quote(s))),
                  s.size()};
        }
        break;
      case '[': in_charset = true; break;
      case ']': in_charset = false; break;
      default:
        if (!in_charset) {
          c.state = State::kJS;
          c.js_ctx = JsCtx::kDivOp;
          return {c, i + 1};
        }
    }
    k = i + 1;
  }
  if (in_charset) {
    return {error_context(Error::kPartialCharset,
                          fmt::format("unfinished JS regexp charset: {}", go_quote(s))),
            s.size()};
  }
  return {c, s.size()};
}

std::pair<Context, size_t> t_block_cmt(Context c, std::string_view s) {
  const size_t i = s.find("*/");
  if (i == std::string_view::npos) return {c, s.size()};
  c.state = c.state == State::kJSBlockCmt ? State::kJS : State::kCSS;
  return {c, i + 2};
}

std::pair<Context, size_t> t_line_cmt(Context c, std::string_view s) {
  size_t i = std::string_view::npos;
  State end_state = State::kJS;
  if (c.state == State::kJSLineCmt) {
    i = s.find_first_of("\n\r");
    for (std::string_view ls : {"\xE2\x80\xA8", "\xE2\x80\xA9"}) {
      i = std::min(i, s.find(ls));
    }
  } else {
    i = s.find_first_of("\n\f\r");
    end_state = State::kCSS;
  }
  if (i == std::string_view::npos) return {c, s.size()};
  c.state = end_state;
  return {c, i};
}

bool ends_with_css_keyword(std::string_view b, std::string_view kw) {
  if (b.size() < kw.size()) return false;
  const size_t i = b.size() - kw.size();
  if (i != 0) {
    // The last rune before the keyword.
    size_t st = i - 1;
    while (st > 0 && (static_cast<unsigned char>(b[st]) & 0xC0) == 0x80) --st;
    if (is_css_nmchar(decode_rune(b.substr(0, i), st).first)) return false;
  }
  return lower(b.substr(i)) == kw;
}

std::pair<Context, size_t> t_css(Context c, std::string_view s) {
  size_t k = 0;
  for (;;) {
    const size_t i = s.find_first_of("(\"'/", k);
    if (i == std::string_view::npos) return {c, s.size()};
    switch (s[i]) {
      case '(': {
        std::string_view p = s.substr(0, i);
        while (!p.empty() && std::string_view("\t\n\f\r ").find(p.back()) != std::string_view::npos)
          p.remove_suffix(1);
        if (ends_with_css_keyword(p, "url")) {
          size_t j = i + 1;
          while (j < s.size() && std::string_view("\t\n\f\r ").find(s[j]) != std::string_view::npos)
            ++j;
          if (j != s.size() && s[j] == '"') {
            c.state = State::kCSSDqURL;
            ++j;
          } else if (j != s.size() && s[j] == '\'') {
            c.state = State::kCSSSqURL;
            ++j;
          } else {
            c.state = State::kCSSURL;
          }
          return {c, j};
        }
        break;
      }
      case '/':
        if (i + 1 < s.size()) {
          if (s[i + 1] == '/') {
            c.state = State::kCSSLineCmt;
            return {c, i + 2};
          }
          if (s[i + 1] == '*') {
            c.state = State::kCSSBlockCmt;
            return {c, i + 2};
          }
        }
        break;
      case '"':
        c.state = State::kCSSDqStr;
        return {c, i + 1};
      case '\'':
        c.state = State::kCSSSqStr;
        return {c, i + 1};
      default:
        break;
    }
    k = i + 1;
  }
}

std::pair<Context, size_t> t_css_str(Context c, std::string_view s) {
  std::string_view end_and_esc;
  switch (c.state) {
    case State::kCSSDqStr: case State::kCSSDqURL: end_and_esc = "\\\""; break;
    case State::kCSSSqStr: case State::kCSSSqURL: end_and_esc = "\\'"; break;
    default: end_and_esc = "\\\t\n\f\r )"; break;  // unquoted url(...)
  }
  size_t k = 0;
  for (;;) {
    size_t i = s.find_first_of(end_and_esc, k);
    if (i == std::string_view::npos) {
      const std::string d = decode_css(s.substr(k));
      auto [c1, nread] = t_url(c, d);
      (void)nread;
      return {c1, s.size()};
    }
    if (s[i] == '\\') {
      ++i;
      if (i == s.size()) {
        return {error_context(Error::kPartialEscape,
                              fmt::format("unfinished escape sequence in CSS string: {}",
                                          go_quote(s))),
                s.size()};
      }
    } else {
      c.state = State::kCSS;
      return {c, i + 1};
    }
    c = t_url(c, decode_css(s.substr(0, i + 1))).first;
    k = i + 1;
  }
}

}  // namespace

std::string Context::mangle(std::string_view name) const {
  if (state == State::kText) return std::string(name);
  std::string s = std::string(name) + "$htmltemplate_" + name_of(kStateNames, state);
  if (delim != Delim::kNone) s += std::string("_") + name_of(kDelimNames, delim);
  if (url_part != UrlPart::kNone) s += std::string("_") + name_of(kUrlPartNames, url_part);
  if (js_ctx != JsCtx::kRegexp) s += std::string("_") + name_of(kJsCtxNames, js_ctx);
  if (attr != Attr::kNone) s += std::string("_") + name_of(kAttrNames, attr);
  if (element != Element::kNone) s += std::string("_") + name_of(kElementNames, element);
  return s;
}

std::string Context::str() const {
  return fmt::format("{{{} {} {} {} {} {} {}}}", name_of(kStateNames, state),
                     name_of(kDelimNames, delim), name_of(kUrlPartNames, url_part),
                     name_of(kJsCtxNames, js_ctx), name_of(kAttrNames, attr),
                     name_of(kElementNames, element), err ? "error" : "<nil>");
}

Context error_context(Error::Code code, std::string description) {
  Context c;
  c.state = State::kError;
  c.err = std::make_shared<Error>();
  c.err->code = code;
  c.err->description = std::move(description);
  return c;
}

bool is_comment(State s) {
  switch (s) {
    case State::kHTMLCmt: case State::kJSBlockCmt: case State::kJSLineCmt:
    case State::kCSSBlockCmt: case State::kCSSLineCmt:
      return true;
    default:
      return false;
  }
}

bool is_in_tag(State s) {
  switch (s) {
    case State::kTag: case State::kAttrName: case State::kAfterName: case State::kBeforeValue:
    case State::kAttr:
      return true;
    default:
      return false;
  }
}

ContentType attr_type(std::string_view name) {
  using C = ContentType;
  static const std::map<std::string_view, C> kTypes = {
      {"accept", C::kPlain}, {"accept-charset", C::kUnsafe}, {"action", C::kURL},
      {"alt", C::kPlain}, {"archive", C::kURL}, {"async", C::kUnsafe},
      {"autocomplete", C::kPlain}, {"autofocus", C::kPlain}, {"autoplay", C::kPlain},
      {"background", C::kURL}, {"border", C::kPlain}, {"checked", C::kPlain},
      {"cite", C::kURL}, {"challenge", C::kUnsafe}, {"charset", C::kUnsafe},
      {"class", C::kPlain}, {"classid", C::kURL}, {"codebase", C::kURL}, {"cols", C::kPlain},
      {"colspan", C::kPlain}, {"content", C::kUnsafe}, {"contenteditable", C::kPlain},
      {"contextmenu", C::kPlain}, {"controls", C::kPlain}, {"coords", C::kPlain},
      {"crossorigin", C::kUnsafe}, {"data", C::kURL}, {"datetime", C::kPlain},
      {"default", C::kPlain}, {"defer", C::kUnsafe}, {"dir", C::kPlain}, {"dirname", C::kPlain},
      {"disabled", C::kPlain}, {"draggable", C::kPlain}, {"dropzone", C::kPlain},
      {"enctype", C::kUnsafe}, {"for", C::kPlain}, {"form", C::kUnsafe},
      {"formaction", C::kURL}, {"formenctype", C::kUnsafe}, {"formmethod", C::kUnsafe},
      {"formnovalidate", C::kUnsafe}, {"formtarget", C::kPlain}, {"headers", C::kPlain},
      {"height", C::kPlain}, {"hidden", C::kPlain}, {"high", C::kPlain}, {"href", C::kURL},
      {"hreflang", C::kPlain}, {"http-equiv", C::kUnsafe}, {"icon", C::kURL},
      {"id", C::kPlain}, {"ismap", C::kPlain}, {"keytype", C::kUnsafe}, {"kind", C::kPlain},
      {"label", C::kPlain}, {"lang", C::kPlain}, {"language", C::kUnsafe}, {"list", C::kPlain},
      {"longdesc", C::kURL}, {"loop", C::kPlain}, {"low", C::kPlain}, {"manifest", C::kURL},
      {"max", C::kPlain}, {"maxlength", C::kPlain}, {"media", C::kPlain},
      {"mediagroup", C::kPlain}, {"method", C::kUnsafe}, {"min", C::kPlain},
      {"multiple", C::kPlain}, {"name", C::kPlain}, {"novalidate", C::kUnsafe},
      {"open", C::kPlain}, {"optimum", C::kPlain}, {"pattern", C::kUnsafe},
      {"placeholder", C::kPlain}, {"poster", C::kURL}, {"profile", C::kURL},
      {"preload", C::kPlain}, {"pubdate", C::kPlain}, {"radiogroup", C::kPlain},
      {"readonly", C::kPlain}, {"rel", C::kUnsafe}, {"required", C::kPlain},
      {"reversed", C::kPlain}, {"rows", C::kPlain}, {"rowspan", C::kPlain},
      {"sandbox", C::kUnsafe}, {"spellcheck", C::kPlain}, {"scope", C::kPlain},
      {"scoped", C::kPlain}, {"seamless", C::kPlain}, {"selected", C::kPlain},
      {"shape", C::kPlain}, {"size", C::kPlain}, {"sizes", C::kPlain}, {"span", C::kPlain},
      {"src", C::kURL}, {"srcdoc", C::kHTML}, {"srclang", C::kPlain}, {"srcset", C::kSrcset},
      {"start", C::kPlain}, {"step", C::kPlain}, {"style", C::kCSS}, {"tabindex", C::kPlain},
      {"target", C::kPlain}, {"title", C::kPlain}, {"type", C::kUnsafe}, {"usemap", C::kURL},
      {"value", C::kUnsafe}, {"width", C::kPlain}, {"wrap", C::kPlain}, {"xmlns", C::kURL},
  };
  if (name.starts_with("data-")) {
    name.remove_prefix(5);
  } else if (auto colon = name.find(':'); colon != std::string_view::npos) {
    if (name.substr(0, colon) == "xmlns") return C::kURL;
    name.remove_prefix(colon + 1);
  }
  if (auto it = kTypes.find(name); it != kTypes.end()) return it->second;
  if (name.starts_with("on")) return C::kJS;
  if (name.find("src") != std::string_view::npos || name.find("uri") != std::string_view::npos ||
      name.find("url") != std::string_view::npos) {
    return C::kURL;
  }
  return C::kPlain;
}

bool is_js_type(std::string_view mime_in) {
  std::string mime = lower(mime_in);
  if (auto i = mime.find(';'); i != std::string::npos) mime.resize(i);
  auto sp = [](char ch) {
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
  };
  while (!mime.empty() && sp(mime.back())) mime.pop_back();
  size_t b = 0;
  while (b < mime.size() && sp(mime[b])) ++b;
  mime.erase(0, b);
  static const char* const kTypes[] = {
      "application/ecmascript", "application/javascript", "application/json",
      "application/x-ecmascript", "application/x-javascript", "text/ecmascript",
      "text/javascript", "text/javascript1.0", "text/javascript1.1", "text/javascript1.2",
      "text/javascript1.3", "text/javascript1.4", "text/javascript1.5", "text/jscript",
      "text/livescript", "text/x-ecmascript", "text/x-javascript"};
  for (const char* t : kTypes) {
    if (mime == t) return true;
  }
  return false;
}

Context nudge(Context c) {
  switch (c.state) {
    case State::kTag:
      c.state = State::kAttrName;
      break;
    case State::kBeforeValue:
      c.state = attr_start_state(c.attr);
      c.delim = Delim::kSpaceOrTagEnd;
      c.attr = Attr::kNone;
      break;
    case State::kAfterName:
      c.state = State::kAttrName;
      c.attr = Attr::kNone;
      break;
    default:
      break;
  }
  return c;
}

std::pair<Context, size_t> transition(const Context& c, std::string_view s) {
  switch (c.state) {
    case State::kText: return t_text(c, s);
    case State::kTag: return t_tag(c, s);
    case State::kAttrName: return t_attr_name(c, s);
    case State::kAfterName: return t_after_name(c, s);
    case State::kBeforeValue: return t_before_value(c, s);
    case State::kHTMLCmt: return t_html_cmt(c, s);
    case State::kRCDATA: return t_special_tag_end(c, s);
    case State::kAttr: return {c, s.size()};
    case State::kURL: case State::kSrcset: return t_url(c, s);
    case State::kJS: return t_js(c, s);
    case State::kJSDqStr: case State::kJSSqStr: case State::kJSBqStr: case State::kJSRegexp:
      return t_js_delimited(c, s);
    case State::kJSBlockCmt: case State::kCSSBlockCmt: return t_block_cmt(c, s);
    case State::kJSLineCmt: case State::kCSSLineCmt: return t_line_cmt(c, s);
    case State::kCSS: return t_css(c, s);
    case State::kCSSDqStr: case State::kCSSSqStr: case State::kCSSDqURL: case State::kCSSSqURL:
    case State::kCSSURL:
      return t_css_str(c, s);
    case State::kError: case State::kDead: return {c, s.size()};
  }
  return {c, s.size()};
}

std::pair<Context, size_t> context_after_text(Context c, std::string_view s) {
  if (c.delim == Delim::kNone) {
    auto [c1, i] = t_special_tag_end(c, s);
    if (i == 0) return {c1, 0};  // a special end tag: everything before it was consumed
    return transition(c, s.substr(0, i));
  }
  std::string_view ends = c.delim == Delim::kDoubleQuote   ? "\""
                          : c.delim == Delim::kSingleQuote ? "'"
                                                           : " \t\n\f\r>";
  size_t i = index_any(s, ends);
  if (i == std::string_view::npos) i = s.size();
  if (c.delim == Delim::kSpaceOrTagEnd) {
    if (size_t j = s.substr(0, i).find_first_of("\"'<=`"); j != std::string_view::npos) {
      return {error_context(Error::kBadHTML,
                            fmt::format("{} in unquoted attr: {}", go_quote(s.substr(j, 1)),
                                        go_quote(s.substr(0, i)))),
              s.size()};
    }
  }
  if (i == s.size()) {
    // Inside the attribute: the decoded value drives the transitions.
    const std::string u = html_unescape(s);
    std::string_view rest = u;
    while (!rest.empty()) {
      auto [c1, n] = transition(c, rest);
      c = c1;
      rest.remove_prefix(n);
    }
    return {c, s.size()};
  }
  Element element = c.element;
  if (c.state == State::kAttr && c.element == Element::kScript && c.attr == Attr::kScriptType &&
      !is_js_type(s.substr(0, i))) {
    element = Element::kNone;
  }
  if (c.delim != Delim::kSpaceOrTagEnd) ++i;  // the closing quote
  Context d;
  d.state = State::kTag;
  d.element = element;
  return {d, i};
}

std::string html_unescape(std::string_view s) {
  if (s.find('&') == std::string_view::npos) return std::string(s);
  static const std::map<std::string_view, uint32_t> kNamed = {
      {"Tab", '\t'}, {"NewLine", '\n'}, {"excl", '!'}, {"quot", '"'}, {"QUOT", '"'},
      {"num", '#'}, {"dollar", '$'}, {"percnt", '%'}, {"amp", '&'}, {"AMP", '&'},
      {"apos", '\''}, {"lpar", '('}, {"rpar", ')'}, {"ast", '*'}, {"midast", '*'},
      {"plus", '+'}, {"comma", ','}, {"period", '.'}, {"sol", '/'}, {"colon", ':'},
      {"semi", ';'}, {"lt", '<'}, {"LT", '<'}, {"equals", '='}, {"gt", '>'}, {"GT", '>'},
      {"quest", '?'}, {"commat", '@'}, {"lsqb", '['}, {"lbrack", '['}, {"bsol", '\\'},
      {"rsqb", ']'}, {"rbrack", ']'}, {"Hat", '^'}, {"lowbar", '_'}, {"UnderBar", '_'},
      {"grave", '`'}, {"DiacriticalGrave", '`'}, {"lcub", '{'}, {"lbrace", '{'},
      {"verbar", '|'}, {"vert", '|'}, {"VerticalLine", '|'}, {"rcub", '}'}, {"rbrace", '}'},
      {"nbsp", 0xA0}, {"NonBreakingSpace", 0xA0}};
  // Entities Go also decodes without the ';' (the HTML5 legacy names among the above).
  static const char* const kLegacy[] = {"quot", "QUOT", "amp", "AMP", "lt", "LT", "gt", "GT",
                                        "nbsp"};
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] != '&') {
      out += s[i++];
      continue;
    }
    size_t j = i + 1;
    if (j < s.size() && s[j] == '#') {
      ++j;
      bool hex = false;
      if (j < s.size() && (s[j] == 'x' || s[j] == 'X')) {
        hex = true;
        ++j;
      }
      const size_t start = j;
      uint64_t v = 0;
      while (j < s.size() && (hex ? is_hex(s[j]) : (s[j] >= '0' && s[j] <= '9'))) {
        const char d = s[j];
        const uint64_t dv = d <= '9' ? d - '0' : (d | 0x20) - 'a' + 10;
        v = std::min<uint64_t>(v * (hex ? 16 : 10) + dv, 0x110000);
        ++j;
      }
      if (j == start) {
        out += s[i++];
        continue;
      }
      if (j < s.size() && s[j] == ';') ++j;
      // html's replacementTable for the C1 controls is not modelled; invalid -> U+FFFD.
      uint32_t r = static_cast<uint32_t>(v);
      if (r == 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) r = 0xFFFD;
      append_utf8(out, r);
      i = j;
      continue;
    }
    while (j < s.size() && ascii_alnum(s[j])) ++j;
    const std::string_view name = s.substr(i + 1, j - i - 1);
    if (j < s.size() && s[j] == ';') {
      if (auto it = kNamed.find(name); it != kNamed.end()) {
        append_utf8(out, it->second);
        i = j + 1;
        continue;
      }
    }
    bool done = false;
    for (const char* l : kLegacy) {
      const size_t n = std::strlen(l);
      if (name.substr(0, n) == l) {
        append_utf8(out, kNamed.at(l));
        i = i + 1 + n;
        done = true;
        break;
      }
    }
    if (!done) out += s[i++];
  }
  return out;
}

bool is_css_nmchar(uint32_t r) {
  return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') ||
         r == '-' || r == '_' || (r >= 0x80 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) ||
         (r >= 0x10000 && r <= 0x10FFFF);
}

std::string decode_css(std::string_view s) {
  if (s.find('\\') == std::string_view::npos) return std::string(s);
  std::string b;
  while (!s.empty()) {
    size_t i = s.find('\\');
    if (i == std::string_view::npos) i = s.size();
    b.append(s.substr(0, i));
    s.remove_prefix(i);
    if (s.size() < 2) break;
    if (is_hex(s[1])) {
      size_t j = 2;
      while (j < s.size() && j < 7 && is_hex(s[j])) ++j;
      uint32_t r = 0;
      for (size_t k = 1; k < j; ++k) {
        const char d = s[k];
        r = (r << 4) | static_cast<uint32_t>(d <= '9' ? d - '0' : (d | 0x20) - 'a' + 10);
      }
      if (r > 0x10FFFF) {
        r /= 16;
        --j;
      }
      append_utf8(b, r);
      s.remove_prefix(j);
      // One white space after a hex escape belongs to it.
      if (!s.empty()) {
        if (s[0] == '\t' || s[0] == '\n' || s[0] == '\f' || s[0] == ' ') {
          s.remove_prefix(1);
        } else if (s[0] == '\r') {
          s.remove_prefix(s.size() >= 2 && s[1] == '\n' ? 2 : 1);
        }
      }
    } else {
      const size_t n = decode_rune(s, 1).second;
      b.append(s.substr(1, n));
      s.remove_prefix(1 + n);
    }
  }
  return b;
}

std::string go_quote_bytes(std::string_view s, int prec) {
  if (prec >= 0) {
    size_t i = 0;
    int runes = 0;
    while (i < s.size() && runes < prec) {
      i += decode_rune(s, i).second;
      ++runes;
    }
    s = s.substr(0, i);
  }
  return go_quote(s);
}

}  // namespace ruleeval::tmpl::html
