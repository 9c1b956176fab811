// The shared escaping and RFC 3339 formatting (common/escape.hpp, common/time_format.hpp).
#include <doctest/doctest.h>

#include <string>

#include "ruleeval/common/escape.hpp"
#include "ruleeval/common/time_format.hpp"

using namespace ruleeval;

TEST_CASE("html_escape matches Go's template.HTMLEscapeString") {
  CHECK(html_escape("<a href='x' title=\"y\">&</a>") ==
        "&lt;a href=&#39;x&#39; title=&#34;y&#34;&gt;&amp;&lt;/a&gt;");
  CHECK(html_escape(std::string("a\0b", 3)) == "a\xef\xbf\xbd" "b");
  CHECK(html_escape("plain äöü") == "plain äöü");
}

TEST_CASE("xml_escape keeps line breaks in attributes and replaces what XML 1.0 cannot hold") {
  CHECK(xml_escape("a < b & c, \"d\" 'e'") == "a &lt; b &amp; c, &quot;d&quot; &apos;e&apos;");
  CHECK(xml_escape("x\ny\tz\r") == "x&#10;y&#9;z&#13;");
  CHECK(xml_escape("bell\x07") == "bell\xef\xbf\xbd");
}

TEST_CASE("url_query_escape matches Go's url.QueryEscape") {
  CHECK(url_query_escape("up == 0") == "up+%3D%3D+0");
  CHECK(url_query_escape("a-b_c.d~e") == "a-b_c.d~e");
  CHECK(url_query_escape("rate(x{job=\"a/b\"}[5m])") ==
        "rate%28x%7Bjob%3D%22a%2Fb%22%7D%5B5m%5D%29");
  CHECK(url_query_escape("\xc3\xa4") == "%C3%A4");
}

TEST_CASE("url_query_unescape decodes what url_query_escape writes, as Go's url.QueryUnescape") {
  CHECK(url_query_unescape("up+%3D%3D+0") == "up == 0");
  CHECK(url_query_unescape("a%2Bb%2fc") == "a+b/c");  // %2B is a '+', not a space
  CHECK(url_query_unescape("%C3%A4") == "\xc3\xa4");
  CHECK(url_query_unescape("100%") == "100%");  // malformed escapes are kept
  CHECK(url_query_unescape("%zz%4") == "%zz%4");
  CHECK(url_query_unescape("") == "");
  for (std::string v : {"rate(x{job=\"a/b\"}[5m])", "a b+c&d=e", "\xc3\xa4~"}) {
    CHECK(url_query_unescape(url_query_escape(v)) == v);
  }
}

TEST_CASE("format_rfc3339_ms prints Go's RFC3339Nano or Alertmanager's fixed milliseconds") {
  CHECK(format_rfc3339_ms(1'795'914'040'858) == "2026-11-29T01:00:40.858Z");
  CHECK(format_rfc3339_ms(1'795'914'040'500) == "2026-11-29T01:00:40.5Z");
  CHECK(format_rfc3339_ms(1'795'914'040'000) == "2026-11-29T01:00:40Z");
  CHECK(format_rfc3339_ms(1'795'914'040'000, Rfc3339Fraction::kMillis) ==
        "2026-11-29T01:00:40.000Z");
  CHECK(format_rfc3339_ms(0) == "1970-01-01T00:00:00Z");
  CHECK(format_rfc3339_ms(-1) == "1969-12-31T23:59:59.999Z");
}
