// victorops_configs: Alertmanager 0.25's notify/victorops. POST <api_url><api_key>/<routing_key>
// with a flat JSON object; entity_id is the SHA-256 of the group key. Only 5xx is retried.
#include "receiver_http.hpp"

namespace ruleeval::notifiers::detail {

Result<std::string> victorops_envelope(const VictorOpsConfig& c, const NotificationData& d,
                                       const Expander& x) {
  Tmpl tmpl(x, d);
  const std::string routing_key = tmpl(c.routing_key, "routing_key");
  std::string message_type = tmpl(c.message_type, "message_type");
  std::string state_message = tmpl(c.state_message, "state_message");
  if (d.status == "firing" && message_type != "INFO" && message_type != "WARNING" &&
      message_type != "CRITICAL") {
    message_type = "CRITICAL";
  }
  if (d.status == "resolved") message_type = "RECOVERY";
  state_message = truncate_runes(state_message, kVictorOpsMaxMessageRunes);
  // A Go map[string]string: keys sorted, custom fields may not replace the fixed ones (the
  // config refuses them).
  nlohmann::json msg = nlohmann::json::object();
  msg["message_type"] = message_type;
  msg["entity_id"] = sha256_hex(d.group_key);
  msg["entity_display_name"] = tmpl(c.entity_display_name, "entity_display_name");
  msg["state_message"] = state_message;
  msg["monitoring_tool"] = tmpl(c.monitoring_tool, "monitoring_tool");
  for (const auto& [k, v] : c.custom_fields) msg[k] = tmpl(v, ("custom_fields." + k).c_str());
  if (!tmpl.ok()) return std::unexpected(tmpl.error());
  HttpCall call;
  const bool key_file = c.api_key.empty();
  const std::string key = key_file ? std::string(kSecretPlaceholder) : go_path_escape(c.api_key);
  call.url = url_append(c.api_url, key + "/" + go_path_escape(routing_key));
  call.body = go_json(nlohmann::ordered_json(msg));
  return make_envelope({call}, key_file ? c.api_key_file : std::string(), SecretEscape::kPath);
}

}  // namespace ruleeval::notifiers::detail
