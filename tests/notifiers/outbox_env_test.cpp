// The outbox's directory operations go through its Env (issue 17): the owner-only permission of
// the outbox directory, the listing and pruning of failed/ by modification time, and the removal
// of an earlier version's pending/ directory.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "../common/fake_env.hpp"
#include "../support/temp_dir.hpp"
#include "ruleeval/notifiers/outbox.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;
namespace fs = std::filesystem;

namespace {

constexpr Millis kNow = 1'700'000'000'000;

// Refuses chmod (a file system that does not support it, or a directory owned by someone else).
class NoChmodEnv : public FakeEnv {
 public:
  using FakeEnv::FakeEnv;
  int calls = 0;
  Result<void> set_permissions(const std::string& path, unsigned mode) override {
    ++calls;
    CHECK(mode == 0700);
    return make_error("cannot set permissions of \"" + path + "\": Operation not permitted");
  }
};

}  // namespace

TEST_CASE("outbox: the directory is made owner-only through the Env, and a refusal is an error") {
  ruleeval::testing::TempDir d("obperm");
  FakeEnv env(kNow);
  auto ob = Outbox::open(d.path + "/outbox", &env);
  REQUIRE(ob);
  struct stat st {};
  REQUIRE(::stat((d.path + "/outbox").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);

  NoChmodEnv refusing(kNow);
  auto bad = Outbox::open(d.path + "/outbox2", &refusing);
  REQUIRE_FALSE(bad);
  CHECK(refusing.calls == 1);
  CHECK(bad.error().message.find("cannot create outbox") != std::string::npos);
  CHECK(bad.error().message.find("Operation not permitted") != std::string::npos);
}

TEST_CASE("outbox: failed/ keeps the newest entries by modification time, not by name") {
  ruleeval::testing::TempDir d("obprune");
  const std::string failed = d.path + "/outbox/failed";
  fs::create_directories(failed);
  // kMaxFailed entries, dated an hour ago and later; the oldest one sorts last by name.
  const auto base = fs::file_time_type::clock::now() - std::chrono::hours(1);
  for (size_t i = 0; i < Outbox::kMaxFailed; ++i) {
    const std::string name = i == 0 ? "zz-oldest" : "e" + std::to_string(10000 + i);
    for (const char* ext : {".json", ".reason"}) {
      const fs::path file = fs::path(failed) / (name + ext);
      std::ofstream(file) << "{}";
      fs::last_write_time(file, base + std::chrono::seconds(i));
    }
  }
  FakeEnv env(kNow);
  auto ob = Outbox::open(d.path + "/outbox", &env);
  REQUIRE(ob);
  OutboxEntry e;
  e.receiver = "team";
  e.integration = "team/webhook/0";
  e.group_key = "g";
  e.body = "{}";
  e.created_at = kNow;
  auto id = (*ob)->put_failed(e, "HTTP 400");
  REQUIRE(id);
  // One over the limit: the oldest by time goes, with its reason; the new one stays.
  CHECK_FALSE(fs::exists(failed + "/zz-oldest.json"));
  CHECK_FALSE(fs::exists(failed + "/zz-oldest.reason"));
  CHECK(fs::exists(failed + "/e10001.json"));
  CHECK(fs::exists(failed + "/" + *id + ".json"));
  size_t json = 0;
  for (const auto& de : fs::directory_iterator(failed)) json += de.path().extension() == ".json";
  CHECK(json == Outbox::kMaxFailed);
}

TEST_CASE("outbox: an earlier version's pending/ is read and removed through the Env") {
  ruleeval::testing::TempDir d("oblegacy");
  const std::string pending = d.path + "/outbox/pending";
  fs::create_directories(pending);
  OutboxEntry old;
  old.id = "0000000000000001-00000000";
  old.receiver = "team";
  old.integration = "team/webhook/0";
  old.group_key = "g";
  old.body = "{}";
  old.created_at = kNow;
  std::ofstream(pending + "/" + old.id + ".json") << serialize_entry(old);
  FakeEnv env(kNow);
  {
    // The journal cannot be written: the old files stay, and say the same next time.
    env.fail_writes("outbox-", "No space left on device");
    auto ob = Outbox::open(d.path + "/outbox", &env);
    REQUIRE(ob);
    CHECK((*ob)->pending_count() == 1);
    CHECK_FALSE((*ob)->load_warnings().empty());
    CHECK(fs::exists(pending + "/0000000000000001-00000000.json"));
  }
  env.clear_failures();
  auto ob = Outbox::open(d.path + "/outbox", &env);
  REQUIRE(ob);
  CHECK((*ob)->pending_count() == 1);
  CHECK_FALSE(fs::exists(pending));  // moved into the journal, the directory removed
  auto again = Outbox::open(d.path + "/outbox", &env);
  REQUIRE(again);
  auto p = (*again)->load_pending();
  REQUIRE(p);
  REQUIRE(p->size() == 1);
  CHECK(p->front().group_key == "g");
}
