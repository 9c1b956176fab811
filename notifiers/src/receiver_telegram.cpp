// telegram_configs: Alertmanager 0.25's notify/telegram through telebot v3: POST
// <api_url>/bot<bot_token>/sendMessage with a JSON object of strings; the message is rendered
// as HTML (html/template escaping) when parse_mode is HTML, cut to 4096 runes. Telegram answers
// {"ok":true,...}; any failure is retried.
#include "receiver_http.hpp"

namespace ruleeval::notifiers::detail {

Result<std::string> telegram_envelope(const TelegramConfig& c, const NotificationData& d,
                                      const Expander& x, const Expander& html) {
  Tmpl tmpl(c.parse_mode == "HTML" ? html : x, d);
  const std::string text =
      truncate_runes(tmpl(c.message, "message"), kTelegramMaxMessageRunes);
  if (!tmpl.ok()) return std::unexpected(tmpl.error());
  // A Go map[string]string: keys sorted.
  nlohmann::json params = nlohmann::json::object();
  params["chat_id"] = std::to_string(c.chat_id);
  params["text"] = text;
  if (!c.parse_mode.empty()) params["parse_mode"] = c.parse_mode;
  params["disable_web_page_preview"] = "true";
  if (c.disable_notifications) params["disable_notification"] = "true";
  HttpCall call;
  call.url = c.api_url + "/bot" + c.bot_token + "/sendMessage";
  call.body = go_json(nlohmann::ordered_json(params));
  return make_envelope({call});
}

}  // namespace ruleeval::notifiers::detail
