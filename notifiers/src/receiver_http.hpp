// The opsgenie, victorops, pushover, telegram, discord and webex receivers (Alertmanager 0.25's
// notify/<name>/<name>.go, one receiver_<name>.cpp each).
//
// A notification is rendered once, when it enters the outbox, into an "envelope": the HTTP
// requests Alertmanager would make, in order (method, URL, Content-Type, headers, body). The
// transport replays the envelope on every attempt. A secret that Alertmanager reads from a
// `*_file` when it sends (opsgenie and victorops api_key_file) is not in the envelope: the URL or
// header holds kSecretPlaceholder and the envelope names the file, read at each attempt.
// Thread-safety: stateless functions.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "payloads.hpp"
#include "ruleeval/notifiers/notifier.hpp"

namespace ruleeval::notifiers::detail {

struct HttpCall {
  std::string method = "POST";
  std::string url;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

inline constexpr std::string_view kSecretPlaceholder = "\x1fruleeval-secret\x1f";

enum class SecretEscape { kNone, kPath };
// The outbox body for `calls`; when secret_file is set, kSecretPlaceholder in URLs and header
// values is replaced by the file's content (surrounding white space trimmed) at send time,
// path-escaped when it goes into a URL path. `read_error` prefixes the (not retried) error when
// the file cannot be read (default: "failed to read API key from file").
std::string make_envelope(const std::vector<HttpCall>& calls, const std::string& secret_file = {},
                          SecretEscape escape = SecretEscape::kNone,
                          const std::string& read_error = {});

// Sends an envelope's requests in order; the first failure ends the attempt (Alertmanager
// retries the whole notification). 2xx succeeds; 5xx and `retry_codes` are retried. telegram:
// the answer must be Telegram's {"ok":true,"result":{...}} whatever its status, and every failure
// is retried (Alertmanager's telegram notifier retries any error).
SendResult send_envelope(Env& env, const OutboxEntry& e, const HttpSettings& http,
                         std::initializer_list<long> retry_codes, bool telegram);

// One HTTP request through env.http_client() under http_config (transport.cpp).
SendResult http_call(Env& env, const OutboxEntry& e, const std::string& method, const std::string& url,
                     const std::string& body, const std::string& content_type,
                     const std::vector<std::string>& headers, const HttpSettings& http,
                     std::string* response);

// Go's encoding/json Encoder output: HTML-safe escapes (<, >, & as \u003c...), U+2028/U+2029
// escaped, invalid UTF-8 as U+FFFD, and a trailing newline.
std::string go_json(const nlohmann::ordered_json& j);
// Go's url.Values.Encode (keys sorted, values in order, QueryEscape).
std::string go_query(const std::vector<std::pair<std::string, std::string>>& params);
// Go's url.PathEscape-like escaping of a path segment appended to url.URL.Path.
std::string go_path_escape(std::string_view s);
// Appends `path` to the path of `url` (before its query) and, when given, `query` ("k=v") merged
// into the URL's query in Go's sorted order.
std::string url_append(const std::string& url, const std::string& path,
                       const std::string& query = {});
// Alertmanager's notify.TruncateInBytes.
std::string truncate_bytes(std::string_view s, size_t n, bool* truncated = nullptr);
// strings.Split(strings.TrimSpace(s), sep) without the empty strings (opsgenie's safeSplit).
std::vector<std::string> safe_split(std::string_view s, char sep);

// One expansion context: the first template error is kept and later expansions return "",
// like Alertmanager's notify.TmplText. `html` escapes action output as html/template does in
// text context (pushover html, telegram parse_mode HTML).
class Tmpl {
 public:
  Tmpl(const Expander& x, const NotificationData& d) : x_(x), d_(d) {}
  std::string operator()(const std::string& text, const char* field);
  bool ok() const { return err_.empty(); }
  Error error() const { return Error(err_); }

 private:
  const Expander& x_;
  const NotificationData& d_;
  std::string err_;
};

Result<std::string> opsgenie_envelope(const OpsGenieConfig& c, const NotificationData& d,
                                      const Expander& x);
Result<std::string> victorops_envelope(const VictorOpsConfig& c, const NotificationData& d,
                                       const Expander& x);
Result<std::string> pushover_envelope(const PushoverConfig& c, const NotificationData& d,
                                      const Expander& x, const Expander& html);
Result<std::string> telegram_envelope(const TelegramConfig& c, const NotificationData& d,
                                      const Expander& x, const Expander& html);
Result<std::string> discord_envelope(const DiscordConfig& c, const NotificationData& d,
                                     const Expander& x);
Result<std::string> webex_envelope(const WebexConfig& c, const NotificationData& d,
                                   const Expander& x);
// receiver_msteams.cpp (Alertmanager 0.26+ msteams, 0.28+ msteamsv2).
Result<std::string> msteams_envelope(const MSTeamsConfig& c, const NotificationData& d,
                                     const Expander& x);
Result<std::string> msteamsv2_envelope(const MSTeamsV2Config& c, const NotificationData& d,
                                       const Expander& x);

// Default named templates of these receivers (Alertmanager's default.tmpl behaviour), added to
// the built-in defaults so the inline ruleeval.yaml blocks can use them too.
std::string_view receiver_default_templates();

inline constexpr size_t kOpsGenieMaxMessageRunes = 130;
inline constexpr size_t kVictorOpsMaxMessageRunes = 20480;
inline constexpr size_t kPushoverMaxTitleRunes = 250;
inline constexpr size_t kPushoverMaxMessageRunes = 1024;
inline constexpr size_t kPushoverMaxUrlRunes = 512;
inline constexpr size_t kTelegramMaxMessageRunes = 4096;
inline constexpr size_t kWebexMaxMessageBytes = 7439;

}  // namespace ruleeval::notifiers::detail
