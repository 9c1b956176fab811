#include <doctest/doctest.h>
#include <httplib.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "../support/local_http_server.hpp"
#include "ruleeval/engine/querier.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;

namespace {

std::string canned(const std::string& name) {
  std::ifstream in(std::string(RULEEVAL_TESTDATA_DIR) + "/engine/api/" + name);
  REQUIRE_MESSAGE(in.good(), "missing test data " << name);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A local HTTP server on a free port, stopped when the test ends (also on failure).
using LocalServer = ruleeval::testing::LocalHttpServer;

}  // namespace

TEST_CASE("a vector response decodes labels, exact millisecond times and special values") {
  auto r = decode_query_response(canned("vector.json"), 200);
  REQUIRE(r.has_value());
  REQUIRE(std::holds_alternative<Vector>(r->value));
  CHECK(result_type_name(r->value) == "vector");
  const auto& vec = std::get<Vector>(r->value);
  REQUIRE(vec.size() == 4);
  CHECK(vec[0].metric == Labels{{"__name__", "up"}, {"instance", "a:9090"}, {"job", "api"}});
  CHECK(vec[0].t == 1'700'000'000'123);
  CHECK(vec[0].v == 1);
  CHECK(std::isnan(vec[1].v));
  CHECK(vec[2].v == INFINITY);
  CHECK(vec[3].metric.empty());
  CHECK(vec[3].v == doctest::Approx(-0.0025));
}

TEST_CASE("matrix, scalar and string responses decode") {
  SUBCASE("matrix") {
    auto r = decode_query_response(canned("matrix.json"), 200);
    REQUIRE(r.has_value());
    REQUIRE(std::holds_alternative<Matrix>(r->value));
    const auto& m = std::get<Matrix>(r->value);
    REQUIRE(m.size() == 2);
    CHECK(m[0].metric.get("job") == "worker");
    REQUIRE(m[0].points.size() == 3);
    CHECK(m[0].points[1].t == 1'700'000'015'500);
    CHECK(m[0].points[1].v == 12);
    CHECK(m[0].points[2].t == 1'700'000'030'250);
    CHECK(m[0].points[2].v == -INFINITY);
    CHECK(m[1].points.size() == 1);
  }
  SUBCASE("scalar") {
    auto r = decode_query_response(canned("scalar.json"), 200);
    REQUIRE(r.has_value());
    REQUIRE(std::holds_alternative<Scalar>(r->value));
    CHECK(std::get<Scalar>(r->value).t == 1'700'000'000'500);
    CHECK(std::get<Scalar>(r->value).v == 42);
  }
  SUBCASE("string") {
    auto r = decode_query_response(canned("string.json"), 200);
    REQUIRE(r.has_value());
    REQUIRE(std::holds_alternative<String>(r->value));
    CHECK(std::get<String>(r->value).v == "hello \"world\"");
    CHECK(std::get<String>(r->value).t == 1'700'000'000'000);
  }
}

TEST_CASE("warnings and infos are kept") {
  auto r = decode_query_response(canned("warnings.json"), 200);
  REQUIRE(r.has_value());
  CHECK(std::get<Vector>(r->value).empty());
  REQUIRE(r->warnings.size() == 1);
  CHECK(r->warnings[0].find("mix of histograms") != std::string::npos);
  REQUIRE(r->infos.size() == 1);
}

TEST_CASE("an error envelope keeps the HTTP status, errorType and message") {
  auto r = decode_query_response(canned("error_bad_data.json"), 400);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().kind == ErrorKind::kApi);
  CHECK(r.error().http_status == 400);
  CHECK(r.error().code == "bad_data");
  CHECK(r.error().message.find("unexpected right parenthesis") != std::string::npos);
  CHECK(r.error().to_string().starts_with("HTTP 400 (bad_data): invalid parameter"));
}

TEST_CASE("malformed and unexpected bodies give clear errors") {
  SUBCASE("truncated JSON names the offset") {
    auto r = decode_query_response(canned("truncated.json"), 200);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == ErrorKind::kMalformed);
    CHECK(r.error().message.find("invalid JSON at offset") != std::string::npos);
  }
  SUBCASE("a proxy's HTML error page is an HTTP error with a snippet") {
    auto r = decode_query_response("<html>502 Bad Gateway</html>", 502);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == ErrorKind::kHttp);
    CHECK(r.error().http_status == 502);
    CHECK(r.error().message.find("Bad Gateway") != std::string::npos);
  }
  SUBCASE("native histograms are refused by name") {
    auto r = decode_query_response(canned("histogram.json"), 200);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message.find("native histogram") != std::string::npos);
  }
  SUBCASE("wrong shapes") {
    for (
        const char* body :
        {"[]", "{}", R"({"status":"success"})", R"({"status":"weird","data":{}})",
         R"({"status":"success","data":{"resultType":"vector","result":{}}})",
         R"({"status":"success","data":{"resultType":"vector","result":[{"value":[1,2]}]}})",
         R"({"status":"success","data":{"resultType":"vector","result":[{"value":[1,"x"]}]}})",
         R"({"status":"success","data":{"resultType":"vector","result":[{"value":["a","1"]}]}})",
         R"({"status":"success","data":{"resultType":"matrix","result":[{"values":[[1]]}]}})",
         R"({"status":"success","data":{"resultType":"bogus","result":[]}})",
         R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":1},"value":[1,"1"]}]}})",
         ""}) {
      CAPTURE(body);
      auto r = decode_query_response(body, 200);
      CHECK_FALSE(r.has_value());
    }
  }
}

TEST_CASE("sample values and timestamps parse like the Prometheus API writes them") {
  CHECK(parse_prom_value("1e+00").value() == 1);
  CHECK(parse_prom_value("+Inf").value() == INFINITY);
  CHECK(parse_prom_value("-Inf").value() == -INFINITY);
  CHECK(std::isnan(parse_prom_value("NaN").value()));
  CHECK_FALSE(parse_prom_value("").has_value());
  CHECK_FALSE(parse_prom_value("1x").has_value());
  CHECK(parse_prom_time("1435781451.781").value() == 1'435'781'451'781);
  CHECK(parse_prom_time("1435781451.7").value() == 1'435'781'451'700);
  CHECK(parse_prom_time("1435781451").value() == 1'435'781'451'000);
  CHECK(parse_prom_time("1.5e3").value() == 1'500'000);
  CHECK(parse_prom_time("-1.5").value() == -1'500);
  CHECK_FALSE(parse_prom_time("12a").has_value());
  CHECK_FALSE(parse_prom_time(".").has_value());
  CHECK(format_prom_time(1'435'781'451'781) == "1435781451.781");
  CHECK(format_prom_time(1'435'781'451'700) == "1435781451.7");
  CHECK(format_prom_time(60'000) == "60");
  CHECK(format_prom_time(-1'500) == "-1.5");
}

TEST_CASE("the HTTP querier posts form queries with auth, headers and extra params") {
  LocalServer srv;
  std::string seen_auth, seen_tenant, seen_query, seen_time, seen_extra, seen_ctype, seen_step;
  srv.server().Post("/prom/api/v1/query", [&](const httplib::Request& req, httplib::Response& res) {
    seen_auth = req.get_header_value("Authorization");
    seen_tenant = req.get_header_value("X-Scope-OrgID");
    seen_ctype = req.get_header_value("Content-Type");
    seen_query = req.get_param_value("query");
    seen_time = req.get_param_value("time");
    seen_extra = req.get_param_value("nocache");
    res.set_content(canned("vector.json"), "application/json");
  });
  srv.server().Post("/prom/api/v1/query_range",
                    [&](const httplib::Request& req, httplib::Response& res) {
                      seen_step = req.get_param_value("step");
                      res.set_content(canned("matrix.json"), "application/json");
                    });

  HttpClientConfig cfg;
  cfg.url = srv.url() + "/prom/";
  cfg.headers = {{"X-Scope-OrgID", "team-a"}};
  cfg.query_params = {{"nocache", "1"}};

  SUBCASE("bearer token from a file, re-read on every request") {
    std::string path = "/tmp/ruleeval_querier_test_token_" + std::to_string(srv.url().size()) +
                       std::to_string(reinterpret_cast<uintptr_t>(&srv));
    { std::ofstream(path) << "s3cret\n"; }
    cfg.bearer_token_file = path;
    HttpQuerier q(cfg);
    auto r = q.query(R"(up{job="a b&c"} == 1)", 1'700'000'000'123);
    REQUIRE_MESSAGE(r.has_value(), r.error().to_string());
    CHECK(std::get<Vector>(r->value).size() == 4);
    CHECK(seen_auth == "Bearer s3cret");
    CHECK(seen_tenant == "team-a");
    CHECK(seen_ctype == "application/x-www-form-urlencoded");
    CHECK(seen_query == R"(up{job="a b&c"} == 1)");
    CHECK(seen_time == "1700000000.123");
    CHECK(seen_extra == "1");
    { std::ofstream(path) << "rotated"; }
    REQUIRE(q.query("up", 0).has_value());
    CHECK(seen_auth == "Bearer rotated");
    std::remove(path.c_str());
    auto missing = q.query("up", 0);
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().kind == ErrorKind::kConfig);
    CHECK(missing.error().message.find("bearer_token_file") != std::string::npos);
  }
  SUBCASE("basic auth") {
    cfg.basic_username = "user";
    cfg.basic_password = "pass";
    HttpQuerier q(cfg);
    REQUIRE(q.query("up", 0).has_value());
    CHECK(seen_auth == "Basic dXNlcjpwYXNz");
  }
  SUBCASE("range queries send the step in seconds") {
    HttpQuerier q(cfg);
    auto r = q.query_range("demo_queue_depth", 0, 60'000, 15'000);
    REQUIRE(r.has_value());
    CHECK(std::holds_alternative<Matrix>(r->value));
    CHECK(seen_step == "15");
  }
}

TEST_CASE("the HTTP querier reports API errors, size limits and unreachable servers") {
  LocalServer srv;
  srv.server().Post("/api/v1/query", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.get_param_value("query") == "bad") {
      res.status = 422;
      res.set_content(
          R"({"status":"error","errorType":"execution","error":"many-to-many matching not allowed"})",
          "application/json");
      return;
    }
    res.set_content(canned("matrix.json"), "application/json");
  });
  HttpClientConfig cfg;
  cfg.url = srv.url();

  SUBCASE("execution error with 422") {
    HttpQuerier q(cfg);
    auto r = q.query("bad", 0);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().http_status == 422);
    CHECK(r.error().code == "execution");
    CHECK(r.error().message == "many-to-many matching not allowed");
  }
  SUBCASE("a response over the limit fails instead of growing") {
    cfg.max_response_bytes = 64;
    HttpQuerier q(cfg);
    auto r = q.query("up", 0);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == ErrorKind::kTransport);
    CHECK(r.error().message.find("larger than the limit of 64 bytes") != std::string::npos);
  }
  SUBCASE("connection refused names the URL") {
    cfg.url = "http://127.0.0.1:1";
    cfg.connect_timeout_ms = 2000;
    HttpQuerier q(cfg);
    auto r = q.query("up", 0);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == ErrorKind::kTransport);
    CHECK(r.error().message.find("http://127.0.0.1:1/api/v1/query") != std::string::npos);
  }
}
