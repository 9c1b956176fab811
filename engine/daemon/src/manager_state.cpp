// RuleManager: alert state durability (journal commits, snapshot saves, restore at start-up).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "manager_group.hpp"
#include "ruleeval/engine/state_store.hpp"

namespace ruleeval::engine {

namespace {
constexpr uint64_t kJournalCompactBytes = 1u << 20;  // rotate + drop covered segments past this
constexpr Millis kStateErrorLogGap = 10'000;
}  // namespace

std::vector<JournalRecord> collect_transitions(GroupRuntime& rt, const std::string& file,
                                               const std::string& group, Millis at) {
  std::vector<JournalRecord> out;
  for (auto& r : rt.rules()) {
    if (!r.rule->is_alert()) continue;
    auto record = [&](JournalRecord::Kind kind) -> JournalRecord& {
      JournalRecord& j = out.emplace_back();
      j.kind = kind;
      j.at = at;
      j.file = file;
      j.group = group;
      j.rule = r.rule->name;
      return j;
    };
    if (r.rule->grafana) {
      const uint64_t sig = instances_signature(r.instances);
      if (sig != r.journal_sig) {
        auto& j = record(JournalRecord::Kind::kInstances);
        for (const auto& [_, in] : r.instances) j.instances.push_back(in);
        r.journal_sig = sig;
      }
    }
    for (auto& [_, a] : r.alerts) {
      const uint64_t sig = transition_signature(a);
      if (sig == a.journal_sig) continue;
      a.journal_sig = sig;
      record(JournalRecord::Kind::kAlert).alert = a;
    }
    for (auto& gone : r.removed) {
      if (gone.journal_sig == 0) continue;  // never journaled
      gone.journal_sig = 0;
      if (r.alerts.contains(gone.labels.hash())) continue;
      record(JournalRecord::Kind::kAlertRemoved).alert.labels = gone.labels;
    }
  }
  return out;
}

void RuleManager::restore_state(std::vector<std::shared_ptr<Group>>& groups,
                                const rules::RunConfig& cfg) {
  auto loaded = store_->load(now());
  std::string log;
  for (const auto& e : loaded.errors) {
    if (!log.empty()) log += "; ";
    log += e;
  }
  if (!log.empty()) {
    state_log_ = "alert state was unusable: " + log + "; the groups in it start with empty state";
  }
  for (const auto& n : loaded.notes) {
    state_log_ += state_log_.empty() ? n : "; " + n;
  }
  // New transitions go to a new segment, after everything read (never after a torn tail).
  note_state_write(store_->journal().open(loaded.max_lsn + 1), "journal open");
  if (!loaded.snapshot) return;
  const StateSnapshot& snap = *loaded.snapshot;
  RestoreOptions ro;
  ro.outage_tolerance = cfg.outage_tolerance_ms;
  size_t firing = 0, pending = 0;
  Millis newest = 0;
  for (auto& g : groups) {
    for (auto& rt : g->rt->rules()) {
      const RuleStateSnapshot* saved = snap.find(g->file, g->name, rt.rule->name);
      if (!saved) continue;
      newest = std::max(newest, saved->saved_at);
      const bool in_tolerance = now() - saved->saved_at <= ro.outage_tolerance;
      if (in_tolerance) g->restore_for_state = false;  // the saved state has this group
      if (rt.rule->grafana) {
        restore_instances(rt.instances, saved->instances, saved->saved_at, now(), ro);
        rt.journal_sig = instances_signature(rt.instances);
        if (in_tolerance) {
          for (const auto& a : saved->alerts) put_alert(rt.alerts, a);
        }
      } else if (rt.rule->is_alert()) {
        auto sum = restore_alerts(rt.alerts, saved->alerts, restore_params(*rt.rule),
                                  saved->saved_at, now(), ro);
        firing += sum.firing;
        pending += sum.pending;
      }
    }
  }
  // Restored `for` progress (pending alerts' activeAt moved by the outage) is durable before
  // anything shows it.
  for (auto& g : groups) {
    auto records = collect_transitions(*g->rt, g->file, g->name, now());
    if (!records.empty()) note_state_write(store_->journal().commit(records, now()), "journal");
  }
  std::string restored = fmt::format(
      "restored alert state from {}: {} firing, {} pending ({} journal records; last written at "
      "{} Unix ms, {}s before this start)",
      store_->dir(), firing, pending, loaded.journal_records, newest,
      newest > 0 ? trunc_seconds(now() - newest) : 0);
  state_log_ = state_log_.empty() ? restored : state_log_ + "; " + restored;
}

Result<void> RuleManager::save_state() {
  if (!store_) return {};
  std::lock_guard run(save_run_mu_);
  const Millis saved_at = now();
  std::vector<std::shared_ptr<Group>> groups;
  {
    std::lock_guard lock(mu_);
    groups = groups_;
  }
  StateJournal& journal = store_->journal();
  if (journal.has_queued()) note_state_write(journal.retry(saved_at), "journal retry");
  // After a (re)configuration every group is written, and files of groups that are gone are
  // removed; otherwise only the groups evaluated since the last save.
  const bool complete = state_complete_save_.exchange(false);
  // Compaction: a new journal segment first; once this save has written every group evaluated
  // since the last one, each group's file covers its records in the older segments (a group
  // that was not evaluated has no newer records than its file).
  uint64_t rotated = 0;
  if (complete || journal.segment_bytes() > kJournalCompactBytes) {
    if (auto r = journal.rotate()) rotated = *r;
  }
  std::vector<StateStore::GroupData> writes;
  std::vector<Group*> written;
  for (const auto& g : groups) {
    std::lock_guard lock(g->mu);
    if (!g->state_stale && !complete) continue;
    // Records of this group up to here are in the state below (they are appended under g->mu).
    const uint64_t seq = journal.last_lsn();
    std::vector<std::string> pieces;
    for (const auto& rt : g->rt->rules()) {
      if (!rt.rule->is_alert() || (rt.alerts.empty() && rt.instances.empty())) continue;
      RuleStateSnapshot r;
      r.file = g->file;
      r.group = g->name;
      r.rule = rt.rule->name;
      r.alerts.reserve(rt.alerts.size());
      for (const auto& [_, a] : rt.alerts) r.alerts.push_back(a);
      for (const auto& [_, in] : rt.instances) r.instances.push_back(in);
      pieces.push_back(serialize_rule_state(r));
    }
    std::vector<const std::string*> ptrs;
    ptrs.reserve(pieces.size());
    for (const auto& p : pieces) ptrs.push_back(&p);
    // A group without alerts keeps an (empty) file: its journalSeq hides its older records.
    writes.push_back({g->file, g->name, assemble_state(saved_at, ptrs, seq)});
    written.push_back(g.get());
    g->state_stale = false;
  }
  Result<void> r;
  {
    std::lock_guard lock(save_mu_);
    r = store_->save_groups(saved_at, writes, complete);
  }
  if (!r) {
    // Written again next time (a group evaluated meanwhile is stale anyway).
    for (Group* g : written) {
      std::lock_guard gl(g->mu);
      g->state_stale = true;
    }
    if (complete) state_complete_save_ = true;
    state_dirty_ = true;
  } else if (rotated > 0) {
    journal.drop_segments_before(rotated);
  }
  note_state_write(r, "snapshot");
  return r;
}

void RuleManager::note_state_write(const Result<void>& r, std::string_view what) {
  if (r) return;
  ++state_write_failures_;
  const Millis t = now();
  std::string msg =
      fmt::format("cannot write alert state ({}): {}; retrying", what, r.error().message);
  bool log = false;
  {
    std::lock_guard lock(save_mu_);
    state_write_error_ = fmt::format("{} (at {} Unix ms)", msg, t);
    if (t - state_error_logged_at_ >= kStateErrorLogGap) {
      state_error_logged_at_ = t;
      log = true;
    }
  }
  if (log && opts_.log) opts_.log(msg, true);
}

}  // namespace ruleeval::engine
