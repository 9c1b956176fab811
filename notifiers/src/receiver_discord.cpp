// discord_configs: Alertmanager 0.25's notify/discord. One embed (title, description, color:
// red while firing, green when resolved) posted to the webhook URL; only 5xx is retried.
// Alertmanager 0.25 truncates neither title nor description.
#include "receiver_http.hpp"

namespace ruleeval::notifiers::detail {

Result<std::string> discord_envelope(const DiscordConfig& c, const NotificationData& d,
                                     const Expander& x) {
  Tmpl tmpl(x, d);
  const std::string title = tmpl(c.title, "title");
  const std::string description = tmpl(c.message, "message");
  if (!tmpl.ok()) return std::unexpected(tmpl.error());
  constexpr int kRed = 0x992D22, kGreen = 0x2ECC71, kGrey = 0x95A5A6;
  int color = kGrey;
  if (d.status == "firing") color = kRed;
  if (d.status == "resolved") color = kGreen;
  nlohmann::ordered_json embed = nlohmann::ordered_json::object();
  embed["title"] = title;
  embed["description"] = description;
  embed["color"] = color;
  nlohmann::ordered_json w = nlohmann::ordered_json::object();
  w["content"] = "";
  w["embeds"] = nlohmann::ordered_json::array({embed});
  HttpCall call;
  call.url = c.webhook_url;
  call.body = go_json(w);
  return make_envelope({call});
}

}  // namespace ruleeval::notifiers::detail
