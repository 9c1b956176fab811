// One group's flush, as Alertmanager's notification pipeline: time intervals, inhibition,
// silences, dedup against the notification log, then a body rendered for each integration and
// written to the outbox (or, when it cannot be rendered, to outbox/failed).
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "notifier_internal.hpp"
#include "payloads.hpp"
#include "receiver_http.hpp"
#include "receivers_am2.hpp"

namespace ruleeval::notifiers {

using detail::integration_id;
using detail::integrations_of;
using detail::log_error;
using detail::needs_update;

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

}  // namespace ruleeval::notifiers
