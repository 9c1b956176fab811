// Go html/template's plain HTML escaping (html.go's htmlReplacementTable and
// htmlNospaceReplacementTable for plain strings).
#include "template_html.hpp"

namespace ruleeval::tmpl::detail {

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
      case '\0': out += nospace ? "&#xfffd;" : "\xEF\xBF\xBD"; break;
      default:
        if (nospace) {
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

}  // namespace ruleeval::tmpl::detail
