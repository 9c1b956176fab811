// Alert state persistence for `ruleeval run`, and the restore rules applied after a restart.
//
// Layout of the state directory:
//   group-<16 hex digits>.json  the state of one rule group's rules (hash of rule file and group
//                               name); a group without alert state has no file
//   saved_at                    when the last save finished (see below)
//   alert_state.json            the single-file format of earlier versions: read at start-up for
//                               groups that have no file of their own, removed by the next full
//                               save
// Every file is replaced atomically: write a temp file, fsync it, rename it over the old one,
// fsync the directory. A group's file is rewritten only when that group has been evaluated since
// the last save, so the cost of a save follows what changed, not the number of alerts. A file
// that cannot be parsed is moved aside to <name>.corrupt-<unix ms> and reported, never fatal;
// the other groups are restored.
//
// `saved_at` is written after the group files of each save. A group file is as current as that
// moment (the group was not evaluated in between, or it would have been rewritten), so a group's
// effective save time is the later of its own savedAt and saved_at.
//
// Restore (restore_alerts): within the outage tolerance (default 1h) firing alerts stay firing
// with their original activeAt/firedAt/lastSentAt (no new page, no false resolve), pending alerts
// keep the progress they had made towards `for` (the outage is not counted), keep_firing_for
// carries on from its original start, and resolved alerts keep being re-sent for their 15 minutes.
// Without a state file, restore_from_alerts_for_state() rebuilds activeAt from the backend's
// ALERTS_FOR_STATE series like Prometheus's RestoreForState.
//
// Thread-safety: a StateStore has no lock of its own; one thread at a time may use it (the
// RuleManager loads once in its first apply(), before any save, and saves under save_mu_). The
// free functions are pure and thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ruleeval/common/env.hpp"
#include "ruleeval/common/error.hpp"
#include "ruleeval/engine/alert_state.hpp"
#include "ruleeval/engine/querier.hpp"

namespace ruleeval::engine {

struct RuleStateSnapshot {
  std::string file;
  std::string group;
  std::string rule;
  std::vector<ActiveAlert> alerts;         // Prometheus-style rules
  std::vector<GrafanaInstance> instances;  // Grafana-like rules
  // Not serialised: set by StateStore::load() to the rule's effective save time.
  Millis saved_at = 0;
};

class StateJournal;

struct StateSnapshot {
  Millis saved_at = 0;  // loaded from several files: the newest
  // The state journal's LSN this document covers (its group's records up to it are in it).
  uint64_t journal_seq = 0;
  std::vector<RuleStateSnapshot> rules;

  const RuleStateSnapshot* find(std::string_view file, std::string_view group,
                                std::string_view rule) const;
};

std::string serialize_state(const StateSnapshot& s);
// The same file, built from pieces: one JSON object per rule (serialize_rule_state), so that a
// caller can keep the pieces of rules that did not change since the last save.
std::string serialize_rule_state(const RuleStateSnapshot& r);
std::string assemble_state(Millis saved_at, std::span<const std::string* const> rule_objects,
                           uint64_t journal_seq = 0);
// Strict: unknown states, missing fields or wrong types are errors naming the JSON path.
Result<StateSnapshot> parse_state(std::string_view json);

class StateStore {
 public:
  // Every file operation goes through `env` (ruleeval/common/env.hpp), which must outlive the
  // store; tests pass a FakeEnv to fail writes.
  explicit StateStore(std::string dir, Env* env = Env::Default());

  const std::string& dir() const { return dir_; }
  std::string group_path(std::string_view file, std::string_view group) const;
  std::string legacy_path() const { return dir_ + "/alert_state.json"; }

  // One group's piece of a save: `data` is a complete state document for its rules
  // (serialize_state/assemble_state); empty means the group has no alert state (no file).
  struct GroupData {
    std::string file;
    std::string group;
    std::string data;
  };
  // Replaces the files of `groups` and then writes saved_at. With `complete` (groups lists every
  // group there is), files of other groups and the legacy single file are removed. A group
  // that cannot be written does not stop the others; the first error is returned.
  Result<void> save_groups(Millis saved_at, std::span<const GroupData> groups, bool complete);
  // Writes a whole snapshot (complete), one file per group of its rules.
  Result<void> save(const StateSnapshot& s);

  struct Loaded {
    std::optional<StateSnapshot> snapshot;  // nullopt: no usable file at all
    std::vector<std::string> errors;        // one per unreadable or corrupt file
    std::vector<std::string> moved_to;      // where corrupt files were moved
    std::vector<std::string> notes;         // journal torn tails and notes (not errors)
    size_t journal_records = 0;             // journal records applied over the snapshots
    uint64_t max_lsn = 0;                   // highest LSN seen (snapshots and journal)
  };
  // Never throws. `now` names the .corrupt-<ts> files. Reads the snapshots, then replays the
  // state journal (state_journal.hpp) over them: a record applies to its group when its LSN is
  // above the group snapshot's journalSeq. A rule's effective save time is the latest of its
  // snapshot, saved_at and its journal records.
  Loaded load(Millis now);

  // The journal of this directory (created on first use).
  StateJournal& journal();

 private:
  std::string dir_;
  Env* env_;
  std::shared_ptr<StateJournal> journal_;
};

struct RestoreOptions {
  Millis outage_tolerance = Millis{60} * 60 * 1000;  // --rules.alert.for-outage-tolerance
  Millis grace_period = Millis{10} * 60 * 1000;      // --rules.alert.for-grace-period
};

struct RestoreSummary {
  size_t firing = 0;
  size_t pending = 0;
  size_t resolved = 0;
  size_t skipped = 0;  // too old, or not matching the rule any more
};

// Puts the saved alerts of one rule back into `into` (which should be empty, at start-up), as of
// `now`, given the snapshot's saved_at. Alerts whose alertname is not rule.name are skipped.
RestoreSummary restore_alerts(AlertMap& into, std::span<const ActiveAlert> saved,
                              const AlertingRuleParams& rule, Millis saved_at, Millis now,
                              const RestoreOptions& opts = {});

// Grafana-like instances: restored as they were when within the tolerance.
size_t restore_instances(GrafanaInstances& into, std::span<const GrafanaInstance> saved,
                         Millis saved_at, Millis now, const RestoreOptions& opts = {});

// The PromQL selector used for a rule's ALERTS_FOR_STATE restore: alertname plus the rule's
// static labels; label values holding templates ("{{") are left out (prometheus#16883).
std::string alerts_for_state_selector(const AlertingRuleParams& rule);

// Prometheus's RestoreForState over a backend: for each alert now in `alerts` (after the first
// evaluation), finds its ALERTS_FOR_STATE series in [now - outage_tolerance, now] and moves
// activeAt back: remaining = for - (downAt - oldActiveAt); <= 0 keeps oldActiveAt (fires on the
// next evaluation), < grace gives now + grace - for, else oldActiveAt + (now - downAt).
// Unlike Prometheus, rules with `for` shorter than the grace period are restored too.
Result<RestoreSummary> restore_from_alerts_for_state(Querier& q, AlertMap& alerts,
                                                     const AlertingRuleParams& rule, Millis now,
                                                     const RestoreOptions& opts = {});

}  // namespace ruleeval::engine
