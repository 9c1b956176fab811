#include <doctest/doctest.h>

#include "ruleeval/parser/duration.hpp"

using ruleeval::format_duration;
using ruleeval::parse_duration;

TEST_CASE("durations combine units from largest to smallest") {
  CHECK(parse_duration("1h30m").value() == 90 * 60 * 1000);
  CHECK(parse_duration("54s321ms").value() == 54321);
  CHECK(parse_duration("0").value() == 0);
  CHECK(parse_duration("1y").value() == 365LL * 24 * 3600 * 1000);
  CHECK(parse_duration("2w1d").value() == 15LL * 24 * 3600 * 1000);
  CHECK(parse_duration("5m").value() == 300000);
}

TEST_CASE("malformed durations are rejected with the input in the message") {
  for (const char* bad : {"", "1.5h", "1m1h", "1h1h", "-5m", "5", "h", "5x", "1h 30m", "0x5m"}) {
    CAPTURE(bad);
    auto r = parse_duration(bad);
    REQUIRE_FALSE(r.has_value());
  }
  CHECK(parse_duration("1.5h").error().message == "not a valid duration string: \"1.5h\"");
  CHECK_FALSE(parse_duration("99999999999999999999y").has_value());
}

TEST_CASE("durations print in Prometheus's canonical form") {
  CHECK(format_duration(0) == "0s");
  CHECK(format_duration(90LL * 60 * 1000) == "1h30m");
  CHECK(format_duration(1500) == "1s500ms");
  CHECK(format_duration(8LL * 24 * 3600 * 1000) == "1w1d");
  CHECK(format_duration(-300000) == "-5m");
}
