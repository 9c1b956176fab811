// html/template's contextual escaping (RenderOptions::html_contextual), the escaping Alertmanager
// applies to email `html`: the expected strings are what Go's html/template writes for the same
// template and value (tests/integration/notify_am_parity_test.cpp compares whole emails with a
// real Alertmanager 0.25).
#include <doctest/doctest.h>

#include "ruleeval/parser/template.hpp"

using namespace ruleeval;
using namespace ruleeval::tmpl;

namespace {

std::string html(std::string_view text, const std::string& v) {
  ParseOptions po;
  po.name = "t";
  po.dialect = Dialect::kAlertmanager;
  auto t = parse(text, po);
  if (!t) return "PARSE: " + t.error().message;
  RenderOptions ro;
  ro.html_contextual = true;
  auto r = render(*t, Value(v), alertmanager_functions(), ro);
  if (!r) return "ERR: " + r.error().message;
  return *r;
}

}  // namespace

TEST_CASE("html_contextual: element text and attribute values") {
  const std::string v = "a<b> & \"c\" 'd'+e";
  CHECK(html("<p>{{ . }}</p>", v) == "<p>a&lt;b&gt; &amp; &#34;c&#34; &#39;d&#39;&#43;e</p>");
  CHECK(html("<p title=\"{{ . }}\">x</p>", v) ==
        "<p title=\"a&lt;b&gt; &amp; &#34;c&#34; &#39;d&#39;&#43;e\">x</p>");
  CHECK(html("<p title='{{ . }}'>x</p>", "x y") == "<p title='x y'>x</p>");
  // Unquoted: white space, '=' and '`' escaped too (htmlNospaceEscaper).
  CHECK(html("<p data-x={{ . }}>x</p>", "a b=c`") == "<p data-x=a&#32;b&#61;c&#96;>x</p>");
  // `html` and `safeHtml` at the end of the pipeline: not escaped again / written as is.
  CHECK(html("<p>{{ . | html }}</p>", "<b>") == "<p>&lt;b&gt;</p>");
  CHECK(html("<p>{{ . | safeHtml }}</p>", "<b>") == "<p><b></p>");
  // A '<' that starts no tag is written as &lt; (html/template's escapeText), the value too.
  CHECK(html("1 < 2 {{ . }}", "<") == "1 &lt; 2 &lt;");
}

TEST_CASE("html_contextual: URL attributes (filter, normalizer, query escaper)") {
  CHECK(html("<a href=\"{{ . }}\">", "http://h.test/a b?x=1&y=(2)") ==
        "<a href=\"http://h.test/a%20b?x=1&amp;y=%282%29\">");
  CHECK(html("<a href=\"{{ . }}\">", "javascript:alert(1)") == "<a href=\"#ZgotmplZ\">");
  CHECK(html("<a href=\"{{ . }}\">", "MAILTO:x@y.test") == "<a href=\"MAILTO:x@y.test\">");
  CHECK(html("<img src=\"/p/{{ . }}\">", "a/b c%41%zz") == "<img src=\"/p/a/b%20c%41%25zz\">");
  CHECK(html("<a href=\"/s?q={{ . }}\">", "a&b c/d") == "<a href=\"/s?q=a%26b%20c%2fd\">");
  CHECK(html("<a href=\"/s#{{ . }}\">", "x y") == "<a href=\"/s#x%20y\">");
  CHECK(html("<a href=\"/s?r={{ . | urlquery }}\">", "a b+c") == "<a href=\"/s?r=a&#43;b%2Bc\">");
  CHECK(html("<a data-src=\"{{ . }}\">", "javascript:x") == "<a data-src=\"#ZgotmplZ\">");
  CHECK(html("<a class=\"{{ . }}\" href=\"{{ . }}\">", "x y") == "<a class=\"x y\" href=\"x%20y\">");
}
