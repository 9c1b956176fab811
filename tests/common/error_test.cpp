// Error's kinds: the one-liner each kind renders, so that a backend's failure reads the same
// wherever it is shown (rule health, /api/v1/rules, logs, the status page).
#include <doctest/doctest.h>

#include "ruleeval/common/error.hpp"

using ruleeval::Error;
using ruleeval::ErrorKind;
using ruleeval::SourceLocation;

namespace {
Error backend(ErrorKind kind, int status, std::string code, std::string message) {
  Error e(kind, std::move(message));
  e.http_status = status;
  e.code = std::move(code);
  return e;
}
}  // namespace

TEST_CASE("an Error is generic unless a producer says otherwise") {
  Error e("bad thing", {"rules.yaml", 3, 7});
  CHECK(e.kind == ErrorKind::kGeneric);
  CHECK(e.http_status == 0);
  CHECK(e.code.empty());
  CHECK(e.kind_prefix().empty());
  CHECK(e.to_string() == "rules.yaml:3:7: bad thing");
  CHECK(ruleeval::make_error("x").error().kind == ErrorKind::kGeneric);
}

TEST_CASE("each kind renders its prefix between the location and the message") {
  CHECK(Error(ErrorKind::kParse, "unexpected end of input", SourceLocation{"", 1, 5}).to_string() ==
        "1:5: parse error: unexpected end of input");
  CHECK(Error(ErrorKind::kParse, "unexpected \")\"", SourceLocation{"r.yaml", 2, 9}).to_string() ==
        "r.yaml:2:9: parse error: unexpected \")\"");
  CHECK(Error(ErrorKind::kConfig, "open /t: no such file").to_string() ==
        "configuration: open /t: no such file");
  CHECK(Error(ErrorKind::kTransport, "http://h/api/v1/query: connection refused").to_string() ==
        "request failed: http://h/api/v1/query: connection refused");
  CHECK(backend(ErrorKind::kApi, 422, "execution", "many-to-many").to_string() ==
        "HTTP 422 (execution): many-to-many");
  CHECK(backend(ErrorKind::kHttp, 502, "", "http://h/api/v1/query: Bad Gateway").to_string() ==
        "HTTP 502: http://h/api/v1/query: Bad Gateway");
  CHECK(backend(ErrorKind::kMalformed, 200, "", "\"data\" is missing").to_string() ==
        "HTTP 200: malformed response: \"data\" is missing");
  CHECK(backend(ErrorKind::kMalformed, 0, "", "truncated").to_string() ==
        "malformed response: truncated");
}

TEST_CASE("the end column is part of the location but not of the one-liner") {
  SourceLocation at{"", 1, 10};
  at.end_col = 13;
  CHECK(at.to_string() == "1:10");
  CHECK(Error(ErrorKind::kParse, "m", at).to_string() == "1:10: parse error: m");
}
