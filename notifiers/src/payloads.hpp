// Receiver payloads, rendered when a notification enters the outbox (so a retry re-sends the
// very same bytes).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ruleeval/notifiers/config.hpp"
#include "ruleeval/notifiers/notification.hpp"

namespace ruleeval::notifiers::detail {

// Expands one user template (a config field) against the notification; literal text without
// "{{" comes back unchanged.
using Expander =
    std::function<Result<std::string>(std::string_view text, const NotificationData& data)>;
// `defs`: the user's template files (`templates:`), parsed after Alertmanager's defaults so
// that their `define`s add to (or replace) the default named templates.
// `html`: Alertmanager's TmplHTML (action output escaped as html/template does in text context).
// `contextual`: html/template's contextual escaping of a whole HTML document (email html).
Expander default_expander(const std::string& defs = {}, bool html = false, bool contextual = false);
// Default named templates of the receivers in receiver_http.hpp (receiver_templates.cpp).
std::string_view receiver_default_templates();
// Parses a template field (with the default named templates and `defs`) without executing it.
Result<void> check_template(std::string_view text, const std::string& defs = {});
// Parses a template file's text (its defines) on top of the defaults.
Result<void> check_template_defs(std::string_view defs);

Result<std::string> slack_payload(const SlackConfig& c, const NotificationData& d,
                                  const Expander& x);
Result<std::string> pagerduty_payload(const PagerDutyConfig& c, const NotificationData& d,
                                      const Expander& x);
// Webhook v4; max_alerts 0 = all.
std::string webhook_payload(const NotificationData& d, uint64_t max_alerts);
// POST /api/v2/alerts body: the raw alerts (real endsAt for firing ones too).
std::string alertmanager_payload(const std::vector<rules::Alert>& alerts);
// A JSON description of the message: {"from", "to":[...], "headers":{...}, "text", "html"}.
// `html_x` renders the html part (Alertmanager's TmplHTML: html/template's contextual
// escaping); null = `x`.
Result<std::string> email_payload(const EmailConfig& c, const NotificationData& d,
                                  const Expander& x, Millis now, const Expander* html_x = nullptr);

// Alertmanager's PagerDuty default instance listing ("Labels:\n - a = b\n...Source: url\n").
std::string pagerduty_instances(const std::vector<const AlertData*>& alerts);
// RFC 2047 Q-encoding ("=?UTF-8?q?...?=") when the value is not plain printable ASCII.
std::string q_encode(std::string_view v);
std::vector<std::string> split_addresses(std::string_view list);

inline constexpr size_t kPagerDutyMaxEventBytes = 512000;
inline constexpr size_t kPagerDutyMaxSummaryRunes = 1024;
inline constexpr size_t kSlackMaxTitleRunes = 1024;

}  // namespace ruleeval::notifiers::detail
