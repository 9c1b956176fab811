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

#include "notify_servers.hpp"
#include "ruleeval/notifiers/notifier.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;
using namespace ruleeval::notifiers::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kLoggingProxy = R"PY(
import json, socket, ssl, sys, threading
port, cert, key, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
lock = threading.Lock()
def read_head(f):
    lines = []
    while True:
        line = f.readline()
        if not line or line in (b"\r\n", b"\n"):
            return lines
        lines.append(line.decode("latin-1").rstrip("\r\n"))
def parse(head):
    method, target, _ = head[0].split(" ", 2)
    headers = {}
    for h in head[1:]:
        k, v = h.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    return method, target, headers
def record(entry):
    with lock, open(log, "a") as out:
        out.write(json.dumps(entry) + "\n")
OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
def answer(target):  # an OAuth2 token endpoint at any .../token, "ok" elsewhere
    if not target.endswith("/token"):
        return OK
    b = json.dumps({"access_token": "via-proxy", "token_type": "bearer", "expires_in": 3600}).encode()
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(b) + b
def serve(conn):
    try:
        f = conn.makefile("rb")
        head = read_head(f)
        if not head:
            conn.close()
            return
        method, target, headers = parse(head)
        if method == "CONNECT":
            record({"kind": "connect", "target": target, "headers": headers})
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            tls = ctx.wrap_socket(conn, server_side=True)
            tf = tls.makefile("rb")
            method, target, headers = parse(read_head(tf))
            body = tf.read(int(headers.get("content-length", "0")))
            record({"kind": "tunneled", "method": method, "target": target, "headers": headers,
                    "body": body.decode("utf-8", "replace")})
            tls.sendall(answer(target))
            tls.close()
            return
        body = f.read(int(headers.get("content-length", "0")))
        record({"kind": "http", "method": method, "target": target, "headers": headers,
                "body": body.decode("utf-8", "replace")})
        conn.sendall(answer(target))
        conn.close()
    except Exception as e:
        sys.stderr.write("proxy: %r\n" % (e,))
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(16)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
)PY";

std::vector<json> proxy_log(const fs::path& p) {
  std::vector<json> out;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

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
    ::setenv(k, v.c_str(), 1);
  }
  ~EnvGuard() {
    for (const auto& k : names) ::unsetenv(k.c_str());
  }
};

}  // namespace

TEST_CASE("http_config no_proxy, proxy_from_environment and proxy_connect_header (Go's rules)") {
  auto dir = fs::temp_directory_path() / ("ruleeval_proxy_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "proxy.py") << kLoggingProxy;
  const std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  const std::string gen = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=hooks.test"
                          " -addext subjectAltName=DNS:hooks.test -keyout " +
                          key + " -out " + cert + " >/dev/null 2>&1";
  REQUIRE(std::system(gen.c_str()) == 0);
  const int proxy_port = free_port();
  ChildProcess proxy({"/usr/bin/python3", (dir / "proxy.py").string(), std::to_string(proxy_port),
                      cert, key, (dir / "proxy.jsonl").string()},
                     (dir / "proxy.log").string());
  REQUIRE(wait_port(proxy_port, 10'000));
  const std::string p = "http://127.0.0.1:" + std::to_string(proxy_port);
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
  for (size_t i; (i = yaml.find("PROXY")) != std::string::npos;) yaml.replace(i, 5, p);
  for (size_t i; (i = yaml.find("SINK")) != std::string::npos;) yaml.replace(i, 4, sink.url(""));
  for (size_t i; (i = yaml.find("CERT")) != std::string::npos;) yaml.replace(i, 4, cert);
  auto cfg = parse_alertmanager_config(yaml, "am.yml", dir.string());
  REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().to_string()));
  NotifierOptions o;
  o.backoff_initial_ms = 20;
  o.backoff_max_ms = 100;
  o.give_up_after_ms = 1500;
  auto n = Notifier::create(std::move(*cfg), std::move(o));
  REQUIRE(n);
  const Millis now = Env::Default()->now_ms();
  (*n)->send(std::vector<rules::Alert>{proxy_alert("NoProxy", now), proxy_alert("FromEnv", now),
                                       proxy_alert("Connect", now)},
             now);
  for (int i = 0; i < 500 && (proxy_log(dir / "proxy.jsonl").size() < 5 || sink.accepted().size() < 2);
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // the bypassed one gives up
  (*n)->stop();

  std::map<std::string, json> by;  // "http <target>", "connect <target>", "tunneled <target>"
  for (const auto& e : proxy_log(dir / "proxy.jsonl")) {
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
  for (const auto& m : (*n)->metrics()) {
    if (m.receiver == "from-env" && m.failed + m.retried > 0) bypassed_error = m.last_error;
  }
  CHECK(bypassed_error.find("resolve") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE(
    "oauth2 proxy_url, no_proxy, proxy_from_environment, proxy_connect_header: the token "
    "request goes through oauth2's own proxy settings") {
  auto dir = fs::temp_directory_path() / ("ruleeval_oauth2_proxy_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "proxy.py") << kLoggingProxy;
  const std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  const std::string gen =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=auth.test"
      " -addext subjectAltName=DNS:auth.test -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  REQUIRE(std::system(gen.c_str()) == 0);
  const int proxy_port = free_port();
  ChildProcess proxy({"/usr/bin/python3", (dir / "proxy.py").string(), std::to_string(proxy_port),
                      cert, key, (dir / "proxy.jsonl").string()},
                     (dir / "proxy.log").string());
  REQUIRE(wait_port(proxy_port, 10'000));
  const std::string p = "http://127.0.0.1:" + std::to_string(proxy_port);
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
  for (size_t i; (i = yaml.find("PROXY")) != std::string::npos;) yaml.replace(i, 5, p);
  for (size_t i; (i = yaml.find("SINK")) != std::string::npos;) yaml.replace(i, 4, sink.url(""));
  for (size_t i; (i = yaml.find("CERT")) != std::string::npos;) yaml.replace(i, 4, cert);
  auto cfg = parse_alertmanager_config(yaml, "am.yml", dir.string());
  REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().to_string()));
  NotifierOptions o;
  o.backoff_initial_ms = 20;
  o.backoff_max_ms = 100;
  o.give_up_after_ms = 1500;
  auto n = Notifier::create(std::move(*cfg), std::move(o));
  REQUIRE(n);
  const Millis now = Env::Default()->now_ms();
  (*n)->send(std::vector<rules::Alert>{proxy_alert("Plain", now), proxy_alert("Tunnel", now),
                                       proxy_alert("Env", now), proxy_alert("Bypass", now)},
             now);
  for (int i = 0; i < 500 && sink.accepted().size() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // the bypassed one gives up
  (*n)->stop();

  std::map<std::string, json> by;
  for (const auto& e : proxy_log(dir / "proxy.jsonl")) {
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
  for (const auto& m : (*n)->metrics()) {
    if (m.receiver == "bypass") bypassed_error = m.last_error;
  }
  CHECK(bypassed_error.find("oauth2: cannot fetch token") != std::string::npos);
  CHECK(bypassed_error.find("resolve") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE(
    "global http_config proxy_url: msteamsv2 takes it into an http_config of its own "
    "(Alertmanager 0.34), other receivers only when they have no http_config") {
  auto dir = fs::temp_directory_path() / ("ruleeval_teams_proxy_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "proxy.py") << kLoggingProxy;
  const std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  const std::string gen =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=x.test"
      " -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  REQUIRE(std::system(gen.c_str()) == 0);
  const int proxy_port = free_port();
  ChildProcess proxy({"/usr/bin/python3", (dir / "proxy.py").string(), std::to_string(proxy_port),
                      cert, key, (dir / "proxy.jsonl").string()},
                     (dir / "proxy.log").string());
  REQUIRE(wait_port(proxy_port, 10'000));
  const std::string p = "http://127.0.0.1:" + std::to_string(proxy_port);
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
  for (size_t i; (i = yaml.find("PROXY")) != std::string::npos;) yaml.replace(i, 5, p);
  auto cfg = parse_alertmanager_config(yaml, "am.yml", dir.string());
  REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().to_string()));
  CHECK(cfg->receivers.size() == 6);
  NotifierOptions o;
  o.backoff_initial_ms = 20;
  o.backoff_max_ms = 100;
  o.give_up_after_ms = 1500;
  auto n = Notifier::create(std::move(*cfg), std::move(o));
  REQUIRE(n);
  const Millis now = Env::Default()->now_ms();
  (*n)->send(std::vector<rules::Alert>{proxy_alert("V2Partial", now), proxy_alert("V2None", now),
                                       proxy_alert("V2Own", now), proxy_alert("V1Partial", now),
                                       proxy_alert("V1None", now), proxy_alert("HookPartial", now)},
             now);
  for (int i = 0; i < 500 && proxy_log(dir / "proxy.jsonl").size() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // the others give up
  (*n)->stop();
  std::set<std::string> proxied;
  for (const auto& e : proxy_log(dir / "proxy.jsonl")) {
    proxied.insert(e["target"].get<std::string>());
    if (e["target"] == "http://teams.test:8080/v2-partial") {
      CHECK(json::parse(e["body"].get<std::string>())["type"] == "message");  // an Adaptive Card
    }
  }
  CHECK(proxied == std::set<std::string>{"http://teams.test:8080/v2-partial",
                                         "http://teams.test:8080/v2-none",
                                         "http://teams.test:8080/v1-none"});
  std::map<std::string, std::string> errors;
  for (const auto& m : (*n)->metrics()) errors[m.receiver] = m.last_error;
  // Without the global proxy, the partial ones dial teams.test / hooks.test themselves; v2-own
  // uses its own (closed) proxy.
  CHECK(errors["v1-partial"].find("resolve") != std::string::npos);
  CHECK(errors["hook-partial"].find("resolve") != std::string::npos);
  CHECK(errors["v2-own"].find("connect") != std::string::npos);
  CHECK(errors["v2-own"].find("resolve") == std::string::npos);
  fs::remove_all(dir);
}
