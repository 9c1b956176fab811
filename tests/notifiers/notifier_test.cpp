#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "../common/fake_env.hpp"
#include "ruleeval/notifiers/notifier.hpp"
#include "ruleeval/notifiers/outbox.hpp"
#include "fixtures.hpp"
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
      - url: http://127.0.0.1:1/hook
    slack_configs:
      - api_url: http://127.0.0.1:1/slack
  - name: ops
    webhook_configs:
      - url: http://127.0.0.1:1/ops
)";

constexpr Millis kT0 = 1'700'000'000'000;
const std::string kHook = "team/webhook/0";
const std::string kSlack = "team/slack/0";

// The notifier under test with kConfig (or `yaml`), driven from kT0; retries back off 5-20 ms.
struct Harness : DrivenNotifier {
  explicit Harness(std::string state_dir = {}, const char* yaml = kConfig,
                   const std::function<void(NotifierOptions&)>& tweak = {})
      : DrivenNotifier(notify_config(yaml), kT0, [&](NotifierOptions& o) {
          o.state_dir = std::move(state_dir);
          o.slack_min_interval_ms = 0;
          o.backoff_initial_ms = 5;
          o.backoff_max_ms = 20;
          if (tweak) tweak(o);
        }) {}
};

json body_of(const Sent& s) { return json::parse(s.entry.body); }

rules::Alert firing(const char* name, Millis ends_offset, const Labels& extra = {}) {
  LabelsBuilder b(extra);
  b.set("alertname", name);
  return alert(b.build(), kT0, kT0 + ends_offset, Labels{{"summary", std::string(name) + " fired"}});
}

}  // namespace

TEST_CASE("the pipeline applies Alertmanager's dedup rules per integration") {
  Harness h;
  h.fire({firing("A", Millis{3} * 3600'000, Labels{{"i", "1"}})});
  h.at(9'999);
  CHECK(h.transport->sent().empty());
  h.at(10'000);  // group_wait
  REQUIRE(h.transport->sent_to(kHook).size() == 1);
  REQUIRE(h.transport->sent_to(kSlack).size() == 1);
  auto first = body_of(h.transport->sent_to(kHook)[0]);
  CHECK(first["status"] == "firing");
  CHECK(first["groupKey"] == R"({}:{alertname="A"})");
  CHECK(first["alerts"].size() == 1);

  h.at(70'000);  // nothing changed
  CHECK(h.transport->sent().size() == 2);

  // A new firing alert: both integrations hear about it at the next group_interval.
  h.clock->set(kT0 + 80'000);
  h.fire({firing("A", Millis{3} * 3600'000, Labels{{"i", "2"}})});
  h.at(130'000);
  CHECK(h.transport->sent_to(kHook).size() == 2);
  CHECK(h.transport->sent_to(kSlack).size() == 2);
  CHECK(body_of(h.transport->sent_to(kHook)[1])["alerts"].size() == 2);

  // i=2 resolves: only the webhook (send_resolved defaults to true there) is told.
  h.fire({alert(Labels{{"alertname", "A"}, {"i", "2"}}, kT0, kT0 + 135'000)});
  h.at(190'000);
  REQUIRE(h.transport->sent_to(kHook).size() == 3);
  CHECK(h.transport->sent_to(kSlack).size() == 2);
  auto resolved = body_of(h.transport->sent_to(kHook)[2]);
  CHECK(resolved["status"] == "firing");
  CHECK(resolved["alerts"][1]["status"] == "resolved");

  // Nothing new until repeat_interval (1h after the last notification at 130s) has passed.
  h.at(130'000 + 3600'000 - 10'000);
  CHECK(h.transport->sent_to(kSlack).size() == 2);
  h.at(130'000 + 3600'000 + 50'000);
  CHECK(h.transport->sent_to(kSlack).size() == 3);
  CHECK(body_of(h.transport->sent_to(kSlack)[2])["attachments"][0]["title"] ==
        "[FIRING:1] A (1)");

  // Everything resolves: the webhook gets the resolved notification, Slack stays quiet.
  size_t hooks = h.transport->sent_to(kHook).size();
  h.fire({alert(Labels{{"alertname", "A"}, {"i", "1"}}, kT0, kT0 + 3800'000)});
  h.at(3900'000);
  REQUIRE(h.transport->sent_to(kHook).size() == hooks + 1);
  CHECK(body_of(h.transport->sent_to(kHook).back())["status"] == "resolved");
  CHECK(h.transport->sent_to(kSlack).size() == 3);
  CHECK(h.n->group_count() == 0);
}

TEST_CASE("silences mute matching alerts while active and persist in the state dir") {
  auto dir = temp_dir("silences");
  std::string id;
  {
    Harness h(dir);
    auto ms = parse_matchers(R"(alertname="A")");
    REQUIRE(ms);
    Silence s;
    s.matchers = *ms;
    s.ends_at = kT0 + 60'000;
    s.created_by = "test";
    s.comment = "maintenance";
    auto created = h.n->silences().create(s, kT0);
    REQUIRE(created);
    id = *created;
    h.fire({firing("A", 3600'000), firing("B", 3600'000)});
    h.at(10'000);
    auto sent = h.transport->sent_to(kHook);
    REQUIRE(sent.size() == 1);
    CHECK(body_of(sent[0])["commonLabels"]["alertname"] == "B");
    // Expired silences stop muting: A goes out at the next flush.
    REQUIRE(h.n->silences().expire(id, kT0 + 20'000));
    h.at(70'000);
    REQUIRE(h.transport->sent_to(kHook).size() == 2);
    CHECK(body_of(h.transport->sent_to(kHook)[1])["commonLabels"]["alertname"] == "A");
    CHECK_FALSE(h.n->silences().expire(id, kT0 + 80'000));  // already expired
  }
  auto reopened = Silences::open((std::filesystem::path(dir) / "silences.json").string());
  REQUIRE(reopened);
  auto list = (*reopened)->list();
  REQUIRE(list.size() == 1);
  CHECK(list[0].id == id);
  CHECK(list[0].comment == "maintenance");
  CHECK(list[0].state(kT0 + 30'000) == "expired");
  CHECK(matchers_to_string(list[0].matchers) == R"({alertname="A"})");
}

TEST_CASE("silences that would match everything are rejected") {
  auto s = Silences::open("");
  REQUIRE(s);
  Silence all;
  all.matchers = *parse_matchers(R"(x=~".*")");
  all.ends_at = 10;
  CHECK_FALSE((*s)->create(all, 1));
  Silence none;
  none.ends_at = 10;
  CHECK_FALSE((*s)->create(none, 1));
}

TEST_CASE("the outbox delivers pending notifications after a restart and never re-sends") {
  auto dir = temp_dir("outbox");
  std::string body;
  {
    Harness h(dir);
    h.transport->hook = [](const OutboxEntry&) -> std::optional<SendResult> {
      return fail_with(503, true);
    };
    h.fire({firing("A", 3600'000)});
    h.clock->set(kT0 + 10'000);
    h.n->tick(kT0 + 10'000);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    h.n->stop();  // "crash" with two undelivered notifications
    CHECK(h.transport->sent().empty());
    auto ob = Outbox::open((std::filesystem::path(dir) / "outbox").string());
    REQUIRE(ob);
    auto pending = (*ob)->load_pending();
    REQUIRE(pending);
    CHECK(pending->size() == 2);
    auto m = h.n->metrics();
    uint64_t retried = 0;
    for (auto& x : m) retried += x.retried;
    CHECK(retried >= 2);
  }
  {
    Harness h(dir);  // restart: pending entries go out without any new flush
    REQUIRE(h.n->wait_idle(5000));
    auto sent = h.transport->sent();
    REQUIRE(sent.size() == 2);
    body = h.transport->sent_to(kHook).at(0).entry.body;
    CHECK(json::parse(body)["alerts"][0]["labels"]["alertname"] == "A");
    // The notification log survived too: the same alert is not notified again.
    h.fire({firing("A", 3600'000)});
    h.at(20'000);
    CHECK(h.transport->sent().size() == 2);
  }
  {
    Harness h(dir);
    REQUIRE(h.n->wait_idle(5000));
    CHECK(h.transport->sent().empty());
  }
}

TEST_CASE("delivery retries 5xx and honours Retry-After on 429") {
  Harness h;
  auto started = std::chrono::steady_clock::now();
  h.transport->script({fail_with(500, true), fail_with(429, true, 300), ok_result()});
  h.transport->hook = [](const OutboxEntry& e) -> std::optional<SendResult> {
    if (e.kind == IntegrationKind::kSlack) return ok_result();
    return std::nullopt;
  };
  h.fire({firing("A", 3600'000)});
  h.at(10'000);
  auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK(elapsed >= std::chrono::milliseconds(300));
  CHECK(h.transport->sent_to(kHook).size() == 1);
  for (const auto& m : h.n->metrics()) {
    if (m.receiver == "team" && m.integration == "webhook") {
      CHECK(m.sent == 1);
      CHECK(m.failed == 2);
      CHECK(m.retried == 2);
      CHECK(m.queued == 0);
    }
  }
  auto text = h.n->metrics_text();
  CHECK(text.find(R"(ruleeval_notifications_sent_total{receiver="team",integration="webhook"} 1)") !=
        std::string::npos);
  CHECK(text.find(R"(ruleeval_notifications_retried_total{receiver="team",integration="webhook"} 2)") !=
        std::string::npos);
  CHECK(text.find(R"(ruleeval_notifications_queued{receiver="ops",integration="webhook"} 0)") !=
        std::string::npos);
}

TEST_CASE("a 4xx other than 429 is not retried and the next flush tries again") {
  auto dir = temp_dir("4xx");
  Harness h(dir);
  int calls = 0;
  h.transport->hook = [&](const OutboxEntry& e) -> std::optional<SendResult> {
    if (e.kind != IntegrationKind::kWebhook) return ok_result();
    if (++calls == 1) return fail_with(400, false);
    return std::nullopt;
  };
  h.fire({firing("A", 3600'000)});
  h.at(10'000);
  CHECK(calls == 1);
  CHECK(h.transport->sent_to(kHook).empty());
  size_t failed = 0;
  for (auto& e : std::filesystem::directory_iterator(std::filesystem::path(dir) / "outbox/failed")) {
    failed += e.path().extension() == ".json";
  }
  CHECK(failed == 1);
  h.at(70'000);  // not logged as notified, so the group's next flush retries
  CHECK(h.transport->sent_to(kHook).size() == 1);
  CHECK(h.transport->sent_to(kSlack).size() == 1);
}

TEST_CASE("a receiver failing past the threshold raises ReceiverFailing through the fallback") {
  std::atomic<bool> broken{true};
  Harness h({}, kConfig, [](NotifierOptions& o) {
    o.failing_threshold = 3;
    o.fallback_receiver = "ops";
  });
  h.transport->hook = [&](const OutboxEntry& e) -> std::optional<SendResult> {
    if (e.integration == kSlack && broken) return fail_with(502, true);
    return std::nullopt;
  };
  h.fire({firing("A", 3600'000)});
  h.clock->set(kT0 + 10'000);
  h.n->tick(kT0 + 10'000);
  for (int i = 0; i < 1000 && h.transport->sent_to("ops/webhook/0").empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto ops = h.transport->sent_to("ops/webhook/0");
  REQUIRE(ops.size() == 1);
  auto b = body_of(ops[0]);
  CHECK(b["status"] == "firing");
  CHECK(b["commonLabels"]["alertname"] == "ReceiverFailing");
  CHECK(b["commonLabels"]["receiver"] == "team");
  CHECK(b["commonLabels"]["integration"] == "slack");
  CHECK(b["commonAnnotations"]["description"].get<std::string>().find("502") != std::string::npos);
  broken = false;
  REQUIRE(h.n->wait_idle(5000));
  ops = h.transport->sent_to("ops/webhook/0");
  REQUIRE(ops.size() == 2);
  CHECK(body_of(ops[1])["status"] == "resolved");
  CHECK(h.transport->sent_to(kSlack).size() == 1);
}

TEST_CASE("a slow receiver does not hold up another one") {
  Harness h;
  std::atomic<bool> release{false};
  h.transport->hook = [&](const OutboxEntry& e) -> std::optional<SendResult> {
    if (e.kind == IntegrationKind::kSlack) {
      while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return std::nullopt;
  };
  h.fire({firing("A", 3600'000)});
  h.clock->set(kT0 + 10'000);
  auto start = std::chrono::steady_clock::now();
  h.n->tick(kT0 + 10'000);
  while (h.transport->sent_to(kHook).empty() &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  CHECK(h.transport->sent_to(kHook).size() == 1);
  // Generous bound for loaded CI machines; the slow receiver is blocked until released anyway.
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(3000));
  CHECK(h.transport->sent_to(kSlack).empty());
  release = true;
  REQUIRE(h.n->wait_idle(5000));
  CHECK(h.transport->sent_to(kSlack).size() == 1);
}

TEST_CASE("slack deliveries are rate limited per integration") {
  Harness h({}, kConfig, [](NotifierOptions& o) { o.slack_min_interval_ms = 150; });
  h.fire({firing("A", 3600'000), firing("B", 3600'000), firing("C", 3600'000)});
  auto start = std::chrono::steady_clock::now();
  h.at(10'000);
  CHECK(h.transport->sent_to(kSlack).size() == 3);
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(300));
}

TEST_CASE("inhibited alerts are not notified") {
  const char* yaml = R"(
route: {receiver: team, group_by: [alertname], group_wait: 0s}
receivers:
  - name: team
    webhook_configs: [{url: 'http://127.0.0.1:1/x'}]
inhibit_rules:
  - source_matchers: [severity=critical]
    target_matchers: [severity=warning]
    equal: [cluster]
)";
  Harness h({}, yaml);
  h.fire({firing("Down", 3600'000, Labels{{"severity", "critical"}, {"cluster", "eu"}}),
          firing("Slow", 3600'000, Labels{{"severity", "warning"}, {"cluster", "eu"}}),
          firing("Slow2", 3600'000, Labels{{"severity", "warning"}, {"cluster", "us"}})});
  h.at(1);
  std::set<std::string> names;
  for (auto& s : h.transport->sent()) names.insert(body_of(s)["groupLabels"]["alertname"]);
  CHECK(names == std::set<std::string>{"Down", "Slow2"});
}
