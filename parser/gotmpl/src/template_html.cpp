// Go html/template's escapers (html/template/html.go, url.go) and a context follower for the
// HTML states Alertmanager's email templates reach (transition.go, simplified: no JS/CSS).
#include "template_html.hpp"

#include <cctype>
#include <cstdio>

namespace ruleeval::tmpl::detail {

namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// attr.go's attrType for URL content: the known URL attributes, and any name containing
// "src", "uri" or "url" (after an optional "data-" / "xmlns:" prefix).
bool url_attribute(std::string_view name) {
  if (name.substr(0, 5) == "data-") name.remove_prefix(5);
  if (auto c = name.find(':'); c != std::string_view::npos) {
    if (name.substr(0, c) == "xmlns") return true;
    name.remove_prefix(c + 1);
  }
  for (std::string_view a : {"action", "archive", "background", "cite", "classid", "codebase",
                             "data", "formaction", "href", "icon", "longdesc", "manifest",
                             "poster", "profile", "src", "usemap", "xmlns"}) {
    if (name == a) return true;
  }
  return name.find("src") != std::string_view::npos ||
         name.find("uri") != std::string_view::npos ||
         name.find("url") != std::string_view::npos;
}

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// url.go's processURLOnto: `norm` keeps reserved characters and valid %xx escapes.
std::string process_url(std::string_view s, bool norm) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    bool keep = false;
    switch (c) {
      case '!': case '#': case '$': case '&': case '*': case '+': case ',': case '/':
      case ':': case ';': case '=': case '?': case '@': case '[': case ']':
        keep = norm;
        break;
      case '-': case '.': case '_': case '~':
        keep = true;
        break;
      case '%':
        keep = norm && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2]);
        break;
      default:
        keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    }
    if (keep) {
      out += c;
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02x", static_cast<unsigned char>(c));
      out += buf;
    }
  }
  return out;
}

// url.go's urlFilter: a scheme other than http, https or mailto is replaced.
std::string url_filter(const std::string& s) {
  const size_t colon = s.find(':');
  if (colon != std::string::npos && s.substr(0, colon).find('/') == std::string::npos) {
    std::string scheme;
    for (char c : s.substr(0, colon)) scheme += lower(c);
    if (scheme != "http" && scheme != "https" && scheme != "mailto") return "#ZgotmplZ";
  }
  return s;
}

}  // namespace

std::string go_html_escape(std::string_view s, bool nospace) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      case '+': out += "&#43;"; break;
      case '\0': out += "\xEF\xBF\xBD"; break;
      default:
        if (nospace) {
          // htmlNospaceReplacementTable: white space, '=' and '`' too.
          switch (ch) {
            case '\t': out += "&#9;"; continue;
            case '\n': out += "&#10;"; continue;
            case '\v': out += "&#11;"; continue;
            case '\f': out += "&#12;"; continue;
            case '\r': out += "&#13;"; continue;
            case ' ': out += "&#32;"; continue;
            case '=': out += "&#61;"; continue;
            case '`': out += "&#96;"; continue;
            default: break;
          }
        }
        out += ch;
    }
  }
  return out;
}

void HtmlContext::follow(const std::string& out) {
  for (; seen_ < out.size(); ++seen_) step(out[seen_]);
}

void HtmlContext::step(char c) {
  switch (s_) {
    case S::kText:
      if (c == '<') {
        s_ = S::kTagName;
        tag_.clear();
      }
      return;
    case S::kComment:
      close_[0] = close_[1];
      close_[1] = close_[2];
      close_[2] = c;
      if (close_[0] == '-' && close_[1] == '-' && close_[2] == '>') s_ = S::kText;
      return;
    case S::kTagName:
      if (tag_.empty() && c == '/') {
        tag_.push_back('/');
        return;
      }
      if (tag_ == "!-" && c == '-') {
        s_ = S::kComment;
        close_[0] = close_[1] = close_[2] = 0;
        return;
      }
      if (std::isalnum(static_cast<unsigned char>(c)) || (tag_ == "!" && c == '-') ||
          (tag_.empty() && c == '!')) {
        tag_ += lower(c);
        return;
      }
      if (tag_.empty() || tag_ == "/") {
        s_ = S::kText;  // "<" not starting a tag is text
        return;
      }
      s_ = S::kTag;
      [[fallthrough]];
    case S::kTag:
      if (c == '>') {
        s_ = S::kText;
      } else if (!is_space(c) && c != '/') {
        s_ = S::kAttrName;
        attr_.assign(1, lower(c));
      }
      return;
    case S::kAttrName:
      if (c == '=') {
        s_ = S::kBeforeValue;
      } else if (c == '>') {
        s_ = S::kText;
      } else if (is_space(c)) {
        s_ = S::kAfterName;
      } else {
        attr_ += lower(c);
      }
      return;
    case S::kAfterName:
      if (c == '=') {
        s_ = S::kBeforeValue;
      } else if (c == '>') {
        s_ = S::kText;
      } else if (!is_space(c)) {
        s_ = S::kAttrName;
        attr_.assign(1, lower(c));
      }
      return;
    case S::kBeforeValue:
      if (is_space(c)) return;
      if (c == '>') {
        s_ = S::kText;
        return;
      }
      s_ = S::kValue;
      url_attr_ = url_attribute(attr_);
      value_started_ = in_query_ = false;
      if (c == '"' || c == '\'') {
        quote_ = c;
        return;
      }
      quote_ = 0;
      [[fallthrough]];
    case S::kValue:
      if (quote_ ? c == quote_ : is_space(c)) {
        s_ = S::kTag;
        return;
      }
      if (!quote_ && c == '>') {
        s_ = S::kText;
        return;
      }
      value_started_ = true;
      if (c == '?' || c == '#') in_query_ = true;
      return;
  }
}

std::string HtmlContext::escape(const std::string& value, std::string_view last) const {
  if (s_ == S::kBeforeValue) {  // `name={{ . }}`: an unquoted value starts with the action
    HtmlContext v = *this;
    v.s_ = S::kValue;
    v.quote_ = 0;
    v.url_attr_ = url_attribute(attr_);
    v.value_started_ = v.in_query_ = false;
    return v.escape(value, last);
  }
  if (s_ != S::kValue) {
    if (s_ == S::kText || s_ == S::kComment) {
      // html merges with htmlEscaper; safeHtml (Alertmanager's) yields template.HTML, which
      // htmlEscaper writes as is.
      return last == "html" || last == "safeHtml" ? value : go_html_escape(value);
    }
    return go_html_escape(value);  // inside a tag outside any value: approximated
  }
  const bool nospace = quote_ == 0;
  auto attr = [&](const std::string& v) { return go_html_escape(v, nospace); };
  if (!url_attr_) return last == "html" && !nospace ? value : attr(value);
  // URL attribute: urlquery is html/template's equivalent of urlEscaper and urlNormalizer, so a
  // pipeline ending in it is not escaped again by them.
  if (in_query_) return attr(last == "urlquery" ? value : process_url(value, false));
  std::string v = value_started_ ? value : url_filter(value);
  return attr(last == "urlquery" ? v : process_url(v, true));
}

}  // namespace ruleeval::tmpl::detail
