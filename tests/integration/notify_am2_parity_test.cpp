// Alertmanager as the oracle for Amazon SNS (SigV4), WeChat and http_config.oauth2: a real
// Alertmanager 0.25 and ruleeval load the same alertmanager.yml, get the same alerts and deliver
// to their own local sink; the requests are compared (method, path, query, Content-Type, the
// exact body bytes) and the SigV4 Authorization of both is checked by recomputing the signature
// (Python's hmac/hashlib) with the configured secret key, since its date differs.
#include <doctest/doctest.h>

#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "notify_alerts.hpp"
#include "notify_parity.hpp"
#include "notify_scripts.hpp"
#include "notify_servers.hpp"
#include "ruleeval/notifiers/notifier.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;
using namespace ruleeval::notifiers::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Answers like SNS (XML), WeChat (gettoken / message/send) and an OAuth2 token endpoint; the
// sinks record GETs and POSTs.
void answer_like_the_services(const Request& r, httplib::Response& res, int /*nth*/) {
  if (r.path.ends_with("/gettoken")) {
    res.set_content(R"({"access_token":"tok-1","expires_in":7200})", "application/json");
  } else if (r.path == "/token") {
    res.set_content(R"({"access_token":"oauth-tok","token_type":"bearer","expires_in":3600})",
                    "application/json");
  } else if (r.path.ends_with("/message/send")) {
    res.set_content(R"({"errcode":0,"errmsg":"ok"})", "application/json");
  } else if (r.path.starts_with("/sns")) {
    res.set_content(
        "<PublishResponse><PublishResult><MessageId>m1</MessageId></PublishResult>"
        "</PublishResponse>",
        "text/xml");
  } else {
    res.set_content("ok", "text/plain");
  }
}

struct Sink : HttpSink {
  Sink() : HttpSink(answer_like_the_services, {"GET", "POST"}) {}
};

std::string am_yaml(const std::string& sink, const std::string& dir) {
  std::string s = R"(
global:
  wechat_api_url: SINK/wx/
  wechat_api_secret: wx-secret
  wechat_api_corp_id: corp-1
route:
  receiver: sns
  group_by: [alertname]
  group_wait: 1s
  routes:
    - receiver: sns-fifo
      matchers: [alertname="Fifo"]
    - receiver: sns-sms
      matchers: [alertname="Sms"]
    - receiver: wechat
      matchers: [alertname="Wechat"]
    - receiver: wechat-md
      matchers: [alertname="WechatMd"]
    - receiver: oauth
      matchers: [alertname=~"OAuth.*"]
    - receiver: files
      matchers: [alertname="Files"]
receivers:
  - name: sns
    sns_configs:
      - api_url: SINK/sns
        sigv4: {region: us-east-1, access_key: AKIDEXAMPLE, secret_key: wJalrXUtnFEMI/K7MDENG}
        topic_arn: arn:aws:sns:us-east-1:123456789012:alerts
        subject: '{{ .CommonLabels.alertname }} & co'
        attributes:
          severity: '{{ .CommonLabels.severity }}'
          team: ops
  - name: sns-fifo
    sns_configs:
      - api_url: SINK/sns-fifo
        sigv4: {region: eu-west-1, access_key: AKIDEXAMPLE, secret_key: wJalrXUtnFEMI/K7MDENG}
        topic_arn: arn:aws:sns:eu-west-1:123456789012:alerts.fifo
  - name: sns-sms
    sns_configs:
      - api_url: SINK/sns-sms
        sigv4: {region: eu-west-1, access_key: AKIDEXAMPLE, secret_key: wJalrXUtnFEMI/K7MDENG}
        phone_number: '+15555550100'
        subject: ''
        message: '{{ range .Alerts }}{{ .Annotations.summary }} {{ end }}'
  - name: wechat
    wechat_configs:
      - to_user: '@all'
        agent_id: '1000002'
  - name: wechat-md
    wechat_configs:
      - api_url: SINK/wx2
        api_secret: other-secret
        corp_id: corp-2
        message_type: markdown
        to_party: '{{ .CommonLabels.severity }}'
        message: '**{{ .CommonLabels.alertname }}** <{{ .CommonAnnotations.summary }}>'
  - name: oauth
    webhook_configs:
      - url: SINK/hook-oauth
        http_config:
          oauth2:
            client_id: client id
            client_secret: s3cr&t
            token_url: SINK/token
            scopes: [alerts.write, profile]
            endpoint_params: {audience: ruleeval parity}
  - name: files
    webhook_configs:
      - url: SINK/hook-files
        http_config:
          authorization: {credentials_file: DIR/token.txt}
)";
  for (size_t p; (p = s.find("SINK")) != std::string::npos;) s.replace(p, 4, sink);
  for (size_t p; (p = s.find("DIR")) != std::string::npos;) s.replace(p, 3, dir);
  return s;
}

rules::Alert make(const std::string& name, Millis starts, Millis ends) {
  rules::Alert a;
  a.labels = Labels{{"alertname", name}, {"severity", "critical"}, {"instance", "db-1:9100"}};
  a.annotations = Labels{{"summary", "database <down> & out"}};
  a.starts_at = starts;
  a.ends_at = ends;
  a.generator_url = "http://prometheus.test/graph?g0.expr=up%3D%3D0";
  return a;
}

// Recomputes the AWS SigV4 signature of `r` with `secret` (sigv4.py); returns "ok" or what
// differs.
std::string verify_sigv4(const Request& r, const std::string& secret, const fs::path& dir) {
  json j{{"method", r.method}, {"path", r.path}, {"query", r.query}, {"body", r.body},
         {"secret", secret}};
  json h = json::object();
  for (const auto& [k, v] : r.headers) {
    std::string lk = k;
    for (auto& c : lk) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    h[lk] = v;
  }
  j["headers"] = h;
  auto in = dir / "sigv4.json";
  std::ofstream(in) << j.dump();
  std::string out = python_output("sigv4.py", in.string());
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// "AWS4-HMAC-SHA256 Credential=AK/<date>/<region>/sns/aws4_request, ..." -> "AK/<region>/sns".
std::string credential_scope(const std::string& auth) {
  auto c = auth.find("Credential=");
  if (c == std::string::npos) return {};
  std::string cred = auth.substr(c + 11, auth.find(',', c) - c - 11);
  auto first = cred.find('/');
  auto second = cred.find('/', first + 1);
  return cred.substr(0, first) + cred.substr(second);
}

}  // namespace

TEST_CASE("sns, wechat and oauth2: ruleeval sends what a real Alertmanager sends") {
  Sink am_sink, re_sink;
  const auto dir = fresh_dir("ruleeval_am2_parity_");
  fs::create_directories(dir / "am");
  fs::create_directories(dir / "re");
  std::ofstream(dir / "am" / "token.txt") << "file-token-1\n";
  std::ofstream(dir / "re" / "token.txt") << "file-token-1\n";
  std::ofstream(dir / "am" / "alertmanager.yml") << am_yaml(am_sink.url(), (dir / "am").string());
  std::ofstream(dir / "re" / "alertmanager.yml") << am_yaml(re_sink.url(), (dir / "re").string());

  const Alertmanager am(dir, kExternalUrl);
  auto n = load_parity_notifier(dir);

  Millis now = Env::Default()->now_ms();
  Millis starts = now - 30'000 - now % 1000 + 123;
  std::vector<rules::Alert> alerts;
  for (const char* name :
       {"SnsParity", "Fifo", "Sms", "Wechat", "WechatMd", "OAuthOne", "OAuthTwo", "Files"}) {
    alerts.push_back(make(name, starts, now + 600'000));
  }
  am.post(alerts);
  (*n)->send(alerts, Env::Default()->now_ms());

  for (const Sink* s : {&am_sink, &re_sink}) {
    for (std::string path : {"/sns/", "/sns-fifo/", "/sns-sms/", "/wx/message/send",
                             "/wx2/message/send", "/hook-files"}) {
      CAPTURE(path);
      REQUIRE(s->wait_path(path, 1, 20'000));
    }
    REQUIRE(s->wait_path("/hook-oauth", 2, 20'000));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  {  // sns: same form body, both SigV4 signatures valid
    for (std::string path : {"/sns/", "/sns-fifo/", "/sns-sms/"}) {
      CAPTURE(path);
      auto a = am_sink.with_path(path), r = re_sink.with_path(path);
      REQUIRE(a.size() == 1);
      REQUIRE(r.size() == 1);
      CHECK(r[0].method == "POST");
      CHECK(r[0].header("Content-Type") == a[0].header("Content-Type"));
      CHECK(r[0].body == a[0].body);
      CHECK(r[0].body.starts_with("Action=Publish&"));
      CHECK(credential_scope(r[0].header("Authorization")) ==
            credential_scope(a[0].header("Authorization")));
      CHECK(verify_sigv4(a[0], "wJalrXUtnFEMI/K7MDENG", dir) == "ok");
      CHECK(verify_sigv4(r[0], "wJalrXUtnFEMI/K7MDENG", dir) == "ok");
      // A wrong key must not verify (the check is not vacuous).
      CHECK(verify_sigv4(r[0], "another-secret", dir) != "ok");
    }
  }
  {  // wechat: same token request, same message request and body bytes
    for (std::string base : {"/wx/", "/wx2/"}) {
      CAPTURE(base);
      auto ta = am_sink.with_path(std::string(base) + "gettoken");
      auto tr = re_sink.with_path(std::string(base) + "gettoken");
      REQUIRE(ta.size() == 1);
      REQUIRE(tr.size() == 1);
      CHECK(tr[0].method == "GET");
      CHECK(tr[0].query == ta[0].query);
      auto a = am_sink.with_path(std::string(base) + "message/send");
      auto r = re_sink.with_path(std::string(base) + "message/send");
      REQUIRE(a.size() == 1);
      REQUIRE(r.size() == 1);
      CHECK(r[0].query == a[0].query);
      CHECK(r[0].query == "access_token=tok-1");
      CHECK(r[0].header("Content-Type") == a[0].header("Content-Type"));
      CHECK_MESSAGE(r[0].body == a[0].body,
                    "Alertmanager: " << a[0].body << "\nruleeval:     " << r[0].body);
    }
  }
  {  // oauth2: one token request (cached), same form, Bearer token on both webhooks
    auto ta = am_sink.with_path("/token"), tr = re_sink.with_path("/token");
    REQUIRE(ta.size() == 1);
    CHECK(tr.size() == 1);
    REQUIRE_FALSE(tr.empty());
    CHECK(tr[0].body == ta[0].body);
    CHECK(tr[0].header("Authorization") == ta[0].header("Authorization"));
    CHECK(tr[0].header("Content-Type") == ta[0].header("Content-Type"));
    auto a = am_sink.with_path("/hook-oauth"), r = re_sink.with_path("/hook-oauth");
    REQUIRE(r.size() == 2);
    for (const auto& x : r) CHECK(x.header("Authorization") == a[0].header("Authorization"));
    CHECK(r[0].header("Authorization") == "Bearer oauth-tok");
  }
  {  // authorization.credentials_file is read at send time
    auto a = am_sink.with_path("/hook-files"), r = re_sink.with_path("/hook-files");
    REQUIRE(r.size() == 1);
    CHECK(r[0].header("Authorization") == a[0].header("Authorization"));
    CHECK(r[0].header("Authorization") == "Bearer file-token-1");
  }
  (*n)->stop();
  fs::remove_all(dir);
}

namespace {

// NOLINTNEXTLINE(concurrency-mt-unsafe): runs a test-owned command; the tests run on one thread
int run(const std::string& cmd) { return std::system(cmd.c_str()); }

}  // namespace

TEST_CASE("tls_config.server_name and ca_file: ruleeval verifies the name Alertmanager verifies") {
  const auto dir = fresh_dir("ruleeval_am2_tls_");
  const std::string d = dir.string();
  // A CA and a server certificate for alerts.example.test only (not 127.0.0.1).
  REQUIRE(run("cd " + d +
              " && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 "
              "-subj /CN=ruleeval-test-ca >/dev/null 2>&1"
              " && openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr "
              "-subj /CN=alerts.example.test >/dev/null 2>&1"
              " && printf 'subjectAltName=DNS:alerts.example.test\\n' > ext.cnf"
              " && openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
              "-out srv.crt -days 2 -extfile ext.cnf >/dev/null 2>&1") == 0);
  int sink_port = free_port();
  ChildProcess sink(python_argv("tls_sink.py", {std::to_string(sink_port), d + "/srv.crt",
                                                d + "/srv.key", d + "/requests.jsonl"}),
                    d + "/sink.log");
  REQUIRE(wait_port(sink_port, 10'000));
  const std::string base = "https://127.0.0.1:" + std::to_string(sink_port);
  auto yaml = [&](const std::string& who) {
    return "route:\n  receiver: named\n  group_by: [alertname]\n  group_wait: 1s\n"
           "  routes:\n    - receiver: unnamed\n      matchers: [alertname=\"Unnamed\"]\n"
           "receivers:\n  - name: named\n    webhook_configs:\n      - url: " + base + "/" + who +
           "-named\n        http_config:\n          tls_config:\n            ca_file: " + d +
           "/ca.crt\n            server_name: alerts.example.test\n"
           "  - name: unnamed\n    webhook_configs:\n      - url: " + base + "/" + who +
           "-unnamed\n        http_config:\n          tls_config:\n            ca_file: " + d +
           "/ca.crt\n";
  };
  std::ofstream(dir / "am.yml") << yaml("am");
  std::ofstream(dir / "re.yml") << yaml("re");
  const Alertmanager am(d + "/am.yml", d + "/am-data", d + "/am.log", kExternalUrl);
  NotifierOptions o;
  o.state_dir = d + "/re-state";
  o.external_url = kExternalUrl;
  o.backoff_initial_ms = 200;
  auto n = load_notifier(d + "/re.yml", std::move(o));
  Millis now = Env::Default()->now_ms();
  std::vector<rules::Alert> alerts{make("Named", now - 30'000, now + 600'000),
                                   make("Unnamed", now - 30'000, now + 600'000)};
  am.post(alerts);
  (*n)->send(alerts, Env::Default()->now_ms());
  auto seen = [&](const std::string& path) {
    for (const auto& r : read_json_lines(dir / "requests.jsonl")) {
      if (r["path"] == path) return r;
    }
    return json();
  };
  for (int i = 0; i < 1000 && (seen("/am-named").is_null() || seen("/re-named").is_null()); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));  // time for a wrong delivery to arrive
  json a = seen("/am-named"), r = seen("/re-named");
  REQUIRE_FALSE(a.is_null());
  REQUIRE_FALSE(r.is_null());
  CHECK(r["sni"] == a["sni"]);
  CHECK(r["sni"] == "alerts.example.test");
  CHECK(r["host"] == a["host"]);  // the URL's host, not the server name
  CHECK(r["host"] == "127.0.0.1:" + std::to_string(sink_port));
  // Without server_name the certificate does not match 127.0.0.1: neither delivers.
  CHECK(seen("/am-unnamed").is_null());
  CHECK(seen("/re-unnamed").is_null());
  bool failed = false;
  for (const auto& m : (*n)->metrics()) {
    if (m.integration == "webhook" && m.receiver == "unnamed") {
      failed = m.failed + m.retried > 0 && m.sent == 0;
    }
  }
  CHECK(failed);
  (*n)->stop();
  fs::remove_all(dir);
}

TEST_CASE("oauth2: a token is reused until 10 s before it expires; a changed secret file or a "
          "refused token request is handled") {
  // The token endpoint hands out tok-1, tok-2, ... valid for 14 s (so 4 s after the 10 s
  // margin), and refuses client "bad" with 401 as an OAuth2 server does.
  std::mutex mu;
  int issued = 0;
  std::vector<std::string> token_auth, hook_auth;
  ruleeval::testing::LocalHttpServer srv([&](httplib::Server& s) {
    s.Post("/token", [&](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu);
      token_auth.push_back(req.get_header_value("Authorization"));
      if (req.get_header_value("Authorization") == "Basic YmFkOnNlY3JldC0x") {  // bad:secret-1
        res.status = 401;
        res.set_content(R"({"error":"invalid_client"})", "application/json");
        return;
      }
      res.set_content("{\"access_token\":\"tok-" + std::to_string(++issued) +
                          "\",\"token_type\":\"bearer\",\"expires_in\":14}",
                      "application/json");
    });
    s.Post(R"(/hook.*)", [&](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu);
      hook_auth.push_back(req.path + " " + req.get_header_value("Authorization"));
      res.set_content("ok", "text/plain");
    });
  });
  const int sport = srv.port();
  const auto dir = fresh_dir("ruleeval_am2_oauth_");
  std::ofstream(dir / "secret") << "secret-1\n";
  const std::string base = "http://127.0.0.1:" + std::to_string(sport);
  std::string yaml = "route:\n  receiver: good\n  group_by: [alertname]\n  group_wait: 0s\n"
                     "  routes:\n    - receiver: bad\n      matchers: [alertname=\"Bad\"]\n"
                     "receivers:\n";
  for (const char* who : {"good", "bad"}) {
    yaml.append("  - name: ").append(who).append("\n    webhook_configs:\n      - url: ").append(base)
        .append("/hook-").append(who)
        .append("\n        http_config:\n          oauth2:\n            client_id: ").append(who)
        .append("\n            client_secret_file: ").append((dir / "secret").string())
        .append("\n            token_url: ").append(base).append("/token\n");
  }
  auto cfg = parse_alertmanager_config(yaml, "alertmanager.yml", dir.string());
  REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().to_string()));
  NotifierOptions o;
  o.external_url = kExternalUrl;
  o.backoff_initial_ms = 60'000;  // one attempt of the refused one within the test
  auto n = Notifier::create(std::move(*cfg), std::move(o));
  REQUIRE_MESSAGE(n, (n ? "" : n.error().to_string()));
  Millis now = Env::Default()->now_ms();
  auto fire = [&](const char* name) {
    (*n)->send(std::vector<rules::Alert>{make(name, now, now + 600'000)}, Env::Default()->now_ms());
  };
  // The group key is the alertname; the webhook path carries no alert name, so wait by count.
  auto hooks = [&] {
    std::lock_guard lock(mu);
    return hook_auth;
  };
  auto wait_hooks = [&](size_t k) {
    for (int i = 0; i < 250 && hooks().size() < k; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return hooks().size() >= k;
  };
  fire("First");
  REQUIRE(wait_hooks(1));
  fire("Second");  // within the token's life: reused
  REQUIRE(wait_hooks(2));
  std::this_thread::sleep_for(std::chrono::milliseconds(4500));
  fire("Third");  // inside the 10 s margin: a new token
  REQUIRE(wait_hooks(3));
  std::ofstream(dir / "secret") << "secret-2\n";
  fire("Fourth");  // the secret file changed: a new token with the new secret
  REQUIRE(wait_hooks(4));
  auto h = hooks();
  CHECK(h[0] == "/hook-good Bearer tok-1");
  CHECK(h[1] == "/hook-good Bearer tok-1");
  CHECK(h[2] == "/hook-good Bearer tok-2");
  CHECK(h[3] == "/hook-good Bearer tok-3");
  {
    std::lock_guard lock(mu);
    REQUIRE(token_auth.size() == 3);
    CHECK(token_auth[0] == "Basic Z29vZDpzZWNyZXQtMQ==");  // good:secret-1
    CHECK(token_auth[2] == "Basic Z29vZDpzZWNyZXQtMg==");  // good:secret-2
  }
  // A refused token request: nothing reaches the webhook, the delivery is retried later.
  std::ofstream(dir / "secret") << "secret-1\n";
  (*n)->send(std::vector<rules::Alert>{make("Bad", now, now + 600'000)}, Env::Default()->now_ms());
  std::string last_error;
  for (int i = 0; i < 250 && last_error.empty(); ++i) {
    for (const auto& m : (*n)->metrics()) {
      if (m.receiver == "bad") last_error = m.last_error;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(last_error.find("oauth2: cannot fetch token: 401") != std::string::npos);
  CHECK(hooks().size() == 4);
  (*n)->stop();
  fs::remove_all(dir);
}

TEST_CASE("email auth_secret: CRAM-MD5 as Alertmanager uses it, auth_password_file read at send") {
  const auto dir = fresh_dir("ruleeval_am2_cram_");
  const std::string d = dir.string();
  struct Smtp {
    int port;
    std::string log;
    std::unique_ptr<ChildProcess> proc;
  };
  auto start = [&](const std::string& who) {
    Smtp s{free_port(), d + "/" + who + "-smtp.jsonl", nullptr};
    s.proc = std::make_unique<ChildProcess>(
        python_argv("cram_smtp.py", {std::to_string(s.port), s.log}),
        d + "/" + who + "-smtp.out");
    REQUIRE(wait_port(s.port, 10'000));
    return s;
  };
  auto am_smtp = start("am");
  auto re_smtp = start("re");
  auto yaml = [&](int smtp_port) {
    return "global:\n  smtp_smarthost: 127.0.0.1:" + std::to_string(smtp_port) +
           "\n  smtp_from: alertmanager@example.org\n  smtp_require_tls: false\n"
           "  smtp_auth_username: am\n  smtp_auth_secret: cram-secret\n"
           "route:\n  receiver: mail\n  group_wait: 1s\n"
           "receivers:\n  - name: mail\n    email_configs:\n      - to: oncall@example.org\n";
  };
  std::ofstream(dir / "am.yml") << yaml(am_smtp.port);
  std::ofstream(dir / "re.yml") << yaml(re_smtp.port);
  const Alertmanager am(d + "/am.yml", d + "/am-data", d + "/am.log", kExternalUrl);
  NotifierOptions o;
  o.state_dir = d + "/re-state";
  o.external_url = kExternalUrl;
  auto n = load_notifier(d + "/re.yml", std::move(o));
  Millis now = Env::Default()->now_ms();
  std::vector<rules::Alert> alerts{make("Cram", now - 30'000, now + 600'000)};
  am.post(alerts);
  (*n)->send(alerts, Env::Default()->now_ms());
  auto delivered = [](const std::string& log) {
    std::vector<json> lines = read_json_lines(log);
    for (const auto& l : lines) {
      if (l.contains("mail_from")) return lines;
    }
    return std::vector<json>{};
  };
  std::vector<json> a, r;
  for (int i = 0; i < 1000 && (a.empty() || r.empty()); ++i) {
    a = delivered(am_smtp.log);
    r = delivered(re_smtp.log);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE_FALSE(a.empty());
  REQUIRE_FALSE(r.empty());
  CHECK(r == a);  // the same AUTH attempts (CRAM-MD5 only, accepted) and the same envelope
  CHECK(r.front() == json{{"auth", "CRAM-MD5"}, {"user", "am"}, {"ok", true}});
  (*n)->stop();

  // auth_password_file: read for every message, so a rotated password is used without reload.
  auto cfg2 = parse_alertmanager_config(
      "route:\n  receiver: mail\n  group_wait: 0s\nreceivers:\n  - name: mail\n"
      "    email_configs:\n      - to: oncall@example.org\n        from: am@example.org\n"
      "        smarthost: 127.0.0.1:1\n        require_tls: false\n        auth_username: am\n"
      "        auth_password_file: missing-password\n",
      "alertmanager.yml", d);
  REQUIRE_MESSAGE(cfg2, (cfg2 ? "" : cfg2.error().to_string()));
  CHECK(cfg2->receivers[0].email[0].auth_password_file == d + "/missing-password");
  auto both = parse_alertmanager_config(
      "global: {smtp_auth_secret: s, smtp_auth_password: p, smtp_auth_username: u}\n"
      "route:\n  receiver: mail\nreceivers:\n  - name: mail\n    email_configs:\n"
      "      - to: oncall@example.org\n        from: am@example.org\n        smarthost: h:25\n",
      "alertmanager.yml", d);
  REQUIRE_FALSE(both);
  CHECK(both.error().message.find("not implemented by ruleeval") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("wechat: an expired access token (42001) is dropped, fetched again and the send retried") {
  std::mutex mu;
  int tokens = 0, sends = 0;
  std::vector<std::string> send_queries;
  ruleeval::testing::LocalHttpServer srv([&](httplib::Server& s) {
    s.Get("/wx/gettoken", [&](const httplib::Request&, httplib::Response& res) {
      std::lock_guard lock(mu);
      res.set_content("{\"access_token\":\"tok-" + std::to_string(++tokens) + "\"}",
                      "application/json");
    });
    s.Post("/wx/message/send", [&](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu);
      send_queries.push_back(req.get_param_value("access_token"));
      // Alertmanager 0.25 reads {"code","error"}: the first answer says the token expired.
      res.set_content(++sends == 1 ? R"({"code":42001,"error":"access_token expired"})"
                                   : R"({"code":0,"error":""})",
                      "application/json");
    });
  });
  const int sport = srv.port();
  auto cfg = parse_alertmanager_config(
      "global:\n  wechat_api_url: http://127.0.0.1:" + std::to_string(sport) +
          "/wx/\n  wechat_api_secret: s\n  wechat_api_corp_id: c\n"
          "route:\n  receiver: wx\n  group_wait: 0s\nreceivers:\n  - name: wx\n"
          "    wechat_configs:\n      - to_user: '@all'\n",
      "alertmanager.yml", "/tmp");
  REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().to_string()));
  NotifierOptions o;
  o.external_url = kExternalUrl;
  o.backoff_initial_ms = 50;
  o.backoff_max_ms = 100;
  auto n = Notifier::create(std::move(*cfg), std::move(o));
  REQUIRE_MESSAGE(n, (n ? "" : n.error().to_string()));
  Millis now = Env::Default()->now_ms();
  (*n)->send(std::vector<rules::Alert>{make("Expired", now, now + 600'000)}, Env::Default()->now_ms());
  for (int i = 0; i < 300; ++i) {
    {
      std::lock_guard lock(mu);
      if (sends >= 2) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE((*n)->wait_idle(5000));
  std::lock_guard lock(mu);
  CHECK(tokens == 2);
  REQUIRE(send_queries.size() == 2);
  CHECK(send_queries[0] == "tok-1");
  CHECK(send_queries[1] == "tok-2");
  uint64_t sent = 0, retried = 0;
  for (const auto& m : (*n)->metrics()) {
    sent += m.sent;
    retried += m.retried;
  }
  CHECK(sent == 1);
  CHECK(retried >= 1);
  (*n)->stop();
}
