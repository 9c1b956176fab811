#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "../common/fake_env.hpp"
#include "../support/temp_dir.hpp"
#include "ruleeval/engine/state_journal.hpp"
#include "ruleeval/engine/state_store.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;
namespace fs = std::filesystem;

namespace {

constexpr Millis kT0 = 1'700'000'000'000;
constexpr Millis kMin = 60'000;

struct JournalDir : ruleeval::testing::TempDir {
  JournalDir() : TempDir("journal") {}
};

ActiveAlert alert(const std::string& instance, AlertState st, Millis active_at) {
  ActiveAlert a;
  a.labels = Labels{{"alertname", "Down"}, {"instance", instance}};
  a.annotations = Labels{{"summary", "down"}};
  a.state = st;
  a.value = 1;
  a.active_at = active_at;
  if (st == AlertState::kFiring) a.fired_at = active_at + kMin;
  return a;
}

JournalRecord upsert(const std::string& group, const ActiveAlert& a, Millis at) {
  JournalRecord r;
  r.kind = JournalRecord::Kind::kAlert;
  r.file = "rules/a.yml";
  r.group = group;
  r.rule = "Down";
  r.alert = a;
  r.at = at;
  return r;
}

JournalRecord removal(const std::string& group, const std::string& instance, Millis at) {
  JournalRecord r = upsert(group, alert(instance, AlertState::kPending, at), at);
  r.kind = JournalRecord::Kind::kAlertRemoved;
  return r;
}

std::vector<std::string> segments(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().starts_with("journal-")) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

const ActiveAlert* find_alert(const RuleStateSnapshot& r, const std::string& instance) {
  for (const auto& a : r.alerts) {
    if (a.labels.get("instance") == instance) return &a;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("journal: records round-trip through the payload format") {
  JournalRecord r = upsert("g1", alert("a:1", AlertState::kFiring, kT0), kT0 + 5);
  r.lsn = 42;
  r.alert.keep_firing_since = kT0 + 3 * kMin;
  auto back = decode_journal_payload(encode_journal_payload(r));
  REQUIRE(back.has_value());
  CHECK(back->lsn == 42);
  CHECK(back->at == kT0 + 5);
  CHECK(back->kind == JournalRecord::Kind::kAlert);
  CHECK(back->group == "g1");
  CHECK(back->alert.state == AlertState::kFiring);
  CHECK(back->alert.fired_at == kT0 + kMin);
  CHECK(back->alert.keep_firing_since == kT0 + 3 * kMin);
  CHECK(transition_signature(back->alert) == transition_signature(r.alert));
  CHECK_FALSE(decode_journal_payload(R"({"lsn":1,"at":2,"kind":"bogus","file":"f","group":"g",
    "rule":"r"})")
                  .has_value());
  // A hostile record or state file nested 100,000 deep is an error, not a stack overflow.
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  CHECK_FALSE(decode_journal_payload(deep).has_value());
  CHECK_FALSE(parse_state(deep).has_value());
}

TEST_CASE("journal: replay applies records over the snapshots, in order") {
  JournalDir dir;
  StateStore store(dir.path);
  // A snapshot of g1 that covers LSN 0 (nothing journaled yet).
  StateSnapshot snap;
  snap.saved_at = kT0;
  RuleStateSnapshot r;
  r.file = "rules/a.yml";
  r.group = "g1";
  r.rule = "Down";
  r.alerts.push_back(alert("a:1", AlertState::kPending, kT0 - kMin));
  r.alerts.push_back(alert("a:2", AlertState::kPending, kT0 - kMin));
  snap.rules.push_back(r);
  REQUIRE(store.save(snap).has_value());

  StateJournal& j = store.journal();
  REQUIRE(j.open(1).has_value());
  std::vector<JournalRecord> round1 = {
      upsert("g1", alert("a:1", AlertState::kFiring, kT0 - kMin), kT0 + kMin),
      removal("g1", "a:2", kT0 + kMin),
      upsert("g2", alert("b:1", AlertState::kPending, kT0), kT0 + kMin)};
  REQUIRE(j.commit(round1, kT0 + kMin).has_value());
  CHECK(round1[0].lsn == 1);
  CHECK(round1[2].lsn == 3);
  std::vector<JournalRecord> round2 = {
      upsert("g2", alert("b:1", AlertState::kFiring, kT0), kT0 + 2 * kMin)};
  REQUIRE(j.commit(round2, kT0 + 2 * kMin).has_value());
  CHECK(j.last_lsn() == 4);

  StateStore again(dir.path);
  auto loaded = again.load(kT0 + 3 * kMin);
  CHECK(loaded.errors.empty());
  CHECK(loaded.journal_records == 4);
  CHECK(loaded.max_lsn == 4);
  REQUIRE(loaded.snapshot.has_value());
  const auto* g1 = loaded.snapshot->find("rules/a.yml", "g1", "Down");
  const auto* g2 = loaded.snapshot->find("rules/a.yml", "g2", "Down");
  REQUIRE(g1 != nullptr);
  REQUIRE(g2 != nullptr);
  REQUIRE(g1->alerts.size() == 1);
  CHECK(g1->alerts[0].state == AlertState::kFiring);
  CHECK(g1->alerts[0].active_at == kT0 - kMin);  // activeAt as journaled, unchanged
  CHECK(find_alert(*g1, "a:2") == nullptr);
  REQUIRE(g2->alerts.size() == 1);
  CHECK(g2->alerts[0].state == AlertState::kFiring);
  CHECK(g1->saved_at == kT0 + kMin);
  CHECK(g2->saved_at == kT0 + 2 * kMin);

  SUBCASE("records covered by a newer snapshot are not applied again") {
    StateSnapshot s2;
    s2.saved_at = kT0 + 4 * kMin;
    s2.journal_seq = 4;
    RuleStateSnapshot r2 = r;
    r2.alerts = {alert("a:9", AlertState::kPending, kT0)};
    s2.rules.push_back(r2);
    REQUIRE(again
                .save_groups(
                    s2.saved_at,
                    std::vector<StateStore::GroupData>{{"rules/a.yml", "g1", serialize_state(s2)}},
                    false)
                .has_value());
    auto l2 = StateStore(dir.path).load(kT0 + 5 * kMin);
    const auto* n1 = l2.snapshot->find("rules/a.yml", "g1", "Down");
    REQUIRE(n1 != nullptr);
    REQUIRE(n1->alerts.size() == 1);
    CHECK(n1->alerts[0].labels.get("instance") == "a:9");
    // g2 has no file: its records still apply.
    CHECK(l2.snapshot->find("rules/a.yml", "g2", "Down") != nullptr);
  }
}

TEST_CASE("journal: a torn tail is ignored and reported, the records before it kept") {
  JournalDir dir;
  StateStore store(dir.path);
  REQUIRE(store.journal().open(1).has_value());
  std::vector<JournalRecord> recs = {upsert("g1", alert("a:1", AlertState::kFiring, kT0), kT0),
                                     upsert("g1", alert("a:2", AlertState::kFiring, kT0), kT0)};
  REQUIRE(store.journal().commit(recs, kT0).has_value());
  auto segs = segments(dir.path);
  REQUIRE(segs.size() == 1);
  const std::string full = slurp(segs[0]);
  for (size_t cut : {size_t{3}, size_t{17}, full.size() / 2 + 20}) {
    CAPTURE(cut);
    // Every prefix of the second record (a crash in the middle of the write).
    const std::string first = full.substr(0, full.find("LNJR", 4));
    spit(segs[0], first + full.substr(first.size(), std::min(cut, full.size() - first.size() - 1)));
    auto loaded = StateStore(dir.path).load(kT0 + kMin);
    CHECK(loaded.errors.empty());
    REQUIRE(loaded.notes.size() == 1);
    CHECK(loaded.notes[0].find("torn tail") != std::string::npos);
    REQUIRE(loaded.snapshot.has_value());
    const auto* g1 = loaded.snapshot->find("rules/a.yml", "g1", "Down");
    REQUIRE(g1 != nullptr);
    CHECK(g1->alerts.size() == 1);
    CHECK(find_alert(*g1, "a:1") != nullptr);
  }

  SUBCASE("a new process never appends after the torn tail") {
    StateStore next(dir.path);
    auto loaded = next.load(kT0 + kMin);
    REQUIRE(next.journal().open(loaded.max_lsn + 1).has_value());
    std::vector<JournalRecord> more = {upsert("g1", alert("a:3", AlertState::kFiring, kT0), kT0)};
    REQUIRE(next.journal().commit(more, kT0 + kMin).has_value());
    CHECK(segments(dir.path).size() == 2);
    auto after = StateStore(dir.path).load(kT0 + 2 * kMin);
    const auto* g1 = after.snapshot->find("rules/a.yml", "g1", "Down");
    REQUIRE(g1 != nullptr);
    CHECK(find_alert(*g1, "a:3") != nullptr);
    CHECK(after.errors.empty());
  }
}

TEST_CASE("journal: a checksum error in the middle is an error; that record is skipped") {
  JournalDir dir;
  StateStore store(dir.path);
  REQUIRE(store.journal().open(1).has_value());
  std::vector<JournalRecord> recs = {upsert("g1", alert("a:1", AlertState::kFiring, kT0), kT0),
                                     upsert("g1", alert("a:2", AlertState::kFiring, kT0), kT0),
                                     upsert("g1", alert("a:3", AlertState::kFiring, kT0), kT0)};
  REQUIRE(store.journal().commit(recs, kT0).has_value());
  auto segs = segments(dir.path);
  std::string data = slurp(segs[0]);
  const size_t second = data.find("a:2");
  REQUIRE(second != std::string::npos);
  data[second] = 'X';  // flips the payload, not the frame
  spit(segs[0], data);
  auto loaded = StateStore(dir.path).load(kT0 + kMin);
  REQUIRE(loaded.errors.size() == 1);
  CHECK(loaded.errors[0].find("checksum error") != std::string::npos);
  const auto* g1 = loaded.snapshot->find("rules/a.yml", "g1", "Down");
  REQUIRE(g1 != nullptr);
  CHECK(find_alert(*g1, "a:1") != nullptr);
  CHECK(find_alert(*g1, "a:2") == nullptr);
  CHECK(find_alert(*g1, "X:2") == nullptr);
  CHECK(find_alert(*g1, "a:3") != nullptr);

  SUBCASE("a broken frame header ends the segment with an error") {
    std::string d2 = slurp(segs[0]);
    const size_t magic2 = d2.find("LNJR", 4);
    d2[magic2] = 'Q';
    spit(segs[0], d2);
    auto l2 = StateStore(dir.path).load(kT0 + kMin);
    REQUIRE(l2.errors.size() == 1);
    CHECK(l2.errors[0].find("bad record header") != std::string::npos);
    const auto* r = l2.snapshot->find("rules/a.yml", "g1", "Down");
    REQUIRE(r != nullptr);
    CHECK(r->alerts.size() == 1);
  }
}

TEST_CASE("journal: compaction drops the segments a snapshot covers") {
  JournalDir dir;
  StateStore store(dir.path);
  StateJournal& j = store.journal();
  REQUIRE(j.open(1).has_value());
  std::vector<JournalRecord> recs = {upsert("g1", alert("a:1", AlertState::kFiring, kT0), kT0)};
  REQUIRE(j.commit(recs, kT0).has_value());
  CHECK(j.segment_bytes() > 0);
  auto first_new = j.rotate();
  REQUIRE(first_new.has_value());
  CHECK(*first_new == 2);
  std::vector<JournalRecord> later = {upsert("g1", alert("a:2", AlertState::kPending, kT0), kT0)};
  REQUIRE(j.commit(later, kT0 + kMin).has_value());
  CHECK(later[0].lsn == 2);
  REQUIRE(segments(dir.path).size() == 2);
  // The snapshot taken after the rotation covers LSN 1 (and, as it happens, 2).
  StateSnapshot s;
  s.saved_at = kT0 + kMin;
  s.journal_seq = 1;
  RuleStateSnapshot r;
  r.file = "rules/a.yml";
  r.group = "g1";
  r.rule = "Down";
  r.alerts.push_back(alert("a:1", AlertState::kFiring, kT0));
  s.rules.push_back(r);
  REQUIRE(store.save(s).has_value());
  j.drop_segments_before(*first_new);
  auto left = segments(dir.path);
  REQUIRE(left.size() == 1);
  CHECK(left[0].ends_with("journal-0000000000000002.log"));
  auto loaded = StateStore(dir.path).load(kT0 + 2 * kMin);
  const auto* g1 = loaded.snapshot->find("rules/a.yml", "g1", "Down");
  REQUIRE(g1 != nullptr);
  CHECK(g1->alerts.size() == 2);  // a:1 from the snapshot, a:2 from the remaining segment
  CHECK(loaded.max_lsn == 2);
}

TEST_CASE("journal: a failed write is reported, kept and written by the retry") {
  JournalDir dir;
  StateJournal j(dir.path);
  REQUIRE(j.open(1).has_value());
  std::vector<JournalRecord> first = {upsert("g1", alert("a:0", AlertState::kFiring, kT0), kT0)};
  REQUIRE(j.commit(first, kT0).has_value());
  // The next segment cannot be created (works as root too, unlike a read-only directory).
  const std::string blocker = dir.path + "/journal-0000000000000002.log";
  fs::create_directory(blocker);
  REQUIRE_FALSE(j.rotate().has_value());
  std::vector<JournalRecord> recs = {upsert("g1", alert("a:1", AlertState::kFiring, kT0), kT0)};
  auto r = j.commit(recs, kT0);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message.find("state journal: cannot open") != std::string::npos);
  CHECK(j.write_failures() == 1);
  CHECK(j.has_queued());
  CHECK_FALSE(j.retry(kT0 + 1).has_value());
  CHECK(j.write_failures() == 2);
  fs::remove(blocker);
  REQUIRE(j.retry(kT0 + kMin).has_value());
  CHECK_FALSE(j.has_queued());
  StateStore store(dir.path);
  auto loaded = store.load(kT0 + 2 * kMin);
  CHECK(loaded.errors.empty());
  REQUIRE(loaded.snapshot.has_value());
  const auto* g1 = loaded.snapshot->find("rules/a.yml", "g1", "Down");
  REQUIRE(g1 != nullptr);
  CHECK(find_alert(*g1, "a:0") != nullptr);
  CHECK(find_alert(*g1, "a:1") != nullptr);
  // The restart is told that writes had failed.
  bool told = false;
  for (const auto& n : loaded.notes) {
    told |= n.find("failed to write its alert state 2 time(s)") != std::string::npos;
  }
  CHECK(told);
}

namespace {
// Opens `j` and commits a firing alert of g1 for each instance, as one round.
void open_and_commit(StateJournal& j, std::initializer_list<const char*> instances) {
  REQUIRE(j.open(1).has_value());
  std::vector<JournalRecord> round;
  for (const char* i : instances) {
    round.push_back(upsert("g1", alert(i, AlertState::kFiring, kT0), kT0));
  }
  REQUIRE(j.commit(round, kT0).has_value());
}

// What a restart replays: the instance of every record, in order, and the notes. Errors and torn
// tails fail the test: a failed write must have been cut off, not left in the segment.
std::pair<std::vector<std::string>, std::vector<std::string>> replayed(const std::string& dir,
                                                                       Env* env) {
  StateJournal j(dir, env);
  auto replay = j.read_all();
  CHECK(replay.errors.empty());
  for (const auto& n : replay.notes) CHECK(n.find("torn") == std::string::npos);
  std::vector<std::string> instances;
  instances.reserve(replay.records.size());
  for (const auto& r : replay.records) instances.emplace_back(r.alert.labels.get("instance"));
  return {instances, replay.notes};
}
}  // namespace

TEST_CASE("journal: an injected write or fsync failure is reported, nothing committed lost") {
  JournalDir dir;
  FakeEnv env(kT0);
  {
    StateJournal j(dir.path, &env);
    open_and_commit(j, {"a:0"});

    // A full disk: half of the write reaches the segment, then the error.
    env.fail_writes("journal-", "No space left on device");
    std::vector<JournalRecord> second = {upsert("g1", alert("a:1", AlertState::kFiring, kT0), kT0)};
    auto r = j.commit(second, kT0 + 1);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message.find("state journal: cannot write") != std::string::npos);
    CHECK(r.error().message.find("No space left on device") != std::string::npos);
    CHECK(j.write_failures() == 1);
    CHECK(j.has_queued());

    // The write passes now but the fsync fails: the record is still not taken as durable.
    env.clear_failures();
    env.fail_syncs("journal-", "Input/output error");
    auto retried = j.retry(kT0 + 2);
    REQUIRE_FALSE(retried.has_value());
    CHECK(retried.error().message.find("cannot fsync") != std::string::npos);
    CHECK(retried.error().message.find("Input/output error") != std::string::npos);
    CHECK(j.write_failures() == 2);
    CHECK(j.has_queued());

    env.clear_failures();
    REQUIRE(j.retry(kT0 + kMin).has_value());
    CHECK_FALSE(j.has_queued());
  }
  // The partial write and the unsynced one were cut off before the retry: replay sees every
  // record once, and the note about the failures.
  auto [instances, notes] = replayed(dir.path, &env);
  CHECK(instances == std::vector<std::string>{"a:0", "a:1"});
  bool noted = false;
  for (const auto& n : notes) {
    noted |= n.find("failed to write its alert state 2 time(s)") != std::string::npos;
  }
  CHECK(noted);
}

TEST_CASE("journal: a crash while the Env refuses writes keeps every record committed before it") {
  JournalDir dir;
  FakeEnv env(kT0);
  {
    StateJournal j(dir.path, &env);
    open_and_commit(j, {"a:0", "a:2"});
    env.fail_writes("journal-", "No space left on device");
    std::vector<JournalRecord> lost = {removal("g1", "a:0", kT0 + 1)};
    REQUIRE_FALSE(j.commit(lost, kT0 + 1).has_value());
  }  // the process ends with the removal never made durable (its caller was told so)
  env.clear_failures();
  // Both committed upserts, not the failed removal.
  CHECK(replayed(dir.path, &env).first == std::vector<std::string>{"a:0", "a:2"});
}
