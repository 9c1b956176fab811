// Integration tests of the notifiers against real local servers: HTTP sinks standing in for
// Slack, PagerDuty and webhooks, an aiosmtpd SMTP server, and a real Alertmanager.
#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "notify_parity.hpp"
#include "notify_scripts.hpp"
#include "notify_servers.hpp"
#include "ruleeval/notifiers/notifier.hpp"
#include "ruleeval/notifiers/outbox.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;
using namespace ruleeval::notifiers::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string temp_dir(const std::string& name) {
  auto p = fs::temp_directory_path() / ("ruleeval_notify_it_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

std::unique_ptr<Notifier> make_notifier(const std::string& yaml, const std::string& state_dir,
                                        const std::function<void(NotifierOptions&)>& tweak = {}) {
  auto c = parse_notify_config(yaml);
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  NotifierOptions o;
  o.state_dir = state_dir;
  o.external_url = "http://ruleeval.test:9093";
  o.backoff_initial_ms = 100;
  o.backoff_max_ms = 1000;
  o.slack_min_interval_ms = 0;
  if (tweak) tweak(o);
  auto n = Notifier::create(std::move(*c), std::move(o));
  REQUIRE_MESSAGE(n, (n ? "" : n.error().to_string()));
  return std::move(*n);
}

Millis now_ms() { return Env::Default()->now_ms(); }

rules::Alert make_alert(Labels labels, Labels annotations, Millis ends_in = 600'000) {
  rules::Alert a;
  a.labels = std::move(labels);
  a.annotations = std::move(annotations);
  a.starts_at = now_ms() - 60'000;  // older than group_wait: the group flushes at once
  a.ends_at = now_ms() + ends_in;
  a.generator_url = "http://prometheus.test/graph?g0.expr=up";
  return a;
}

std::string fmt_yaml(std::string s, const std::map<std::string, std::string>& vars) {
  for (const auto& [k, v] : vars) {
    for (size_t p; (p = s.find(k)) != std::string::npos;) s.replace(p, k.size(), v);
  }
  return s;
}

}  // namespace

TEST_CASE("Slack and PagerDuty receive Alertmanager-shaped payloads over HTTP") {
  HttpSink slack;
  HttpSink pd([](const Request&, httplib::Response& res, int) {
    res.status = 202;
    res.set_content(R"({"status":"success","message":"Event processed","dedup_key":"x"})",
                    "application/json");
  });
  auto yaml = fmt_yaml(R"(
route:
  receiver: oncall
  group_by: [alertname, cluster]
  group_wait: 1s
receivers:
  - name: oncall
    slack_configs:
      - api_url: SLACK
        channel: '#ops'
        send_resolved: true
    pagerduty_configs:
      - routing_key: R0123456789
        url: PD
)",
                       {{"SLACK", slack.url("/services/T/B/X")}, {"PD", pd.url("/v2/enqueue")}});
  auto dir = temp_dir("slack_pd");
  auto n = make_notifier(yaml, dir);
  auto a1 = make_alert(Labels{{"alertname", "DiskFull"}, {"cluster", "eu1"}, {"instance", "db1"},
                              {"severity", "critical"}},
                       Labels{{"summary", "Disk full on db1"}, {"runbook_url", "https://rb/disk"}});
  auto a2 = make_alert(Labels{{"alertname", "DiskFull"}, {"cluster", "eu1"}, {"instance", "db2"},
                              {"severity", "critical"}},
                       Labels{{"summary", "Disk full on db2"}, {"runbook_url", "https://rb/disk"}});
  std::vector<rules::Alert> alerts{a1, a2};
  n->send(alerts, now_ms());
  REQUIRE(slack.wait_accepted(1, 10'000));
  REQUIRE(pd.wait_accepted(1, 10'000));

  auto s = slack.accepted()[0];
  CHECK(s.path == "/services/T/B/X");
  CHECK(s.header("Content-Type") == "application/json");
  CHECK(s.header("User-Agent").starts_with("ruleeval/"));
  auto sb = json::parse(s.body);
  CHECK(sb["channel"] == "#ops");
  CHECK(sb["username"] == "ruleeval");
  REQUIRE(sb["attachments"].size() == 1);
  auto att = sb["attachments"][0];
  CHECK(att["title"] == "[FIRING:2] DiskFull eu1 (critical)");
  CHECK(att["title_link"] == "http://ruleeval.test:9093/#/alerts?receiver=oncall");
  CHECK(att["color"] == "danger");
  CHECK(att["text"] == "• Disk full on db1\n• Disk full on db2\n");
  CHECK(att["fallback"] == "[FIRING:2] DiskFull eu1 (critical) | "
                           "http://ruleeval.test:9093/#/alerts?receiver=oncall");
  CHECK(att["mrkdwn_in"] == json::array({"fallback", "pretext", "text"}));
  REQUIRE(att["actions"].size() == 1);
  CHECK(att["actions"][0] == json{{"type", "button"}, {"text", "Runbook"}, {"url", "https://rb/disk"}});

  auto p = pd.accepted()[0];
  CHECK(p.path == "/v2/enqueue");
  auto pb = json::parse(p.body);
  CHECK(pb["routing_key"] == "R0123456789");
  CHECK(pb["event_action"] == "trigger");
  CHECK(pb["dedup_key"] == sha256_hex(R"({}:{alertname="DiskFull", cluster="eu1"})"));
  CHECK(pb["client"] == "ruleeval");
  CHECK(pb["client_url"] == "http://ruleeval.test:9093/#/alerts?receiver=oncall");
  CHECK(pb["links"] == json::array({{{"href", "https://rb/disk"}, {"text", "Runbook"}}}));
  auto payload = pb["payload"];
  CHECK(payload["summary"] == "[FIRING:2] DiskFull eu1 (critical)");
  CHECK(payload["severity"] == "critical");
  CHECK(payload["source"] == "ruleeval");
  auto details = payload["custom_details"];
  CHECK(details["num_firing"] == "2");
  CHECK(details["num_resolved"] == "0");
  CHECK(details["resolved"] == "");
  CHECK(details["firing"].get<std::string>().starts_with(
      "Labels:\n - alertname = DiskFull\n - cluster = eu1\n - instance = db1\n"
      " - severity = critical\nAnnotations:\n - runbook_url = https://rb/disk\n"
      " - summary = Disk full on db1\nSource: http://prometheus.test/graph?g0.expr=up\n"));

  // Resolve both: PagerDuty gets "resolve" with the same dedup_key, Slack a green message.
  for (auto& a : alerts) a.ends_at = now_ms() - 1;
  n->send(alerts, now_ms());
  // group_interval defaults to 5m: flush by hand instead of waiting.
  n->tick(now_ms() + Millis{5} * 60'000);
  REQUIRE(slack.wait_accepted(2, 10'000));
  REQUIRE(pd.wait_accepted(2, 10'000));
  auto sr = json::parse(slack.accepted()[1].body)["attachments"][0];
  CHECK(sr["title"] == "[RESOLVED] DiskFull eu1 (critical)");
  CHECK(sr["color"] == "good");
  auto pr = json::parse(pd.accepted()[1].body);
  CHECK(pr["event_action"] == "resolve");
  CHECK(pr["dedup_key"] == pb["dedup_key"]);
  CHECK(pr["payload"]["custom_details"]["num_resolved"] == "2");
  n->stop();
  fs::remove_all(dir);
}

TEST_CASE("a Slack answer of ok:false is an error that is not retried") {
  HttpSink slack([](const Request&, httplib::Response& res, int) {
    res.set_content(R"({"ok":false,"error":"channel_not_found"})", "application/json");
  });
  auto yaml = fmt_yaml(R"(
route: {receiver: s, group_wait: 0s}
receivers:
  - name: s
    slack_configs: [{api_url: URL, channel: '#nope'}]
)",
                       {{"URL", slack.url("/api/chat.postMessage")}});
  auto dir = temp_dir("slack_err");
  auto n = make_notifier(yaml, dir);
  std::vector<rules::Alert> alerts{make_alert(Labels{{"alertname", "A"}}, {})};
  n->send(alerts, now_ms());
  REQUIRE(slack.wait_accepted(1, 10'000));
  REQUIRE(n->wait_idle(10'000));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(slack.all().size() == 1);
  auto m = n->metrics();
  REQUIRE(m.size() == 1);
  CHECK(m[0].sent == 0);
  CHECK(m[0].failed == 1);
  CHECK(m[0].last_error == "slack error: channel_not_found");
  n->stop();
  fs::remove_all(dir);
}

TEST_CASE("through 500, 503 with Retry-After and a hanging receiver every notification arrives once") {
  std::mutex mu;
  std::set<std::string> delivered_ids;
  std::map<std::string, int> per_group;
  std::vector<std::chrono::steady_clock::time_point> times;
  HttpSink hook([&](const Request& r, httplib::Response& res, int nth) {
    {
      std::lock_guard lock(mu);
      times.push_back(std::chrono::steady_clock::now());
    }
    switch (nth) {
      case 1:
        res.status = 500;
        res.set_content("boom", "text/plain");
        return;
      case 2:
        // A webhook retries 5xx only (Alertmanager's Retrier); a 429 would not be retried.
        res.status = 503;
        res.set_header("Retry-After", "1");
        return;
      case 3:
        // Hang past the client's 1s timeout; what we answer afterwards is never read.
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        res.status = 500;
        return;
      default:
        res.status = 200;
    }
    std::lock_guard lock(mu);
    delivered_ids.insert(r.header("X-Ruleeval-Notification-Id"));
    per_group[json::parse(r.body)["groupKey"].get<std::string>()]++;
  });
  auto yaml = fmt_yaml(R"(
route: {receiver: w, group_by: [alertname], group_wait: 0s}
receivers:
  - name: w
    webhook_configs:
      - url: URL
        http_config: {timeout: 1s}
)",
                       {{"URL", hook.url("/hook")}});
  auto dir = temp_dir("faults");  // (http_config.timeout is ruleeval's inline extension)
  auto n = make_notifier(yaml, dir);
  std::vector<rules::Alert> alerts;
  alerts.reserve(5);
  for (int i = 0; i < 5; ++i) {
    alerts.push_back(make_alert(Labels{{"alertname", "A" + std::to_string(i)}}, {}));
  }
  n->send(alerts, now_ms());
  REQUIRE(hook.wait_accepted(5, 25'000));
  REQUIRE(n->wait_idle(5'000));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::lock_guard lock(mu);
  CHECK(per_group.size() == 5);
  for (const auto& [k, c] : per_group) CHECK_MESSAGE(c == 1, k);
  CHECK(delivered_ids.size() == 5);
  CHECK(hook.accepted().size() == 5);
  REQUIRE(times.size() >= 4);
  // Retry-After: 1 was honoured between the 503 and the next attempt.
  CHECK(times[2] - times[1] >= std::chrono::milliseconds(950));
  auto m = n->metrics();
  REQUIRE(m.size() == 1);
  CHECK(m[0].sent == 5);
  CHECK(m[0].failed == 3);
  CHECK(m[0].retried == 3);
  n->stop();
  {
    auto ob = Outbox::open((fs::path(dir) / "outbox").string());
    REQUIRE(ob);
    CHECK((*ob)->pending_count() == 0);
  }
  fs::remove_all(dir);
}

TEST_CASE("email goes through a real SMTP server as multipart text and HTML") {
  auto dir = temp_dir("smtp");
  SmtpSink smtp(fs::path(dir) / "mail", (fs::path(dir) / "smtp.log").string());
  const int port = smtp.port;
  auto yaml = fmt_yaml(R"(
route: {receiver: mail, group_by: [alertname], group_wait: 0s}
receivers:
  - name: mail
    email_configs:
      - to: 'oncall@example.org, second@example.org'
        from: ruleeval@example.org
        smarthost: 127.0.0.1:PORT
        require_tls: false
        headers:
          Subject: 'Alerte: température élevée'
)",
                       {{"PORT", std::to_string(port)}});
  auto n = make_notifier(yaml, (fs::path(dir) / "state").string());
  std::vector<rules::Alert> alerts{
      make_alert(Labels{{"alertname", "HighTemp"}, {"room", "r1"}},
                 Labels{{"summary", "Température 41°C & <rising>"}})};
  n->send(alerts, now_ms());
  n->tick(now_ms());
  REQUIRE(n->wait_idle(15'000));
  // Parse the MIME with Python's email package (a second, independent implementation).
  const fs::path mail = smtp.wait_mail(4'000);
  auto j = mail_json(mail).at(0);
  CHECK(j["subject"] == "Alerte: température élevée");
  CHECK(j["to"] == "oncall@example.org, second@example.org");
  CHECK(j["from"] == "ruleeval@example.org");
  CHECK(j["mailfrom"] == "ruleeval@example.org");
  CHECK(j["rcpt"] == "oncall@example.org, second@example.org");
  CHECK_FALSE(j["msgid"].is_null());
  CHECK_FALSE(j["date"].is_null());
  // The raw header is RFC 2047 encoded.
  std::ifstream raw(mail);
  std::stringstream ss;
  ss << raw.rdbuf();
  CHECK(ss.str().find("Subject: =?UTF-8?q?") != std::string::npos);
  std::vector<std::string> types = j["types"];
  CHECK(std::find(types.begin(), types.end(), "multipart/alternative") != types.end());
  REQUIRE(j["parts"].size() == 2);
  CHECK(j["parts"][0]["type"] == "text/plain");
  CHECK(j["parts"][0]["cte"] == "quoted-printable");
  CHECK(j["parts"][0]["body"].get<std::string>().find("summary = Température 41°C & <rising>") !=
        std::string::npos);
  CHECK(j["parts"][1]["type"] == "text/html");
  CHECK(j["parts"][1]["cte"] == "quoted-printable");
  CHECK(j["parts"][1]["body"].get<std::string>().find("Température 41°C &amp; &lt;rising&gt;") !=
        std::string::npos);
  n->stop();
  fs::remove_all(dir);
}

TEST_CASE("a real Alertmanager accepts forwarded alerts and notifies its webhook") {
  HttpSink sink;
  auto dir = temp_dir("am");
  std::ofstream(fs::path(dir) / "am.yml") << fmt_yaml(R"(
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
receivers:
  - name: hook
    webhook_configs:
      - url: URL
)",
                                                      {{"URL", sink.url("/am-webhook")}});
  const Alertmanager am((fs::path(dir) / "am.yml").string(), (fs::path(dir) / "data").string(),
                        (fs::path(dir) / "am.log").string(), "http://alertmanager.test:9093");
  auto yaml = fmt_yaml(R"(
route: {receiver: am, group_by: [alertname], group_wait: 0s}
receivers:
  - name: am
    alertmanager_configs: [{url: 'http://127.0.0.1:PORT/'}]
)",
                       {{"PORT", std::to_string(am.port())}});
  auto n = make_notifier(yaml, (fs::path(dir) / "state").string());
  std::vector<rules::Alert> alerts{
      make_alert(Labels{{"alertname", "Forwarded"}, {"severity", "page"}, {"job", "api"}},
                 Labels{{"summary", "sent through ruleeval"}})};
  n->send(alerts, now_ms());
  bool got = sink.wait_accepted(1, 15'000);
  auto m = n->metrics();
  REQUIRE(m.size() == 1);
  CHECK_MESSAGE(m[0].sent == 1, m[0].last_error);
  REQUIRE(got);
  auto body = json::parse(sink.accepted()[0].body);
  CHECK(body["version"] == "4");
  CHECK(body["status"] == "firing");
  CHECK(body["receiver"] == "hook");
  CHECK(body["groupKey"] == R"({}:{alertname="Forwarded"})");
  REQUIRE(body["alerts"].size() == 1);
  CHECK(body["alerts"][0]["labels"] ==
        json{{"alertname", "Forwarded"}, {"severity", "page"}, {"job", "api"}});
  CHECK(body["alerts"][0]["annotations"]["summary"] == "sent through ruleeval");
  CHECK(body["alerts"][0]["generatorURL"] == "http://prometheus.test/graph?g0.expr=up");
  CHECK(body["alerts"][0]["fingerprint"] == fingerprint_hex(alerts[0].labels));
  n->stop();
  fs::remove_all(dir);
}

TEST_CASE("email uses STARTTLS when required and implicit TLS when forced") {
  auto dir = temp_dir("smtp_tls");
  const CertFiles tls = self_signed_cert(dir, "127.0.0.1", "");
  const std::string cert = tls.cert, key = tls.key;
  SmtpSink starttls(fs::path(dir) / "starttls", (fs::path(dir) / "starttls.log").string(),
                    {"--tlscert", cert, "--tlskey", key});
  SmtpSink smtps(fs::path(dir) / "smtps", (fs::path(dir) / "smtps.log").string(),
                 {"--smtpscert", cert, "--smtpskey", key});
  SmtpSink plain(fs::path(dir) / "plain", (fs::path(dir) / "plain.log").string());
  auto yaml = fmt_yaml(R"(
route: {receiver: mail, group_wait: 0s}
receivers:
  - name: mail
    email_configs:
      - {to: a@example.org, from: r@example.org, smarthost: '127.0.0.1:P1',
         tls_config: {insecure_skip_verify: true}}
      - {to: b@example.org, from: r@example.org, smarthost: '127.0.0.1:P2',
         force_implicit_tls: true, tls_config: {insecure_skip_verify: true}}
      - {to: c@example.org, from: r@example.org, smarthost: '127.0.0.1:P3'}
)",
                       {{"P1", std::to_string(starttls.port)},
                        {"P2", std::to_string(smtps.port)},
                        {"P3", std::to_string(plain.port)}});
  auto n = make_notifier(yaml, (fs::path(dir) / "state").string());
  std::vector<rules::Alert> alerts{make_alert(Labels{{"alertname", "Tls"}}, {})};
  n->send(alerts, now_ms());
  n->tick(now_ms());  // flush now rather than waiting for the background loop
  REQUIRE(n->wait_idle(20'000));
  CHECK(starttls.count() == 1);
  CHECK(smtps.count() == 1);
  // require_tls defaults to true: a server without STARTTLS gets nothing, and it is not retried.
  CHECK(plain.count() == 0);
  std::map<std::string, IntegrationMetrics> by_id;
  auto ms = n->metrics();
  REQUIRE(ms.size() == 3);
  uint64_t sent = 0, failed = 0, retried = 0;
  for (const auto& m : ms) {
    sent += m.sent;
    failed += m.failed;
    retried += m.retried;
  }
  CHECK(sent == 2);
  CHECK(failed == 1);
  CHECK(retried == 0);
  n->stop();
  fs::remove_all(dir);
}
