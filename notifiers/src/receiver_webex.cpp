// webex_configs: Alertmanager 0.25's notify/webex. {"markdown": message, "roomId": room_id}
// posted to api_url with the receiver's http_config authorization (required); the message is cut
// to 7439 bytes; only 5xx is retried.
#include "receiver_http.hpp"

namespace ruleeval::notifiers::detail {

Result<std::string> webex_envelope(const WebexConfig& c, const NotificationData& d,
                                   const Expander& x) {
  Tmpl tmpl(x, d);
  std::string message = tmpl(c.message, "message");
  if (!tmpl.ok()) return std::unexpected(tmpl.error());
  message = truncate_bytes(message, kWebexMaxMessageBytes);
  nlohmann::ordered_json w = nlohmann::ordered_json::object();
  w["markdown"] = message;
  if (!c.room_id.empty()) w["roomId"] = c.room_id;
  HttpCall call;
  call.url = c.api_url;
  call.body = go_json(w);
  return make_envelope({call});
}

}  // namespace ruleeval::notifiers::detail
