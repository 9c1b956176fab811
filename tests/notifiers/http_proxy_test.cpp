// http_config's proxy options: proxy_connect_header (prometheus/common v0.39+, which Debian's
// Alertmanager 0.25 has), no_proxy and proxy_from_environment (v0.44+, Alertmanager 0.26+), with
// ProxyConfig.Validate's errors at file:line:col. Delivery through a proxy is covered by
// tests/integration/notify_proxy_test.cpp.
#include <doctest/doctest.h>

#include "ruleeval/notifiers/config.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;

TEST_CASE("http_config proxy options are read, globally and per receiver") {
  auto c = parse_alertmanager_config(R"(
global:
  http_config:
    proxy_from_environment: true
route: {receiver: r}
receivers:
  - name: r
    webhook_configs:
      - url: https://a.test/
      - url: https://b.test/
        http_config:
          proxy_url: http://squid.test:3128
          no_proxy: localhost,.corp.test
          proxy_connect_header:
            Proxy-Authorization: [Basic eDp5]
            X-Hop: [one, two]
)",
                                     "am.yml", "");
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  const auto& w = c->receivers[0].webhook;
  CHECK(w[0].http.proxy_from_environment);
  CHECK(w[0].http.proxy_url.empty());
  CHECK_FALSE(w[1].http.proxy_from_environment);
  CHECK(w[1].http.no_proxy == "localhost,.corp.test");
  using H = std::vector<std::pair<std::string, std::string>>;
  CHECK(w[1].http.proxy_connect_header ==
        H{{"Proxy-Authorization", "Basic eDp5"}, {"X-Hop", "one"}, {"X-Hop", "two"}});
}

TEST_CASE("http_config proxy options: prometheus/common's ProxyConfig.Validate errors") {
  struct Bad {
    const char* http;
    const char* want;
    uint32_t line;
  };
  for (const Bad& b : {
           Bad{"          proxy_url: http://p.test:3128\n          proxy_from_environment: true\n",
               "if proxy_from_environment is configured, proxy_url must not be configured", 8},
           Bad{"          proxy_from_environment: true\n          no_proxy: x.test\n",
               "if proxy_from_environment is configured, no_proxy must not be configured", 7},
           Bad{"          no_proxy: x.test\n",
               "if no_proxy is configured, proxy_url must also be configured", 7},
           Bad{"          proxy_connect_header: {X-A: [b]}\n",
               "if proxy_connect_header is configured proxy_url must also be configured", 7},
           Bad{"          proxy_connect_header: {X-A: b}\n          proxy_url: http://p.test/\n",
               "cannot unmarshal !!str `b` into []config.Secret", 7},
           Bad{"          proxy_from_environment: maybe\n", "into bool", 7},
       }) {
    CAPTURE(b.http);
    auto c = parse_alertmanager_config(
        std::string("route: {receiver: r}\nreceivers:\n  - name: r\n    webhook_configs:\n"
                    "      - url: https://a.test/\n        http_config:\n") +
            b.http,
        "am.yml", "");
    REQUIRE_FALSE(c);
    CHECK(c.error().message.find(b.want) != std::string::npos);
    CHECK(c.error().where.line == b.line);
  }
}
