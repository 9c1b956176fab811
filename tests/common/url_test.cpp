#include <doctest/doctest.h>

#include "ruleeval/common/url.hpp"

using namespace ruleeval;

TEST_CASE("redact_url hides the password as Go's url.Redacted does") {
  CHECK(redact_url("http://user:secret@host:9090/prom") == "http://user:xxxxx@host:9090/prom");
  CHECK(redact_url("https://u:p%40ss@h/?q=1") == "https://u:xxxxx@h/?q=1");
  CHECK(redact_url("http://user@host/") == "http://user@host/");  // no password: unchanged
  CHECK(redact_url("http://host:9090") == "http://host:9090");
  CHECK(redact_url("not a url") == "not a url");
  // An '@' in the path is not userinfo.
  CHECK(redact_url("http://host/a@b:c") == "http://host/a@b:c");
}

TEST_CASE("redact_urls_in redacts every URL in a message") {
  CHECK(redact_urls_in("Post \"http://a:b@h:1/api/v1/query\": connection refused") ==
        "Post \"http://a:xxxxx@h:1/api/v1/query\": connection refused");
  CHECK(redact_urls_in("x https://u:p@one/ and http://v:q@two/ y") ==
        "x https://u:xxxxx@one/ and http://v:xxxxx@two/ y");
  CHECK(redact_urls_in("no url here") == "no url here");
}

TEST_CASE("split_url_query keeps a query string apart from the path") {
  auto s = split_url_query("http://h/?token=X");
  CHECK(s.base == "http://h/");
  CHECK(s.query == "?token=X");
  auto t = split_url_query("http://h/prom");
  CHECK(t.base == "http://h/prom");
  CHECK(t.query.empty());
}
