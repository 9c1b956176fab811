#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../common/fake_env.hpp"
#include "../support/temp_dir.hpp"
#include "ruleeval/engine/manager.hpp"
#include "ruleeval/engine/state_store.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;
namespace fs = std::filesystem;

namespace {

constexpr Millis kT0 = 1'700'000'000'000;
constexpr Millis kMin = 60'000;

struct TempDir : ruleeval::testing::TempDir {
  TempDir() : ruleeval::testing::TempDir("state") {}
};

ActiveAlert make_alert(std::string instance, AlertState st, Millis active_at) {
  ActiveAlert a;
  a.labels = Labels{{"alertname", "Down"}, {"instance", std::move(instance)}};
  a.annotations = Labels{{"summary", "it is \"down\""}};
  a.state = st;
  a.value = 3.5;
  a.active_at = active_at;
  if (st != AlertState::kPending) {
    a.fired_at = active_at + 5 * kMin;
    a.last_sent_at = active_at + 6 * kMin;
    a.valid_until = a.last_sent_at + 4 * kMin;
  }
  if (st == AlertState::kInactive) a.resolved_at = active_at + 7 * kMin;
  return a;
}

StateSnapshot sample_snapshot() {
  StateSnapshot s;
  s.saved_at = kT0;
  RuleStateSnapshot r;
  r.file = "rules/a.yml";
  r.group = "g1";
  r.rule = "Down";
  r.alerts.push_back(make_alert("a:1", AlertState::kFiring, kT0 - 20 * kMin));
  r.alerts.push_back(make_alert("a:2", AlertState::kPending, kT0 - 2 * kMin));
  r.alerts.push_back(make_alert("a:3", AlertState::kInactive, kT0 - 30 * kMin));
  r.alerts[0].keep_firing_since = kT0 - kMin;
  r.alerts[1].value = NAN;
  GrafanaInstance in;
  in.labels = Labels{{"alertname", "HighCPU"}, {"host", "h1"}};
  in.state = GrafanaState::kRecovering;
  in.state_reason = "";
  in.value = INFINITY;
  in.starts_at = kT0 - 3 * kMin;
  in.fired_at = kT0 - 3 * kMin;
  in.recovering_since = kT0 - kMin;
  in.last_eval = kT0;
  in.missed_evals = 1;
  r.instances.push_back(in);
  s.rules.push_back(std::move(r));
  return s;
}

AlertingRuleParams down_rule(Millis for_ms) {
  AlertingRuleParams p;
  p.name = "Down";
  p.for_ms = for_ms;
  return p;
}

}  // namespace

TEST_CASE("a state file assembled from per-rule pieces is the same file") {
  StateSnapshot s = sample_snapshot();
  RuleStateSnapshot other = s.rules.at(0);
  other.group = "g2";
  s.rules.push_back(other);
  std::vector<std::string> pieces;
  pieces.reserve(s.rules.size());
  for (const auto& r : s.rules) pieces.push_back(serialize_rule_state(r));
  std::vector<const std::string*> ptrs;
  ptrs.reserve(pieces.size());
  for (const auto& p : pieces) ptrs.push_back(&p);
  const std::string assembled = assemble_state(s.saved_at, ptrs);
  CHECK(assembled == serialize_state(s));
  auto parsed = parse_state(assembled);
  REQUIRE(parsed.has_value());
  CHECK(parsed->rules.size() == s.rules.size());
  CHECK(parse_state(assemble_state(kT0, {})).has_value());  // no rules at all
}

TEST_CASE("alert state survives a save and load round trip") {
  TempDir dir;
  StateStore store(dir.path + "/nested");
  StateSnapshot s = sample_snapshot();
  REQUIRE(store.save(s).has_value());
  const std::string file = store.group_path("rules/a.yml", "g1");
  CHECK(fs::exists(file));
  CHECK_FALSE(fs::exists(file + ".tmp"));
  CHECK(fs::exists(store.dir() + "/saved_at"));
  auto loaded = store.load(kT0);
  REQUIRE(loaded.errors.empty());
  REQUIRE(loaded.snapshot.has_value());
  const auto* r = loaded.snapshot->find("rules/a.yml", "g1", "Down");
  REQUIRE(r != nullptr);
  CHECK(loaded.snapshot->saved_at == kT0);
  CHECK(r->saved_at == kT0);
  REQUIRE(r->alerts.size() == 3);
  const auto& f = r->alerts[0];
  CHECK(f.labels == s.rules[0].alerts[0].labels);
  CHECK(f.annotations == s.rules[0].alerts[0].annotations);
  CHECK(f.state == AlertState::kFiring);
  CHECK(f.value == 3.5);
  CHECK(f.active_at == kT0 - 20 * kMin);
  CHECK(f.fired_at == kT0 - 15 * kMin);
  CHECK(f.last_sent_at == kT0 - 14 * kMin);
  CHECK(f.keep_firing_since == kT0 - kMin);
  CHECK_FALSE(is_set(f.resolved_at));
  CHECK(std::isnan(r->alerts[1].value));
  CHECK(r->alerts[2].resolved_at == kT0 - 23 * kMin);
  REQUIRE(r->instances.size() == 1);
  CHECK(r->instances[0].state == GrafanaState::kRecovering);
  CHECK(r->instances[0].value == INFINITY);
  CHECK(r->instances[0].missed_evals == 1);
  CHECK(r->instances[0].recovering_since == kT0 - kMin);
  CHECK(loaded.snapshot->find("rules/a.yml", "g1", "Other") == nullptr);

  SUBCASE("a second save replaces the first") {
    s.saved_at = kT0 + kMin;
    s.rules[0].alerts.pop_back();
    REQUIRE(store.save(s).has_value());
    auto again = store.load(kT0 + kMin);
    REQUIRE(again.snapshot.has_value());
    CHECK(again.snapshot->saved_at == kT0 + kMin);
    CHECK(again.snapshot->rules[0].alerts.size() == 2);
  }
}

namespace {
// The state document of one group, as the manager writes it.
std::string group_doc(const std::string& group, Millis saved_at, size_t alerts) {
  StateSnapshot s = sample_snapshot();
  s.saved_at = saved_at;
  s.rules[0].group = group;
  s.rules[0].alerts.resize(alerts);
  return serialize_state(s);
}
}  // namespace

TEST_CASE("each group has its own state file, rewritten only when it is saved") {
  TempDir dir;
  StateStore store(dir.path);
  std::vector<StateStore::GroupData> all = {{"rules/a.yml", "g1", group_doc("g1", kT0, 3)},
                                            {"rules/a.yml", "g2", group_doc("g2", kT0, 2)}};
  REQUIRE(store.save_groups(kT0, all, true).has_value());
  const std::string g1 = store.group_path("rules/a.yml", "g1");
  const std::string g2 = store.group_path("rules/a.yml", "g2");
  REQUIRE(g1 != g2);
  REQUIRE(fs::exists(g1));
  REQUIRE(fs::exists(g2));
  const auto g2_time = fs::last_write_time(g2);

  // Ten minutes later only g1 was evaluated: g2's file is left alone, but the save time in
  // saved_at vouches that g2's state was still current then.
  std::vector<StateStore::GroupData> only_g1 = {
      {"rules/a.yml", "g1", group_doc("g1", kT0 + 10 * kMin, 1)}};
  REQUIRE(store.save_groups(kT0 + 10 * kMin, only_g1, false).has_value());
  CHECK(fs::last_write_time(g2) == g2_time);
  auto loaded = store.load(kT0 + 11 * kMin);
  REQUIRE(loaded.errors.empty());
  REQUIRE(loaded.snapshot.has_value());
  const auto* r1 = loaded.snapshot->find("rules/a.yml", "g1", "Down");
  const auto* r2 = loaded.snapshot->find("rules/a.yml", "g2", "Down");
  REQUIRE(r1 != nullptr);
  REQUIRE(r2 != nullptr);
  CHECK(r1->alerts.size() == 1);
  CHECK(r2->alerts.size() == 2);
  CHECK(r1->saved_at == kT0 + 10 * kMin);
  CHECK(r2->saved_at == kT0 + 10 * kMin);
  CHECK(loaded.snapshot->saved_at == kT0 + 10 * kMin);

  SUBCASE("a group without alerts has no file") {
    std::vector<StateStore::GroupData> g1_empty = {{"rules/a.yml", "g1", ""}};
    REQUIRE(store.save_groups(kT0 + 11 * kMin, g1_empty, false).has_value());
    CHECK_FALSE(fs::exists(g1));
    CHECK(fs::exists(g2));
    auto again = store.load(kT0 + 12 * kMin);
    REQUIRE(again.snapshot.has_value());
    CHECK(again.snapshot->find("rules/a.yml", "g1", "Down") == nullptr);
    CHECK(again.snapshot->find("rules/a.yml", "g2", "Down") != nullptr);
  }
  SUBCASE("a complete save removes the files of groups that are gone") {
    REQUIRE(store.save_groups(kT0 + 11 * kMin, only_g1, true).has_value());
    CHECK(fs::exists(g1));
    CHECK_FALSE(fs::exists(g2));
  }
  SUBCASE("a corrupt group file is moved aside and the other groups are restored") {
    { std::ofstream(g2, std::ios::binary) << "{ not json"; }
    auto again = store.load(kT0 + 12 * kMin);
    REQUIRE(again.errors.size() == 1);
    CHECK(again.errors[0].find(g2) != std::string::npos);
    REQUIRE(again.moved_to.size() == 1);
    CHECK(fs::exists(again.moved_to[0]));
    CHECK_FALSE(fs::exists(g2));
    REQUIRE(again.snapshot.has_value());
    CHECK(again.snapshot->find("rules/a.yml", "g1", "Down") != nullptr);
    CHECK(again.snapshot->find("rules/a.yml", "g2", "Down") == nullptr);
  }
}

TEST_CASE("the single state file of earlier versions is read, and replaced by a full save") {
  TempDir dir;
  StateStore store(dir.path);
  // The legacy file holds g1 and g2; g1 also has a newer file of its own, which wins.
  StateSnapshot legacy = sample_snapshot();
  legacy.rules.push_back(legacy.rules[0]);
  legacy.rules[1].group = "g2";
  { std::ofstream(store.legacy_path(), std::ios::binary) << serialize_state(legacy); }
  std::vector<StateStore::GroupData> g1 = {{"rules/a.yml", "g1", group_doc("g1", kT0 + kMin, 1)}};
  REQUIRE(store.save_groups(kT0 + kMin, g1, false).has_value());
  auto loaded = store.load(kT0 + 2 * kMin);
  REQUIRE(loaded.errors.empty());
  REQUIRE(loaded.snapshot.has_value());
  const auto* r1 = loaded.snapshot->find("rules/a.yml", "g1", "Down");
  const auto* r2 = loaded.snapshot->find("rules/a.yml", "g2", "Down");
  REQUIRE(r1 != nullptr);
  REQUIRE(r2 != nullptr);
  CHECK(r1->alerts.size() == 1);
  CHECK(r1->saved_at == kT0 + kMin);
  CHECK(r2->alerts.size() == 3);
  CHECK(r2->saved_at == kT0);  // the legacy file's own time: saved_at does not vouch for it
  std::vector<StateStore::GroupData> both = {
      {"rules/a.yml", "g1", group_doc("g1", kT0 + 3 * kMin, 1)},
      {"rules/a.yml", "g2", group_doc("g2", kT0 + 3 * kMin, 3)}};
  REQUIRE(store.save_groups(kT0 + 3 * kMin, both, true).has_value());
  CHECK_FALSE(fs::exists(store.legacy_path()));
}

TEST_CASE("a missing state directory is not an error") {
  TempDir dir;
  StateStore store(dir.path + "/never-created");
  auto loaded = store.load(kT0);
  CHECK_FALSE(loaded.snapshot.has_value());
  CHECK(loaded.errors.empty());
}

TEST_CASE("a corrupt state file is moved aside with a loud error") {
  TempDir dir;
  StateStore store(dir.path);
  std::string content;
  std::string want;
  SUBCASE("truncated JSON") {
    content = serialize_state(sample_snapshot()).substr(0, 100);
    want = "invalid JSON at offset";
  }
  SUBCASE("an unknown state") {
    content = serialize_state(sample_snapshot());
    auto pos = content.find("\"firing\"");
    content.replace(pos, 8, "\"burning\"");
    want = "$.rules[0].alerts[0].state: unknown state \"burning\"";
  }
  SUBCASE("a wrong type") {
    content = serialize_state(sample_snapshot());
    auto pos = content.find("\"savedAt\":");
    content.replace(pos, 10, "\"savedAt\":\"x\",\"old\":");
    want = "$.savedAt: not an integer";
  }
  SUBCASE("binary garbage") {
    content = std::string("\x00\x01\xff", 3);
    want = "invalid JSON";
  }
  const std::string path = store.group_path("rules/a.yml", "g1");
  { std::ofstream(path, std::ios::binary) << content; }
  auto loaded = store.load(kT0 + 42);
  CHECK_FALSE(loaded.snapshot.has_value());
  REQUIRE(loaded.errors.size() == 1);
  CAPTURE(loaded.errors[0]);
  CHECK(loaded.errors[0].find(want) != std::string::npos);
  CHECK(loaded.errors[0].find("moved to") != std::string::npos);
  REQUIRE(loaded.moved_to.size() == 1);
  CHECK(loaded.moved_to[0] == path + ".corrupt-" + std::to_string(kT0 + 42));
  CHECK(fs::exists(loaded.moved_to[0]));
  CHECK_FALSE(fs::exists(path));
  // The next start finds no file and starts clean.
  auto next = store.load(kT0 + 43);
  CHECK(next.errors.empty());
}

TEST_CASE("restoring after a short outage keeps firing alerts firing and pending alerts pending") {
  StateSnapshot s = sample_snapshot();
  const auto& saved = s.rules[0].alerts;
  AlertMap alerts;
  auto r = down_rule(5 * kMin);
  const Millis now = kT0 + 10 * kMin;  // 10 minutes down
  RestoreSummary sum = restore_alerts(alerts, saved, r, kT0, now);
  CHECK(sum.firing == 1);
  CHECK(sum.pending == 1);
  CHECK(sum.resolved == 1);
  REQUIRE(alerts.size() == 3);

  ActiveAlert& firing = alerts.at(saved[0].labels.hash());
  CHECK(firing.state == AlertState::kFiring);
  CHECK(firing.fired_at == saved[0].fired_at);
  // Sent again at the first evaluation (the notification log drops it if it was delivered).
  CHECK(firing.last_sent_at == kNoTime);
  ActiveAlert& pending = alerts.at(saved[1].labels.hash());
  CHECK(pending.active_at == saved[1].active_at + 10 * kMin);

  SUBCASE("the next evaluation neither pages anew nor resolves falsely") {
    std::vector<RuleSample> both{
        {Labels{{"instance", "a:1"}}, 1},
        {Labels{{"instance", "a:2"}}, 1},
    };
    REQUIRE(eval_alerting_rule(alerts, r, both, now));
    CHECK(alerts.at(saved[0].labels.hash()).state == AlertState::kFiring);
    CHECK(alerts.at(saved[0].labels.hash()).fired_at == saved[0].fired_at);  // same startsAt
    // Pending had 2 of its 5 minutes; 3 more are needed after the restart.
    CHECK(alerts.at(saved[1].labels.hash()).state == AlertState::kPending);
    REQUIRE(eval_alerting_rule(alerts, r, both, now + 3 * kMin));
    CHECK(alerts.at(saved[1].labels.hash()).state == AlertState::kFiring);
  }
  SUBCASE("keep_firing_for carries on from its original start") {
    auto kf = down_rule(5 * kMin);
    kf.keep_firing_for_ms = 12 * kMin;
    REQUIRE(eval_alerting_rule(alerts, kf, {}, now));
    // keepFiringSince was kT0 - 1m: 11 minutes ago, still < 12m.
    CHECK(alerts.at(saved[0].labels.hash()).state == AlertState::kFiring);
    REQUIRE(eval_alerting_rule(alerts, kf, {}, now + kMin));
    CHECK(alerts.at(saved[0].labels.hash()).state == AlertState::kInactive);
  }
}

TEST_CASE("nothing is restored after an outage longer than the tolerance") {
  StateSnapshot s = sample_snapshot();
  AlertMap alerts;
  auto sum = restore_alerts(alerts, s.rules[0].alerts, down_rule(0), kT0, kT0 + 61 * kMin);
  CHECK(alerts.empty());
  CHECK(sum.skipped == 3);
  GrafanaInstances gi;
  CHECK(restore_instances(gi, s.rules[0].instances, kT0, kT0 + 61 * kMin) == 0);
  CHECK(restore_instances(gi, s.rules[0].instances, kT0, kT0 + 59 * kMin) == 1);
  CHECK(gi.begin()->second.state == GrafanaState::kRecovering);
}

namespace {
Error api_error(int status, std::string code, std::string message) {
  Error e(ErrorKind::kApi, std::move(message));
  e.http_status = status;
  e.code = std::move(code);
  return e;
}

class FakeQuerier final : public Querier {
 public:
  QueryOutcome query(std::string_view expr, Millis t) override {
    last_expr = std::string(expr);
    last_time = t;
    if (fail) return std::unexpected(api_error(503, "unavailable", "down"));
    QueryResult r;
    r.value = matrix;
    return r;
  }
  QueryOutcome query_range(std::string_view, Millis, Millis, Millis) override {
    return std::unexpected(Error(ErrorKind::kConfig, "not used"));
  }
  Matrix matrix;
  std::string last_expr;
  Millis last_time = 0;
  bool fail = false;
};
}  // namespace

TEST_CASE("ALERTS_FOR_STATE on the backend restores activeAt like Prometheus") {
  const Millis now = kT0;
  auto r = down_rule(30 * kMin);
  r.labels = Labels{{"severity", "page"}, {"team", "{{ $labels.team }}"}};

  CHECK(alerts_for_state_selector(r) == R"(ALERTS_FOR_STATE{alertname="Down",severity="page"})");

  // After the first evaluation, three pending alerts exist.
  AlertMap alerts;
  std::vector<RuleSample> three{{Labels{{"instance", "long"}, {"severity", "page"}}, 1},
                                {Labels{{"instance", "almost"}, {"severity", "page"}}, 1},
                                {Labels{{"instance", "done"}, {"severity", "page"}}, 1}};
  auto plain = down_rule(30 * kMin);
  plain.labels = Labels{{"severity", "page"}};
  REQUIRE(eval_alerting_rule(alerts, plain, three, now));

  FakeQuerier q;
  auto series = [&](std::string inst, Millis down_at, Millis old_active) {
    Series s;
    s.metric = Labels{{"__name__", "ALERTS_FOR_STATE"},
                      {"alertname", "Down"},
                      {"instance", std::move(inst)},
                      {"severity", "page"}};
    const Millis old_active_s = old_active / 1000;  // ALERTS_FOR_STATE holds whole seconds
    s.points = {{down_at - kMin, static_cast<double>(old_active_s)},
                {down_at, static_cast<double>(old_active_s)}};
    return s;
  };
  const Millis down_at = now - 10 * kMin;
  // Spent 5m of 30m: 25m remaining >= grace: activeAt moves by the downtime.
  q.matrix.push_back(series("long", down_at, down_at - 5 * kMin));
  // Spent 25m of 30m: 5m remaining < 10m grace: activeAt = now + grace - for.
  q.matrix.push_back(series("almost", down_at, down_at - 25 * kMin));
  // Spent 40m: would already fire: activeAt kept.
  q.matrix.push_back(series("done", down_at, down_at - 40 * kMin));

  auto sum = restore_from_alerts_for_state(q, alerts, plain, now);
  REQUIRE(sum.has_value());
  CHECK(sum->pending == 3);
  CHECK(q.last_expr == R"(ALERTS_FOR_STATE{alertname="Down",severity="page"}[3600000ms])");
  CHECK(q.last_time == now);
  auto id = [](std::string inst) {
    return Labels{{"alertname", "Down"}, {"instance", std::move(inst)}, {"severity", "page"}};
  };
  CHECK(alerts.at(id("long").hash()).active_at == down_at - 5 * kMin + 10 * kMin);
  CHECK(alerts.at(id("almost").hash()).active_at == now + 10 * kMin - 30 * kMin);
  CHECK(alerts.at(id("done").hash()).active_at == down_at - 40 * kMin);

  // "done" fires on the next evaluation.
  REQUIRE(eval_alerting_rule(alerts, plain, three, now + kMin));
  CHECK(alerts.at(id("done").hash()).state == AlertState::kFiring);
  CHECK(alerts.at(id("long").hash()).state == AlertState::kPending);

  SUBCASE("a backend error is reported and changes nothing") {
    AlertMap fresh;
    REQUIRE(eval_alerting_rule(fresh, plain, three, now));
    q.fail = true;
    auto bad = restore_from_alerts_for_state(q, fresh, plain, now);
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().message.find("HTTP 503 (unavailable): down") != std::string::npos);
    CHECK(fresh.at(id("long").hash()).active_at == now);
  }
}

// The state store and the rule manager see the outside world through an Env: a disk-full on one
// group's file is injected through a FakeEnv (no read-only directories, which do not stop root),
// and the manager's clock is the Env's.
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
  CHECK(loaded.errors.empty());
  auto restored = [&](const char* group) -> long {  // -1: the group has no state
    const auto* rule = loaded.snapshot ? loaded.snapshot->find("rules/a.yml", group, "Down")
                                       : nullptr;
    return rule != nullptr ? static_cast<long>(rule->alerts.size()) : -1;
  };
  CHECK(restored("g1") == 1);  // the old file is intact: atomic replacement never started
  CHECK(restored("g2") == 2);  // the other group was saved
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
