// The routing tree and the aggregation groups with Alertmanager's timing: a new group flushes
// after group_wait (at once when its first alert is already older than that), then every
// group_interval. Deterministic: time only moves through the `now` arguments.
// Thread-safety: RouteTree is immutable after build() and shared read-only; Dispatcher methods
// lock an internal mutex and may be called from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "ruleeval/notifiers/config.hpp"

namespace ruleeval::notifiers {

struct Route {
  std::string receiver;
  Matchers matchers;
  std::vector<std::string> group_by;
  bool group_by_all = false;
  Millis group_wait = 30'000, group_interval = Millis{5} * 60'000, repeat_interval = Millis{4} * 3600'000;
  bool continue_ = false;
  // Not inherited from the parent (Alertmanager 0.25's dispatch.NewRoute).
  std::vector<std::string> mute_time_intervals, active_time_intervals;
  std::string key;  // Alertmanager's route key: {}/{a="b"}/...
  const Route* parent = nullptr;
  std::vector<std::unique_ptr<Route>> children;
  SourceLocation where;

  Labels group_labels(const Labels& alert_labels) const;
};

class RouteTree {
 public:
  // Resolves inheritance and checks that every receiver exists.
  static Result<std::shared_ptr<const RouteTree>> build(const NotifyConfig& config);
  // Routes that handle an alert: depth-first, first matching child wins unless it has
  // continue: true; a route none of whose children match handles the alert itself.
  std::vector<const Route*> match(const Labels& labels) const;
  const Route& root() const { return *root_; }

 private:
  std::unique_ptr<Route> root_;
};

// Alertmanager's group key: <route key>:<group labels>, e.g. {}/{team="db"}:{alertname="X"}.
std::string group_key(const Route& route, const Labels& group_labels);

struct GroupFlush {
  const Route* route = nullptr;
  std::string key;
  Labels group_labels;
  std::vector<rules::Alert> alerts;  // sorted by labels; ends_at is always set
};

class Dispatcher {
 public:
  Dispatcher(std::shared_ptr<const RouteTree> tree, Millis resolve_timeout);

  // Thread-safe. Alerts without ends_at resolve after resolve_timeout unless re-sent.
  void ingest(std::span<const rules::Alert> alerts, Millis now);
  // Calls `fn` for every group whose flush time is <= now (outside no lock: `fn` must not call
  // back into the dispatcher). Resolved alerts that were flushed and not updated since are then
  // dropped, and empty groups deleted.
  void flush_due(Millis now, const std::function<void(const GroupFlush&)>& fn);
  // Earliest pending flush time, or INT64_MAX when there are no groups.
  Millis next_flush() const;
  size_t group_count() const;
  // Every alert firing at `now` (inhibition sources).
  std::vector<rules::Alert> firing_alerts(Millis now) const;

 private:
  struct Entry {
    rules::Alert alert;  // without labels: they are the key of Group::alerts
    uint64_t version = 0;
  };
  struct Group {
    const Route* route = nullptr;
    std::string key;
    Labels labels;
    std::map<Labels, Entry> alerts;  // ordered by labels
    Millis next_flush = 0;
    bool flushed = false;
  };
  std::shared_ptr<const RouteTree> tree_;
  Millis resolve_timeout_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Group> groups_;
  // Flush times: (next_flush, map key) for every group, plus stale pairs of groups that were
  // erased or rescheduled since (skipped when they come up). flush_due() pops what is due
  // instead of scanning every group: the notifier loop wakes at each group's own time.
  using Slot = std::pair<Millis, std::string>;
  std::priority_queue<Slot, std::vector<Slot>, std::greater<>> schedule_;
  // A lower bound of every group's next_flush (the schedule's top).
  Millis earliest_ = INT64_MAX;
  uint64_t version_ = 0;
};

}  // namespace ruleeval::notifiers
