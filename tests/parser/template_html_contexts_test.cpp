// html/template's JS, CSS, URL, srcset, RCDATA and attribute-name contexts, text rewriting and
// escaping errors (parser/gotmpl/src/html_*.cpp). Every expected string is what Alertmanager
// 0.25 (Go 1.19.8's html/template) wrote for the same template and value through an email
// receiver; tests/integration/notify_am_html_contexts_test.cpp compares whole emails live.
#include <doctest/doctest.h>

#include "ruleeval/parser/template.hpp"

using namespace ruleeval;
using namespace ruleeval::tmpl;

namespace {

Value data() {
  NotificationData d;
  d.receiver = "r";
  d.status = "firing";
  NotificationAlert a;
  a.status = "firing";
  a.labels = Labels{{"alertname", "c3"}, {"v", "a\"b"}};
  a.annotations = Labels{{"s", "x<y"}};
  a.starts_at = Time{1'796'378'400'123'000'000};  // 2026-12-04T10:00:00.123Z
  a.generator_url = "http://p.test/g";
  a.fingerprint = "2cf4704d1a9c3fce";
  d.alerts.push_back(a);
  d.common_labels = a.labels;
  d.common_annotations = a.annotations;
  return notification_template_data(d);
}

std::string render_with(std::string_view text, const Value& dot) {
  ParseOptions po;
  po.name = "";
  po.dialect = Dialect::kAlertmanager;
  auto t = parse(text, po);
  if (!t) return "PARSE: " + t.error().message;
  RenderOptions ro;
  ro.html_contextual = true;
  auto r = render(*t, dot, alertmanager_functions(), ro);
  if (!r) return "ERR: " + r.error().message;
  return *r;
}

std::string html(std::string_view text, const std::string& v) { return render_with(text, Value(v)); }

// Quotes, a backtick, </script>, an HTML comment, & + \ /, a newline, U+2028 and é.
const std::string kNasty = "a\"b'c`d</script><!--x-->&+\\/\n\u2028\u00e9";

}  // namespace

TEST_CASE("html/template JS string and regexp contexts (jsStrEscaper, jsRegexpEscaper)") {
  const std::string want =
      "a\\u0022b\\u0027c\\u0060d\\u003c\\/script\\u003e\\u003c!--x--\\u003e\\u0026\\u002b\\\\\\/"
      "\\n\\u2028\u00e9";
  CHECK(html("<script>var s = \"{{ . }}\";</script>", kNasty) ==
        "<script>var s = \"" + want + "\";</script>");
  CHECK(html("<script>var s = '{{ . }}';</script>", kNasty) ==
        "<script>var s = '" + want + "';</script>");
  CHECK(html("<script>var r = /{{ . }}/; var e = /{{ \"\" }}/;</script>", kNasty) ==
        "<script>var r = /a\\u0022b\\u0027c`d\\u003c\\/script\\u003e\\u003c!\\-\\-x\\-\\-\\u003e"
        "\\u0026\\u002b\\\\\\/\\n\\u2028\u00e9/; var e = /(?:)/;</script>");
  // Control characters: \uXXXX except \t \n \f \r; DEL, U+FDD0 and U+FFFE as they are.
  const std::string ctl = std::string("\0\t\v\f\r\x01\x7f", 7) + "\u2029x\ufdd0\ufffe";
  CHECK(html("<script>var s = \"{{ . }}\";</script>", ctl) ==
        "<script>var s = \"\\u0000\\t\\u000b\\f\\r\\u0001\x7f\\u2029x\ufdd0\ufffe\";</script>");
}

TEST_CASE("html/template JS value context: JSON, padding, comments dropped") {
  CHECK(html("<script>var s = {{ . }};</script>", kNasty) ==
        "<script>var s = \"a\\\"b'c`d\\u003c/script\\u003e\\u003c!--x--\\u003e\\u0026+\\\\/\\n"
        "\\u2028\u00e9\";</script>");
  const std::string ctl = std::string("\0\t\v\f\r\x01\x7f", 7);
  CHECK(html("<script>var j = {{ . }};</script>", ctl) ==
        "<script>var j = \"\\u0000\\t\\u000b\\u000c\\r\\u0001\x7f\";</script>");
  // Numbers are padded; /* */ becomes a space, // ... up to the line end is dropped.
  CHECK(render_with("<script>var n = {{ len .Alerts }}; /* c */ x = 1 // y\n</script>", data()) ==
        "<script>var n =  1 ;   x = 1 \n</script>");
  // Maps, Alertmanager's structs with their json names, time.Time as RFC 3339.
  CHECK(render_with("<script>var m = {{ .CommonLabels }}; var a = {{ .Alerts }};</script>",
                    data()) ==
        "<script>var m = {\"alertname\":\"c3\",\"v\":\"a\\\"b\"}; var a = "
        "[{\"status\":\"firing\",\"labels\":{\"alertname\":\"c3\",\"v\":\"a\\\"b\"},"
        "\"annotations\":{\"s\":\"x\\u003cy\"},\"startsAt\":\"2026-12-04T10:00:00.123Z\","
        "\"endsAt\":\"0001-01-01T00:00:00Z\",\"generatorURL\":\"http://p.test/g\","
        "\"fingerprint\":\"2cf4704d1a9c3fce\"}];</script>");
  // Event handler attributes: the JS escapers, then the attribute escaper.
  CHECK(html("<a onclick=\"f({{ . }}, '{{ . }}')\">x</a>", "a\"b'<") ==
        "<a onclick=\"f(&#34;a\\&#34;b&#39;\\u003c&#34;, 'a\\u0022b\\u0027\\u003c')\">x</a>");
  // Entities in attribute text are decoded before the transitions: &quot; opens a JS string.
  CHECK(html("<a onclick=\"var a = &quot;{{ . }}&quot;\">x</a>", "</b>") ==
        "<a onclick=\"var a = &quot;\\u003c\\/b\\u003e&quot;\">x</a>");
  // <script type> other than JavaScript is text; application/json is JS.
  CHECK(html("<script type=\"text/template\">{{ . }}</script><script "
             "type=\"application/json\">{{ . }}</script>",
             "<b>") ==
        "<script type=\"text/template\">&lt;b&gt;</script><script "
        "type=\"application/json\">\"\\u003cb\\u003e\"</script>");
}

TEST_CASE("html/template CSS contexts (cssValueFilter, cssEscaper, url())") {
  CHECK(html("<style>p { color: {{ . }}; }</style>", "x<y>;(z)") ==
        "<style>p { color: ZgotmplZ; }</style>");
  CHECK(html("<p style=\"color: {{ . }}; width: 10px\">x</p>", "firing") ==
        "<p style=\"color: firing; width: 10px\">x</p>");
  CHECK(html("<p style=\"x: {{ . }}\">", "a--b") == "<p style=\"x: ZgotmplZ\">");
  CHECK(html("<p style=\"x: {{ . }}\">", "Expression(1)") == "<p style=\"x: ZgotmplZ\">");
  CHECK(html("<style>p { y: \"{{ . }}\" } /* c */ </style>", kNasty) ==
        "<style>p { y: \"a\\22 b\\27 c`d\\3c\\2fscript\\3e\\3c!--x--\\3e\\26\\2b\\\\\\2f \\a"
        "\u2028\u00e9\" }   </style>");
  CHECK(html("<p style=\"background: url({{ . }})\">", "javascript:alert(1)") ==
        "<p style=\"background: url(#ZgotmplZ)\">");
  CHECK(html("<style>a{background:url('/x/{{ . }}')}</style>", kNasty) ==
        "<style>a{background:url('/x/a%22b%27c%60d%3c/script%3e%3c!--x--%3e&+%5c/%0a%e2%80%a8"
        "%c3%a9')}</style>");
}

TEST_CASE("html/template URL, srcset, RCDATA, attribute names, typed HTML") {
  const std::string u = "http://h.test/a b?x=\u00e9&y=%zz#f g";
  CHECK(html("<a href=\"{{ . }}\">a</a>", u) ==
        "<a href=\"http://h.test/a%20b?x=%c3%a9&amp;y=%25zz#f%20g\">a</a>");
  CHECK(html("<a href=\"/x?q={{ . }}\">b</a>", u) ==
        "<a href=\"/x?q=http%3a%2f%2fh.test%2fa%20b%3fx%3d%c3%a9%26y%3d%25zz%23f%20g\">b</a>");
  CHECK(html("<img srcset=\"{{ . }} 2x, /y.png {{ \"ok\" }}\">", u) ==
        "<img srcset=\"#ZgotmplZ 2x, /y.png ok\">");
  // The context comes from the template text: a second action at the URL's start is filtered.
  CHECK(html("<a href=\"{{ . }}{{ . }}\">y</a>", "javascript:x") ==
        "<a href=\"#ZgotmplZ#ZgotmplZ\">y</a>");
  CHECK(html("<p title={{ . }}>x</p>", "") == "<p title=>x</p>");
  CHECK(html("<title>{{ . }}</title><textarea>{{ . | safeHtml }}</textarea>",
             "<b>bold</b> & <i>it</i>") ==
        "<title>&lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;it&lt;/i&gt;</title><textarea>&lt;b&gt;"
        "bold&lt;/b&gt; & &lt;i&gt;it&lt;/i&gt;</textarea>");
  CHECK(html("<p title=\"{{ . | safeHtml }}\" data-x={{ . | safeHtml }}>{{ . | safeHtml }}</p>"
             "<script>var h = {{ . | safeHtml }};</script>",
             "<b>bold</b> & <i>it</i>") ==
        "<p title=\"bold & it\" data-x=bold&#32;&&#32;it><b>bold</b> & <i>it</i></p><script>var h "
        "= \"\\u003cb\\u003ebold\\u003c/b\\u003e \\u0026 \\u003ci\\u003eit\\u003c/i\\u003e\";"
        "</script>");
  CHECK(html("<p {{ \"ok\" }}=\"1\" data-{{ \"ok\" }}=2 {{ . }}>x</p>", "<b>") ==
        "<p ok=\"1\" data-ok=2 ZgotmplZ>x</p>");
  const std::string ctl = std::string("\0\t\v\f\x01\x7f", 6) + "\u2029x\ufdd0\ufffe";
  CHECK(html("<p title={{ . }}>{{ . }}</p>", ctl) ==
        "<p title=&#xfffd;&#9;&#11;&#12;\x01\x7f\u2029x&#xfdd0;&#xfffe;>\ufffd\t\v\f\x01\x7f"
        "\u2029x\ufdd0\ufffe</p>");
  // Predefined escapers at the end of a pipeline merge with the contextual ones.
  CHECK(html("<a href=\"/x?{{ . | urlquery }}\">{{ html . }}</a><p title=\"{{ . | html }}\">",
             "<b>") ==
        "<a href=\"/x?%3Cb%3E\">&lt;b&gt;</a><p title=\"&lt;b&gt;\">");
  // Comments in text are dropped; a template called in an attribute and in JS is escaped there.
  CHECK(html("1 < 2 {{ \"ok\" }} <!-- cmt {{ . }} --> end <!DOCTYPE html> <p>a</p>", "x") ==
        "1 &lt; 2 ok  end <!DOCTYPE html> <p>a</p>");
  CHECK(html("{{ define \"in\" }}{{ . }}{{ end }}<p title=\"{{ template \"in\" . }}\"><script>var "
             "x = {{ template \"in\" . }};</script>",
             "<b>") ==
        "<p title=\"&lt;b&gt;\"><script>var x = \"\\u003cb\\u003e\";</script>");
}

TEST_CASE("html/template refuses what Go refuses, with Go's messages") {
  CHECK(html("<script>var s = `{{ . }}`;</script>", "x") ==
        "ERR: html/template::1:20: {{.}} appears in a JS template literal");
  CHECK(html("<p title={{ . | html }}>x</p>", "x") ==
        "ERR: html/template::1:12: predefined escaper \"html\" disallowed in template");
  CHECK(html("<p>{{ . | html | printf \"%s\" }}</p>", "x") ==
        "ERR: html/template::1:6: predefined escaper \"html\" disallowed in template");
  CHECK(html("<a href=\"{{ if . }}/x?{{ end }}{{ . }}\">x</a>", "x") ==
        "ERR: html/template::1:34: {{.}} appears in an ambiguous context within a URL");
  CHECK(html("{{ if . }}<a href=\"{{ else }}<p>{{ end }}\">", "x") ==
        "ERR: html/template::1:6: {{if}} branches end in different contexts: {stateURL "
        "delimDoubleQuote urlPartNone jsCtxRegexp attrURL elementNone <nil>}, {stateText "
        "delimNone urlPartNone jsCtxRegexp attrNone elementNone <nil>}");
  CHECK(html("<a href=\"x", "x") ==
        "ERR: html/template: ends in a non-text context: {stateURL delimDoubleQuote "
        "urlPartPreQuery jsCtxRegexp attrURL elementNone <nil>}");
  CHECK(html("1 < 2 {{ . }} a<b <!-- cmt {{ . }} --> end", "x") ==
        "ERR: html/template: \"<\" in attribute name: \" <!-- cmt \"");
  CHECK(html("<p>{{ template \"nope\" . }}</p>", "x") ==
        "ERR: html/template::1:15: no such template \"nope\"");
  CHECK(render_with("{{ range .Alerts }}<a href=\"{{ if .Status }}{{ break }}{{ end }}x\">{{ end }}",
                    data()) ==
        "ERR: html/template::1:47: at range loop break: {{range}} branches end in different "
        "contexts: {stateText delimNone urlPartNone jsCtxRegexp attrNone elementNone <nil>}, "
        "{stateURL delimDoubleQuote urlPartNone jsCtxRegexp attrURL elementNone <nil>}");
  CHECK(render_with("{{ range .Alerts }}<a href=\"{{ end }}\">", data()) ==
        "ERR: html/template::1:9: on range loop re-entry: {{range}} branches end in different "
        "contexts: {stateURL delimDoubleQuote urlPartNone jsCtxRegexp attrURL elementNone <nil>}, "
        "{stateTag delimNone urlPartNone jsCtxRegexp attrNone elementNone <nil>}");
  CHECK(html("<p title=x{{ . }} class=a\"b>x</p>", "x") ==
        "ERR: html/template: \"\\\"\" in unquoted attr: \"a\\\"b\"");
}

TEST_CASE("html/template escaping of deeply nested loops is bounded, not a hang") {
  std::string t;
  for (int i = 0; i < 40; ++i) t += "{{ range . }}<a href=\"x\">";
  for (int i = 0; i < 40; ++i) t += "{{ end }}";
  const std::string r = html(t, "x");
  CHECK(r.find("template too complex to escape") != std::string::npos);
  std::string ok;
  for (int i = 0; i < 5; ++i) ok += "{{ range . }}<b>{{ . }}</b>";
  for (int i = 0; i < 5; ++i) ok += "{{ end }}";
  CHECK(html(ok, "x").find("too complex") == std::string::npos);  // escaped, then run
}
