// Escaping for the text formats ruleeval writes: HTML (status page, email bodies, Go templates'
// `html`), XML (JUnit, checkstyle) and URL query strings. One implementation each, with the
// semantics of the Go function the output has to match. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace ruleeval {

// Go's template.HTMLEscapeString: & < > " ' become &amp; &lt; &gt; &#34; &#39;, NUL becomes
// U+FFFD; every other byte stays.
std::string html_escape(std::string_view s);

// XML 1.0 text and attribute values: & < > " ' as entities, tab, newline and carriage return as
// character references (so that attribute values keep them), and the other control characters,
// which XML 1.0 cannot hold, as U+FFFD.
std::string xml_escape(std::string_view s);

// Go's url.QueryEscape: letters, digits and - _ . ~ stay, space becomes '+', every other byte
// %XX (upper-case hex).
std::string url_query_escape(std::string_view s);

// The inverse, as Go's url.QueryUnescape decodes a query key or value: '+' becomes a space and
// %XX (either case) its byte. A '%' not followed by two hex digits, which Go refuses, is kept
// as it is (libcurl's curl_easy_unescape did the same).
std::string url_query_unescape(std::string_view s);

}  // namespace ruleeval
