#include "ruleeval/notifiers/notifier.hpp"

#include <fmt/format.h>

#include "ruleeval/common/excerpt.hpp"
#include "ruleeval/common/url.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "fsutil.hpp"
#include "payloads.hpp"
#include "receiver_http.hpp"
#include "receivers_am2.hpp"

namespace ruleeval::notifiers {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Real waits (rate limits, wait_idle's timeout, log throttling) sleep on condition variables,
// so they measure the real monotonic clock, not the options' Env (a FakeEnv's clock stands still).
Millis steady_ms() { return Env::Default()->monotonic_ms(); }

std::mutex g_log_mu;
std::function<void(std::string_view, bool)> g_log;  // set_notifier_log(); else stderr

void log_error(const std::string& msg) {
  const std::string text = redact_urls_in(msg);
  std::lock_guard lock(g_log_mu);
  if (g_log) {
    g_log("notifier: " + text, true);
  } else {
    std::cerr << "ruleeval notifier: " << text << '\n';
  }
}

bool is_subset(const std::vector<uint64_t>& sub, const std::vector<uint64_t>& sup) {
  return std::includes(sup.begin(), sup.end(), sub.begin(), sub.end());
}

struct IntegrationRef {
  IntegrationKind kind;
  size_t index;
  bool send_resolved;
};

std::vector<IntegrationRef> integrations_of(const ReceiverConfig& rc) {
  std::vector<IntegrationRef> out;
  for (size_t i = 0; i < rc.slack.size(); ++i) {
    out.push_back({IntegrationKind::kSlack, i, rc.slack[i].send_resolved});
  }
  for (size_t i = 0; i < rc.pagerduty.size(); ++i) {
    out.push_back({IntegrationKind::kPagerDuty, i, rc.pagerduty[i].send_resolved});
  }
  for (size_t i = 0; i < rc.email.size(); ++i) {
    out.push_back({IntegrationKind::kEmail, i, rc.email[i].send_resolved});
  }
  for (size_t i = 0; i < rc.webhook.size(); ++i) {
    out.push_back({IntegrationKind::kWebhook, i, rc.webhook[i].send_resolved});
  }
  for (size_t i = 0; i < rc.alertmanager.size(); ++i) {
    out.push_back({IntegrationKind::kAlertmanager, i, rc.alertmanager[i].send_resolved});
  }
  for (size_t i = 0; i < rc.file.size(); ++i) {
    out.push_back({IntegrationKind::kFile, i, rc.file[i].send_resolved});
  }
  auto add = [&](IntegrationKind k, const auto& configs) {
    for (size_t i = 0; i < configs.size(); ++i) out.push_back({k, i, configs[i].send_resolved});
  };
  add(IntegrationKind::kOpsGenie, rc.opsgenie);
  add(IntegrationKind::kVictorOps, rc.victorops);
  add(IntegrationKind::kPushover, rc.pushover);
  add(IntegrationKind::kTelegram, rc.telegram);
  add(IntegrationKind::kDiscord, rc.discord);
  add(IntegrationKind::kWebex, rc.webex);
  add(IntegrationKind::kSns, rc.sns);
  add(IntegrationKind::kWechat, rc.wechat);
  add(IntegrationKind::kMSTeams, rc.msteams);
  add(IntegrationKind::kMSTeamsV2, rc.msteamsv2);
  return out;
}

std::string integration_id(const std::string& receiver, IntegrationKind k, size_t i) {
  return receiver + "/" + std::string(kind_name(k)) + "/" + std::to_string(i);
}

size_t index_of(const std::string& integration_id) {
  auto slash = integration_id.rfind('/');
  try {
    return std::stoul(integration_id.substr(slash + 1));
  } catch (...) {
    return SIZE_MAX;
  }
}

// Alertmanager's DedupStage.needsUpdate.
bool needs_update(const void* entry_ptr, const std::vector<uint64_t>& firing,
                  const std::vector<uint64_t>& resolved, bool send_resolved, Millis repeat,
                  Millis now, const std::vector<uint64_t>* log_firing,
                  const std::vector<uint64_t>* log_resolved, Millis log_at) {
  if (!entry_ptr) return !firing.empty();
  if (!is_subset(firing, *log_firing)) return true;
  if (firing.empty()) return !log_firing->empty();
  if (send_resolved && !is_subset(resolved, *log_resolved)) return true;
  return log_at < now - repeat;
}

// Template syntax errors surface when the config loads, naming the receiver and the field.
Result<void> check_templates(const NotifyConfig& config) {
  for (const auto& rc : config.receivers) {
    auto check = [&](const std::string& kind, size_t i, const char* field,
                     const std::string& text) -> Result<void> {
      auto r = detail::check_template(text, config.template_defs);
      if (!r) {
        return make_error("receiver \"" + rc.name + "\" " + kind + "[" + std::to_string(i) + "]." +
                              field + ": " + r.error().message,
                          rc.where);
      }
      return {};
    };
    for (size_t i = 0; i < rc.slack.size(); ++i) {
      const auto& c = rc.slack[i];
      for (auto [f, t] : {std::pair{"title", &c.title},
                          {"title_link", &c.title_link},
                          {"pretext", &c.pretext},
                          {"text", &c.text},
                          {"fallback", &c.fallback},
                          {"color", &c.color},
                          {"footer", &c.footer},
                          {"callback_id", &c.callback_id},
                          {"channel", &c.channel},
                          {"username", &c.username},
                          {"icon_emoji", &c.icon_emoji},
                          {"icon_url", &c.icon_url}}) {
        if (auto r = check("slack_configs", i, f, *t); !r) return r;
      }
    }
    for (size_t i = 0; i < rc.pagerduty.size(); ++i) {
      const auto& c = rc.pagerduty[i];
      for (auto [f, t] : {std::pair{"routing_key", &c.routing_key},
                          {"client", &c.client},
                          {"client_url", &c.client_url},
                          {"description", &c.description},
                          {"severity", &c.severity},
                          {"source", &c.source},
                          {"class", &c.class_},
                          {"component", &c.component},
                          {"group", &c.group}}) {
        if (auto r = check("pagerduty_configs", i, f, *t); !r) return r;
      }
      for (const auto& [k, v] : c.details) {
        if (auto r = check("pagerduty_configs", i, ("details." + k).c_str(), v); !r) return r;
      }
    }
    for (size_t i = 0; i < rc.email.size(); ++i) {
      const auto& c = rc.email[i];
      for (auto [f, t] :
           {std::pair{"to", &c.to}, {"from", &c.from}, {"html", &c.html}, {"text", &c.text}}) {
        if (auto r = check("email_configs", i, f, *t); !r) return r;
      }
      for (const auto& [k, v] : c.headers) {
        if (auto r = check("email_configs", i, ("headers." + k).c_str(), v); !r) return r;
      }
    }
    using Fields = std::vector<std::pair<std::string, const std::string*>>;
    auto check_all = [&](const char* kind, size_t i, const Fields& fields) -> Result<void> {
      for (const auto& [f, t] : fields) {
        if (auto r = check(kind, i, f.c_str(), *t); !r) return r;
      }
      return {};
    };
    for (size_t i = 0; i < rc.opsgenie.size(); ++i) {
      const auto& c = rc.opsgenie[i];
      Fields f{{"api_key", &c.api_key},   {"message", &c.message}, {"description", &c.description},
               {"source", &c.source},     {"entity", &c.entity},   {"actions", &c.actions},
               {"tags", &c.tags},         {"note", &c.note},       {"priority", &c.priority}};
      for (const auto& [k, v] : c.details) f.emplace_back("details." + k, &v);
      for (const auto& r : c.responders) {
        for (const auto* t : {&r.id, &r.name, &r.username, &r.type}) f.emplace_back("responders", t);
      }
      if (auto r = check_all("opsgenie_configs", i, f); !r) return r;
    }
    for (size_t i = 0; i < rc.victorops.size(); ++i) {
      const auto& c = rc.victorops[i];
      Fields f{{"routing_key", &c.routing_key},
               {"message_type", &c.message_type},
               {"state_message", &c.state_message},
               {"entity_display_name", &c.entity_display_name},
               {"monitoring_tool", &c.monitoring_tool}};
      for (const auto& [k, v] : c.custom_fields) f.emplace_back("custom_fields." + k, &v);
      if (auto r = check_all("victorops_configs", i, f); !r) return r;
    }
    for (size_t i = 0; i < rc.pushover.size(); ++i) {
      const auto& c = rc.pushover[i];
      if (auto r = check_all("pushover_configs", i,
                             {{"user_key", &c.user_key}, {"token", &c.token}, {"title", &c.title},
                              {"message", &c.message}, {"url", &c.url},
                              {"url_title", &c.url_title}, {"sound", &c.sound},
                              {"priority", &c.priority}});
          !r) {
        return r;
      }
    }
    for (size_t i = 0; i < rc.telegram.size(); ++i) {
      if (auto r = check_all("telegram_configs", i, {{"message", &rc.telegram[i].message}}); !r) {
        return r;
      }
    }
    for (size_t i = 0; i < rc.discord.size(); ++i) {
      const auto& c = rc.discord[i];
      if (auto r = check_all("discord_configs", i, {{"title", &c.title}, {"message", &c.message}});
          !r) {
        return r;
      }
    }
    for (size_t i = 0; i < rc.webex.size(); ++i) {
      if (auto r = check_all("webex_configs", i, {{"message", &rc.webex[i].message}}); !r) {
        return r;
      }
    }
    for (size_t i = 0; i < rc.msteams.size(); ++i) {
      const auto& c = rc.msteams[i];
      if (auto r = check_all("msteams_configs", i,
                             {{"title", &c.title}, {"summary", &c.summary}, {"text", &c.text}});
          !r) {
        return r;
      }
    }
    for (size_t i = 0; i < rc.msteamsv2.size(); ++i) {
      const auto& c = rc.msteamsv2[i];
      if (auto r = check_all("msteamsv2_configs", i, {{"title", &c.title}, {"text", &c.text}});
          !r) {
        return r;
      }
    }
  }
  return {};
}

std::string metric_labels(const IntegrationMetrics& m) {
  return "{receiver=" + go_quote(m.receiver) + ",integration=" + go_quote(m.integration) + "}";
}

}  // namespace

void set_notifier_log(std::function<void(std::string_view message, bool error)> fn) {
  std::lock_guard lock(g_log_mu);
  g_log = std::move(fn);
}

struct Notifier::Worker {
  Millis failure_logged_at = INT64_MIN / 2;  // rate limit of delivery failure logs
  std::string id;
  std::string receiver;
  IntegrationKind kind = IntegrationKind::kWebhook;
  size_t index = 0;
  Millis min_interval = 0;
  Millis last_send = INT64_MIN / 2;
  bool failing_raised = false;
  bool busy = false;
  std::deque<OutboxEntry> queue;
  IntegrationMetrics m;
  std::mutex mu;
  std::condition_variable cv;
  std::thread thread;
  std::mt19937_64 rng{std::random_device{}()};
};

Result<std::unique_ptr<Notifier>> Notifier::create(NotifyConfig config, NotifierOptions opts) {
  std::unique_ptr<Notifier> n(new Notifier());
  if (!opts.env) opts.env = std::shared_ptr<Env>(std::shared_ptr<Env>{}, Env::Default());
  if (!opts.transport) opts.transport = make_default_transport();
  while (!opts.external_url.empty() && opts.external_url.back() == '/')
    opts.external_url.pop_back();
  auto tree = RouteTree::build(config);
  if (!tree) return std::unexpected(tree.error());
  if (!opts.fallback_receiver.empty() && !config.find_receiver(opts.fallback_receiver)) {
    return make_error("fallback receiver \"" + opts.fallback_receiver + "\" is not defined");
  }
  if (auto bad = check_templates(config); !bad) return std::unexpected(bad.error());
  n->tree_ = *tree;
  n->config_ = std::move(config);
  n->expander_ = detail::default_expander(n->config_.template_defs);
  n->html_expander_ = detail::default_expander(n->config_.template_defs, true);
  n->html_doc_expander_ = detail::default_expander(n->config_.template_defs, true, true);
  n->opts_ = std::move(opts);
  n->dispatcher_ = std::make_unique<Dispatcher>(n->tree_, n->config_.resolve_timeout);
  const std::string& dir = n->opts_.state_dir;
  if (!dir.empty()) {
    if (auto made = n->opts_.env->create_dir(dir); !made) return std::unexpected(made.error());
  }
  auto sil = Silences::open(dir.empty() ? "" : (fs::path(dir) / "silences.json").string(),
                            n->opts_.env->now_ms());
  if (!sil) return std::unexpected(sil.error());
  if (!(*sil)->load_warning().empty()) {
    log_error((*sil)->load_warning() + "; starting with the silences that could be read");
  }
  n->silences_ = std::move(*sil);
  auto ob = Outbox::open(dir.empty() ? "" : (fs::path(dir) / "outbox").string(),
                         n->opts_.env.get());
  if (!ob) return std::unexpected(ob.error());
  n->outbox_ = std::move(*ob);

  // The notification log survives restarts, like Alertmanager's nflog.
  if (!dir.empty() && n->opts_.env->file_exists((fs::path(dir) / "nflog.json").string())) {
    auto text = n->opts_.env->read_file((fs::path(dir) / "nflog.json").string(), UINT64_MAX);
    if (!text) return std::unexpected(text.error());
    auto j = json::parse(*text, nullptr, false);
    if (j.is_object()) {
      Millis cutoff = n->opts_.env->now_ms() - 5 * 24 * 3600'000LL;
      for (const auto& [k, v] : j.items()) {
        LogEntry e;
        e.at = v.value("at", Millis{0});
        if (e.at < cutoff) continue;
        e.firing = v.value("firing", std::vector<uint64_t>{});
        e.resolved = v.value("resolved", std::vector<uint64_t>{});
        n->nflog_[k] = std::move(e);
      }
    } else {
      log_error("ignoring corrupt " + (fs::path(dir) / "nflog.json").string());
    }
  }

  // One worker per configured integration, so metrics list them all from the start.
  for (const auto& rc : n->config_.receivers) {
    for (const auto& ref : integrations_of(rc)) {
      OutboxEntry probe;
      probe.integration = integration_id(rc.name, ref.kind, ref.index);
      probe.receiver = rc.name;
      probe.kind = ref.kind;
      n->worker_for(probe);
    }
  }
  auto pending = n->outbox_->load_pending();
  if (!pending) return std::unexpected(pending.error());
  for (auto& e : *pending) n->enqueue(std::move(e), false);
  if (n->opts_.start_threads) {
    n->loop_ = std::thread([p = n.get()] { p->run_loop(); });
  }
  return n;
}

Notifier::~Notifier() { stop(); }

void Notifier::stop() {
  {
    std::lock_guard lock(loop_mu_);
    stopping_ = true;
  }
  loop_cv_.notify_all();
  if (loop_.joinable()) loop_.join();
  {
    std::lock_guard tl(tick_mu_);
    std::lock_guard nl(nflog_mu_);
    if (nflog_dirty_) save_nflog_locked();
  }
  std::vector<Worker*> ws;
  {
    std::lock_guard lock(workers_mu_);
    for (auto& [k, w] : workers_) ws.push_back(w.get());
  }
  for (auto* w : ws) {
    { std::lock_guard lock(w->mu); }
    w->cv.notify_all();
  }
  for (auto* w : ws) {
    if (w->thread.joinable()) w->thread.join();
  }
}

void Notifier::send(std::span<const rules::Alert> alerts, Millis now) {
  dispatcher_->ingest(alerts, now);
  loop_cv_.notify_all();
}

void Notifier::run_loop() {
  std::unique_lock lock(loop_mu_);
  while (!stopping_) {
    lock.unlock();
    Millis now = opts_.env->now_ms();
    tick(now);
    Millis next = dispatcher_->next_flush();
    Millis wait = next == INT64_MAX ? 1000 : std::clamp<Millis>(next - now, 5, 1000);
    lock.lock();
    if (stopping_) break;
    loop_cv_.wait_for(lock, std::chrono::milliseconds(wait));
  }
}

void Notifier::tick(Millis now) {
  std::lock_guard lock(tick_mu_);
  std::vector<rules::Alert> sources;
  if (!config_.inhibit_rules.empty()) sources = dispatcher_->firing_alerts(now);
  Inhibitor inh(config_.inhibit_rules, sources);
  // Group commit: the flush's outbox entries are written and fsync'd one by one, their
  // directory once, and only then handed to the workers.
  std::vector<OutboxEntry> batch;
  dispatcher_->flush_due(now, [&](const GroupFlush& g) { notify_group(g, now, inh, batch); });
  if (!batch.empty()) {
    if (auto r = outbox_->sync(); !r) log_error("outbox: " + r.error().to_string());
    for (auto& e : batch) enqueue(std::move(e), false);
  }
  std::lock_guard nl(nflog_mu_);
  // The whole log is rewritten: at most once a second (and at stop()), not on every flush.
  if (nflog_dirty_ && now - nflog_saved_at_ >= 1000) {
    save_nflog_locked();
    nflog_saved_at_ = now;
  }
}

void Notifier::save_nflog_locked() {
  nflog_dirty_ = false;
  if (opts_.state_dir.empty()) return;
  json j = json::object();
  for (const auto& [k, e] : nflog_) {
    j[k] = {{"at", e.at}, {"firing", e.firing}, {"resolved", e.resolved}};
  }
  // Not fsync'd: losing the latest log to a power cut can only repeat a notification.
  auto r = opts_.env->replace_file((fs::path(opts_.state_dir) / "nflog.json").string(), j.dump(),
                                   FileSync::kNone, 0600);
  if (!r) log_error(r.error().to_string());
}

Result<std::string> Notifier::render(const ReceiverConfig& rc, IntegrationKind kind, size_t i,
                                     const NotificationData& d,
                                     const std::vector<rules::Alert>& raw, Millis now) const {
  const detail::Expander& x = expander_;
  switch (kind) {
    case IntegrationKind::kSlack:
      return detail::slack_payload(rc.slack[i], d, x);
    case IntegrationKind::kPagerDuty:
      return detail::pagerduty_payload(rc.pagerduty[i], d, x);
    case IntegrationKind::kEmail:
      return detail::email_payload(rc.email[i], d, x, now, &html_doc_expander_);
    case IntegrationKind::kWebhook:
      return detail::webhook_payload(d, rc.webhook[i].max_alerts);
    case IntegrationKind::kAlertmanager:
      return detail::alertmanager_payload(raw);
    case IntegrationKind::kFile:
      return detail::webhook_payload(d, 0);
    case IntegrationKind::kOpsGenie:
      return detail::opsgenie_envelope(rc.opsgenie[i], d, x);
    case IntegrationKind::kVictorOps:
      return detail::victorops_envelope(rc.victorops[i], d, x);
    case IntegrationKind::kPushover:
      return detail::pushover_envelope(rc.pushover[i], d, x, html_expander_);
    case IntegrationKind::kTelegram:
      return detail::telegram_envelope(rc.telegram[i], d, x, html_expander_);
    case IntegrationKind::kDiscord:
      return detail::discord_envelope(rc.discord[i], d, x);
    case IntegrationKind::kWebex:
      return detail::webex_envelope(rc.webex[i], d, x);
    case IntegrationKind::kSns:
      return detail::sns_payload(rc.sns[i], d, x);
    case IntegrationKind::kWechat:
      return detail::wechat_payload(rc.wechat[i], d, x);
    case IntegrationKind::kMSTeams:
      return detail::msteams_envelope(rc.msteams[i], d, x);
    case IntegrationKind::kMSTeamsV2:
      return detail::msteamsv2_envelope(rc.msteamsv2[i], d, x);
  }
  return make_error("unknown integration");
}

void Notifier::notify_group(const GroupFlush& g, Millis now, const Inhibitor& inh,
                            std::vector<OutboxEntry>& batch) {
  const ReceiverConfig* rc = config_.find_receiver(g.route->receiver);
  if (!rc) return;
  // Alertmanager's TimeActiveStage and TimeMuteStage: outside its active intervals, or inside
  // a mute interval, the route sends nothing and the notification log is left untouched.
  if (!g.route->active_time_intervals.empty() &&
      !in_time_intervals(config_.time_intervals, g.route->active_time_intervals, now)) {
    return;
  }
  if (in_time_intervals(config_.time_intervals, g.route->mute_time_intervals, now)) return;
  std::vector<rules::Alert> alerts;
  for (const auto& a : g.alerts) {
    if (inh.inhibited(a.labels)) continue;
    if (!silences_->silenced_by(a.labels, now).empty()) continue;
    alerts.push_back(a);
  }
  if (alerts.empty()) return;
  std::vector<uint64_t> firing, resolved;
  std::vector<rules::Alert> firing_alerts;
  for (const auto& a : alerts) {
    if (a.resolved_at(now)) {
      resolved.push_back(fingerprint(a.labels));
    } else {
      firing.push_back(fingerprint(a.labels));
      firing_alerts.push_back(a);
    }
  }
  std::sort(firing.begin(), firing.end());
  std::sort(resolved.begin(), resolved.end());
  for (const auto& ref : integrations_of(*rc)) {
    std::string id = integration_id(rc->name, ref.kind, ref.index);
    std::string key = g.key + '\x1f' + id;
    {
      std::lock_guard lock(nflog_mu_);
      auto it = nflog_.find(key);
      const LogEntry* prev = it == nflog_.end() ? nullptr : &it->second;
      if (!needs_update(prev, firing, resolved, ref.send_resolved, g.route->repeat_interval, now,
                        prev ? &prev->firing : nullptr, prev ? &prev->resolved : nullptr,
                        prev ? prev->at : 0)) {
        continue;
      }
    }
    const auto& to_send = ref.send_resolved ? alerts : firing_alerts;
    if (!to_send.empty()) {
      auto data =
          make_notification_data(rc->name, g.key, g.group_labels, to_send, opts_.external_url, now);
      auto body = render(*rc, ref.kind, ref.index, data, to_send, now);
      OutboxEntry e;
      e.integration = id;
      e.receiver = rc->name;
      e.kind = ref.kind;
      e.group_key = g.key;
      e.created_at = now;
      if (!body) {
        // It cannot be rendered (a template error, a line break in an address): that is
        // permanent, like a 4xx. Never dropped silently and not re-rendered at every flush: it
        // goes to outbox/failed with the alerts it carried (as webhook JSON) and the reason, is
        // logged, counted, shown as failed, and the fallback receiver is paged. The notification
        // log records it: the group is tried again when its alerts change or at repeat_interval.
        const std::string why = "cannot render the notification: " + body.error().message;
        e.body = detail::webhook_payload(data, 0);
        log_error(fmt::format("giving up on a notification: receiver={} integration={} group={}: {}",
                              rc->name, id, g.key, why));
        if (auto r = outbox_->put_failed(e, why); !r) log_error("outbox: " + r.error().to_string());
        Worker& w = worker_for(e);
        {
          std::lock_guard wl(w.mu);
          ++w.m.failed;
          w.m.last_error = why;
        }
        std::string fallback = fail_to_fallback(w);
        std::lock_guard lock(nflog_mu_);
        nflog_[key] = LogEntry{firing, resolved, now};
        nflog_dirty_ = true;
        outcomes_[key] = Outcome{"failed", why, std::move(fallback), now, firing.size(),
                                 resolved.size()};
        continue;
      }
      e.body = std::move(*body);
      if (auto r = outbox_->put(e, false); !r) {
        log_error("outbox: " + r.error().to_string() + " (delivering without durability)");
      }
      batch.push_back(std::move(e));
    }
    std::lock_guard lock(nflog_mu_);
    nflog_[key] = LogEntry{firing, resolved, now};
    nflog_dirty_ = true;
    if (!to_send.empty()) {
      outcomes_[key] = Outcome{"queued", "", "", now, firing.size(), resolved.size()};
    }
  }
}

void Notifier::set_outcome(const std::string& group_key, const std::string& integration,
                           std::string outcome, std::string error, std::string fallback,
                           Millis at) {
  std::lock_guard lock(nflog_mu_);
  auto& o = outcomes_[group_key + '\x1f' + integration];
  o.outcome = std::move(outcome);
  o.error = std::move(error);
  o.fallback = std::move(fallback);
  if (o.at == 0) o.at = at;
}

std::string Notifier::fail_to_fallback(Worker& w) {
  if (opts_.fallback_receiver.empty() || opts_.fallback_receiver == w.receiver) return "";
  bool raise = false;
  {
    std::lock_guard lock(w.mu);
    if (!w.failing_raised) w.failing_raised = raise = true;
  }
  if (raise) on_failure_threshold(w, true);
  return opts_.fallback_receiver;
}

std::vector<NotificationLogEntry> Notifier::notification_log() {
  std::lock_guard lock(nflog_mu_);
  std::vector<NotificationLogEntry> out;
  out.reserve(nflog_.size());
  auto split = [](const std::string& k, NotificationLogEntry& e) {
    size_t sep = k.rfind('\x1f');
    if (sep == std::string::npos) return false;
    e.group_key = k.substr(0, sep);
    e.integration = k.substr(sep + 1);
    return true;
  };
  for (const auto& [k, e] : nflog_) {
    NotificationLogEntry x;
    if (!split(k, x)) continue;
    x.at = e.at;
    x.firing = e.firing.size();
    x.resolved = e.resolved.size();
    if (auto it = outcomes_.find(k); it != outcomes_.end()) {
      x.outcome = it->second.outcome;
      x.error = it->second.error;
      x.fallback = it->second.fallback;
    }
    out.push_back(std::move(x));
  }
  // Failed deliveries are not in the log (the next flush tries again) but are shown.
  for (const auto& [k, o] : outcomes_) {
    if (nflog_.count(k)) continue;
    NotificationLogEntry x;
    if (!split(k, x)) continue;
    x.at = o.at;
    x.firing = o.firing;
    x.resolved = o.resolved;
    x.outcome = o.outcome;
    x.error = o.error;
    x.fallback = o.fallback;
    out.push_back(std::move(x));
  }
  return out;
}

Notifier::Worker& Notifier::worker_for(const OutboxEntry& e) {
  std::lock_guard lock(workers_mu_);
  auto& slot = workers_[e.integration];
  if (!slot) {
    slot = std::make_unique<Worker>();
    Worker& w = *slot;
    w.id = e.integration;
    w.receiver = e.receiver;
    w.kind = e.kind;
    w.index = index_of(e.integration);
    w.min_interval =
        e.kind == IntegrationKind::kSlack ? opts_.slack_min_interval_ms : opts_.min_interval_ms;
    w.m.receiver = e.receiver;
    w.m.integration = std::string(kind_name(e.kind));
    w.thread = std::thread([this, &w] { worker_loop(w); });
  }
  return *slot;
}

void Notifier::enqueue(OutboxEntry e, bool persist) {
  if (persist) {
    auto r = outbox_->put(e);
    if (!r) log_error("outbox: " + r.error().to_string() + " (delivering without durability)");
  }
  Worker& w = worker_for(e);
  {
    std::lock_guard lock(w.mu);
    w.queue.push_back(std::move(e));
    w.m.queued = w.queue.size();
  }
  w.cv.notify_all();
}

bool Notifier::sleep_unless_stopping(Worker& w, Millis ms) {
  std::unique_lock lock(w.mu);
  return !w.cv.wait_for(lock, std::chrono::milliseconds(std::max<Millis>(ms, 0)),
                        [this] { return stopping_.load(); });
}

void Notifier::worker_loop(Worker& w) {
  while (true) {
    OutboxEntry e;
    {
      std::unique_lock lock(w.mu);
      w.cv.wait(lock, [&] { return stopping_.load() || !w.queue.empty(); });
      if (stopping_) return;
      e = w.queue.front();
      w.busy = true;
    }
    uint32_t attempt = 0;
    while (true) {
      Millis gap = w.last_send + w.min_interval - steady_ms();
      if (gap > 0 && !sleep_unless_stopping(w, gap)) return;
      const ReceiverConfig* rc = config_.find_receiver(e.receiver);
      SendResult res;
      if (!rc) {
        res.error = "receiver \"" + e.receiver + "\" is no longer configured";
      } else {
        res = opts_.transport->send(e, *rc, w.index);
      }
      w.last_send = steady_ms();
      ++attempt;
      bool finished = false;
      bool raise = false, clear = false;
      {
        std::lock_guard lock(w.mu);
        if (res.ok) {
          ++w.m.sent;
          w.m.consecutive_failures = 0;
          clear = w.failing_raised;
          w.failing_raised = false;
          finished = true;
        } else {
          ++w.m.failed;
          ++w.m.consecutive_failures;
          w.m.last_error = res.error;
          // Logged at most every 10 s per integration (retries of a down receiver would flood).
          const Millis t = steady_ms();
          if (t - w.failure_logged_at >= 10'000) {
            w.failure_logged_at = t;
            log_error(fmt::format("delivery failed: receiver={} integration={} attempt={} "
                                  "notification={}: {}",
                                  w.receiver, w.id, attempt, e.id, excerpt(res.error, 300)));
          }
          if (opts_.failing_threshold > 0 && w.m.consecutive_failures >= opts_.failing_threshold &&
              !w.failing_raised) {
            w.failing_raised = true;
            raise = true;
          }
        }
      }
      if (raise) on_failure_threshold(w, true);
      if (clear) on_failure_threshold(w, false);
      if (finished) {
        set_outcome(e.group_key, w.id, "sent", "", "", e.created_at);
        auto r = outbox_->done(e.id);
        if (!r) log_error("outbox: " + r.error().to_string());
        break;
      }
      Millis age = opts_.env->now_ms() - e.created_at;
      if (!res.retryable || age > opts_.give_up_after_ms) {
        log_error(w.id + ": giving up on notification " + e.id + ": " + res.error);
        auto r = outbox_->fail(e.id, res.error);
        if (!r) log_error("outbox: " + r.error().to_string());
        set_outcome(e.group_key, w.id, "failed", res.error, fail_to_fallback(w), e.created_at);
        // Forget that we notified, so the next group flush tries again (Alertmanager does not
        // log failed notifications either).
        std::lock_guard lock(nflog_mu_);
        nflog_.erase(e.group_key + '\x1f' + w.id);
        break;
      }
      Millis delay;
      if (res.retry_after_ms >= 0 && (res.status == 429 || res.status == 503)) {
        delay = std::min(res.retry_after_ms, opts_.retry_after_max_ms);
      } else {
        double base = static_cast<double>(opts_.backoff_initial_ms) *
                      std::pow(opts_.backoff_multiplier, static_cast<double>(attempt - 1));
        base = std::min(base, static_cast<double>(opts_.backoff_max_ms));
        std::uniform_real_distribution<double> jitter(1.0 - opts_.backoff_jitter,
                                                      1.0 + opts_.backoff_jitter);
        delay = static_cast<Millis>(base * jitter(w.rng));
      }
      {
        std::lock_guard lock(w.mu);
        ++w.m.retried;
      }
      set_outcome(e.group_key, w.id, "retrying", res.error, "", e.created_at);
      if (!sleep_unless_stopping(w, delay)) return;
    }
    {
      std::lock_guard lock(w.mu);
      w.queue.pop_front();
      w.m.queued = w.queue.size();
      w.busy = false;
    }
  }
}

void Notifier::on_failure_threshold(Worker& w, bool failing) {
  if (opts_.fallback_receiver.empty()) return;
  const ReceiverConfig* rc = config_.find_receiver(opts_.fallback_receiver);
  if (!rc) return;
  Millis now = opts_.env->now_ms();
  rules::Alert a;
  a.labels = Labels{{"alertname", "ReceiverFailing"},
                    {"receiver", w.receiver},
                    {"integration", std::string(kind_name(w.kind))},
                    {"severity", "critical"}};
  std::string last_error;
  {
    std::lock_guard lock(w.mu);
    last_error = w.m.last_error;
  }
  a.annotations =
      Labels{{"summary", "Notifications to " + w.id + " are failing"},
             {"description", failing ? "Last error: " + last_error : "Delivery has recovered."}};
  a.starts_at = now;
  a.ends_at = failing ? 0 : now;
  std::string key = "{}/ruleeval:" + a.labels.to_string();
  std::vector<rules::Alert> alerts{a};
  auto data = make_notification_data(rc->name, key, a.labels, alerts, opts_.external_url, now);
  for (const auto& ref : integrations_of(*rc)) {
    std::string id = integration_id(rc->name, ref.kind, ref.index);
    if (id == w.id) continue;
    if (!failing && !ref.send_resolved) continue;
    auto body = render(*rc, ref.kind, ref.index, data, alerts, now);
    if (!body) {
      log_error(id + ": " + body.error().to_string());
      continue;
    }
    OutboxEntry e;
    e.integration = id;
    e.receiver = rc->name;
    e.kind = ref.kind;
    e.group_key = key;
    e.body = std::move(*body);
    e.created_at = now;
    enqueue(std::move(e), true);
  }
}

bool Notifier::wait_idle(Millis timeout_ms) {
  Millis deadline = steady_ms() + timeout_ms;
  while (true) {
    bool idle = true;
    {
      std::lock_guard lock(workers_mu_);
      for (auto& [k, w] : workers_) {
        std::lock_guard wl(w->mu);
        if (!w->queue.empty() || w->busy) idle = false;
      }
    }
    if (idle) return true;
    if (steady_ms() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::vector<IntegrationMetrics> Notifier::metrics() const {
  std::vector<IntegrationMetrics> out;
  std::lock_guard lock(workers_mu_);
  for (const auto& [k, w] : workers_) {
    std::lock_guard wl(w->mu);
    out.push_back(w->m);
  }
  return out;
}

std::string Notifier::metrics_text() const {
  // Several integrations of one kind in a receiver (two email_configs) share their labels: they
  // are summed into one series, as Alertmanager counts per integration type.
  std::vector<std::pair<std::string, IntegrationMetrics>> agg;
  for (const auto& m : metrics()) {
    std::string labels = metric_labels(m);
    auto it = std::find_if(agg.begin(), agg.end(), [&](const auto& p) { return p.first == labels; });
    if (it == agg.end()) {
      agg.emplace_back(std::move(labels), m);
      continue;
    }
    it->second.sent += m.sent;
    it->second.failed += m.failed;
    it->second.retried += m.retried;
    it->second.queued += m.queued;
  }
  std::string out;
  auto family = [&](const char* name, const char* type, const char* help, auto get) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    for (const auto& [labels, m] : agg) out += name + labels + " " + std::to_string(get(m)) + "\n";
  };
  family("ruleeval_notifications_sent_total", "counter", "Notifications delivered.",
         [](const IntegrationMetrics& m) { return m.sent; });
  family("ruleeval_notifications_failed_total", "counter", "Failed delivery attempts.",
         [](const IntegrationMetrics& m) { return m.failed; });
  family("ruleeval_notifications_retried_total", "counter", "Delivery attempts retried.",
         [](const IntegrationMetrics& m) { return m.retried; });
  family("ruleeval_notifications_queued", "gauge", "Notifications waiting for delivery.",
         [](const IntegrationMetrics& m) { return m.queued; });
  return out;
}

}  // namespace ruleeval::notifiers
