// pushover_configs: Alertmanager 0.25's notify/pushover. Every parameter goes into the query
// string of an empty text/plain POST to Pushover's fixed messages URL (Alertmanager 0.25 has no
// api_url for it); title 250, message 1024 and url 512 runes at most; only 5xx is retried.
#include "receiver_http.hpp"

namespace ruleeval::notifiers::detail {

Result<std::string> pushover_envelope(const PushoverConfig& c, const NotificationData& d,
                                      const Expander& x, const Expander& html) {
  Tmpl tmpl(x, d);
  Tmpl tmpl_html(html, d);
  std::vector<std::pair<std::string, std::string>> params;
  params.emplace_back("token", tmpl(c.token, "token"));
  params.emplace_back("user", tmpl(c.user_key, "user_key"));
  params.emplace_back("title", truncate_runes(tmpl(c.title, "title"), kPushoverMaxTitleRunes));
  std::string message;
  if (c.html) {
    params.emplace_back("html", "1");
    message = tmpl_html(c.message, "message");
  } else {
    message = tmpl(c.message, "message");
  }
  message = truncate_runes(message, kPushoverMaxMessageRunes);
  message.erase(0, message.find_first_not_of(" \t\r\n\v\f"));
  message.erase(message.find_last_not_of(" \t\r\n\v\f") + 1);
  if (message.empty()) message = "(no details)";  // Pushover rejects empty messages
  params.emplace_back("message", message);
  params.emplace_back("url", truncate_runes(tmpl(c.url, "url"), kPushoverMaxUrlRunes));
  params.emplace_back("url_title", tmpl(c.url_title, "url_title"));
  params.emplace_back("priority", tmpl(c.priority, "priority"));
  params.emplace_back("retry", std::to_string(c.retry_s));
  params.emplace_back("expire", std::to_string(c.expire_s));
  params.emplace_back("sound", tmpl(c.sound, "sound"));
  if (!tmpl.ok()) return std::unexpected(tmpl.error());
  if (!tmpl_html.ok()) return std::unexpected(tmpl_html.error());
  HttpCall call;
  call.url = c.api_url;
  call.url += (call.url.find('?') == std::string::npos ? "?" : "&") + go_query(params);
  call.content_type = "text/plain";
  return make_envelope({call});
}

}  // namespace ruleeval::notifiers::detail
