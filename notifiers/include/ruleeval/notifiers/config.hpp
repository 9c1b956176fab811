// The Alertmanager-compatible notification blocks of ruleeval.yaml: `route`, `receivers` and
// `inhibit_rules` (other top-level keys belong to other layers and are ignored here).
// Secrets may be given inline or through a *_file key, which is read when the config loads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ruleeval/common/error.hpp"
#include "ruleeval/notifiers/matcher.hpp"
#include "ruleeval/rules/alert.hpp"

namespace ruleeval::notifiers {

using rules::Millis;

struct HttpSettings {
  std::string bearer_token;  // http_config.authorization.credentials / bearer_token
  std::string basic_user, basic_password;
  Millis timeout_ms = 10'000;
  bool insecure_skip_verify = false;
};

struct SlackConfig {
  bool send_resolved = false;
  std::string api_url;  // webhook URL or https://slack.com/api/chat.postMessage
  std::string channel, username, icon_emoji, icon_url;
  std::string title, title_link, pretext, text, fallback, color, footer, callback_id;
  bool link_names = false;
  HttpSettings http;
};

struct PagerDutyConfig {
  bool send_resolved = true;
  std::string routing_key;
  std::string url = "https://events.pagerduty.com/v2/enqueue";
  std::string client, client_url, description, severity, source, class_, component, group;
  std::map<std::string, std::string> details;  // empty = Alertmanager's defaults
  HttpSettings http;
};

struct EmailConfig {
  bool send_resolved = false;
  std::string to, from, smarthost, hello = "localhost";
  std::string auth_username, auth_password, auth_identity;
  bool require_tls = true;
  bool force_implicit_tls = false;
  bool insecure_skip_verify = false;
  std::string html, text;  // templates; empty html = built-in default
  std::map<std::string, std::string> headers;  // templated; Subject/To/From defaulted
  Millis timeout_ms = 30'000;
};

struct WebhookConfig {
  bool send_resolved = true;
  std::string url;
  uint64_t max_alerts = 0;  // 0 = all
  HttpSettings http;
};

struct AlertmanagerConfig {  // forwards the notification's alerts to POST <url>/api/v2/alerts
  bool send_resolved = true;
  std::string url;
  HttpSettings http;
};

struct FileConfig {  // appends one webhook-v4 JSON document per line; path "-" = stdout
  bool send_resolved = true;
  std::string path;
};

enum class IntegrationKind { kSlack, kPagerDuty, kEmail, kWebhook, kAlertmanager, kFile };
std::string_view kind_name(IntegrationKind k);

struct ReceiverConfig {
  std::string name;
  std::vector<SlackConfig> slack;
  std::vector<PagerDutyConfig> pagerduty;
  std::vector<EmailConfig> email;
  std::vector<WebhookConfig> webhook;
  std::vector<AlertmanagerConfig> alertmanager;
  std::vector<FileConfig> file;
  SourceLocation where;
};

struct RouteConfig {
  std::string receiver;  // inherited from the parent when empty
  Matchers matchers;
  std::vector<std::string> group_by;
  bool group_by_all = false;  // group_by: ['...']
  bool group_by_set = false;  // false = inherit
  std::optional<Millis> group_wait, group_interval, repeat_interval;  // inherit when unset
  bool continue_ = false;
  std::vector<RouteConfig> routes;
  SourceLocation where;
};

struct InhibitRule {
  Matchers source_matchers, target_matchers;
  std::vector<std::string> equal;
  SourceLocation where;
};

struct NotifyConfig {
  RouteConfig route;
  std::vector<ReceiverConfig> receivers;
  std::vector<InhibitRule> inhibit_rules;
  Millis resolve_timeout = 5 * 60'000;  // global.resolve_timeout

  const ReceiverConfig* find_receiver(std::string_view name) const;
};

// Parses YAML text; `file` is used in error locations ("ruleeval.yaml:12:5: route.group_wait: ...").
// Relative *_file paths are resolved against `base_dir` (the config's directory).
Result<NotifyConfig> parse_notify_config(std::string_view yaml, const std::string& file = {},
                                         const std::string& base_dir = {});
Result<NotifyConfig> load_notify_config(const std::string& path);

}  // namespace ruleeval::notifiers
