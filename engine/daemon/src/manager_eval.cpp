// RuleManager: one group evaluation (query, state machine, journal, remote write, notifications)
// and the ALERTS_FOR_STATE restore after a group's first evaluation.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "manager_group.hpp"
#include "ruleeval/common/excerpt.hpp"
#include "ruleeval/common/url.hpp"
#include "ruleeval/engine/remote_write.hpp"
#include "ruleeval/engine/state_store.hpp"
#include "ruleeval/parser/promql.hpp"

namespace ruleeval::engine {

namespace {
constexpr Millis kRuleErrorLogGap = 60'000;
}  // namespace

void RuleManager::eval_group(Group& g, Millis ts) {
  auto start = opts_.env->monotonic_now();
  std::vector<rules::Alert> to_send;
  {
    std::lock_guard lock(g.mu);
    // States before the evaluation, by identity hash (cheap even with a million alerts); the
    // alerts the evaluation dropped come back in RuleRuntime::removed with their labels.
    std::vector<std::unordered_map<uint64_t, AlertState>> before;
    if (opts_.on_transition) {
      for (const auto& rt : g.rt->rules()) {
        auto& m = before.emplace_back();
        m.reserve(rt.alerts.size());
        for (const auto& [h, a] : rt.alerts) m.emplace(h, a.state);
      }
    }
    if (g.restore_for_state) g.rt->hold_alert_series(true);
    // With a state directory, ALERTS samples for remote write are held until the transitions
    // that produced them are durable.
    std::vector<WriteSample> held;
    run_eval(g, ts, store_ ? &held : nullptr);
    if (g.restore_for_state) {
      g.restore_for_state = false;
      restore_group_for_state(g, ts);
      g.rt->hold_alert_series(false);
    }
    // Durable before visible: the group's transitions are in the journal (fdatasync, shared with
    // concurrent rounds) before the lock is released (API, status page), before remote write
    // and before notifications. A round without transitions writes nothing.
    if (store_) {
      auto records = collect_transitions(*g.rt, g.file, g.name, now());
      if (!records.empty()) note_state_write(store_->journal().commit(records, now()), "journal");
      if (auto rw = remote_write(); !held.empty() && rw) rw->push(std::span<const WriteSample>(held));
    }
    if (opts_.on_transition) {
      const auto& rules_rt = g.rt->rules();
      for (size_t i = 0; i < rules_rt.size() && i < before.size(); ++i) {
        const auto& prev = before[i];
        for (const auto& [h, a] : rules_rt[i].alerts) {
          auto it = prev.find(h);
          AlertState from = it == prev.end() ? AlertState::kInactive : it->second;
          if (from != a.state) opts_.on_transition(a, from, a.state);
        }
        for (const auto& gone : rules_rt[i].removed) {  // e.g. a pending alert that vanished
          auto it = prev.find(gone.labels.hash());
          if (it != prev.end() && it->second != AlertState::kInactive &&
              !rules_rt[i].alerts.contains(it->first)) {
            opts_.on_transition(gone, it->second, AlertState::kInactive);
          }
        }
      }
    }
    g.state_stale = true;
    to_send = g.rt->alerts_to_send(ts, g.resend_delay);
    double secs = opts_.env->seconds_since(start);
    ++g.iterations;
    g.last_duration = secs;
    g.last_eval = ts;
    g.duration_sum += secs;
    for (size_t i = 0; i < std::size(kDurationBuckets); ++i) {
      if (secs <= kDurationBuckets[i]) ++g.buckets[i];
    }
    for (const auto& r : g.rt->rules()) {
      if (!r.last_error) continue;
      ++g.failures;
      if (!opts_.log) continue;
      // Backend outages, 401s, bad queries: logged with the rule, rate-limited.
      const Millis t = now();
      auto& [at, last] = g.error_logged[r.rule->name];
      if (last != *r.last_error || t - at >= kRuleErrorLogGap) {
        at = t;
        last = *r.last_error;
        opts_.log(fmt::format("rule evaluation failed: group={:?} file={:?} rule={:?}: {}", g.name,
                              g.file, r.rule->name, redact_urls_in(excerpt(last, 500))),
                  true);
      }
    }
  }
  if (sink_ && !to_send.empty()) sink_->send(to_send, now());
  state_dirty_ = true;
}

namespace {
// The restore code speaks Querier (text in, QueryOutcome out); the group's datasource speaks
// RuleQuerier. Errors keep their message.
class RuleQuerierAdapter final : public Querier {
 public:
  explicit RuleQuerierAdapter(RuleQuerier& q) : q_(q) {}
  QueryOutcome query(std::string_view text, Millis t) override {
    return run(text, [&](const promql::Expr& e) { return q_.instant(e, text, t); });
  }
  QueryOutcome query_range(std::string_view text, Millis start, Millis end, Millis step) override {
    return run(text, [&](const promql::Expr& e) { return q_.range(e, text, start, end, step); });
  }

 private:
  template <class Fn>
  static QueryOutcome run(std::string_view text, Fn&& fn) {
    auto expr = promql::parse(text);
    if (!expr) {
      return std::unexpected(Error(ErrorKind::kConfig, promql::format_parse_error(expr.error())));
    }
    auto r = fn(**expr);
    if (!r) return std::unexpected(Error(ErrorKind::kApi, r.error().message));
    return std::move(*r);
  }
  RuleQuerier& q_;
};
}  // namespace

void RuleManager::restore_group_for_state(Group& g, Millis ts) {
  if (!g.ds) return;
  RestoreOptions ro;
  ro.outage_tolerance = outage_tolerance_;
  std::vector<std::string> errors;
  size_t restored = 0, rules_done = 0;
  g.ds->with_querier([&](RuleQuerier& rq, const AppendFn&) {
    RuleQuerierAdapter q(rq);
    for (auto& rt : g.rt->rules()) {
      const rules::Rule& r = *rt.rule;
      if (!r.is_alert() || r.grafana || r.for_.ms <= 0 || rt.alerts.empty()) continue;
      AlertingRuleParams p = restore_params(r);
      LabelsBuilder b;
      for (const auto& kv : g.rt->group().labels) b.set(kv.key, kv.value.value);
      for (const auto& kv : r.labels) b.set(kv.key, kv.value.value);
      p.labels = b.build();
      auto sum = restore_from_alerts_for_state(q, rt.alerts, p, ts, ro);
      if (!sum) {
        errors.push_back(sum.error().message);
        continue;
      }
      ++rules_done;
      restored += sum->pending;
    }
  });
  if (!opts_.log) return;
  for (const auto& e : errors) opts_.log(fmt::format("group {:?}: {}", g.name, e), true);
  if (restored > 0) {
    opts_.log(fmt::format("group {:?}: restored the `for` progress of {} alert(s) in {} rule(s) "
                          "from ALERTS_FOR_STATE",
                          g.name, restored, rules_done),
              false);
  }
}

void RuleManager::eval_all(Millis ts) {
  std::vector<std::shared_ptr<Group>> groups;
  {
    std::lock_guard lock(mu_);
    groups = groups_;
  }
  for (auto& g : groups) eval_group(*g, ts);
  if (state_dirty_.exchange(false)) (void)save_state();
  ready_ = true;
}

void RuleManager::run_eval(Group& g, Millis ts, std::vector<WriteSample>* held) {
  if (!g.ds) return;
  auto rw = remote_write();
  g.ds->with_querier([&](RuleQuerier& q, const AppendFn& append) {
    if (!rw) {
      g.rt->eval(ts, q, append);
      return;
    }
    AppendFn both = [&](const Labels& l, Millis t, double v) {
      append(l, t, v);
      if (held) {
        held->push_back(WriteSample{l, t, v});
      } else {
        rw->push(WriteSample{l, t, v});
      }
    };
    g.rt->eval(ts, q, both);
  });
}

}  // namespace ruleeval::engine
