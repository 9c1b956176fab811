// RuleManager: the API's rule and alert views and the HTML status page.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "manager_group.hpp"
#include "ruleeval/common/escape.hpp"
#include "ruleeval/common/url.hpp"
#include "ruleeval/parser/duration.hpp"
#include "text_escape.hpp"

namespace ruleeval::engine {

std::string RuleManager::rules_json(const RulesFilter& f) const {
  return with_views([&](std::span<const GroupView> v) { return render_rules(v, f); });
}

std::string RuleManager::alerts_json() const {
  return with_views([&](std::span<const GroupView> v) { return render_alerts(v); });
}

std::string RuleManager::with_views(
    const std::function<std::string(std::span<const GroupView>)>& fn) const {
  std::vector<std::shared_ptr<Group>> groups;
  {
    std::lock_guard lock(mu_);
    groups = groups_;
  }
  std::vector<std::unique_lock<std::mutex>> locks;
  locks.reserve(groups.size());
  std::vector<GroupView> views;
  views.reserve(groups.size());
  for (const auto& g : groups) {
    locks.emplace_back(g->mu);
    GroupView v;
    v.name = g->name;
    v.file = g->file;
    v.interval = g->interval;
    v.limit = static_cast<size_t>(std::max<int64_t>(0, g->rt->group().limit));
    v.eval_seconds = g->last_duration;
    v.last_eval = g->last_eval;
    for (const auto& rt : g->rt->rules()) {
      const rules::Rule& r = *rt.rule;
      RuleView rv;
      rv.type = r.is_alert() ? RuleView::Type::kAlerting : RuleView::Type::kRecording;
      rv.name = r.name;
      rv.query = r.grafana ? r.grafana->query.value : r.expr.value;
      rv.duration = r.for_.ms;
      rv.keep_firing_for = r.keep_firing_for.ms;
      LabelsBuilder lb, ab;
      for (const auto& kv : r.labels) lb.set(kv.key, kv.value.value);
      for (const auto& kv : r.annotations) ab.set(kv.key, kv.value.value);
      rv.labels = lb.build();
      rv.annotations = ab.build();
      rv.alerts = r.is_alert() ? &rt.alerts : nullptr;
      rv.health = std::string(to_string(rt.health));
      if (rt.last_error) rv.last_error = redact_urls_in(*rt.last_error);
      rv.eval_seconds = rt.eval_seconds;
      rv.last_eval = rt.last_eval;
      v.rules.push_back(std::move(rv));
    }
    views.push_back(std::move(v));
  }
  return fn(views);
}

status::PageData RuleManager::status_data() const {
  std::vector<std::shared_ptr<Group>> groups;
  {
    std::lock_guard lock(mu_);
    groups = groups_;
  }
  status::PageData d;
  d.now = now();
  {
    std::lock_guard lock(save_mu_);
    d.state_write_failures = state_write_failures_.load();
    d.state_write_error = state_write_error_;
  }
  auto pairs = [](const CompactLabels& l) {
    status::LabelPairs out;
    for (const auto& x : l.to_labels()) out.emplace_back(x.name, x.value);
    return out;
  };
  for (const auto& g : groups) {
    std::lock_guard lock(g->mu);
    status::GroupItem gi{g->name, g->file, g->interval, g->last_eval, g->last_duration,
                         g->iterations, g->missed, {}};
    for (const auto& rt : g->rt->rules()) {
      const rules::Rule& r = *rt.rule;
      status::RuleItem ri;
      ri.name = r.name;
      ri.alerting = r.is_alert();
      ri.query = r.expr.value;
      ri.health = std::string(to_string(rt.health));
      if (rt.last_error) ri.last_error = redact_urls_in(*rt.last_error);
      ri.last_eval = rt.last_eval;
      ri.eval_seconds = rt.eval_seconds;
      ri.for_ms = r.for_.ms;
      for (const auto& [_, a] : rt.alerts) {
        if (a.state == AlertState::kInactive && a.resolved_at == kNoTime) continue;
        status::AlertItem ai;
        ai.group = g->name;
        ai.rule = r.name;
        ai.state = a.state == AlertState::kFiring    ? "firing"
                   : a.state == AlertState::kPending ? "pending"
                                                     : "resolved";
        ai.labels = pairs(a.labels);
        for (const auto& l : g->rt->env().external_labels)
          if (!l.value.empty()) ai.external_labels.emplace_back(l.name, l.value);
        ai.annotations = pairs(a.annotations);
        ai.value = a.value;
        ai.active_at = a.active_at;
        ai.fired_at = a.fired_at;
        ai.resolved_at = a.resolved_at;
        ai.for_ms = r.for_.ms;
        ai.generator_url = rt.generator_url;
        ri.firing += a.state == AlertState::kFiring;
        ri.pending += a.state == AlertState::kPending;
        // The strip's bands from the state the alert keeps (active_at, fired_at, resolved_at).
        Millis end = a.resolved_at != kNoTime ? a.resolved_at : d.now;
        if (a.active_at != kNoTime) {
          Millis fired = a.fired_at != kNoTime ? a.fired_at : end;
          if (fired > a.active_at) ri.bands.push_back({a.active_at, fired, "pending"});
          if (a.fired_at != kNoTime) ri.bands.push_back({a.fired_at, end, "firing"});
        }
        d.alerts.push_back(std::move(ai));
      }
      gi.rules.push_back(std::move(ri));
    }
    d.groups.push_back(std::move(gi));
  }
  return d;
}

std::string RuleManager::status_html() const { return status::render_status_page(status_data()); }

}  // namespace ruleeval::engine
