#include "ruleeval/notifiers/dispatch.hpp"

#include <algorithm>
#include <climits>

namespace ruleeval::notifiers {

Labels Route::group_labels(const Labels& alert_labels) const {
  if (group_by_all) return alert_labels;
  return alert_labels.keep_only(group_by);
}

namespace {

std::string map_key(const Route* r, const std::string& key) {
  return std::to_string(reinterpret_cast<uintptr_t>(r)) + '|' + key;
}

Result<std::unique_ptr<Route>> build_route(const RouteConfig& rc, const Route* parent,
                                           const NotifyConfig& config) {
  auto r = std::make_unique<Route>();
  r->parent = parent;
  r->where = rc.where;
  if (parent) {
    r->receiver = parent->receiver;
    r->group_by = parent->group_by;
    r->group_by_all = parent->group_by_all;
    r->group_wait = parent->group_wait;
    r->group_interval = parent->group_interval;
    r->repeat_interval = parent->repeat_interval;
  }
  if (!rc.receiver.empty()) r->receiver = rc.receiver;
  if (rc.group_by_set) {
    r->group_by = rc.group_by;
    r->group_by_all = rc.group_by_all;
  }
  if (rc.group_wait) r->group_wait = *rc.group_wait;
  if (rc.group_interval) r->group_interval = *rc.group_interval;
  if (rc.repeat_interval) r->repeat_interval = *rc.repeat_interval;
  r->continue_ = rc.continue_;
  r->mute_time_intervals = rc.mute_time_intervals;
  r->active_time_intervals = rc.active_time_intervals;
  r->matchers = rc.matchers;
  sort_matchers(r->matchers);
  r->key = (parent ? parent->key + "/" : std::string()) + matchers_to_string(r->matchers);
  if (!config.find_receiver(r->receiver)) {
    return make_error("route: undefined receiver \"" + r->receiver + "\"", rc.where);
  }
  for (const auto& child : rc.routes) {
    auto c = build_route(child, r.get(), config);
    if (!c) return std::unexpected(c.error());
    r->children.push_back(std::move(*c));
  }
  return r;
}

void match_into(const Route& r, const Labels& labels, std::vector<const Route*>& out) {
  if (!matches_all(r.matchers, labels)) return;
  size_t before = out.size();
  for (const auto& c : r.children) {
    size_t n = out.size();
    match_into(*c, labels, out);
    if (out.size() > n && !c->continue_) break;
  }
  if (out.size() == before) out.push_back(&r);
}

}  // namespace

Result<std::shared_ptr<const RouteTree>> RouteTree::build(const NotifyConfig& config) {
  auto root = build_route(config.route, nullptr, config);
  if (!root) return std::unexpected(root.error());
  auto t = std::make_shared<RouteTree>();
  t->root_ = std::move(*root);
  return std::shared_ptr<const RouteTree>(std::move(t));
}

std::vector<const Route*> RouteTree::match(const Labels& labels) const {
  std::vector<const Route*> out;
  // The root matches everything, even if (invalidly) given matchers.
  for (const auto& c : root_->children) {
    size_t n = out.size();
    match_into(*c, labels, out);
    if (out.size() > n && !c->continue_) break;
  }
  if (out.empty()) out.push_back(root_.get());
  return out;
}

std::string group_key(const Route& route, const Labels& group_labels) {
  std::string out = route.key + ":{";
  bool first = true;
  for (const auto& l : group_labels) {
    if (!first) out += ", ";
    out += l.name + "=" + go_quote(l.value);
    first = false;
  }
  out += '}';
  return out;
}

Dispatcher::Dispatcher(std::shared_ptr<const RouteTree> tree, Millis resolve_timeout)
    : tree_(std::move(tree)), resolve_timeout_(resolve_timeout) {}

void Dispatcher::ingest(std::span<const rules::Alert> alerts, Millis now) {
  std::lock_guard lock(mu_);
  for (const auto& in : alerts) {
    if (in.labels.empty()) continue;  // Alertmanager rejects alerts without labels
    rules::Alert a = in;
    if (a.starts_at == 0) a.starts_at = a.ends_at != 0 && a.ends_at < now ? a.ends_at : now;
    if (a.ends_at == 0) a.ends_at = now + resolve_timeout_;
    for (const Route* r : tree_->match(a.labels)) {
      Labels gl = r->group_labels(a.labels);
      std::string key = group_key(*r, gl);
      // Sibling routes may share a key ({}/{} twice): groups are per route, like Alertmanager's.
      auto [it, created] = groups_.try_emplace(map_key(r, key));
      Group& g = it->second;
      if (created) {
        g.route = r;
        g.key = key;
        g.labels = gl;
        g.next_flush = now + r->group_wait;
        schedule_.emplace(g.next_flush, it->first);
        earliest_ = std::min(earliest_, g.next_flush);
      }
      auto& e = g.alerts[a.labels];
      // Keep the earliest start of an ongoing alert (Alertmanager's merge).
      const Millis start = e.version != 0 && !e.alert.resolved_at(now) &&
                                   e.alert.starts_at < a.starts_at
                               ? e.alert.starts_at
                               : a.starts_at;
      // The labels are the map's key; the entry keeps the rest (no second copy per alert).
      e.alert.annotations = a.annotations;
      e.alert.starts_at = start;
      e.alert.ends_at = a.ends_at;
      e.alert.generator_url = a.generator_url;
      e.version = ++version_;
      // An alert older than group_wait flushes a new group at once.
      if (!g.flushed && a.starts_at + r->group_wait < now && g.next_flush > now) {
        g.next_flush = now;
        schedule_.emplace(now, it->first);
        earliest_ = std::min(earliest_, now);
      }
    }
  }
}

void Dispatcher::flush_due(Millis now, const std::function<void(const GroupFlush&)>& fn) {
  struct Due {
    GroupFlush flush;
    std::vector<std::pair<Labels, uint64_t>> versions;
  };
  std::vector<Due> due;
  {
    std::lock_guard lock(mu_);
    // Nothing is due before earliest_ (tick runs on every ingest and every second).
    if (earliest_ > now) return;
    while (!schedule_.empty() && schedule_.top().first <= now) {
      const auto [at, k] = schedule_.top();
      schedule_.pop();
      auto it = groups_.find(k);
      if (it == groups_.end()) continue;  // erased since
      Group& g = it->second;
      if (g.next_flush != at) continue;  // rescheduled since (its current time is queued too)
      Due d;
      d.flush.route = g.route;
      d.flush.key = g.key;
      d.flush.group_labels = g.labels;
      for (const auto& [labels, e] : g.alerts) {
        d.flush.alerts.push_back(e.alert);
        d.flush.alerts.back().labels = labels;
        d.versions.emplace_back(labels, e.version);
      }
      g.flushed = true;
      g.next_flush = now + g.route->group_interval;
      due.push_back(std::move(d));
    }
    // Rescheduled after the loop: a group_interval of 0 must not flush twice in one call.
    for (const auto& d : due) {
      schedule_.emplace(now + d.flush.route->group_interval, map_key(d.flush.route, d.flush.key));
    }
    earliest_ = schedule_.empty() ? INT64_MAX : schedule_.top().first;
  }
  std::sort(due.begin(), due.end(), [](const Due& a, const Due& b) {
    return std::tie(a.flush.key, a.flush.route->receiver) <
           std::tie(b.flush.key, b.flush.route->receiver);
  });
  for (const auto& d : due) {
    if (!d.flush.alerts.empty()) fn(d.flush);
  }
  std::lock_guard lock(mu_);
  for (const auto& d : due) {
    auto git = groups_.find(map_key(d.flush.route, d.flush.key));
    if (git == groups_.end()) continue;
    Group& g = git->second;
    for (size_t i = 0; i < d.flush.alerts.size(); ++i) {
      if (!d.flush.alerts[i].resolved_at(now)) continue;
      auto it = g.alerts.find(d.versions[i].first);
      if (it != g.alerts.end() && it->second.version == d.versions[i].second) g.alerts.erase(it);
    }
    if (g.alerts.empty()) groups_.erase(git);
  }
}

Millis Dispatcher::next_flush() const {
  std::lock_guard lock(mu_);
  return groups_.empty() ? INT64_MAX : earliest_;
}

size_t Dispatcher::group_count() const {
  std::lock_guard lock(mu_);
  return groups_.size();
}

std::vector<rules::Alert> Dispatcher::firing_alerts(Millis now) const {
  std::lock_guard lock(mu_);
  std::map<Labels, const rules::Alert*> seen;
  for (const auto& [k, g] : groups_) {
    for (const auto& [labels, e] : g.alerts) {
      if (!e.alert.resolved_at(now)) seen.emplace(labels, &e.alert);
    }
  }
  std::vector<rules::Alert> out;
  out.reserve(seen.size());
  for (const auto& [l, a] : seen) {
    out.push_back(*a);
    out.back().labels = l;
  }
  return out;
}

}  // namespace ruleeval::notifiers
