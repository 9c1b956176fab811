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
  // The outbox is not the nflog: the notification itself went into the outbox journal.
  bool journal = false;
  for (const auto& e : fs::directory_iterator(dir / "outbox")) {
    if (e.path().filename().string().starts_with("outbox-") && fs::file_size(e.path()) > 0) {
      journal = true;
    }
  }
  CHECK(journal);
  fs::remove_all(dir);
}

namespace {
OutboxEntry entry(const std::string& group) {
  OutboxEntry e;
  e.receiver = "team";
  e.integration = "team/webhook/0";
  e.group_key = group;
  e.body = "{\"group\":\"" + group + "\"}";
  e.created_at = kT0;
  return e;
}

std::vector<std::string> groups_of(const std::vector<OutboxEntry>& entries) {
  std::vector<std::string> out;
  out.reserve(entries.size());
  for (const auto& e : entries) out.push_back(e.group_key);
  return out;
}
}  // namespace

TEST_CASE("outbox journal: an injected write or fsync failure is reported, nothing accepted lost") {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("ruleeval-env-outbox-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  FakeEnv env(kT0);
  {
    auto ob = Outbox::open(dir.string(), &env);
    REQUIRE(ob);
    OutboxEntry a = entry("a");
    REQUIRE((*ob)->put(a));

    // A full disk: half of the batch reaches the segment, then the error.
    env.fail_writes("outbox-", "No space left on device");
    OutboxEntry b = entry("b");
    auto put = (*ob)->put(b);
    REQUIRE_FALSE(put);
    CHECK(put.error().message.find("outbox journal: cannot write") != std::string::npos);
    CHECK(put.error().message.find("No space left on device") != std::string::npos);
    CHECK((*ob)->pending_count() == 2);  // still to be delivered, and queued for the next write

    // The write passes, its fsync fails (an I/O error): not durable yet either.
    env.clear_failures();
    env.fail_syncs("outbox-", "Input/output error");
    OutboxEntry c = entry("c");
    auto put_c = (*ob)->put(c);
    REQUIRE_FALSE(put_c);
    CHECK(put_c.error().message.find("cannot fsync") != std::string::npos);

    env.clear_failures();
    REQUIRE((*ob)->sync());  // writes what the failed attempts left queued
    CHECK(env.failed_writes() == 2);
  }
  {
    // A restart sees a, b and c once each; the torn and the unsynced writes were cut off first.
    auto ob = Outbox::open(dir.string(), &env);
    REQUIRE(ob);
    CHECK((*ob)->load_warnings().empty());
    auto pending = (*ob)->load_pending();
    REQUIRE(pending);
    CHECK(groups_of(*pending) == std::vector<std::string>{"a", "b", "c"});
    // Acknowledging goes through the same journal: a refused "done" record is an error; it
    // stays queued and is written with the next record.
    env.fail_writes("outbox-", "Read-only file system");
    CHECK_FALSE((*ob)->done((*pending)[0].id));
    env.clear_failures();
    CHECK((*ob)->done((*pending)[1].id));
    CHECK((*ob)->pending_count() == 1);
  }
  {
    // The crash case: the journal refuses a new entry and the process ends before any retry.
    // The entries accepted before are all there.
    auto ob = Outbox::open(dir.string(), &env);
    REQUIRE(ob);
    auto before = (*ob)->load_pending();
    REQUIRE(before);
    CHECK(groups_of(*before) == std::vector<std::string>{"c"});
    env.fail_writes("outbox-", "No space left on device");
    OutboxEntry d = entry("d");
    CHECK_FALSE((*ob)->put(d));
  }
  env.clear_failures();
  auto ob = Outbox::open(dir.string(), &env);
  REQUIRE(ob);
  CHECK((*ob)->load_warnings().empty());
  auto after = (*ob)->load_pending();
  REQUIRE(after);
  CHECK(groups_of(*after) == std::vector<std::string>{"c"});
  fs::remove_all(dir);
}
