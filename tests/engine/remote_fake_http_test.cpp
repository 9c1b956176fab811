// engine/remote's queriers and remote write get their HTTP client from the Env they are given
// (Env::new_http_client): driven here entirely through FakeEnv's FakeHttp, no socket. The tests
// check what was sent (URL, form body, header lines, client options), that one client is made and
// configured once per querier (the hot path applies its options once), and how answers and
// transport errors come back.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "../common/fake_env.hpp"
#include "ruleeval/engine/querier.hpp"
#include "ruleeval/engine/remote_write.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;

namespace {

constexpr const char* kVector =
    R"({"status":"success","data":{"resultType":"vector","result":[)"
    R"({"metric":{"__name__":"up","job":"api"},"value":[1700000000.5,"1"]}]}})";

bool has(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

}  // namespace

TEST_CASE("HttpQuerier sends through its Env's HTTP client, made once with the backend's options") {
  FakeEnv env;
  FakeHttp& http = env.fake_http();
  http.respond(200, kVector, "application/json");
  http.respond(200, kVector, "application/json");

  HttpClientConfig cfg;
  cfg.url = "http://prom.test:9090/prefix/";
  cfg.bearer_token = "s3cret";
  cfg.headers = {{"X-Scope-OrgID", "team-a"}};
  cfg.timeout_ms = 7'000;
  cfg.connect_timeout_ms = 2'000;
  cfg.max_response_bytes = 1u << 20;
  cfg.basic_username = "u";
  cfg.basic_password = "p";
  HttpQuerier q(cfg, &env);

  auto r = q.query("up", 1'700'000'000'500);
  REQUIRE(r.has_value());
  REQUIRE(std::holds_alternative<Vector>(r->value));
  const auto& vec = std::get<Vector>(r->value);
  REQUIRE(vec.size() == 1);
  CHECK(vec[0].metric == Labels{{"__name__", "up"}, {"job", "api"}});
  CHECK(vec[0].t == 1'700'000'000'500);
  CHECK(vec[0].v == 1);
  REQUIRE(q.query_range("rate(x[5m])", 1'000, 61'000, 15'000).has_value());

  const auto sent = http.requests();
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].method == "POST");
  CHECK(sent[0].url == "http://prom.test:9090/prefix/api/v1/query");
  CHECK(sent[0].body == "query=up&time=1700000000.5");
  CHECK(sent[1].url == "http://prom.test:9090/prefix/api/v1/query_range");
  CHECK(sent[1].body == "query=rate%28x%5B5m%5D%29&start=1&end=61&step=15");
  for (const auto& s : sent) {
    CHECK(has(s.headers, "Content-Type: application/x-www-form-urlencoded"));
    CHECK(has(s.headers, "X-Scope-OrgID: team-a"));
    CHECK(has(s.headers, "Authorization: Bearer s3cret"));
    CHECK(s.options.timeout_ms == 7'000);
    CHECK(s.options.connect_timeout_ms == 2'000);
    CHECK(s.options.max_body_bytes == (1u << 20));
    CHECK(s.options.gzip);
    CHECK(s.options.basic_auth);
    CHECK(s.options.basic_user == "u");
    CHECK(s.options.basic_password == "p");
  }
  // One client for the querier's lifetime, its options given once at creation.
  CHECK(http.clients_made() == 1);
  CHECK(http.configure_calls() == 0);
}

TEST_CASE("HttpQuerier reports the fake's transport error and HTTP errors as it does a real one's") {
  FakeEnv env;
  FakeHttp& http = env.fake_http();
  HttpClientConfig cfg;
  cfg.url = "http://prom.test:9090";
  HttpQuerier q(cfg, &env);

  http.fail(http::TransportKind::kConnect, "Failed to connect to prom.test port 9090", 7);
  auto r = q.query("up", 0);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().kind == ErrorKind::kTransport);
  CHECK(http::transport_kind(r.error()) == http::TransportKind::kConnect);
  CHECK(r.error().message.find("Failed to connect to prom.test port 9090") != std::string::npos);

  http.respond(422, R"({"status":"error","errorType":"execution","error":"boom"})",
               "application/json");
  auto e = q.query("up", 0);
  REQUIRE_FALSE(e.has_value());
  CHECK(e.error().http_status == 422);
  CHECK(e.error().message.find("boom") != std::string::npos);

  // A body over max_response_bytes is refused (the fake applies the limit as libcurl does).
  HttpClientConfig small = cfg;
  small.max_response_bytes = 16;
  HttpQuerier q2(small, &env);
  http.respond(200, kVector, "application/json");
  auto big = q2.query("up", 0);
  REQUIRE_FALSE(big.has_value());
  CHECK(http::transport_kind(big.error()) == http::TransportKind::kTooLarge);
}

TEST_CASE("remote write through the Env: v1 headers, a retried 503 and transport errors") {
  FakeEnv env;
  FakeHttp& http = env.fake_http();
  RemoteWriteConfig cfg;
  cfg.http.url = "http://vm.test:8428/api/v1/write";
  cfg.http.bearer_token = "w";
  cfg.max_attempts = 4;
  cfg.min_backoff_ms = 10;
  cfg.max_backoff_ms = 25;
  RemoteWriteQueue q(cfg, &env);
  std::vector<Millis> sleeps;
  q.set_sleep_for_tests([&](Millis ms) { sleeps.push_back(ms); });

  SUBCASE("503, then a transport error, then 204: three retries' worth of backoff, one batch") {
    http.respond(503, "later");
    http.fail(http::TransportKind::kTimeout, "Operation timed out after 30000 milliseconds", 28);
    http.respond(204);
    q.push(WriteSample{Labels{{"__name__", "m"}, {"job", "j"}}, 1'000, 2.5});
    REQUIRE(q.flush().has_value());
    CHECK(sleeps == std::vector<Millis>{10, 20});
    CHECK(q.stats().retries == 2);
    CHECK(q.stats().samples_sent == 1);

    const auto sent = http.requests();
    REQUIRE(sent.size() == 3);
    CHECK(sent[0].body == sent[2].body);  // the same batch again
    for (const auto& s : sent) {
      CHECK(s.url == "http://vm.test:8428/api/v1/write");
      CHECK(has(s.headers, "Content-Type: application/x-protobuf"));
      CHECK(has(s.headers, "Content-Encoding: snappy"));
      CHECK(has(s.headers, "X-Prometheus-Remote-Write-Version: 0.1.0"));
      CHECK(has(s.headers, "Authorization: Bearer w"));
    }
    auto raw = snappy_uncompress(sent[2].body);
    REQUIRE(raw.has_value());
    auto samples = decode_write_request(*raw);
    REQUIRE(samples.has_value());
    REQUIRE(samples->size() == 1);
    CHECK((*samples)[0].labels == Labels{{"__name__", "m"}, {"job", "j"}});
    CHECK((*samples)[0].t == 1'000);
    CHECK((*samples)[0].v == 2.5);
    CHECK(http.clients_made() == 1);
  }
  SUBCASE("every transport error is retried, as before the seam (a TLS failure too)") {
    http.fail(http::TransportKind::kTls, "SSL certificate problem: unable to get local issuer", 60);
    http.fail(http::TransportKind::kConnect, "Connection refused", 7);
    http.respond(204);
    q.push(WriteSample{Labels{{"__name__", "m"}}, 1, 1});
    REQUIRE(q.flush().has_value());
    CHECK(q.stats().retries == 2);
    CHECK(http.request_count() == 3);
  }
  SUBCASE("a 400 is not retried") {
    http.respond(400, "bad sample");
    q.push(WriteSample{Labels{{"__name__", "m"}}, 1, 1});
    auto r = q.flush();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message.find("HTTP 400: bad sample") != std::string::npos);
    CHECK(http.request_count() == 1);
    CHECK(sleeps.empty());
  }
}

TEST_CASE("an Env without HTTP gives the querier a clear transport error, not a crash") {
  // An Env that implements only what EnvWrapper forwards... except HTTP, which the base Env
  // refuses (the state of Env::Default() before http::install_default_env_http()).
  class NoHttp final : public EnvWrapper {
   public:
    NoHttp() : EnvWrapper(Env::Default()) {}
    // The base Env's HTTP on purpose, skipping EnvWrapper's forwarding to Env::Default().
    // NOLINTNEXTLINE(bugprone-parent-virtual-call): the base Env's refusal is what is tested
    HttpClient& http_client() override { return Env::http_client(); }
    std::unique_ptr<HttpClient> new_http_client(http::Options o) override {
      // NOLINTNEXTLINE(bugprone-parent-virtual-call): as above
      return Env::new_http_client(std::move(o));
    }
  } env;
  HttpClientConfig cfg;
  cfg.url = "http://prom.test:9090";
  HttpQuerier q(cfg, &env);
  auto r = q.query("up", 0);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().kind == ErrorKind::kTransport);
  CHECK(http::transport_kind(r.error()) == http::TransportKind::kLocal);
  CHECK(r.error().message.find("no HTTP client is installed") != std::string::npos);
}
