#include <doctest/doctest.h>
#include <httplib.h>

#include "../support/local_http_server.hpp"
#include "ruleeval/engine/querier_rule.hpp"
#include "ruleeval/parser/promql.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;

TEST_CASE("ruleeval.yaml HTTP settings map onto the client configs") {
  rules::HttpSettings s;
  s.url = "https://prom:9090";
  s.timeout_ms = 1234;
  s.basic_username = "u";
  s.basic_password = "p";
  s.bearer_token_file = "/run/token";
  s.tls.ca_file = "/ca.pem";
  s.tls.insecure_skip_verify = true;
  s.headers = {{"X-Scope-OrgID", "t1"}};
  s.params = {{"nocache", "1"}};
  HttpClientConfig c = http_client_config(s);
  CHECK(c.url == "https://prom:9090");
  CHECK(c.timeout_ms == 1234);
  CHECK(c.basic_username == "u");
  CHECK(c.basic_password == "p");
  CHECK(c.bearer_token_file == "/run/token");
  CHECK(c.ca_file == "/ca.pem");
  CHECK(c.insecure_skip_verify);
  CHECK(c.headers == s.headers);
  CHECK(c.query_params == s.params);
  CHECK(c.gzip);

  rules::RemoteWriteConfig rw;
  rw.http.url = "http://vm:8428/api/v1/write";
  rw.queue_capacity = 77;
  rw.max_retries = 3;
  auto r = remote_write_config(rw);
  CHECK(r.http.url == rw.http.url);
  CHECK(r.queue_capacity == 77);
  CHECK(r.max_attempts == 4);
}

TEST_CASE("the backend rule querier sends the expression text and maps errors") {
  std::string seen;
  ruleeval::testing::LocalHttpServer srv([&](httplib::Server& s) {
    s.Post("/api/v1/query", [&](const httplib::Request& req, httplib::Response& res) {
      seen = req.get_param_value("query");
      if (seen == "bad") {
        res.status = 422;
        res.set_content(R"({"status":"error","errorType":"execution","error":"boom"})",
                        "application/json");
        return;
      }
      res.set_content(
          R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"b"},"value":[10,"2"]}]}})",
          "application/json");
    });
  });
  const int port = srv.port();

  HttpClientConfig cfg;
  cfg.url = "http://127.0.0.1:" + std::to_string(port);
  HttpRuleQuerier q(cfg);
  auto expr = promql::parse("up  ==  1");
  REQUIRE(expr.has_value());
  auto ok = q.instant(**expr, "up  ==  1", 10'000);
  CHECK(seen == "up  ==  1");
  REQUIRE(ok.has_value());
  REQUIRE(std::holds_alternative<Vector>(ok->value));
  CHECK(std::get<Vector>(ok->value)[0].v == 2);
  auto bad = q.instant(**expr, "bad", 10'000);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message == "HTTP 422 (execution): boom");
}
