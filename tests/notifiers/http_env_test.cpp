// Receiver deliveries take HTTP from the notifier's Env (NotifierOptions::env, through the
// default transport): here a FakeEnv's FakeHttp answers, no socket. The tests check the request
// that was sent (URL, body, header lines, http_config's options), the retry of a 5xx, and how a
// transport error from the client is classified.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../common/fake_env.hpp"
#include "fixtures.hpp"
#include "ruleeval/http/client.hpp"
#include "ruleeval/notifiers/notifier.hpp"
#include "test_util.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;
using namespace ruleeval::notifiers::testing;
using nlohmann::json;

namespace {

const char* kConfig = R"(
route:
  receiver: team
  group_by: [alertname]
  group_wait: 10s
  group_interval: 1m
  repeat_interval: 1h
receivers:
  - name: team
    webhook_configs:
      - url: http://hook.test:9/alerts
        http_config:
          authorization:
            credentials: s3cret
)";

constexpr Millis kT0 = 1'700'000'000'000;

// A notifier on a FakeEnv whose HTTP is faked, with the default transport (not a recording one).
struct FakeHttpNotifier : DrivenNotifier {
  FakeHttpNotifier()
      : DrivenNotifier(notify_config(kConfig), kT0, [](NotifierOptions& o) {
          o.transport = nullptr;  // make_default_transport(o.env)
          o.backoff_initial_ms = 5;
          o.backoff_max_ms = 20;
        }),
        http(clock->fake_http()) {}
  FakeHttp& http;

  IntegrationMetrics webhook() const {
    for (const auto& m : n->metrics()) {
      if (m.receiver == "team" && m.integration == "webhook") return m;
    }
    FAIL("no webhook metrics");
    return {};
  }
};

bool has(const std::vector<std::string>& lines, const std::string& line) {
  for (const auto& l : lines) {
    if (l == line) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a webhook delivery goes through the Env's HTTP: a 503 is retried, then 200") {
  FakeHttpNotifier h;
  h.http.respond(503, "unavailable");
  h.http.respond(200, "ok");
  h.fire({alert(Labels{{"alertname", "Disk"}, {"team", "a"}}, kT0, kT0 + 3600'000)});
  h.at(10'000);  // group_wait

  const auto sent = h.http.requests();
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].body == sent[1].body);  // the same notification again
  std::string id;
  for (const auto& s : sent) {
    CHECK(s.method == "POST");
    CHECK(s.url == "http://hook.test:9/alerts");
    CHECK(has(s.headers, "Content-Type: application/json"));
    CHECK(s.options.authorization == "Bearer s3cret");
    CHECK(s.options.parse_retry_after);
    CHECK(s.options.max_body_bytes == 64 * 1024);
    CHECK(s.options.truncate_body);
    std::string this_id;
    for (const auto& l : s.headers) {
      if (l.rfind("X-Ruleeval-Notification-Id: ", 0) == 0) this_id = l.substr(29);
    }
    CHECK_FALSE(this_id.empty());
    if (id.empty()) id = this_id;
    CHECK(this_id == id);  // one notification, one id across its attempts
  }
  auto body = json::parse(sent[1].body);
  CHECK(body["version"] == "4");
  CHECK(body["status"] == "firing");
  CHECK(body["receiver"] == "team");
  CHECK(body["groupKey"] == R"({}:{alertname="Disk"})");
  REQUIRE(body["alerts"].size() == 1);
  CHECK(body["alerts"][0]["labels"]["team"] == "a");

  const auto m = h.webhook();
  CHECK(m.sent == 1);
  CHECK(m.failed == 1);
  CHECK(m.retried == 1);
}

TEST_CASE("a transport error from the Env's HTTP is retried as before, its reason in the error") {
  FakeHttpNotifier h;
  // Connection refused and a timeout pass by themselves; ruleeval (as Alertmanager, whose
  // notifiers retry any error of the HTTP client) retries a TLS failure too.
  h.http.fail(http::TransportKind::kConnect, "Failed to connect to hook.test port 9", 7);
  h.http.fail(http::TransportKind::kTimeout, "Operation timed out after 10000 milliseconds", 28);
  h.http.fail(http::TransportKind::kTls, "SSL certificate problem: self-signed certificate", 60);
  h.http.respond(200, "ok");
  h.fire({alert(Labels{{"alertname", "Disk"}}, kT0, kT0 + 3600'000)});
  h.at(10'000);
  CHECK(h.http.request_count() == 4);
  const auto m = h.webhook();
  CHECK(m.sent == 1);
  CHECK(m.failed == 3);
  CHECK(m.retried == 3);
}

TEST_CASE("the default transport classifies the fake's transport errors as the real client's") {
  FakeEnv env;
  FakeHttp& http = env.fake_http();
  auto cfg = notify_config(kConfig);
  const ReceiverConfig* rc = cfg.find_receiver("team");
  REQUIRE(rc != nullptr);
  auto transport = make_default_transport(&env);
  OutboxEntry e;
  e.id = "0000000000000001-00000001";
  e.integration = "team/webhook/0";
  e.receiver = "team";
  e.kind = IntegrationKind::kWebhook;
  e.body = R"({"status":"firing"})";

  struct Case {
    http::TransportKind kind;
    int curl;
    const char* message;
  };
  for (const Case& c : {Case{http::TransportKind::kConnect, 7, "Failed to connect"},
                         Case{http::TransportKind::kTimeout, 28, "timed out"},
                         Case{http::TransportKind::kTls, 60, "certificate problem"},
                         Case{http::TransportKind::kInvalid, 0, "invalid URL \"x\""}}) {
    CAPTURE(http::transport_kind_name(c.kind));
    http.fail(c.kind, c.message, c.curl);
    SendResult r = transport->send(e, *rc, 0);
    CHECK_FALSE(r.ok);
    CHECK(r.status == 0);
    CHECK(r.retryable);  // as before the seam: the notifier retries every transport error
    // The reason is libcurl's short text for the CURLcode, else the message (transport_reason).
    const Error err = http::transport_error(c.kind, c.message, c.curl);
    CHECK(http::transport_kind(err) == c.kind);
    CHECK(r.error == "POST failed: " + http::transport_reason(err));
  }
  http.respond(200, "ok");
  SendResult ok = transport->send(e, *rc, 0);
  CHECK(ok.ok);
  CHECK(ok.status == 200);
  CHECK(http.requests().back().body == e.body);
}

TEST_CASE("webhook url_file, Slack api_url_file and an Alertmanager url_file are read at every send") {
  // Alertmanager reads these files when it sends (notify/webhook, notify/slack): a config naming
  // a file that is not there yet loads, a missing file fails that attempt without a retry, and a
  // rotated file takes effect at the next send without a reload.
  auto dir = std::filesystem::temp_directory_path() / "ruleeval_url_files";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string hook = (dir / "hook.url").string(), slack = (dir / "slack.url").string(),
                    am = (dir / "am.url").string();
  FakeEnv env;
  FakeHttp& http = env.fake_http();
  auto cfg = notify_config("global:\n  slack_api_url_file: " + slack +
                           "\nroute:\n  receiver: team\nreceivers:\n  - name: team\n"
                           "    webhook_configs:\n      - url_file: " + hook +
                           "\n    slack_configs:\n      - channel: '#ops'\n"
                           "    alertmanager_configs:\n      - url_file: " + am + "\n");
  const ReceiverConfig* rc = cfg.find_receiver("team");
  REQUIRE(rc != nullptr);
  auto transport = make_default_transport(&env);
  auto entry = [](IntegrationKind kind, const char* name) {
    OutboxEntry e;
    e.id = "0000000000000001-00000001";
    e.integration = std::string("team/") + name + "/0";
    e.receiver = "team";
    e.kind = kind;
    e.body = R"({"status":"firing"})";
    return e;
  };
  const OutboxEntry webhook = entry(IntegrationKind::kWebhook, "webhook");
  const OutboxEntry slack_e = entry(IntegrationKind::kSlack, "slack");
  const OutboxEntry am_e = entry(IntegrationKind::kAlertmanager, "alertmanager");

  for (const OutboxEntry* e : {&webhook, &slack_e, &am_e}) {
    SendResult r = transport->send(*e, *rc, 0);
    CHECK_FALSE(r.ok);
    CHECK_FALSE(r.retryable);
    CHECK(r.error.find("unable to read secret file " + dir.string()) == 0);
  }
  CHECK(http.request_count() == 0);

  auto write = [](const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
  };
  write(hook, "  http://hook.test:9/a\n");  // TrimSpace
  write(slack, "https://hooks.slack.test/services/T0/B0/X\n");
  write(am, "http://am.test:9093/\n");
  http.set_default(200, "ok");
  CHECK(transport->send(webhook, *rc, 0).ok);
  CHECK(transport->send(slack_e, *rc, 0).ok);
  CHECK(transport->send(am_e, *rc, 0).ok);
  write(hook, "http://hook.test:9/b\n");  // rotated: no reload
  CHECK(transport->send(webhook, *rc, 0).ok);
  const auto sent = http.requests();
  REQUIRE(sent.size() == 4);
  CHECK(sent[0].url == "http://hook.test:9/a");
  CHECK(sent[1].url == "https://hooks.slack.test/services/T0/B0/X");
  CHECK(sent[2].url == "http://am.test:9093/api/v2/alerts");
  CHECK(sent[3].url == "http://hook.test:9/b");
  std::filesystem::remove_all(dir);
}
