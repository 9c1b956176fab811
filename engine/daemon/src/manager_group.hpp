// RuleManager's per-group runtime record and helpers shared by the manager's files (private).
#pragma once

#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "datasource.hpp"
#include "ruleeval/engine/group_eval.hpp"
#include "ruleeval/engine/manager.hpp"
#include "ruleeval/engine/state_journal.hpp"
#include "ruleeval/rules/loader.hpp"

namespace ruleeval::engine {

inline constexpr double kDurationBuckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                              0.25,  0.5,   1,    2.5,   5,    10};

struct RuleManager::Group {
  std::shared_ptr<const rules::LoadResult> source;  // owns the RuleGroup the runtime points into
  std::unique_ptr<GroupRuntime> rt;
  std::shared_ptr<Datasource> ds;
  std::string file, name;
  Millis interval = 60'000;
  Nanos offset = 0;
  Millis resend_delay = 60'000;
  std::mutex mu;         // guards rt and the stats below
  Millis next_slot = 0;  // next evaluation (ms)
  bool busy = false;     // queued or running (guarded by the manager's queue mutex)
  uint64_t iterations = 0, missed = 0, failures = 0;
  double last_duration = 0;
  Millis last_eval = kNoTime;
  bool restore_for_state = false;  // after the first evaluation (no saved state for the group)
  // Evaluated (or restored) since its state file was last written.
  bool state_stale = true;
  uint64_t buckets[std::size(kDurationBuckets)] = {};
  // Rule evaluation errors are logged at most once a minute per rule, or when they change.
  std::unordered_map<std::string, std::pair<Millis, std::string>> error_logged;
  double duration_sum = 0;
};

// The parameters the restore functions need of an alerting rule.
inline AlertingRuleParams restore_params(const rules::Rule& r) {
  AlertingRuleParams p;
  p.name = r.name;
  p.for_ms = r.for_.ms;
  p.keep_firing_for_ms = r.keep_firing_for.ms;
  return p;
}

// The journal records of a group's transitions since the last call: alerts whose transition
// signature changed, alerts the last evaluation dropped, and Grafana-like rules whose instances
// changed. Marks what it returns as journaled. The group's lock held.
std::vector<JournalRecord> collect_transitions(GroupRuntime& rt, const std::string& file,
                                               const std::string& group, Millis at);

// How often the scheduler writes the state snapshots (journal compaction).
inline constexpr Millis kStateSaveGap = 5'000;
inline constexpr Millis kTrimGap = 10'000;  // malloc_trim(0) in the scheduler

}  // namespace ruleeval::engine
