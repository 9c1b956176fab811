// The Alertmanager-compatible notification blocks of ruleeval.yaml: `route`, `receivers` and
// `inhibit_rules` (other top-level keys belong to other layers and are ignored here).
// Secrets may be given inline or through a *_file key, which is read when the config loads.
// Thread-safety: the loaders are stateless (safe from any thread); a NotifyConfig is a plain
// value, safe to read from many threads once built.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ruleeval/common/error.hpp"
#include "ruleeval/notifiers/matcher.hpp"
#include "ruleeval/notifiers/timeinterval.hpp"
#include "ruleeval/rules/alert.hpp"
#include "ruleeval/rules/run_config.hpp"

namespace ruleeval::notifiers {

// tls_config of prometheus/common (Alertmanager 0.25: files only).
struct TlsSettings {
  std::string ca_file, cert_file, key_file, server_name;
  std::string min_version;  // "", TLS10, TLS11, TLS12, TLS13
  bool insecure_skip_verify = false;
};

// http_config of prometheus/common v0.38 (what Alertmanager 0.25 accepts). A receiver without
// its own http_config uses global.http_config (whole, not merged), as Alertmanager does.
struct HttpSettings {
  std::string authorization_type = "Bearer";  // authorization.type
  std::string bearer_token;  // http_config.authorization.credentials / bearer_token
  std::string basic_user, basic_password;
  // *_file forms (authorization.credentials_file / bearer_token_file, basic_auth.password_file):
  // read at every request, as prometheus/common does; they win over the inline values.
  std::string bearer_token_file, basic_password_file;
  Millis timeout_ms = 10'000;  // ruleeval extension (inline ruleeval.yaml only)
  bool insecure_skip_verify = false;  // tls_config.insecure_skip_verify (kept for callers)
  TlsSettings tls;
  std::string proxy_url;
  // prometheus/common v0.44+'s ProxyConfig (Alertmanager 0.26+): no_proxy (with proxy_url),
  // proxy_from_environment (HTTP(S)_PROXY / NO_PROXY as Go reads them), proxy_connect_header
  // (sent to the proxy in CONNECT requests; one entry per value, in order).
  std::string no_proxy;
  bool proxy_from_environment = false;
  std::vector<std::pair<std::string, std::string>> proxy_connect_header;
  // oauth2 (client credentials grant); token_url empty = none. The token is fetched at send time
  // and cached until it expires (oauth2_token.cpp).
  struct OAuth2 {
    std::string client_id, client_secret, client_secret_file, token_url;
    // The token request's own ProxyConfig (prometheus/common v0.42+, Alertmanager 0.26+; only
    // proxy_url in 0.25), with the same meaning as http_config's.
    std::string proxy_url, no_proxy;
    bool proxy_from_environment = false;
    std::vector<std::pair<std::string, std::string>> proxy_connect_header;
    std::vector<std::string> scopes;
    std::map<std::string, std::string> endpoint_params;
    TlsSettings tls;
  } oauth2;
  bool follow_redirects = true;  // Go's DefaultHTTPClientConfig
  bool enable_http2 = true;
};

struct SlackConfig {
  bool send_resolved = false;
  std::string api_url;  // webhook URL or https://slack.com/api/chat.postMessage
  std::string api_url_file;  // when api_url is empty: read (and trimmed) at every send
  std::string channel, username, icon_emoji, icon_url;
  std::string title, title_link, pretext, text, fallback, color, footer, callback_id;
  std::string image_url, thumb_url;
  bool link_names = false;
  bool short_fields = false;
  std::optional<std::vector<std::string>> mrkdwn_in;  // unset = Alertmanager's default
  struct Field {
    std::string title, value;
    std::optional<bool> short_;
  };
  std::vector<Field> fields;
  struct Action {
    std::string type, text, url, style, name, value;
    struct Confirm {
      std::string text, title, ok_text, dismiss_text;
    };
    std::optional<Confirm> confirm;
  };
  std::vector<Action> actions;
  bool runbook_buttons = true;  // ruleeval's addition; off for an unchanged alertmanager.yml
  HttpSettings http;
};

struct PagerDutyConfig {
  bool send_resolved = true;
  std::string routing_key;
  std::string service_key;  // Events API v1 (generic/2010-04-15/create_event.json) when set
  // When the key itself is empty: read (and trimmed) for every notification, as Alertmanager's
  // notify/pagerduty does, then templated like an inline key.
  std::string routing_key_file, service_key_file;
  bool v1() const { return !service_key.empty() || !service_key_file.empty(); }
  std::string url = "https://events.pagerduty.com/v2/enqueue";
  std::string client, client_url, description, severity, source, class_, component, group;
  std::map<std::string, std::string> details;  // empty = Alertmanager's defaults
  struct Link {
    std::string href, text;
  };
  struct Image {
    std::string src, alt, href;
  };
  std::vector<Link> links;
  std::vector<Image> images;
  bool runbook_links = true;  // ruleeval's addition; off for an unchanged alertmanager.yml
  bool map_severity = true;   // ruleeval maps page/warn/...; Alertmanager sends the text as is
  HttpSettings http;
};

struct EmailConfig {
  bool send_resolved = false;
  std::string to, from, smarthost, hello = "localhost";
  std::string auth_username, auth_password, auth_identity;
  std::string auth_password_file;  // read at send time (Alertmanager's getPassword); wins
  std::string auth_secret;         // CRAM-MD5 (only without a password: see transport.cpp)
  bool require_tls = true;
  bool force_implicit_tls = false;
  bool insecure_skip_verify = false;
  TlsSettings tls;
  std::string html, text;  // templates; empty html = built-in default
  bool default_text = true;  // empty text = ruleeval's plain-text listing (off: no text part)
  std::map<std::string, std::string> headers;  // templated; Subject/To/From defaulted
  Millis timeout_ms = 30'000;
};

struct WebhookConfig {
  bool send_resolved = true;
  std::string url;
  std::string url_file;  // when url is empty: read (and trimmed) at every send
  uint64_t max_alerts = 0;  // 0 = all
  HttpSettings http;
};

struct AlertmanagerConfig {  // forwards the notification's alerts to POST <url>/api/v2/alerts
  bool send_resolved = true;
  std::string url;
  std::string url_file;  // when url is empty: read (and trimmed) at every send
  HttpSettings http;
};

struct FileConfig {  // appends one webhook-v4 JSON document per line; path "-" = stdout
  bool send_resolved = true;
  std::string path;
};

// Amazon SNS Publish (receiver_sns.cpp): a form body signed with AWS SigV4 by libcurl.
struct SnsConfig {
  bool send_resolved = true;
  std::string api_url;  // templated; empty = https://sns.<region>.amazonaws.com
  // sigv4: region (else AWS_REGION); keys, else AWS_* environment, else the shared credentials
  // file's profile (sigv4.profile, AWS_PROFILE or "default"). role_arn: those credentials
  // assume the role through AWS STS and its temporary credentials sign the request.
  std::string region, access_key, secret_key, profile, role_arn;
  std::string topic_arn, phone_number, target_arn, subject, message;
  std::map<std::string, std::string> attributes;  // names and values templated
  HttpSettings http;
};

// WeChat Work (receiver_wechat.cpp): GET <api_url>gettoken, then POST message/send.
struct WechatConfig {
  bool send_resolved = false;
  std::string api_url = "https://qyapi.weixin.qq.com/cgi-bin/";  // always ends with '/'
  std::string api_secret, corp_id, message, to_user, to_party, to_tag, agent_id;
  std::string message_type = "text";
  HttpSettings http;
};

// Alertmanager 0.25's opsgenie, victorops, pushover, telegram, discord and webex receivers
// (notify/<name>/<name>.go). Fields hold templates unless said otherwise; a `*_file` secret is
// kept as a path and read when a notification is sent, as Alertmanager does.
struct OpsGenieConfig {
  bool send_resolved = true;
  std::string api_key, api_key_file;
  std::string api_url = "https://api.opsgenie.com/";  // always ends with '/'
  std::string message, description, source, entity, actions, tags, note, priority;
  std::map<std::string, std::string> details;
  struct Responder {
    std::string id, name, username, type;
  };
  std::vector<Responder> responders;
  bool update_alerts = false;
  HttpSettings http;
};

struct VictorOpsConfig {
  bool send_resolved = true;
  std::string api_key, api_key_file;
  std::string api_url = "https://alert.victorops.com/integrations/generic/20131114/alert/";
  std::string routing_key, message_type = "CRITICAL", state_message, entity_display_name,
                           monitoring_tool;
  std::map<std::string, std::string> custom_fields;
  HttpSettings http;
};

struct PushoverConfig {
  bool send_resolved = true;
  std::string user_key, token;
  // Alertmanager 0.25 posts to this fixed URL (no api_url key); kept here for tests.
  std::string api_url = "https://api.pushover.net/1/messages.json";
  std::string title, message, url, url_title, sound, priority;
  int64_t retry_s = 60, expire_s = 3600;  // seconds, as sent
  bool html = false;
  HttpSettings http;
};

struct TelegramConfig {
  bool send_resolved = true;
  std::string api_url = "https://api.telegram.org";
  std::string bot_token;
  int64_t chat_id = 0;
  std::string message;
  bool disable_notifications = false;
  std::string parse_mode = "HTML";  // "", Markdown, MarkdownV2, HTML
  HttpSettings http;
};

struct DiscordConfig {
  bool send_resolved = true;
  std::string webhook_url;
  std::string title, message;
  HttpSettings http;
};

struct WebexConfig {
  bool send_resolved = true;
  std::string api_url = "https://webexapis.com/v1/messages";
  std::string message;
  std::string room_id;  // not a template
  HttpSettings http;
};

// Microsoft Teams, as later Alertmanager versions define it (receiver_msteams.cpp):
// msteams_configs (Alertmanager 0.26+, an Office 365 connector MessageCard; `summary` since 0.27)
// and msteamsv2_configs (0.28+, an Adaptive Card for Power Automate workflows). Exactly one of
// webhook_url (a secret URL) and webhook_url_file (read, trimmed, at every send) is set.
struct MSTeamsConfig {
  bool send_resolved = true;
  std::string webhook_url, webhook_url_file;
  std::string title, summary, text;  // templates
  HttpSettings http;
};

struct MSTeamsV2Config {
  bool send_resolved = true;
  std::string webhook_url, webhook_url_file;
  std::string title, text;  // templates
  HttpSettings http;
};

enum class IntegrationKind {
  kSlack,
  kPagerDuty,
  kEmail,
  kWebhook,
  kAlertmanager,
  kFile,
  kOpsGenie,
  kVictorOps,
  kPushover,
  kTelegram,
  kDiscord,
  kWebex,
  kSns,
  kWechat,
  kMSTeams,
  kMSTeamsV2,
};
std::string_view kind_name(IntegrationKind k);

struct ReceiverConfig {
  std::string name;
  std::vector<SlackConfig> slack;
  std::vector<PagerDutyConfig> pagerduty;
  std::vector<EmailConfig> email;
  std::vector<WebhookConfig> webhook;
  std::vector<AlertmanagerConfig> alertmanager;
  std::vector<FileConfig> file;
  std::vector<OpsGenieConfig> opsgenie;
  std::vector<VictorOpsConfig> victorops;
  std::vector<PushoverConfig> pushover;
  std::vector<TelegramConfig> telegram;
  std::vector<DiscordConfig> discord;
  std::vector<WebexConfig> webex;
  std::vector<SnsConfig> sns;
  std::vector<WechatConfig> wechat;
  std::vector<MSTeamsConfig> msteams;
  std::vector<MSTeamsV2Config> msteamsv2;
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
  // Names from time_intervals / mute_time_intervals; not inherited (Alertmanager 0.25).
  std::vector<std::string> mute_time_intervals, active_time_intervals;
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
  Millis resolve_timeout = Millis{5} * 60'000;  // global.resolve_timeout
  std::vector<std::string> templates;  // `templates:` globs, resolved against the config's dir
  std::string template_defs;
  TimeIntervals time_intervals;  // time_intervals and mute_time_intervals, by name
  bool email_default_html = false;  // Alertmanager's email.tmpl was found and is the default  // the text of every file the globs match, in Alertmanager's order

  const ReceiverConfig* find_receiver(std::string_view name) const;
};

// Parses YAML text; `file` is used in error locations ("ruleeval.yaml:12:5: route.group_wait: ...").
// Relative *_file paths are resolved against `base_dir` (the config's directory).
Result<NotifyConfig> parse_notify_config(std::string_view yaml, const std::string& file = {},
                                         const std::string& base_dir = {});
Result<NotifyConfig> load_notify_config(const std::string& path);

// An unchanged alertmanager.yml (Alertmanager 0.25's schema exactly: global, route, receivers,
// inhibit_rules, templates, time_intervals, mute_time_intervals). Whatever `amtool check-config`
// rejects is rejected with Alertmanager's wording at file:line:col; what Alertmanager accepts but
// ruleeval does not implement is refused with an error that says so.
Result<NotifyConfig> parse_alertmanager_config(std::string_view yaml, const std::string& file,
                                               const std::string& base_dir);
Result<NotifyConfig> load_alertmanager_config(const std::string& path);

// The notification config of a ruleeval.yaml: its `alertmanager_config_file` when set, else its
// inline blocks.
Result<NotifyConfig> notify_config_of(const rules::RunConfig& cfg);

// `ruleeval lint --routes FILE`: FILE is either an alertmanager.yml (only Alertmanager's
// top-level keys) or a ruleeval.yaml (its alertmanager_config_file, else its inline blocks).
Result<NotifyConfig> load_routes_file(const std::string& path);

}  // namespace ruleeval::notifiers
