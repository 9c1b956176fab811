// RuleManager end to end over an embedded datasource, with an injected clock.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "../common/fake_env.hpp"
#include "../support/temp_dir.hpp"
#include "ruleeval/engine/http_api.hpp"
#include "ruleeval/engine/manager.hpp"
#include "ruleeval/rules/run_config.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;
namespace fs = std::filesystem;

namespace {

constexpr Millis kMin = 60'000;
// A whole minute, so that ALERTS_FOR_STATE values (whole seconds) are exact.
constexpr Millis kNow = 1'700'000'040'000;

struct TempDir : ruleeval::testing::TempDir {
  TempDir() : ruleeval::testing::TempDir("manager") {}
};

// Down (for: 30m) has been pending on the backend from 37 minutes before the restart until
// the last ALERTS_FOR_STATE sample 6 minutes before it: 1 minute of progress towards `for`.
void write_fixture(const TempDir& d, const std::string& state_dir_line) {
  d.write("rules.yaml", R"(groups:
  - name: g
    interval: 1m
    labels: {team: infra}
    rules:
      - alert: Down
        expr: up == 0
        for: 30m
        labels: {severity: page}
      - alert: DownFast
        expr: up == 0
        for: 0s
)");
  const long active_at_s = (kNow - 7 * kMin) / 1000;
  d.write("data.series",
          "load 1m from -30m\n"
          "  up{instance=\"a\"} 0x40\n"
          "  ALERTS_FOR_STATE{alertname=\"Down\",instance=\"a\",severity=\"page\","
          "team=\"infra\"} " +
              std::to_string(active_at_s) + "x24\n");
  d.write("ruleeval.yaml",
          "global: {evaluation_interval: 1m}\n"
          "datasources:\n"
          "  default: {type: embedded, series_files: [data.series]}\n"
          "rule_files: [rules.yaml]\n" +
              state_dir_line);
}

std::string alerts_after_first_eval(const TempDir& d, ManagerOptions o,
                                    std::vector<std::string>* logs) {
  FakeEnv env(kNow);
  o.env = &env;
  o.log = [logs](std::string_view m, bool) { logs->emplace_back(m); };
  RuleManager m(o, nullptr);
  auto cfg = rules::load_run_config(d.path + "/ruleeval.yaml");
  REQUIRE(cfg.has_value());
  REQUIRE(m.apply(*cfg).has_value());
  m.eval_all(kNow);
  return m.alerts_json();
}

}  // namespace

TEST_CASE(
    "without a state file, pending alerts get their `for` progress back from ALERTS_FOR_STATE") {
  TempDir d;
  write_fixture(d, "");
  std::vector<std::string> logs;
  std::string json = alerts_after_first_eval(d, ManagerOptions{}, &logs);
  // Down: activeAt = old activeAt + outage = (now - 7m) + 6m.
  CHECK(json.find("\"activeAt\":\"" + format_rfc3339(kNow - kMin) + "\"") != std::string::npos);
  // DownFast has no `for` to restore: it fires at once, active since now.
  CHECK(json.find("\"activeAt\":\"" + format_rfc3339(kNow) + "\"") != std::string::npos);
  REQUIRE(logs.size() == 1);
  CHECK(logs[0].find("restored the `for` progress of 1 alert(s) in 1 rule(s)") !=
        std::string::npos);
}

TEST_CASE("restoring from ALERTS_FOR_STATE can be turned off") {
  TempDir d;
  write_fixture(d, "");
  std::vector<std::string> logs;
  ManagerOptions o;
  o.restore_for_state = false;
  std::string json = alerts_after_first_eval(d, o, &logs);
  CHECK(json.find("\"activeAt\":\"" + format_rfc3339(kNow - kMin) + "\"") == std::string::npos);
  CHECK(logs.empty());
}

// apply() used to replace the remote-write queue under mu_ while workers copied the pointer
// without any lock (a data race on the shared_ptr, reported by the ThreadSanitizer build of this
// test in tools/test.sh). Evaluations and reloads that switch remote_write's URL run together.
TEST_CASE("reloading remote_write while groups evaluate is free of data races") {
  TempDir d;
  write_fixture(d, "");
  // Nothing listens on port 1: every send fails at once and is given up (max_retries: 0). The
  // configurations name their groups differently, so apply() takes no lock of the groups being
  // evaluated (nothing to carry over) and only remote_write_'s own locking orders the accesses.
  for (const char* g : {"a", "b"}) {
    d.write(std::string("rules_") + g + ".yaml",
            std::string("groups:\n  - name: ") + g +
                "\n    rules:\n      - alert: DownFast\n        expr: up == 0\n");
  }
  auto config = [](const std::string& group, const std::string& rw) {
    return "global: {evaluation_interval: 1m}\n"
           "datasources:\n"
           "  default: {type: embedded, series_files: [data.series]}\n"
           "rule_files: [rules_" + group + ".yaml]\n" + rw;
  };
  d.write("a.yaml", config("a", "remote_write: {url: 'http://127.0.0.1:1/a', max_retries: 0}\n"));
  d.write("b.yaml", config("b", "remote_write: {url: 'http://127.0.0.1:1/b', max_retries: 0}\n"));
  d.write("none.yaml", config("a", ""));
  std::vector<rules::RunConfig> cfgs;
  for (const char* f : {"a.yaml", "b.yaml", "none.yaml"}) {
    auto cfg = rules::load_run_config(d.path + "/" + f);
    REQUIRE(cfg.has_value());
    cfgs.push_back(std::move(*cfg));
  }
  ManagerOptions o;
  FakeEnv env(kNow);
  o.env = &env;
  o.restore_for_state = false;
  RuleManager m(o, nullptr);
  REQUIRE(m.apply(cfgs[0]).has_value());

  // The evaluator keeps going until the reloads have run alongside it.
  std::atomic<size_t> reloads{0};
  std::atomic<bool> done{false};
  std::thread evaluator([&] {
    for (int i = 0; i < 40 || (reloads.load() < 30 && i < 100'000); ++i) {
      m.eval_all(kNow + Millis{i} * 1000);
    }
    done = true;
  });
  bool all_ok = true;
  while (!done.load()) {
    all_ok = m.apply(cfgs[reloads.load() % cfgs.size()]).has_value() && all_ok;
    ++reloads;
  }
  evaluator.join();
  m.stop();
  CHECK(all_ok);
  CHECK(reloads.load() >= 30);
  // Evaluation still works after all the reloads: DownFast (no `for`) fires.
  m.eval_all(kNow);
  CHECK(m.alerts_json().find("DownFast") != std::string::npos);
}

// The embedded datasource is found through Datasource::local_store()/series_files(): a reload
// with the same name and series files keeps the store (and what rules recorded into it); other
// files load a fresh one.
TEST_CASE("a reload keeps the embedded store only while its name and series files stay the same") {
  TempDir d;
  d.write("rules.yaml", R"(groups:
  - name: g
    interval: 1m
    rules:
      - record: seen
        expr: vector(1)
      - alert: Remembered
        expr: seen offset 1m == 1
)");
  d.write("a.series", "load 1m\n  up 1x10\n");
  d.write("b.series", "load 1m\n  up 1x10\n");
  auto config = [&](const std::string& files) {
    d.write("ruleeval.yaml", "global: {evaluation_interval: 1m}\n"
                             "datasources:\n"
                             "  default: {type: embedded, series_files: [" + files + "]}\n"
                             "rule_files: [rules.yaml]\n");
    auto cfg = rules::load_run_config(d.path + "/ruleeval.yaml");
    REQUIRE(cfg.has_value());
    return *cfg;
  };
  ManagerOptions o;
  FakeEnv env(kNow);
  o.env = &env;
  o.restore_for_state = false;
  RuleManager m(o, nullptr);
  REQUIRE(m.apply(config("a.series")).has_value());
  m.eval_all(kNow);  // records seen at kNow
  CHECK(m.alerts_json().find("Remembered") == std::string::npos);
  REQUIRE(m.apply(config("a.series")).has_value());  // same files: same store
  m.eval_all(kNow + kMin);
  CHECK(m.alerts_json().find("\"alertname\":\"Remembered\"") != std::string::npos);

  RuleManager m2(o, nullptr);
  REQUIRE(m2.apply(config("a.series")).has_value());
  m2.eval_all(kNow);
  REQUIRE(m2.apply(config("b.series")).has_value());  // other files: a fresh store
  m2.eval_all(kNow + kMin);
  CHECK(m2.alerts_json().find("Remembered") == std::string::npos);
}
