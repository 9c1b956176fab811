// Contextual escaping of action output as Go's html/template does it, for the HTML contexts
// Alertmanager's email templates use: element text (htmlEscaper), quoted and unquoted attribute
// values (attrEscaper / htmlNospaceEscaper) and URL-valued attributes (href, src, ... and names
// containing src/uri/url: urlFilter + urlNormalizer at the start and before the query,
// urlEscaper in the query or fragment, then attrEscaper). The context is followed over the
// output already written (literal text; escaped values cannot change it), which for ordinary
// templates is the context html/template computes from the template text. A pipeline ending in
// `html` or `urlquery` is not escaped twice (html/template's predefined-escaper merge); one
// ending in `safeHtml` is written as is in element text (Go's template.HTML).
// Not modelled: <script>/<style> bodies and on*/style attributes (JS/CSS escapers); values there
// get the HTML escaper; template.HTML (safeHtml) inside attribute values (Go strips its tags).
// Thread-safety: one HtmlContext per render.
#pragma once

#include <string>
#include <string_view>

namespace ruleeval::tmpl::detail {

class HtmlContext {
 public:
  // Advances the context over output written since the last call (`out` is the whole output).
  void follow(const std::string& out);
  // The escaped form of an action's value in the current context; `last` is the identifier of
  // the pipeline's last command ("" when it is not a function call).
  std::string escape(const std::string& value, std::string_view last) const;

 private:
  enum class S { kText, kComment, kTagName, kTag, kAttrName, kAfterName, kBeforeValue, kValue };
  void step(char c);
  S s_ = S::kText;
  size_t seen_ = 0;
  std::string tag_, attr_;
  char close_[3] = {0, 0, 0};
  char quote_ = 0;
  bool url_attr_ = false;
  bool value_started_ = false, in_query_ = false;
};

std::string go_html_escape(std::string_view s, bool nospace = false);

}  // namespace ruleeval::tmpl::detail
