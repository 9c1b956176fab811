// The notifier reads time and writes its files through NotifierOptions::env: its own loop
// thread follows a FakeEnv's clock, and a write failure injected there is reported, not fatal.
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "../common/fake_env.hpp"
#include "ruleeval/notifiers/notifier.hpp"
#include "test_util.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;
using namespace ruleeval::notifiers::testing;

namespace {

const char* kYaml = R"(
route:
  receiver: team
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: team
    webhook_configs:
      - url: http://127.0.0.1:1/hook
)";

constexpr Millis kT0 = 1'700'000'000'000;

bool eventually(const std::function<bool()>& ok, std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return ok();
}

}  // namespace

TEST_CASE("the notifier's own loop waits group_wait on the Env's clock, not the system's") {
  auto env = std::make_shared<FakeEnv>(kT0);
  auto transport = std::make_shared<RecordingTransport>();
  auto cfg = parse_notify_config(kYaml);
  REQUIRE(cfg);
  NotifierOptions o;
  o.env = env;
  o.transport = transport;
  o.start_threads = true;  // the loop thread ticks with env->now_ms()
  auto n = Notifier::create(std::move(*cfg), std::move(o));
  REQUIRE(n);
  (*n)->send(std::vector<rules::Alert>{alert(Labels{{"alertname", "Disk"}}, kT0, kT0 + 3600'000)},
             kT0);

  // Real time passes, fake time does not: group_wait (30s) is not over.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  CHECK(transport->sent().empty());

  env->advance(29'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  CHECK(transport->sent().empty());

  env->advance(1'000);  // now exactly group_wait after the alert arrived
  CHECK(eventually([&] { return transport->sent().size() == 1; }, std::chrono::seconds(5)));
  (*n)->stop();
}

TEST_CASE("a failed nflog write injected through the Env is logged and delivery goes on") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("ruleeval-env-notifier-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto env = std::make_shared<FakeEnv>(kT0);
  env->fail_writes("nflog.json", "No space left on device");
  std::vector<std::string> logged;
  std::mutex log_mu;
  set_notifier_log([&](std::string_view m, bool) {
    std::lock_guard lk(log_mu);
    logged.emplace_back(m);
  });
  auto transport = std::make_shared<RecordingTransport>();
  {
    auto cfg = parse_notify_config(kYaml);
    REQUIRE(cfg);
    NotifierOptions o;
    o.state_dir = dir.string();
    o.env = env;
    o.transport = transport;
    o.start_threads = false;
    auto n = Notifier::create(std::move(*cfg), std::move(o));
    REQUIRE(n);
    (*n)->send(std::vector<rules::Alert>{alert(Labels{{"alertname", "Disk"}}, kT0, kT0 + 3600'000)},
               kT0);
    env->advance(30'000);
    (*n)->tick(env->now_ms());
    REQUIRE((*n)->wait_idle(5000));
    CHECK(transport->sent().size() == 1);
    (*n)->stop();
  }
  set_notifier_log(nullptr);
  CHECK(env->failed_writes() >= 1);
  CHECK_FALSE(fs::exists(dir / "nflog.json"));
  bool reported = false;
  for (const auto& m : logged) {
    if (m.find("nflog.json") != std::string::npos && m.find("No space left") != std::string::npos) {
      reported = true;
    }
  }
  CHECK(reported);
  // The outbox is not the nflog: the notification itself was written and acknowledged.
  CHECK(fs::exists(dir / "outbox" / "pending"));
  fs::remove_all(dir);
}

TEST_CASE("the outbox writes through its Env: a full disk refuses the entry, nothing is half-queued") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("ruleeval-env-outbox-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  FakeEnv env(kT0);
  auto ob = Outbox::open(dir.string(), &env);
  REQUIRE(ob);
  OutboxEntry e;
  e.receiver = "team";
  e.integration = "team/webhook/0";
  e.body = "{}";
  e.created_at = kT0;
  env.fail_writes("/pending/", "No space left on device");
  auto put = (*ob)->put(e);
  REQUIRE_FALSE(put);
  CHECK(put.error().message.find("No space left on device") != std::string::npos);
  CHECK((*ob)->pending_count() == 0);
  CHECK((*ob)->load_pending()->empty());

  env.clear_failures();
  OutboxEntry ok = e;
  auto id = (*ob)->put(ok);
  REQUIRE(id);
  CHECK((*ob)->pending_count() == 1);
  REQUIRE((*ob)->load_pending()->size() == 1);
  // Acknowledging it removes the file through the Env too.
  env.fail_writes(*id, "Read-only file system");
  CHECK_FALSE((*ob)->done(*id));
  env.clear_failures();
  CHECK((*ob)->done(*id));
  CHECK((*ob)->load_pending()->empty());
  fs::remove_all(dir);
}
