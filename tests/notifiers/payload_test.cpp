#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "../common/fake_env.hpp"
#include "ruleeval/notifiers/notification.hpp"
#include "ruleeval/notifiers/notifier.hpp"
#include "fixtures.hpp"
#include "test_util.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;
using namespace ruleeval::notifiers::testing;
using nlohmann::json;

namespace {

constexpr Millis kT0 = 1'795'482'037'491;  // 2026-11-24T01:00:37.491Z

json read_sample(const char* name) {
  std::ifstream in(std::string(RULEEVAL_SHARED_DIR) + "/ref/samples/" + name);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

Labels labels_from(const json& j) {
  std::vector<Label> v;
  for (auto& [k, val] : j.items()) v.push_back({k, val.get<std::string>()});
  return Labels::from_vector(v);
}

// Runs one flush through a notifier with `yaml` and returns the bodies per integration id.
Envelopes flush(const std::string& yaml, std::vector<rules::Alert> alerts, Millis at,
                std::vector<IntegrationMetrics>* metrics = nullptr) {
  return flush_envelopes(
      notify_config(yaml), std::move(alerts), false, at, "http://127.0.0.1:19093", {},
      [](NotifierOptions& o) { o.slack_min_interval_ms = 0; }, metrics);
}

}  // namespace

TEST_CASE("fingerprints and timestamps match Alertmanager's") {
  auto sample = read_sample("alertmanager_webhook.json")["body"];
  auto a = sample["alerts"][0];
  CHECK(fingerprint_hex(labels_from(a["labels"])) == a["fingerprint"].get<std::string>());
  CHECK(format_time(0) == "0001-01-01T00:00:00Z");
  CHECK(format_time(kT0) == "2026-11-24T01:00:37.491Z");
  CHECK(format_time(1'795'482'037'000) == "2026-11-24T01:00:37Z");
  CHECK(format_time(1'795'482'037'500) == "2026-11-24T01:00:37.5Z");
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("rune truncation keeps UTF-8 intact and marks the cut") {
  bool cut = false;
  CHECK(truncate_runes("abcdef", 6, &cut) == "abcdef");
  CHECK_FALSE(cut);
  CHECK(truncate_runes("abcdef", 5, &cut) == "abcd…");
  CHECK(cut);
  CHECK(truncate_runes("ééééé", 4) == "ééé…");
  CHECK(truncate_runes("abcdef", 3) == "abc");
}

TEST_CASE("the webhook payload has the same shape as Alertmanager's v4 sample") {
  auto sample = read_sample("alertmanager_webhook.json")["body"];
  auto sa = sample["alerts"][0];
  rules::Alert a = alert(labels_from(sa["labels"]), kT0, kT0 + 600'000,
                         labels_from(sa["annotations"]));
  a.generator_url = sa["generatorURL"];
  auto out = flush(R"(
route:
  receiver: webhook
  group_by: [alertname, ruler]
  routes:
    - receiver: webhook
receivers:
  - name: webhook
    webhook_configs: [{url: 'http://127.0.0.1:1/webhook'}]
)",
                   {a}, kT0 + 1000);
  REQUIRE(out["webhook/webhook/0"].size() == 1);
  json body = out["webhook/webhook/0"][0];
  std::set<std::string> keys, sample_keys;
  for (auto& [k, v] : body.items()) keys.insert(k);
  for (auto& [k, v] : sample.items()) sample_keys.insert(k);
  CHECK(keys == sample_keys);
  for (const char* k : {"groupKey", "groupLabels", "commonLabels", "commonAnnotations", "status",
                        "receiver", "version", "externalURL", "truncatedAlerts"}) {
    CHECK_MESSAGE(body[k] == sample[k], k);
  }
  auto ba = body["alerts"][0];
  for (const char* k : {"status", "labels", "annotations", "endsAt", "generatorURL", "fingerprint"}) {
    CHECK_MESSAGE(ba[k] == sa[k], k);
  }
  CHECK(ba["startsAt"] == "2026-11-24T01:00:37.491Z");
}

TEST_CASE("webhook max_alerts truncates and counts the rest") {
  std::vector<rules::Alert> alerts;
  alerts.reserve(5);
  for (int i = 0; i < 5; ++i) {
    alerts.push_back(alert(Labels{{"alertname", "A"}, {"i", std::to_string(i)}}, kT0, kT0 + 60'000));
  }
  auto out = flush(R"(
route: {receiver: w, group_by: [alertname]}
receivers:
  - name: w
    webhook_configs: [{url: 'http://x/', max_alerts: 2}]
)",
                   alerts, kT0 + 1000);
  auto body = out["w/webhook/0"].at(0);
  CHECK(body["alerts"].size() == 2);
  CHECK(body["truncatedAlerts"] == 3);
}

TEST_CASE("the Slack payload follows Alertmanager's defaults with runbook buttons") {
  std::vector<rules::Alert> alerts{
      alert(Labels{{"alertname", "DemoQueueBacklog"}, {"ruler", "prometheus"}, {"queue", "q1"},
                   {"severity", "warning"}},
            kT0, kT0 + 60'000,
            Labels{{"summary", "Queue q1 depth 150"}, {"runbook_url", "https://runbooks/q"}})};
  auto out = flush(R"(
route: {receiver: s, group_by: [alertname, ruler]}
receivers:
  - name: s
    slack_configs:
      - api_url: 'http://x/slack'
        channel: '#alerts'
)",
                   alerts, kT0 + 1000);
  auto body = out["s/slack/0"].at(0);
  CHECK(body["channel"] == "#alerts");
  CHECK(body["username"] == "ruleeval");
  auto att = body["attachments"][0];
  CHECK(att["title"] == "[FIRING:1] DemoQueueBacklog prometheus (q1 warning)");
  CHECK(att["title_link"] == "http://127.0.0.1:19093/#/alerts?receiver=s");
  CHECK(att["color"] == "danger");
  CHECK(att["fallback"] ==
        "[FIRING:1] DemoQueueBacklog prometheus (q1 warning) | "
        "http://127.0.0.1:19093/#/alerts?receiver=s");
  CHECK(att["text"] == "• Queue q1 depth 150\n");
  CHECK(att["callback_id"] == "");
  CHECK(att["footer"] == "");
  CHECK(att["mrkdwn_in"] == json::array({"fallback", "pretext", "text"}));
  REQUIRE(att["actions"].size() == 1);
  CHECK(att["actions"][0]["type"] == "button");
  CHECK(att["actions"][0]["url"] == "https://runbooks/q");

  // Resolved: title says RESOLVED and the colour is good.
  alerts[0].ends_at = kT0 + 500;
  auto res = flush(R"(
route: {receiver: s, group_by: [alertname, ruler]}
receivers:
  - name: s
    slack_configs: [{api_url: 'http://x/slack', send_resolved: true}]
)",
                   alerts, kT0 + 1000);
  // A group whose only alert is already resolved is never notified (nothing fired before).
  CHECK(res.empty());
}

TEST_CASE("the PagerDuty event uses sha256 of the group key, severity mapping and default details") {
  auto sample = read_sample("alertmanager_pagerduty.json")["body"];
  std::vector<rules::Alert> alerts{alert(
      Labels{{"alertname", "DemoHighErrorRatio"}, {"job", "api"}, {"ruler", "prometheus"},
             {"severity", "page"}},
      kT0, kT0 + 600'000,
      Labels{{"description", "5xx ratio is 10% for job api"}, {"summary", "High 5xx ratio on api"}})};
  alerts[0].generator_url =
      "http://127.0.0.1:19090/graph?g0.expr=sum+by+%28job%29+%28rate%28demo_http_requests_total%7Bcode%3D~%225..%22%7D%5B5m%5D%29%29+%2F+sum+by+%28job%29+%28rate%28demo_http_requests_total%5B5m%5D%29%29+%3E+0.05&g0.tab=1";
  const char* yaml = R"(
route:
  receiver: pagerduty
  group_by: [alertname, ruler]
  routes:
    - receiver: pagerduty
      matchers: ['severity="page"']
receivers:
  - name: pagerduty
    pagerduty_configs: [{routing_key: 0123456789abcdef0123456789abcdef, url: 'http://x/pd'}]
)";
  auto out = flush(yaml, alerts, kT0 + 1000);
  auto body = out["pagerduty/pagerduty/0"].at(0);
  CHECK(body["dedup_key"] == sample["dedup_key"]);
  CHECK(body["routing_key"] == sample["routing_key"]);
  CHECK(body["event_action"] == "trigger");
  CHECK(body["client_url"] == "http://127.0.0.1:19093/#/alerts?receiver=pagerduty");
  CHECK(body["payload"]["summary"] == sample["payload"]["summary"]);
  CHECK(body["payload"]["custom_details"] == sample["payload"]["custom_details"]);
  CHECK(body["payload"]["severity"] == "critical");  // severity=page maps to critical
  CHECK(body["payload"]["source"] == body["client"]);
}

TEST_CASE("PagerDuty routing_key_file and service_key_file: read for the notification, trimmed, templated") {
  // Alertmanager's notify/pagerduty reads the file for every notification (strings.TrimSpace),
  // then templates the key as it does an inline one.
  auto dir = std::filesystem::temp_directory_path() / "ruleeval_pd_keys";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "v2.key", std::ios::trunc) << "  rk-{{ .CommonLabels.alertname }}\n";
  std::ofstream(dir / "v1.key", std::ios::trunc) << "svc-123\n";
  const std::string yaml = "route: {receiver: pd, group_by: [alertname]}\nreceivers:\n  - name: pd\n"
                           "    pagerduty_configs:\n      - {routing_key_file: " +
                           (dir / "v2.key").string() + ", url: 'http://x/pd'}\n" +
                           "      - {service_key_file: " + (dir / "v1.key").string() +
                           ", url: 'http://x/pd1'}\n";
  std::vector<rules::Alert> alerts{
      alert(Labels{{"alertname", "Disk"}, {"severity", "page"}}, kT0, kT0 + 600'000)};
  auto out = flush(yaml, alerts, kT0 + 1000);
  REQUIRE(out["pd/pagerduty/0"].size() == 1);
  CHECK(out["pd/pagerduty/0"].at(0)["routing_key"] == "rk-Disk");
  REQUIRE(out["pd/pagerduty/1"].size() == 1);
  CHECK(out["pd/pagerduty/1"].at(0)["service_key"] == "svc-123");
  std::filesystem::remove_all(dir);
}

TEST_CASE("PagerDuty summaries are cut at 1024 runes and oversized details are replaced") {
  std::string big(600'000, 'x');
  std::vector<rules::Alert> alerts{alert(Labels{{"alertname", std::string(1500, 'n')}}, kT0,
                                         kT0 + 600'000, Labels{{"blob", big}})};
  auto out = flush(R"(
route: {receiver: p, group_by: [alertname]}
receivers:
  - name: p
    pagerduty_configs: [{routing_key: k, url: 'http://x/pd', severity: warning}]
)",
                   alerts, kT0 + 1000);
  auto body = out["p/pagerduty/0"].at(0);
  auto summary = body["payload"]["summary"].get<std::string>();
  CHECK(summary.size() == 1023 + std::string("…").size());
  CHECK(summary.ends_with("…"));
  CHECK(body["payload"]["custom_details"] ==
        json{{"error",
              "Custom details have been removed because the original event exceeds the maximum "
              "size of 512kB"}});
  CHECK(body["payload"]["severity"] == "warning");
  CHECK(body.dump().size() < 512000);
}

TEST_CASE("email headers with line breaks are encoded (RFC 2047), not dropped") {
  std::vector<IntegrationMetrics> metrics;
  // A CR/LF in a header template and in a label value (the default Subject holds the labels).
  auto out = flush(R"(
route: {receiver: m}
receivers:
  - name: m
    email_configs:
      - to: a@example.org
        from: b@example.org
        smarthost: 127.0.0.1:1
        headers: {X-Evil: "a\r\nBcc: victim@example.org"}
)",
                   {alert(Labels{{"alertname", "A"}, {"job", "x\r\nBcc: v@example.org"}}, kT0,
                          kT0 + 60'000)},
                   kT0 + 1000, &metrics);
  REQUIRE(out["m/email/0"].size() == 1);
  const auto& body = out["m/email/0"].at(0);
  CHECK(body["headers"]["X-Evil"] == "a\r\nBcc: victim@example.org");
  CHECK(body["headers"]["Subject"].get<std::string>().find("\r\n") != std::string::npos);
  REQUIRE(metrics.size() == 1);
  // cppcheck-suppress containerOutOfBounds ; false positive: REQUIRE above ends the test if empty
  CHECK(metrics[0].failed == 0);
  // On the wire, the SMTP transport Q-encodes every header but To/From (transport.cpp).
}

TEST_CASE("a line break in To or From is still refused") {
  std::vector<IntegrationMetrics> metrics;
  auto out = flush(R"(
route: {receiver: m}
receivers:
  - name: m
    email_configs:
      - to: a@example.org
        from: b@example.org
        smarthost: 127.0.0.1:1
        headers: {To: "a@example.org\r\nBcc: victim@example.org"}
)",
                   {alert(Labels{{"alertname", "A"}}, kT0, kT0 + 60'000)}, kT0 + 1000, &metrics);
  CHECK(out.empty());
  REQUIRE(metrics.size() == 1);
  // cppcheck-suppress containerOutOfBounds ; false positive: REQUIRE above ends the test if empty
  CHECK(metrics[0].last_error.find("line break") != std::string::npos);
}

TEST_CASE("the alertmanager receiver forwards the raw alerts") {
  auto out = flush(R"(
route: {receiver: am}
receivers:
  - name: am
    alertmanager_configs: [{url: 'http://127.0.0.1:1/'}]
)",
                   {alert(Labels{{"alertname", "A"}}, kT0, kT0 + 60'000, Labels{{"s", "x"}})},
                   kT0 + 1000);
  auto body = out["am/alertmanager/0"].at(0);
  REQUIRE(body.is_array());
  CHECK(body[0]["labels"] == json{{"alertname", "A"}});
  CHECK(body[0]["annotations"] == json{{"s", "x"}});
  CHECK(body[0]["startsAt"] == "2026-11-24T01:00:37.491Z");
  CHECK(body[0]["endsAt"] == "2026-11-24T01:01:37.491Z");
}
