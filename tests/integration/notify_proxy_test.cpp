// http_config's proxy options of prometheus/common v0.44+ (Alertmanager 0.26+): no_proxy,
// proxy_from_environment and proxy_connect_header, through a local proxy (Python, 127.0.0.1)
// that logs every request it gets: plain HTTP in absolute form, and CONNECT tunnels it
// terminates with a throw-away certificate for hooks.test (trusted via tls_config.ca_file).
// Go's rules checked: with no_proxy or from the environment, loopback targets never use the
// proxy; NO_PROXY domains match suffixes; proxy_connect_header goes in CONNECT only. The same
// options inside oauth2 (prometheus/common v0.42+) route the token request.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "notify_scripts.hpp"
#include "notify_servers.hpp"
#include "ruleeval/notifiers/notifier.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;
using namespace ruleeval::notifiers::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

rules::Alert proxy_alert(const std::string& name, Millis now) {
  rules::Alert a;
  a.labels = Labels{{"alertname", name}, {"severity", "page"}};
  a.annotations = Labels{{"summary", "through the proxy"}};
  a.starts_at = now - 1000;
  a.ends_at = now + 600'000;
  a.generator_url = "http://prometheus.test/graph";
  return a;
}

struct EnvGuard {
  std::vector<std::string> names;
  void set(const char* k, const std::string& v) {
    names.emplace_back(k);
    ::setenv(k, v.c_str(), 1);  // NOLINT(concurrency-mt-unsafe): set before the notifier starts
  }
  ~EnvGuard() {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): unset after the notifier has stopped
    for (const auto& k : names) ::unsetenv(k.c_str());
  }
};

// `yaml` with every PROXY, SINK and CERT replaced by the given text, parsed as an
// alertmanager.yml (REQUIREd).
NotifyConfig proxy_config(std::string yaml, const fs::path& dir,
                          const std::map<std::string, std::string>& values) {
  for (const auto& [key, value] : values) {
    for (size_t i; (i = yaml.find(key)) != std::string::npos;) yaml.replace(i, key.size(), value);
  }
  auto cfg = parse_alertmanager_config(yaml, "am.yml", dir.string());
  REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().to_string()));
  return std::move(*cfg);
}

// A notifier that retries after 20-100 ms and gives up after 1.5 s (the unreachable targets).
std::unique_ptr<Notifier> quick_notifier(NotifyConfig cfg) {
  NotifierOptions o;
  o.backoff_initial_ms = 20;
  o.backoff_max_ms = 100;
  o.give_up_after_ms = 1500;
  auto n = Notifier::create(std::move(cfg), std::move(o));
  REQUIRE_MESSAGE(n, (n ? "" : n.error().to_string()));
  return std::move(*n);
}

}  // namespace

TEST_CASE("http_config no_proxy, proxy_from_environment and proxy_connect_header (Go's rules)") {
  const auto dir = fresh_dir("ruleeval_proxy_");
  const CertFiles cert = self_signed_cert(dir, "hooks.test", "DNS:hooks.test");
  const LoggingProxy proxy(dir, "proxy", cert);
  const std::string p = proxy.url();
  HttpSink sink;
  EnvGuard env;
  env.set("HTTP_PROXY", p);
  env.set("https_proxy", p);
  env.set("NO_PROXY", "skip.test, 10.0.0.0/8");

  std::string yaml = R"(
route:
  receiver: r
  group_by: [alertname]
  group_wait: 0s
  routes:
    - {receiver: no-proxy, matchers: [alertname="NoProxy"]}
    - {receiver: from-env, matchers: [alertname="FromEnv"]}
    - {receiver: connect, matchers: [alertname="Connect"]}
receivers:
  - name: r
  - name: no-proxy
    webhook_configs:
      # not in no_proxy: through the proxy, in absolute form, no CONNECT header on plain HTTP
      - url: http://hooks.test:8080/np-proxied
        http_config:
          proxy_url: PROXY
          no_proxy: skip.test,192.168.0.0/16
          proxy_connect_header: {X-Proxy-Token: [never-on-plain-http]}
      # loopback: never proxied once no_proxy is set (httpproxy), delivered to the sink
      - url: SINK/np-direct
        http_config: {proxy_url: PROXY, no_proxy: skip.test}
      # proxy_url alone (http.ProxyURL): every request uses the proxy, loopback too
      - url: SINK/plain-proxy-url
        http_config: {proxy_url: PROXY}
  - name: from-env
    webhook_configs:
      - url: http://hooks.test:8080/env-proxied
        http_config: {proxy_from_environment: true}
      - url: SINK/env-direct
        http_config: {proxy_from_environment: true}
      # NO_PROXY=skip.test matches app.skip.test: a direct attempt that cannot resolve
      - url: http://app.skip.test:8080/env-bypassed
        http_config: {proxy_from_environment: true}
  - name: connect
    msteams_configs:
      - webhook_url: https://hooks.test/webhookb2/teams
        http_config:
          proxy_url: PROXY
          proxy_connect_header:
            X-Proxy-Token: [s3cret]
            X-Tenant: [a, b]
          tls_config: {ca_file: CERT}
)";
  auto cfg = proxy_config(yaml, dir, {{"PROXY", p}, {"SINK", sink.url("")}, {"CERT", cert.cert}});
  auto n = quick_notifier(std::move(cfg));
  const Millis now = Env::Default()->now_ms();
  n->send(std::vector<rules::Alert>{proxy_alert("NoProxy", now), proxy_alert("FromEnv", now),
                                       proxy_alert("Connect", now)},
             now);
  for (int i = 0; i < 500 && (proxy.entries().size() < 5 || sink.accepted().size() < 2);
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // the bypassed one gives up
  n->stop();

  std::map<std::string, json> by;  // "http <target>", "connect <target>", "tunneled <target>"
  for (const auto& e : proxy.entries()) {
    by[e["kind"].get<std::string>() + " " + e["target"].get<std::string>()] = e;
  }
  for (const auto& [k, v] : by) MESSAGE(k);
  CHECK(by.size() == 5);
  REQUIRE(by.count("http http://hooks.test:8080/np-proxied"));
  CHECK_FALSE(by["http http://hooks.test:8080/np-proxied"]["headers"].contains("x-proxy-token"));
  CHECK(by.count("http " + sink.url("/plain-proxy-url")));
  CHECK(by.count("http http://hooks.test:8080/env-proxied"));
  REQUIRE(by.count("connect hooks.test:443"));
  const auto& connect_headers = by["connect hooks.test:443"]["headers"];
  CHECK(connect_headers["x-proxy-token"] == "s3cret");
  CHECK(connect_headers.contains("x-tenant"));
  REQUIRE(by.count("tunneled /webhookb2/teams"));
  const auto& tunneled = by["tunneled /webhookb2/teams"];
  CHECK_FALSE(tunneled["headers"].contains("x-proxy-token"));
  CHECK(json::parse(tunneled["body"].get<std::string>())["type"] == "MessageCard");
  // Nothing for the bypassed hosts.
  for (const auto& [k, v] : by) {
    CHECK(k.find("np-direct") == std::string::npos);
    CHECK(k.find("env-direct") == std::string::npos);
    CHECK(k.find("skip.test") == std::string::npos);
  }
  std::set<std::string> direct;
  for (const auto& r : sink.accepted()) direct.insert(r.path);
  CHECK(direct == std::set<std::string>{"/np-direct", "/env-direct"});
  std::string bypassed_error;
  for (const auto& m : n->metrics()) {
    if (m.receiver == "from-env" && m.failed + m.retried > 0) bypassed_error = m.last_error;
  }
  CHECK(bypassed_error.find("resolve") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE(
    "oauth2 proxy_url, no_proxy, proxy_from_environment, proxy_connect_header: the token "
    "request goes through oauth2's own proxy settings") {
  const auto dir = fresh_dir("ruleeval_oauth2_proxy_");
  const CertFiles cert = self_signed_cert(dir, "auth.test", "DNS:auth.test");
  const LoggingProxy proxy(dir, "proxy", cert);
  const std::string p = proxy.url();
  HttpSink sink;
  EnvGuard env;
  env.set("HTTP_PROXY", p);
  env.set("NO_PROXY", "");

  // The webhooks themselves have no proxy (they reach the local sink directly); only the token
  // requests are proxied, by oauth2's settings.
  std::string yaml = R"(
route:
  receiver: plain
  group_by: [alertname]
  group_wait: 0s
  routes:
    - {receiver: tunnel, matchers: [alertname="Tunnel"]}
    - {receiver: env, matchers: [alertname="Env"]}
    - {receiver: bypass, matchers: [alertname="Bypass"]}
receivers:
  - name: plain
    webhook_configs:
      - url: SINK/plain
        http_config:
          oauth2:
            client_id: plain
            client_secret: s1
            token_url: http://auth.test:8080/oauth2/token
            proxy_url: PROXY
            no_proxy: skip.test
            proxy_connect_header: {X-Proxy-Token: [never-on-plain-http]}
  - name: tunnel
    webhook_configs:
      - url: SINK/tunnel
        http_config:
          oauth2:
            client_id: tunnel
            client_secret: s2
            token_url: https://auth.test/oauth2/token
            proxy_url: PROXY
            proxy_connect_header:
              X-Proxy-Token: [s3cret]
            tls_config: {ca_file: CERT}
  - name: env
    webhook_configs:
      - url: SINK/env
        http_config:
          oauth2:
            client_id: env
            client_secret: s3
            token_url: http://auth-env.test:8080/oauth2/token
            proxy_from_environment: true
  - name: bypass
    webhook_configs:
      - url: SINK/bypass
        http_config:
          oauth2:
            client_id: bypass
            client_secret: s4
            token_url: http://auth.skip.test:8080/oauth2/token
            proxy_url: PROXY
            no_proxy: skip.test
)";
  auto cfg = proxy_config(yaml, dir, {{"PROXY", p}, {"SINK", sink.url("")}, {"CERT", cert.cert}});
  auto n = quick_notifier(std::move(cfg));
  const Millis now = Env::Default()->now_ms();
  n->send(std::vector<rules::Alert>{proxy_alert("Plain", now), proxy_alert("Tunnel", now),
                                       proxy_alert("Env", now), proxy_alert("Bypass", now)},
             now);
  for (int i = 0; i < 500 && sink.accepted().size() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // the bypassed one gives up
  n->stop();

  std::map<std::string, json> by;
  for (const auto& e : proxy.entries()) {
    by[e["kind"].get<std::string>() + " " + e["target"].get<std::string>()] = e;
  }
  for (const auto& [k, v] : by) MESSAGE(k);
  CHECK(by.size() == 4);
  // proxy_url: the plain-HTTP token request in absolute form, the client's basic auth and
  // form, and no proxy_connect_header outside CONNECT.
  REQUIRE(by.count("http http://auth.test:8080/oauth2/token"));
  const auto& plain = by["http http://auth.test:8080/oauth2/token"];
  CHECK(plain["method"] == "POST");
  CHECK(plain["headers"]["authorization"] == "Basic cGxhaW46czE=");  // plain:s1
  CHECK(plain["body"] == "grant_type=client_credentials");
  CHECK_FALSE(plain["headers"].contains("x-proxy-token"));
  // https token_url: a CONNECT with proxy_connect_header, then the token request inside the
  // tunnel (verified against oauth2's own tls_config.ca_file), without that header.
  REQUIRE(by.count("connect auth.test:443"));
  CHECK(by["connect auth.test:443"]["headers"]["x-proxy-token"] == "s3cret");
  REQUIRE(by.count("tunneled /oauth2/token"));
  CHECK(by["tunneled /oauth2/token"]["headers"]["authorization"] == "Basic dHVubmVsOnMy");
  CHECK_FALSE(by["tunneled /oauth2/token"]["headers"].contains("x-proxy-token"));
  // proxy_from_environment: HTTP_PROXY.
  CHECK(by.count("http http://auth-env.test:8080/oauth2/token"));
  // no_proxy: auth.skip.test is dialled directly (and cannot be resolved): never at the proxy.
  for (const auto& [k, v] : by) CHECK(k.find("skip.test") == std::string::npos);
  // Every delivered webhook carries the token the proxied endpoint issued, directly to the sink.
  std::set<std::string> delivered;
  for (const auto& r : sink.accepted()) {
    delivered.insert(r.path);
    CHECK(r.header("Authorization") == "Bearer via-proxy");
  }
  CHECK(delivered == std::set<std::string>{"/plain", "/tunnel", "/env"});
  for (const auto& [k, v] : by) CHECK(k.find("/plain") == std::string::npos);
  std::string bypassed_error;
  for (const auto& m : n->metrics()) {
    if (m.receiver == "bypass") bypassed_error = m.last_error;
  }
  CHECK(bypassed_error.find("oauth2: cannot fetch token") != std::string::npos);
  CHECK(bypassed_error.find("resolve") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE(
    "global http_config proxy_url: msteamsv2 takes it into an http_config of its own "
    "(Alertmanager 0.34), other receivers only when they have no http_config") {
  const auto dir = fresh_dir("ruleeval_teams_proxy_");
  const CertFiles cert = self_signed_cert(dir, "x.test", "");
  const LoggingProxy proxy(dir, "proxy", cert);
  const std::string p = proxy.url();
  std::string yaml = R"(
global:
  http_config:
    proxy_url: PROXY
route:
  receiver: v2-partial
  group_by: [alertname]
  group_wait: 0s
  routes:
    - {receiver: v2-none, matchers: [alertname="V2None"]}
    - {receiver: v2-own, matchers: [alertname="V2Own"]}
    - {receiver: v1-partial, matchers: [alertname="V1Partial"]}
    - {receiver: v1-none, matchers: [alertname="V1None"]}
    - {receiver: hook-partial, matchers: [alertname="HookPartial"]}
receivers:
  - name: v2-partial
    msteamsv2_configs:
      - webhook_url: http://teams.test:8080/v2-partial
        http_config: {follow_redirects: false}
  - name: v2-none
    msteamsv2_configs:
      - webhook_url: http://teams.test:8080/v2-none
  - name: v2-own
    msteamsv2_configs:
      - webhook_url: http://teams.test:8080/v2-own
        http_config: {proxy_url: 'http://127.0.0.1:1'}
  - name: v1-partial
    msteams_configs:
      - webhook_url: http://teams.test:8080/v1-partial
        http_config: {follow_redirects: false}
  - name: v1-none
    msteams_configs:
      - webhook_url: http://teams.test:8080/v1-none
  - name: hook-partial
    webhook_configs:
      - url: http://hooks.test:8080/hook-partial
        http_config: {follow_redirects: false}
)";
  auto cfg = proxy_config(yaml, dir, {{"PROXY", p}});
  CHECK(cfg.receivers.size() == 6);
  auto n = quick_notifier(std::move(cfg));
  const Millis now = Env::Default()->now_ms();
  n->send(std::vector<rules::Alert>{proxy_alert("V2Partial", now), proxy_alert("V2None", now),
                                       proxy_alert("V2Own", now), proxy_alert("V1Partial", now),
                                       proxy_alert("V1None", now), proxy_alert("HookPartial", now)},
             now);
  for (int i = 0; i < 500 && proxy.entries().size() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // the others give up
  n->stop();
  std::set<std::string> proxied;
  for (const auto& e : proxy.entries()) {
    proxied.insert(e["target"].get<std::string>());
    if (e["target"] == "http://teams.test:8080/v2-partial") {
      CHECK(json::parse(e["body"].get<std::string>())["type"] == "message");  // an Adaptive Card
    }
  }
  CHECK(proxied == std::set<std::string>{"http://teams.test:8080/v2-partial",
                                         "http://teams.test:8080/v2-none",
                                         "http://teams.test:8080/v1-none"});
  std::map<std::string, std::string> errors;
  for (const auto& m : n->metrics()) errors[m.receiver] = m.last_error;
  // Without the global proxy, the partial ones dial teams.test / hooks.test themselves; v2-own
  // uses its own (closed) proxy.
  CHECK(errors["v1-partial"].find("resolve") != std::string::npos);
  CHECK(errors["hook-partial"].find("resolve") != std::string::npos);
  CHECK(errors["v2-own"].find("connect") != std::string::npos);
  CHECK(errors["v2-own"].find("resolve") == std::string::npos);
  fs::remove_all(dir);
}
