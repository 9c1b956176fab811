// The daemon's state store and rule manager see the outside world through an Env
// (ruleeval/common/env.hpp): a disk-full on one group's file is injected through a FakeEnv (no
// read-only directories, which do not stop root), and the manager's clock is the Env's.
#include <doctest/doctest.h>

#include <filesystem>

#include "../common/fake_env.hpp"
#include "ruleeval/engine/manager.hpp"
#include "ruleeval/engine/state_store.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;
namespace fs = std::filesystem;

namespace {

constexpr Millis kT0 = 1'700'000'000'000;
constexpr Millis kMin = 60'000;

struct TempDir {
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "ruleeval_envseam_XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path;
};

std::string group_doc(const std::string& group, Millis saved_at, size_t firing) {
  StateSnapshot s;
  s.saved_at = saved_at;
  RuleStateSnapshot r;
  r.file = "rules/a.yml";
  r.group = group;
  r.rule = "Down";
  for (size_t i = 0; i < firing; ++i) {
    ActiveAlert a;
    a.labels = Labels{{"alertname", "Down"}, {"instance", "i" + std::to_string(i)}};
    a.state = AlertState::kFiring;
    a.active_at = saved_at - 10 * kMin;
    a.fired_at = saved_at - 5 * kMin;
    r.alerts.push_back(std::move(a));
  }
  s.rules.push_back(std::move(r));
  return serialize_state(s);
}

}  // namespace

TEST_CASE("a write failure injected through the Env fails one group's save, not the others") {
  TempDir dir;
  FakeEnv env(kT0);
  StateStore store(dir.path, &env);
  const std::string g1 = store.group_path("rules/a.yml", "g1");
  const std::string g2 = store.group_path("rules/a.yml", "g2");
  std::vector<StateStore::GroupData> first = {{"rules/a.yml", "g1", group_doc("g1", kT0, 1)},
                                              {"rules/a.yml", "g2", group_doc("g2", kT0, 1)}};
  REQUIRE(store.save_groups(kT0, first, true).has_value());

  // The disk is full for g1's file only.
  env.fail_writes(fs::path(g1).filename().string(), "No space left on device");
  std::vector<StateStore::GroupData> second = {
      {"rules/a.yml", "g1", group_doc("g1", kT0 + kMin, 3)},
      {"rules/a.yml", "g2", group_doc("g2", kT0 + kMin, 2)}};
  auto r = store.save_groups(kT0 + kMin, second, false);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message.find(g1) != std::string::npos);
  CHECK(r.error().message.find("No space left on device") != std::string::npos);
  CHECK(env.failed_writes() == 1);

  env.clear_failures();
  auto loaded = store.load(kT0 + 2 * kMin);
  REQUIRE(loaded.errors.empty());
  REQUIRE(loaded.snapshot.has_value());
  const auto* r1 = loaded.snapshot->find("rules/a.yml", "g1", "Down");
  const auto* r2 = loaded.snapshot->find("rules/a.yml", "g2", "Down");
  REQUIRE(r1 != nullptr);
  REQUIRE(r2 != nullptr);
  CHECK(r1->alerts.size() == 1);  // the old file is intact: atomic replacement never started
  CHECK(r2->alerts.size() == 2);  // the other group was saved
  CHECK_FALSE(fs::exists(g1 + ".tmp"));
}

TEST_CASE("a state directory the Env refuses to write is reported by the save") {
  TempDir dir;
  FakeEnv env(kT0);
  StateStore store(dir.path, &env);
  env.fail_writes(dir.path, "Input/output error");  // every write in the directory
  std::vector<StateStore::GroupData> groups = {{"rules/a.yml", "g1", group_doc("g1", kT0, 1)}};
  auto r = store.save_groups(kT0, groups, true);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message.find("Input/output error") != std::string::npos);
  CHECK_FALSE(fs::exists(store.group_path("rules/a.yml", "g1")));
}

TEST_CASE("the rule manager reads the time from its Env") {
  FakeEnv env(kT0);
  ManagerOptions o;
  o.env = &env;
  RuleManager m(o, nullptr);
  CHECK(m.status_data().now == kT0);
  env.advance(90'000);
  CHECK(m.status_data().now == kT0 + 90'000);
}
