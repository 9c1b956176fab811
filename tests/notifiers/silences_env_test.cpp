// Silences write their change log, snapshot and set-aside files through the Env (issue 17): a
// write or fsync failure injected with a FakeEnv is reported to the caller, the change is not
// accepted, and a retry or a restart loses no silence that was accepted before (as the state
// journal's and the outbox's tests show for theirs). The Notifier hands its NotifierOptions::env
// to its silences.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "../common/fake_env.hpp"
#include "../support/temp_dir.hpp"
#include "ruleeval/notifiers/notifier.hpp"
#include "ruleeval/notifiers/silences.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;
namespace fs = std::filesystem;

namespace {

constexpr Millis kNow = 1'700'000'000'000;

Silence silence(const std::string& matcher) {
  Silence s;
  s.matchers = *parse_matchers(matcher);
  s.ends_at = kNow + 3600'000;
  s.created_by = "me";
  s.comment = matcher;
  return s;
}

std::vector<std::string> comments(const Silences& s) {
  std::vector<std::string> out;
  for (const auto& x : s.list()) out.push_back(x.comment);
  std::sort(out.begin(), out.end());
  return out;
}

size_t lines(Env& env, const std::string& path) {
  auto text = env.read_file(path);
  REQUIRE(text);
  return static_cast<size_t>(std::count(text->begin(), text->end(), '\n'));
}

}  // namespace

TEST_CASE("silences log: an injected write or fsync failure is reported, nothing accepted lost") {
  ruleeval::testing::TempDir d("silenv");
  const std::string path = d.path + "/silences.json";
  const std::string log = path + ".log";
  FakeEnv env(kNow);
  std::string a_id;
  {
    auto s = Silences::open(path, kNow, &env);
    REQUIRE(s);
    auto a = (*s)->create(silence(R"(team="a")"), kNow);
    REQUIRE(a);
    a_id = *a;

    // A full disk: half of the line reaches the log, then the error. The silence is refused,
    // and the torn half is cut off again.
    env.fail_writes("silences.json.log", "No space left on device");
    auto b = (*s)->create(silence(R"(team="b")"), kNow);
    REQUIRE_FALSE(b);
    CHECK(b.error().message.find("silences.json.log") != std::string::npos);
    CHECK(b.error().message.find("No space left on device") != std::string::npos);
    CHECK(comments(**s) == std::vector<std::string>{R"(team="a")"});
    // An expiry that cannot be written is refused too: the silence stays active.
    CHECK_FALSE((*s)->expire(a_id, kNow + 1000));
    CHECK((*s)->silenced_by(Labels{{"team", "a"}}, kNow + 2000) ==
          std::vector<std::string>{a_id});

    // The write passes, its fdatasync fails (an I/O error): not durable, so not accepted.
    env.clear_failures();
    env.fail_syncs("silences.json.log", "Input/output error");
    auto c = (*s)->create(silence(R"(team="c")"), kNow);
    REQUIRE_FALSE(c);
    CHECK(c.error().message.find("cannot fsync") != std::string::npos);
    CHECK(comments(**s) == std::vector<std::string>{R"(team="a")"});

    // The retry once the disk is back is accepted, and the log holds whole lines only.
    env.clear_failures();
    REQUIRE((*s)->create(silence(R"(team="b")"), kNow));
    CHECK(lines(env, log) == 2);
    CHECK(env.failed_writes() == 3);
  }
  {
    // A restart reads a and b, nothing of the refused changes, and no corrupt line.
    auto s = Silences::open(path, kNow, &env);
    REQUIRE(s);
    CHECK((*s)->load_warning().empty());
    CHECK(comments(**s) == std::vector<std::string>{R"(team="a")", R"(team="b")"});
    CHECK_FALSE(env.file_exists(path + ".log.corrupt-" + std::to_string(kNow)));
    // The crash case: a change is refused and the process ends before any retry.
    env.fail_writes("silences.json.log", "No space left on device");
    CHECK_FALSE((*s)->create(silence(R"(team="d")"), kNow));
  }
  env.clear_failures();
  auto s = Silences::open(path, kNow, &env);
  REQUIRE(s);
  CHECK((*s)->load_warning().empty());
  CHECK(comments(**s) == std::vector<std::string>{R"(team="a")", R"(team="b")"});
  // And the log goes on after it: a third silence is appended behind the two.
  REQUIRE((*s)->create(silence(R"(team="e")"), kNow));
  auto again = Silences::open(path, kNow, &env);
  REQUIRE(again);
  CHECK((*again)->list().size() == 3);
}

namespace {

// A FakeEnv that also refuses one operation on one exact path (FakeEnv matches substrings, and
// silences.json is a substring of silences.json.log).
class ExactFailEnv : public FakeEnv {
 public:
  using FakeEnv::FakeEnv;
  std::string fail_replace, fail_remove;
  Result<void> replace_file(const std::string& path, std::string_view content, FileSync sync,
                            unsigned mode) override {
    if (path == fail_replace) {
      return make_error("cannot write \"" + path + "\": Input/output error");
    }
    return FakeEnv::replace_file(path, content, sync, mode);
  }
  Result<void> remove_file(const std::string& path) override {
    if (path == fail_remove) {
      return make_error("cannot remove \"" + path + "\": Read-only file system");
    }
    return FakeEnv::remove_file(path);
  }
};

// Makes changes until the log holds kCompactEvery - 1 lines: the next change compacts.
size_t fill_log(Silences& s, Env& env, const std::string& log) {
  size_t made = 0;
  while (!env.file_exists(log) || lines(env, log) < 255) {
    REQUIRE(made < 1000);
    REQUIRE(s.create(silence(R"(n="x")"), kNow));
    ++made;
  }
  return made;
}

}  // namespace

TEST_CASE("silences: a compaction that cannot be written loses nothing and is tried again") {
  ruleeval::testing::TempDir d("silcompact");
  const std::string path = d.path + "/silences.json";
  ExactFailEnv env(kNow);
  std::vector<std::string> logged;
  set_notifier_log([&](std::string_view m, bool) { logged.emplace_back(m); });
  size_t made = 0;
  {
    auto s = Silences::open(path, kNow, &env);
    REQUIRE(s);
    made = fill_log(**s, env, path + ".log");
    REQUIRE_FALSE(env.file_exists(path));
    // The snapshot cannot be written: the change is in the log already, so it is accepted, and
    // the failure is logged.
    env.fail_replace = path;
    REQUIRE((*s)->create(silence(R"(n="during")"), kNow));
    ++made;
    CHECK_FALSE(env.file_exists(path));
    CHECK(lines(env, path + ".log") == 256);
  }
  set_notifier_log(nullptr);
  REQUIRE(logged.size() == 1);
  CHECK(logged[0].find("cannot compact") != std::string::npos);
  CHECK(logged[0].find("Input/output error") != std::string::npos);
  env.fail_replace.clear();
  auto re = Silences::open(path, kNow, &env);
  REQUIRE(re);
  CHECK((*re)->load_warning().empty());
  CHECK((*re)->list().size() == made);
  // The next change compacts: the snapshot holds everything and the log is gone.
  REQUIRE((*re)->create(silence(R"(n="after")"), kNow));
  CHECK(env.file_exists(path));
  CHECK_FALSE(env.file_exists(path + ".log"));
  auto after = Silences::open(path, kNow, &env);
  REQUIRE(after);
  CHECK((*after)->list().size() == made + 1);
}

TEST_CASE("silences: the change that compacts survives a crash between snapshot and log removal") {
  ruleeval::testing::TempDir d("silcrash");
  const std::string path = d.path + "/silences.json";
  ExactFailEnv env(kNow);
  std::string id;
  {
    auto s = Silences::open(path, kNow, &env);
    REQUIRE(s);
    auto x = (*s)->create(silence(R"(team="x")"), kNow);
    REQUIRE(x);
    id = *x;
    fill_log(**s, env, path + ".log");
    // The expiry is the change that compacts; the snapshot is written, the log's removal fails
    // (as if the process died between the two).
    env.fail_remove = path + ".log";
    set_notifier_log([](std::string_view, bool) {});
    REQUIRE((*s)->expire(id, kNow + 1000));
    set_notifier_log(nullptr);
    REQUIRE(env.file_exists(path));
    REQUIRE(env.file_exists(path + ".log"));
  }
  env.fail_remove.clear();
  // The old log is replayed over the new snapshot: the expiry holds (it was logged first).
  auto s = Silences::open(path, kNow + 2000, &env);
  REQUIRE(s);
  CHECK((*s)->load_warning().empty());
  CHECK((*s)->silenced_by(Labels{{"team", "x"}}, kNow + 2000).empty());
  for (const auto& x : (*s)->list()) {
    if (x.id == id) CHECK(x.state(kNow + 2000) == "expired");
  }
}

TEST_CASE("silences: a corrupt log that cannot be moved aside is named in the load warning") {
  ruleeval::testing::TempDir d("silcorrupt");
  const std::string path = d.path + "/silences.json";
  FakeEnv env(kNow);
  REQUIRE(env.replace_file(path + ".log", "not json\n", FileSync::kNone, 0600));
  env.fail_writes(".corrupt-", "Read-only file system");
  auto s = Silences::open(path, kNow, &env);
  REQUIRE(s);  // start-up goes on with what could be read
  CHECK((*s)->list().empty());
  CHECK((*s)->load_warning().find("could not move it aside") != std::string::npos);
  CHECK((*s)->load_warning().find("Read-only file system") != std::string::npos);
  env.clear_failures();
  auto t = Silences::open(path, kNow + 1, &env);
  REQUIRE(t);
  CHECK((*t)->load_warning().find("moved to " + path + ".log.corrupt-") != std::string::npos);
  CHECK(env.file_exists(path + ".log.corrupt-" + std::to_string(kNow + 1)));
}

TEST_CASE("the notifier's silences write through NotifierOptions::env") {
  ruleeval::testing::TempDir d("silnotifier");
  auto env = std::make_shared<FakeEnv>(kNow);
  auto cfg = parse_notify_config(R"(
route:
  receiver: team
receivers:
  - name: team
    webhook_configs:
      - url: http://127.0.0.1:1/hook
)");
  REQUIRE(cfg);
  NotifierOptions o;
  o.state_dir = d.path;
  o.env = env;
  o.start_threads = false;
  auto n = Notifier::create(std::move(*cfg), std::move(o));
  REQUIRE(n);
  env->fail_writes("silences.json.log", "No space left on device");
  auto refused = (*n)->silences().create(silence(R"(team="a")"), kNow);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("No space left on device") != std::string::npos);
  env->clear_failures();
  REQUIRE((*n)->silences().create(silence(R"(team="a")"), kNow));
  CHECK((*n)->silences().list().size() == 1);
  (*n)->stop();
}
