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

std::string RuleManager::status_html() const {
  std::vector<std::shared_ptr<Group>> groups;
  {
    std::lock_guard lock(mu_);
    groups = groups_;
  }
  std::string o =
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>ruleeval</title><style>"
      "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
      "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
      ".firing{background:#fdd}.pending{background:#ffd}.err{color:#b00}</style></head><body>"
      "<h1>ruleeval</h1><p><a href=\"/api/v1/rules\">rules</a> · <a "
      "href=\"/api/v1/alerts\">alerts</a>"
      " · <a href=\"/metrics\">metrics</a></p>";
  {
    std::lock_guard lock(save_mu_);
    if (!state_write_error_.empty()) {
      o += fmt::format("<p class=\"err\">Alert state: {} write failure(s); last: {}</p>",
                       state_write_failures_.load(), html_escape(state_write_error_));
    }
  }
  for (const auto& g : groups) {
    std::lock_guard lock(g->mu);
    o += fmt::format("<h2>{} <small>({}, every {}, last took {:.3f}s)</small></h2>",
                     html_escape(g->name), html_escape(g->file), format_duration(g->interval),
                     g->last_duration);
    o += "<table><tr><th>rule</th><th>state</th><th>health</th><th>last "
         "error</th><th>alerts</th></tr>";
    for (const auto& rt : g->rt->rules()) {
      const rules::Rule& r = *rt.rule;
      std::string state = r.is_alert() ? std::string(to_string(rule_state(rt.alerts))) : "";
      std::string alerts;
      for (const auto& [_, a] : rt.alerts) {
        if (a.state == AlertState::kInactive) continue;
        alerts +=
            fmt::format("<div class=\"{}\">{} {}</div>", to_string(a.state),
                        html_escape(a.labels.to_string()), html_escape(format_go_float_e(a.value)));
      }
      o += fmt::format(
          "<tr class=\"{}\"><td>{}<br><code>{}</code></td><td>{}</td><td>{}</td>"
          "<td class=\"err\">{}</td><td>{}</td></tr>",
          state, html_escape(r.name), html_escape(r.expr.value), state, to_string(rt.health),
          html_escape(redact_urls_in(rt.last_error.value_or(""))), alerts);
    }
    o += "</table>";
  }
  o += "</body></html>";
  return o;
}

}  // namespace ruleeval::engine
