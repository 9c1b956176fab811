// The canonical printer: Prometheus's String() style, and parse(format(e)) == e.
#include <doctest/doctest.h>

#include <string>

#include "ruleeval/parser/promql.hpp"

namespace pq = ruleeval::promql;

namespace {

std::string fmt(std::string_view in) {
  pq::ParseOptions o;
  o = ruleeval::promql::ParseOptions::all();
  auto r = pq::parse(in, o);
  INFO("input: " << in);
  if (!r) INFO("error: " << pq::format_parse_error(r.error()));
  REQUIRE(r.has_value());
  std::string out = pq::format(**r);
  auto again = pq::parse(out, o);
  INFO("formatted: " << out);
  REQUIRE(again.has_value());
  CHECK(**again == **r);
  CHECK(pq::format(**again) == out);  // idempotent
  return out;
}

}  // namespace

TEST_CASE("format prints Prometheus's canonical style") {
  CHECK(fmt("sum(rate(x[5m])) by (job)") == "sum by (job) (rate(x[5m]))");
  CHECK(fmt("sum without(a,b)(x)") == "sum without (a, b) (x)");
  CHECK(fmt("sum by () (x)") == "sum(x)");
  CHECK(fmt("topk(5,x)") == "topk(5, x)");
  CHECK(fmt("a+b*c") == "a + b * c");
  CHECK(fmt("a>bool on(x)group_left(y)b") == "a > bool on (x) group_left (y) b");
  CHECK(fmt("a * ignoring(x) group_right b") == "a * ignoring (x) group_right () b");
  CHECK(fmt("a AND b") == "a and b");
  CHECK(fmt("foo{a='b',c=~\"d\",}") == "foo{a=\"b\", c=~\"d\"}");
  CHECK(fmt("{__name__=\"foo\"}") == "{__name__=\"foo\"}");
  CHECK(fmt("{\"a.b\", x=\"y\"}") == "{\"a.b\", x=\"y\"}");
  CHECK(fmt("foo{\"la.bel\"=\"v\"}") == "foo{\"la.bel\"=\"v\"}");
  CHECK(fmt("foo[300s]") == "foo[5m]");
  CHECK(fmt("foo[90m] offset 3600") == "foo[1h30m] offset 1h");
  CHECK(fmt("foo offset -5m @ 100") == "foo @ 100.000 offset -5m");
  CHECK(fmt("foo @ end()") == "foo @ end()");
  CHECK(fmt("rate(x[5m])[1h:]") == "rate(x[5m])[1h:]");
  CHECK(fmt("rate(x[5m])[1h:1m] offset 1m @ start()") == "rate(x[5m])[1h:1m] @ start() offset 1m");
  CHECK(fmt("( x )") == "(x)");
  CHECK(fmt("- x") == "-x");
  CHECK(fmt("-2 ^ 2") == "-2 ^ 2");
  // A literal +Inf on the left of ^ loses its sign: "+Inf ^ x" would parse as +(Inf ^ x).
  CHECK(fmt("inf ^ x ^ y") == "Inf ^ x ^ y");
  CHECK(fmt("1e400 ^ 2") == "Inf ^ 2");
  CHECK(fmt("(-2) ^ 2") == "(-2) ^ 2");
  CHECK(fmt("`a\"b`") == "\"a\\\"b\"");
  CHECK(fmt("'\\n'") == "\"\\n\"");
}

TEST_CASE("numbers print like Go's %v") {
  CHECK(fmt("1") == "1");
  CHECK(fmt("1.5") == "1.5");
  CHECK(fmt("0x10") == "16");
  CHECK(fmt("100000") == "100000");
  CHECK(fmt("1000000") == "1e+06");
  CHECK(fmt("0.0001") == "0.0001");
  CHECK(fmt("0.00001") == "1e-05");
  CHECK(fmt("inf") == "+Inf");
  CHECK(fmt("-inf") == "-Inf");
  CHECK(fmt("nan") == "NaN");
  CHECK(fmt("5m") == "300");
  CHECK(fmt("-1") == "-1");
}

TEST_CASE("format round-trips a broad set of expressions") {
  const char* cases[] = {
      "histogram_quantile(0.99, sum by (le, job) (rate(http_request_duration_seconds_bucket[5m])))",
      "predict_linear(node_filesystem_avail_bytes{fstype!~\"tmpfs\"}[6h], 4 * 3600) < 0",
      "absent(up{job=\"api\"} == 1)",
      "label_replace(up, \"foo\", \"$1\", \"instance\", \"(.*):.*\")",
      "count_values without (instance) (\"version\", build_info)",
      "quantile(0.9, rate(x[1m])) by (a)",
      "1 - -1",
      "2 ^ -1 ^ 2",
      "inf ^ o ^ Z",
      "-inf ^ 2",
      "x + inf ^ 2",
      "-(1)",
      "+foo",
      "a or b and c unless d",
      "time() - process_start_time_seconds > bool 3600",
      "max_over_time(deriv(rate(x[1m])[5m:1m])[10m:])",
      "foo offset 1m @ 5",
      "foo @ 5.5 offset -1m",
      "x # trailing comment",
      "sort_by_label(foo, \"a\", \"b\")",
      "limitk(1, foo)",
      "1 == bool 1",
      "{\"metric with spaces\"}",
      "foo{\"\\u00e9\"=\"x\\ty\"}",
      "sum by (\"a.b\") (x)",
      "a / on () b",
      "a + ignoring () b",
      "vector(time())",
      "NaN",
      "-Inf",
      "0.1 + 1e-07 + 123456.75",
      "foo and on (a) bar",
  };
  for (const char* c : cases) fmt(c);
}

TEST_CASE("to_json names node types, fields and spans") {
  auto r = pq::parse("sum by (job) (rate(foo{a=\"b\"}[5m])) > 1");
  REQUIRE(r.has_value());
  std::string j = pq::to_json(**r);
  CHECK(j.starts_with("{\"type\":\"binary\",\"op\":\">\""));
  CHECK(j.find("\"type\":\"aggregate\",\"op\":\"sum\",\"grouping\":[\"job\"]") != std::string::npos);
  CHECK(j.find("\"type\":\"call\",\"func\":\"rate\"") != std::string::npos);
  CHECK(j.find("\"type\":\"matrixSelector\",\"range\":300000") != std::string::npos);
  CHECK(j.find("{\"name\":\"a\",\"op\":\"=\",\"value\":\"b\"}") != std::string::npos);
  CHECK(j.ends_with("\"span\":[0,39]}"));
}
