// A notification that cannot be rendered, or that fails for good, is never dropped silently nor
// retried for ever: it goes to outbox/failed with its reason, the fallback receiver is paged, and
// the notification log reports the outcome ("failed", with the fallback) for the status page.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "../common/fake_env.hpp"
#include "ruleeval/notifiers/notifier.hpp"
#include "fixtures.hpp"
#include "test_util.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;
using namespace ruleeval::notifiers::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr Millis kT0 = 1'700'000'000'000;

// The email's Subject uses a field that does not exist: every rendering fails.
const char* kConfig = R"(
route:
  receiver: mail
  group_by: [alertname]
  group_wait: 10s
  group_interval: 1m
  repeat_interval: 1h
  routes:
    - matchers: ['team="web"']
      receiver: hook
receivers:
  - name: mail
    email_configs:
      - to: oncall@example.org
        from: ruleeval@example.org
        smarthost: 127.0.0.1:1
        headers: {Subject: '{{ .NoSuchField }}'}
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:1/hook
  - name: ops
    webhook_configs:
      - url: http://127.0.0.1:1/ops
)";

struct H : DrivenNotifier {
  std::string dir;
  explicit H(bool fallback = true) : H(temp_dir("outcome"), fallback) {}
  H(std::string state_dir, bool fallback)
      : DrivenNotifier(notify_config(kConfig), kT0,
                       [&](NotifierOptions& o) {
                         o.state_dir = state_dir;
                         o.backoff_initial_ms = 5;
                         o.backoff_max_ms = 20;
                         if (fallback) o.fallback_receiver = "ops";
                       }),
        dir(std::move(state_dir)) {}
  ~H() {
    n->stop();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::vector<fs::path> failed(const char* ext) const {
    std::vector<fs::path> out;
    for (const auto& de : fs::directory_iterator(fs::path(dir) / "outbox" / "failed")) {
      if (de.path().extension() == ext) out.push_back(de.path());
    }
    return out;
  }
  NotificationLogEntry log_of(const std::string& integration) {
    for (auto& e : n->notification_log()) {
      if (e.integration == integration) return e;
    }
    FAIL("no notification log entry for " << integration);
    return {};
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

rules::Alert firing(const char* name, const Labels& extra = {}) {
  LabelsBuilder b(extra);
  b.set("alertname", name);
  return alert(b.build(), kT0, kT0 + 3600'000, Labels{{"summary", std::string(name) + " fired"}});
}

}  // namespace

TEST_CASE("an email that cannot be rendered goes to outbox/failed, pages the fallback, once") {
  H h;
  h.n->send(std::vector<rules::Alert>{firing("DiskFull")}, kT0);
  h.at(10'000);
  // Not sent, not dropped: in failed/ with the alerts it carried and the reason.
  CHECK(h.transport->sent_to("mail/email/0").empty());
  auto entries = h.failed(".json");
  REQUIRE(entries.size() == 1);
  auto e = parse_entry(slurp(entries[0]));
  REQUIRE(e);
  CHECK(e->integration == "mail/email/0");
  CHECK(e->group_key == R"({}:{alertname="DiskFull"})");
  auto payload = json::parse(e->body);
  CHECK(payload["alerts"][0]["labels"]["alertname"] == "DiskFull");
  auto reasons = h.failed(".reason");
  REQUIRE(reasons.size() == 1);
  CHECK(slurp(reasons[0]).find("NoSuchField") != std::string::npos);
  // Counted, and the fallback receiver is paged about the failing integration.
  auto ms = h.n->metrics();
  auto m = std::find_if(ms.begin(), ms.end(), [](auto& x) { return x.integration == "email"; });
  REQUIRE(m != ms.end());
  CHECK(m->failed == 1);
  auto ops = h.transport->sent_to("ops/webhook/0");
  REQUIRE(ops.size() == 1);
  auto b = json::parse(ops[0].entry.body);
  CHECK(b["commonLabels"]["alertname"] == "ReceiverFailing");
  CHECK(b["commonLabels"]["receiver"] == "mail");
  CHECK(b["commonLabels"]["integration"] == "email");
  // The status page's view: failed, with the reason and the fallback.
  auto log = h.log_of("mail/email/0");
  CHECK(log.outcome == "failed");
  CHECK(log.error.find("NoSuchField") != std::string::npos);
  CHECK(log.fallback == "ops");
  CHECK(log.firing == 1);

  // Not retried at every flush: the next group_interval renders nothing new.
  h.at(70'000);
  h.at(130'000);
  CHECK(h.failed(".json").size() == 1);
  CHECK(h.transport->sent_to("ops/webhook/0").size() == 1);  // paged once, not at every flush
  // A change of the group's alerts is tried again (and fails again, to failed/ again).
  h.n->send(std::vector<rules::Alert>{firing("DiskFull", Labels{{"instance", "b"}})}, kT0 + 140'000);
  h.at(190'000);
  CHECK(h.failed(".json").size() == 2);
}

TEST_CASE("a delivery that fails for good is reported as failed to the fallback") {
  H h;
  h.transport->hook = [](const OutboxEntry& e) -> std::optional<SendResult> {
    if (e.integration == "hook/webhook/0") return fail_with(400, false);
    return std::nullopt;
  };
  h.n->send(std::vector<rules::Alert>{firing("Web", Labels{{"team", "web"}})}, kT0);
  h.at(10'000);
  for (int i = 0; i < 500 && h.transport->sent_to("ops/webhook/0").empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(h.n->wait_idle(5000));
  auto log = h.log_of("hook/webhook/0");
  CHECK(log.outcome == "failed");
  CHECK(log.error.find("400") != std::string::npos);
  CHECK(log.fallback == "ops");
  CHECK(h.transport->sent_to("ops/webhook/0").size() == 1);
  CHECK(h.failed(".json").size() == 1);
}

TEST_CASE("retrying and sent outcomes; no fallback configured means none is claimed") {
  H h(/*fallback=*/false);
  std::atomic<int> calls{0};
  std::atomic<bool> release{false};
  h.transport->hook = [&](const OutboxEntry& e) -> std::optional<SendResult> {
    if (e.integration != "hook/webhook/0") return std::nullopt;
    ++calls;
    if (!release) return fail_with(503, true);
    return ok_result();
  };
  h.n->send(std::vector<rules::Alert>{firing("Web", Labels{{"team", "web"}})}, kT0);
  h.clock->set(kT0 + 10'000);
  h.n->tick(kT0 + 10'000);
  for (int i = 0; i < 500 && calls < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto log = h.log_of("hook/webhook/0");
  CHECK(log.outcome == "retrying");
  CHECK(log.error.find("503") != std::string::npos);
  release = true;
  REQUIRE(h.n->wait_idle(5000));
  log = h.log_of("hook/webhook/0");
  CHECK(log.outcome == "sent");
  CHECK(log.error.empty());
  CHECK(log.fallback.empty());
}
