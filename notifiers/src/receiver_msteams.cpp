// msteams_configs and msteamsv2_configs: Microsoft Teams as Alertmanager 0.26+/0.28+ sends it
// (notify/msteams/msteams.go, notify/msteamsv2/msteamsv2.go).
//
// msteams: an Office 365 connector MessageCard
//   {"@context":"http://schema.org/extensions","type":"MessageCard","title","summary","text",
//    "themeColor"} with themeColor 8C1A1A while any alert fires, 2DC72D when all are resolved.
// msteamsv2: a Power Automate "message" with one Adaptive Card 1.2 attachment: a heading
//   TextBlock (title; color Attention firing, Good resolved) and a wrapped TextBlock (text),
//   msteams.width "full".
// Both are encoded as Go's json.Encoder does (HTML-safe escapes, trailing newline), posted with
// Content-Type application/json; 2xx succeeds (Alertmanager does not look at the body, so Teams'
// "200 with an error text" is a success there too), 5xx is retried, every other status is not.
// webhook_url_file is read (and trimmed) at every send; a failed read is not retried.
#include "receiver_http.hpp"

namespace ruleeval::notifiers::detail {

namespace {

using ordered = nlohmann::ordered_json;

HttpCall teams_call(const std::string& webhook_url, const std::string& webhook_url_file,
                    const ordered& message) {
  HttpCall call;
  call.url = webhook_url_file.empty() ? webhook_url : std::string(kSecretPlaceholder);
  call.body = go_json(message);
  return call;
}

std::string envelope(const HttpCall& call, const std::string& webhook_url_file) {
  return make_envelope({call}, webhook_url_file, SecretEscape::kNone, "read webhook_url_file");
}

}  // namespace

Result<std::string> msteams_envelope(const MSTeamsConfig& c, const NotificationData& d,
                                     const Expander& x) {
  Tmpl tmpl(x, d);
  const std::string title = tmpl(c.title, "title");
  const std::string text = tmpl(c.text, "text");
  const std::string summary = tmpl(c.summary, "summary");
  if (!tmpl.ok()) return std::unexpected(tmpl.error());
  std::string color = "808080";
  if (d.status == "firing") color = "8C1A1A";
  if (d.status == "resolved") color = "2DC72D";
  ordered m = ordered::object();
  m["@context"] = "http://schema.org/extensions";
  m["type"] = "MessageCard";
  m["title"] = title;
  m["summary"] = summary;
  m["text"] = text;
  m["themeColor"] = color;
  return envelope(teams_call(c.webhook_url, c.webhook_url_file, m), c.webhook_url_file);
}

Result<std::string> msteamsv2_envelope(const MSTeamsV2Config& c, const NotificationData& d,
                                       const Expander& x) {
  Tmpl tmpl(x, d);
  const std::string title = tmpl(c.title, "title");
  const std::string text = tmpl(c.text, "text");
  if (!tmpl.ok()) return std::unexpected(tmpl.error());
  std::string color = "Warning";
  if (d.status == "firing") color = "Attention";
  if (d.status == "resolved") color = "Good";
  // Go omits the omitempty fields (weight, size, wrap, style, color) when they are empty.
  ordered heading = ordered::object();
  heading["type"] = "TextBlock";
  heading["text"] = title;
  heading["weight"] = "Bolder";
  heading["size"] = "Medium";
  heading["wrap"] = true;
  heading["style"] = "heading";
  heading["color"] = color;
  ordered body = ordered::object();
  body["type"] = "TextBlock";
  body["text"] = text;
  body["wrap"] = true;
  ordered content = ordered::object();
  content["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json";
  content["type"] = "AdaptiveCard";
  content["version"] = "1.2";
  content["body"] = ordered::array({heading, body});
  content["msteams"] = ordered{{"width", "full"}};
  ordered attachment = ordered::object();
  attachment["contentType"] = "application/vnd.microsoft.card.adaptive";
  attachment["contentUrl"] = nullptr;
  attachment["content"] = content;
  ordered m = ordered::object();
  m["type"] = "message";
  m["attachments"] = ordered::array({attachment});
  return envelope(teams_call(c.webhook_url, c.webhook_url_file, m), c.webhook_url_file);
}

}  // namespace ruleeval::notifiers::detail
