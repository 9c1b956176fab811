#include "payloads.hpp"

#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "http_client.hpp"
#include "ruleeval/common/escape.hpp"

namespace ruleeval::notifiers::detail {

using nlohmann::json;
using ordered = nlohmann::ordered_json;

namespace {

json labels_json(const Labels& l) {
  json j = json::object();
  for (const auto& x : l) j[x.name] = x.value;
  return j;
}

Result<std::string> expand_or(const Expander& x, const std::string& tmpl, std::string fallback,
                              const NotificationData& d, std::string_view field) {
  if (tmpl.empty()) return fallback;
  auto r = x(tmpl, d);
  if (!r) return make_error(std::string(field) + ": " + r.error().message);
  return r;
}

// Distinct runbook_url annotations of the firing alerts (resolved ones when none fire).
std::vector<std::string> runbooks(const NotificationData& d) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  auto alerts = d.firing();
  if (alerts.empty()) alerts = d.resolved();
  for (const auto* a : alerts) {
    auto u = std::string(a->annotations.get("runbook_url"));
    if (!u.empty() && seen.insert(u).second) out.push_back(u);
  }
  return out;
}

std::string default_slack_text(const NotificationData& d) {
  std::string out;
  for (const auto* a : d.firing().empty() ? d.resolved() : d.firing()) {
    std::string_view s = a->annotations.get("summary");
    if (s.empty()) s = a->annotations.get("description");
    out += "• ";
    out += s.empty() ? a->labels.to_string() : std::string(s);
    out += '\n';
  }
  return out;
}

}  // namespace

Result<std::string> slack_payload(const SlackConfig& c, const NotificationData& d,
                                  const Expander& x) {
  auto title = expand_or(x, c.title, default_subject(d), d, "title");
  if (!title) return std::unexpected(title.error());
  auto link = expand_or(x, c.title_link, alerts_url(d), d, "title_link");
  if (!link) return std::unexpected(link.error());
  auto text = expand_or(x, c.text, default_slack_text(d), d, "text");
  if (!text) return std::unexpected(text.error());
  // Alertmanager's default fallback uses the default title and link, not the configured ones.
  auto fallback =
      expand_or(x, c.fallback, default_subject(d) + " | " + alerts_url(d), d, "fallback");
  if (!fallback) return std::unexpected(fallback.error());
  auto color = expand_or(x, c.color, d.status == "firing" ? "danger" : "good", d, "color");
  if (!color) return std::unexpected(color.error());
  ordered att = ordered::object();
  att["title"] = truncate_runes(*title, kSlackMaxTitleRunes);
  if (!link->empty()) att["title_link"] = *link;
  auto pretext = expand_or(x, c.pretext, "", d, "pretext");
  if (!pretext) return std::unexpected(pretext.error());
  if (!pretext->empty()) att["pretext"] = *pretext;
  att["text"] = *text;
  att["fallback"] = *fallback;
  auto cb = expand_or(x, c.callback_id, "", d, "callback_id");
  if (!cb) return std::unexpected(cb.error());
  att["callback_id"] = *cb;
  auto t = [&](const std::string& field, const char* what) -> Result<std::string> {
    if (field.empty()) return std::string();
    auto v = x(field, d);
    if (!v) return make_error(std::string(what) + ": " + v.error().message);
    return *v;
  };
  if (!c.fields.empty()) {
    ordered fields = ordered::array();
    for (const auto& f : c.fields) {
      auto ftitle = t(f.title, "fields.title");
      if (!ftitle) return std::unexpected(ftitle.error());
      auto fvalue = t(f.value, "fields.value");
      if (!fvalue) return std::unexpected(fvalue.error());
      ordered jf = ordered::object();
      if (!ftitle->empty()) jf["title"] = *ftitle;
      if (!fvalue->empty()) jf["value"] = *fvalue;
      jf["short"] = f.short_.value_or(c.short_fields);
      fields.push_back(jf);
    }
    att["fields"] = fields;
  }
  if (!c.actions.empty()) {
    ordered actions = ordered::array();
    for (const auto& a : c.actions) {
      ordered ja = ordered::object();
      for (auto [k, v] : {std::pair{"type", &a.type}, {"text", &a.text}, {"url", &a.url},
                          {"style", &a.style}, {"name", &a.name}, {"value", &a.value}}) {
        auto r = t(*v, "actions");
        if (!r) return std::unexpected(r.error());
        if (!r->empty()) ja[k] = *r;
      }
      if (a.confirm) {
        ordered jc = ordered::object();
        for (auto [k, v] : {std::pair{"text", &a.confirm->text}, {"title", &a.confirm->title},
                            {"ok_text", &a.confirm->ok_text},
                            {"dismiss_text", &a.confirm->dismiss_text}}) {
          auto r = t(*v, "actions.confirm");
          if (!r) return std::unexpected(r.error());
          if (!r->empty()) jc[k] = *r;
        }
        ja["confirm"] = jc;
      }
      actions.push_back(ja);
    }
    att["actions"] = actions;
  } else if (auto rb = runbooks(d); !rb.empty() && c.runbook_buttons) {
    // ruleeval's addition when no actions are configured: runbook_url annotations as buttons.
    ordered actions = ordered::array();
    for (size_t i = 0; i < rb.size() && i < 5; ++i) {
      actions.push_back({{"type", "button"},
                         {"text", rb.size() == 1 ? std::string("Runbook")
                                                 : "Runbook " + std::to_string(i + 1)},
                         {"url", rb[i]}});
    }
    att["actions"] = actions;
  }
  for (auto [k, v] : {std::pair{"image_url", &c.image_url}, {"thumb_url", &c.thumb_url}}) {
    auto r = t(*v, k);
    if (!r) return std::unexpected(r.error());
    if (!r->empty()) att[k] = *r;
  }
  auto footer = expand_or(x, c.footer, "", d, "footer");
  if (!footer) return std::unexpected(footer.error());
  att["footer"] = *footer;
  if (!color->empty()) att["color"] = *color;
  if (c.mrkdwn_in && !c.mrkdwn_in->empty()) {
    att["mrkdwn_in"] = *c.mrkdwn_in;
  } else {
    att["mrkdwn_in"] = {"fallback", "pretext", "text"};
  }

  ordered req = ordered::object();
  for (auto [key, tmpl, def] : {std::tuple{"channel", &c.channel, std::string()},
                                {"username", &c.username, std::string("ruleeval")},
                                {"icon_emoji", &c.icon_emoji, std::string()},
                                {"icon_url", &c.icon_url, std::string()}}) {
    auto v = expand_or(x, *tmpl, def, d, key);
    if (!v) return std::unexpected(v.error());
    if (!v->empty()) req[key] = *v;
  }
  if (c.link_names) req["link_names"] = true;
  req["attachments"] = ordered::array({att});
  return req.dump();
}

std::string pagerduty_instances(const std::vector<const AlertData*>& alerts) {
  std::string out;
  for (const auto* a : alerts) {
    out += "Labels:\n";
    for (const auto& l : sorted_pairs(a->labels)) out += " - " + l.name + " = " + l.value + "\n";
    out += "Annotations:\n";
    for (const auto& l : sorted_pairs(a->annotations)) {
      out += " - " + l.name + " = " + l.value + "\n";
    }
    out += "Source: " + a->generator_url + "\n";
  }
  return out;
}

static std::string pd_severity(std::string_view s) {
  std::string v(s);
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (v == "critical" || v == "page" || v == "crit" || v == "fatal") return "critical";
  if (v == "error" || v == "err" || v == "high") return "error";
  if (v == "warning" || v == "warn" || v == "medium") return "warning";
  if (v == "info" || v == "informational" || v == "low" || v == "none") return "info";
  return "";
}

namespace {

Result<ordered> pagerduty_details(const PagerDutyConfig& c, const NotificationData& d,
                                  const Expander& x) {
  ordered details = ordered::object();
  if (c.details.empty()) {
    details["firing"] = pagerduty_instances(d.firing());
    details["num_firing"] = std::to_string(d.firing().size());
    details["num_resolved"] = std::to_string(d.resolved().size());
    details["resolved"] = pagerduty_instances(d.resolved());
  } else {
    for (const auto& [k, v] : c.details) {
      auto r = x(v, d);
      if (!r) return make_error("details." + k + ": " + r.error().message);
      details[k] = *r;
    }
  }
  return details;
}

// The inline key, or else its file's content with surrounding space trimmed: Alertmanager reads
// the file for every notification (notify/pagerduty) and templates the result like an inline key.
Result<std::string> pagerduty_key(const std::string& key, const std::string& file,
                                  const char* what) {
  auto v = value_or_secret_file(*Env::Default(), key, file);
  if (!v) return make_error(std::string("failed to read ") + what + " from file: " + v.error().message);
  return v;
}

// Events API v1 (service_key), field for field as Alertmanager's pagerDutyMessage encodes it:
// event_action and payload are not omitempty there, so they appear as "" and null.
Result<std::string> pagerduty_v1_payload(const PagerDutyConfig& c, const NotificationData& d,
                                         const Expander& x) {
  auto raw = pagerduty_key(c.service_key, c.service_key_file, "service key");
  if (!raw) return std::unexpected(raw.error());
  auto key = x(*raw, d);
  if (!key) return make_error("service_key: " + key.error().message);
  if (key->empty()) return make_error("service key cannot be empty");
  auto description = expand_or(x, c.description, default_subject(d), d, "description");
  if (!description) return std::unexpected(description.error());
  auto details = pagerduty_details(c, d, x);
  if (!details) return std::unexpected(details.error());
  bool trigger = d.status != "resolved";
  ordered msg = ordered::object();
  msg["service_key"] = *key;
  msg["incident_key"] = sha256_hex(d.group_key);
  msg["event_type"] = trigger ? "trigger" : "resolve";
  msg["description"] = truncate_runes(*description, kPagerDutyMaxSummaryRunes);
  msg["event_action"] = "";
  msg["payload"] = nullptr;
  if (trigger) {
    auto client = expand_or(x, c.client, "ruleeval", d, "client");
    if (!client) return std::unexpected(client.error());
    auto client_url = expand_or(x, c.client_url, alerts_url(d), d, "client_url");
    if (!client_url) return std::unexpected(client_url.error());
    if (!client->empty()) msg["client"] = *client;
    if (!client_url->empty()) msg["client_url"] = *client_url;
  }
  if (!details->empty()) msg["details"] = *details;
  std::string out = msg.dump();
  if (out.size() > kPagerDutyMaxEventBytes) {
    msg["details"] = {
        {"error",
         "Custom details have been removed because the original event exceeds the maximum size "
         "of 512kB"}};
    out = msg.dump();
  }
  return out;
}

}  // namespace

Result<std::string> pagerduty_payload(const PagerDutyConfig& c, const NotificationData& d,
                                      const Expander& x) {
  if (c.v1()) return pagerduty_v1_payload(c, d, x);
  auto raw = pagerduty_key(c.routing_key, c.routing_key_file, "routing key");
  if (!raw) return std::unexpected(raw.error());
  auto key = x(*raw, d);
  if (!key) return make_error("routing_key: " + key.error().message);
  if (key->empty()) return make_error("routing_key: empty after templating");
  auto summary = expand_or(x, c.description, default_subject(d), d, "description");
  if (!summary) return std::unexpected(summary.error());
  auto client = expand_or(x, c.client, "ruleeval", d, "client");
  if (!client) return std::unexpected(client.error());
  auto client_url = expand_or(x, c.client_url, alerts_url(d), d, "client_url");
  if (!client_url) return std::unexpected(client_url.error());
  auto source = expand_or(x, c.source, *client, d, "source");
  if (!source) return std::unexpected(source.error());
  // Severity: the configured template, else the alerts' common `severity` label, mapped onto
  // PagerDuty's critical/error/warning/info; anything else is "error" (Alertmanager's default).
  std::string severity;
  if (!c.severity.empty()) {
    auto s = x(c.severity, d);
    if (!s) return make_error("severity: " + s.error().message);
    severity = c.map_severity ? pd_severity(*s) : *s;
  } else {
    severity = pd_severity(d.common_labels.get("severity"));
  }
  if (severity.empty()) severity = "error";

  ordered details = ordered::object();
  if (c.details.empty()) {
    details["firing"] = pagerduty_instances(d.firing());
    details["num_firing"] = std::to_string(d.firing().size());
    details["num_resolved"] = std::to_string(d.resolved().size());
    details["resolved"] = pagerduty_instances(d.resolved());
  } else {
    for (const auto& [k, v] : c.details) {
      auto r = x(v, d);
      if (!r) return make_error("details." + k + ": " + r.error().message);
      details[k] = *r;
    }
  }
  ordered payload = ordered::object();
  payload["summary"] = truncate_runes(*summary, kPagerDutyMaxSummaryRunes);
  payload["source"] = *source;
  payload["severity"] = severity;
  for (auto [k, t] : {std::pair{"class", &c.class_}, {"component", &c.component},
                      {"group", &c.group}}) {
    auto v = expand_or(x, *t, "", d, k);
    if (!v) return std::unexpected(v.error());
    if (!v->empty()) payload[k] = *v;
  }
  payload["custom_details"] = details;

  ordered msg = ordered::object();
  msg["routing_key"] = *key;
  msg["dedup_key"] = sha256_hex(d.group_key);
  msg["event_action"] = d.status == "resolved" ? "resolve" : "trigger";
  msg["payload"] = payload;
  msg["client"] = *client;
  if (!client_url->empty()) msg["client_url"] = *client_url;
  if (!c.images.empty()) {
    ordered images = ordered::array();
    for (const auto& i : c.images) {
      ordered ji = ordered::object();
      for (auto [k, v] : {std::pair{"src", &i.src}, {"alt", &i.alt}, {"href", &i.href}}) {
        auto r = expand_or(x, *v, "", d, "images");
        if (!r) return std::unexpected(r.error());
        ji[k] = *r;
      }
      if (ji["src"].get<std::string>().empty()) continue;  // Alertmanager drops them
      images.push_back(ji);
    }
    if (!images.empty()) msg["images"] = images;
  }
  if (!c.links.empty()) {
    ordered links = ordered::array();
    for (const auto& l : c.links) {
      ordered jl = ordered::object();
      for (auto [k, v] : {std::pair{"href", &l.href}, {"text", &l.text}}) {
        auto r = expand_or(x, *v, "", d, "links");
        if (!r) return std::unexpected(r.error());
        jl[k] = *r;
      }
      if (jl["href"].get<std::string>().empty()) continue;  // Alertmanager drops them
      links.push_back(jl);
    }
    if (!links.empty()) msg["links"] = links;
  } else if (auto rb = runbooks(d); !rb.empty() && c.runbook_links) {
    ordered links = ordered::array();
    for (const auto& u : rb) links.push_back({{"href", u}, {"text", "Runbook"}});
    msg["links"] = links;
  }
  std::string out = msg.dump();
  if (out.size() > kPagerDutyMaxEventBytes) {
    msg["payload"]["custom_details"] = {
        {"error",
         "Custom details have been removed because the original event exceeds the maximum size "
         "of 512kB"}};
    out = msg.dump();
  }
  return out;
}

std::string webhook_payload(const NotificationData& d, uint64_t max_alerts) {
  ordered j = ordered::object();
  j["receiver"] = d.receiver;
  j["status"] = d.status;
  ordered alerts = ordered::array();
  uint64_t n = 0;
  for (const auto& a : d.alerts) {
    if (max_alerts != 0 && n >= max_alerts) break;
    ++n;
    alerts.push_back({{"status", a.status},
                      {"labels", labels_json(a.labels)},
                      {"annotations", labels_json(a.annotations)},
                      {"startsAt", format_time(a.starts_at)},
                      {"endsAt", format_time(a.ends_at)},
                      {"generatorURL", a.generator_url},
                      {"fingerprint", a.fingerprint}});
  }
  j["alerts"] = alerts;
  j["groupLabels"] = labels_json(d.group_labels);
  j["commonLabels"] = labels_json(d.common_labels);
  j["commonAnnotations"] = labels_json(d.common_annotations);
  j["externalURL"] = d.external_url;
  j["version"] = "4";
  j["groupKey"] = d.group_key;
  j["truncatedAlerts"] = d.truncated_alerts + (d.alerts.size() - n);
  return j.dump();
}

std::string alertmanager_payload(const std::vector<rules::Alert>& alerts) {
  ordered arr = ordered::array();
  for (const auto& a : alerts) {
    ordered o = ordered::object();
    o["labels"] = labels_json(a.labels);
    o["annotations"] = labels_json(a.annotations);
    if (a.starts_at) o["startsAt"] = format_time(a.starts_at);
    if (a.ends_at) o["endsAt"] = format_time(a.ends_at);
    o["generatorURL"] = a.generator_url;
    arr.push_back(o);
  }
  return arr.dump();
}

std::string q_encode(std::string_view v) {
  bool plain = std::all_of(v.begin(), v.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
  if (plain) return std::string(v);
  std::string out = "=?UTF-8?q?";
  for (unsigned char c : v) {
    if (std::isalnum(c) || c == '!' || c == '*' || c == '+' || c == '-' || c == '/') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '_';
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "=%02X", c);
      out += buf;
    }
  }
  out += "?=";
  return out;
}

std::vector<std::string> split_addresses(std::string_view list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string a(list.substr(start, comma - start));
    a.erase(0, a.find_first_not_of(" \t"));
    a.erase(a.find_last_not_of(" \t") + 1);
    if (!a.empty()) out.push_back(a);
    start = comma + 1;
  }
  return out;
}

namespace {


std::string default_email_html(const NotificationData& d) {
  std::string out = "<!DOCTYPE html>\n<html><head><meta charset=\"UTF-8\"><title>" +
                    html_escape(default_subject(d)) + "</title></head><body>\n";
  auto section = [&](const char* name, const std::vector<const AlertData*>& as) {
    if (as.empty()) return;
    out += "<h3>[" + std::to_string(as.size()) + "] " + name + "</h3>\n";
    for (const auto* a : as) {
      out += "<p><strong>Labels</strong><br>\n";
      for (const auto& l : a->labels) out += html_escape(l.name + " = " + l.value) + "<br>\n";
      out += "<strong>Annotations</strong><br>\n";
      for (const auto& l : a->annotations) out += html_escape(l.name + " = " + l.value) + "<br>\n";
      if (!a->generator_url.empty()) {
        out += "<a href=\"" + html_escape(a->generator_url) + "\">Source</a>";
      }
      out += "</p>\n";
    }
  };
  out += "<p><a href=\"" + html_escape(alerts_url(d)) + "\">View alerts</a></p>\n";
  section("Firing", d.firing());
  section("Resolved", d.resolved());
  out += "</body></html>\n";
  return out;
}

std::string default_email_text(const NotificationData& d) {
  std::string out = default_subject(d) + "\n\n";
  auto section = [&](const char* name, const std::vector<const AlertData*>& as) {
    if (as.empty()) return;
    out += "[" + std::to_string(as.size()) + "] " + name + "\n";
    out += pagerduty_instances(as);
    out += "\n";
  };
  section("Firing", d.firing());
  section("Resolved", d.resolved());
  return out;
}

std::string rfc1123z(Millis now) {
  time_t t = static_cast<time_t>(trunc_seconds(now));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

}  // namespace

Result<std::string> email_payload(const EmailConfig& c, const NotificationData& d,
                                  const Expander& x, Millis now, const Expander* html_x) {
  auto to = x(c.to, d);
  if (!to) return make_error("to: " + to.error().message);
  auto from = x(c.from, d);
  if (!from) return make_error("from: " + from.error().message);
  auto tos = split_addresses(*to);
  auto froms = split_addresses(*from);
  if (froms.size() != 1) return make_error("from: must be exactly one address, got \"" + *from + "\"");
  if (tos.empty()) return make_error("to: no address");
  std::map<std::string, std::string> headers;
  for (const auto& [k, v] : c.headers) {
    // Header names are case-insensitive; normalise the three defaults.
    std::string name = k;
    for (const char* std_name : {"Subject", "To", "From"}) {
      if (strcasecmp(name.c_str(), std_name) == 0) name = std_name;
    }
    auto r = x(v, d);
    if (!r) return make_error("headers." + k + ": " + r.error().message);
    headers[name] = *r;
  }
  if (!headers.count("Subject")) headers["Subject"] = default_subject(d);
  if (!headers.count("To")) headers["To"] = *to;
  if (!headers.count("From")) headers["From"] = *from;
  // Values are RFC 2047-encoded when sent (q_encode, as Alertmanager's mime.QEncoding), so a
  // CR/LF in a label value cannot inject a header and must not stop the page. Header names and
  // the address lists To/From cannot be encoded: a line break there is still an error.
  for (const auto& [k, v] : headers) {
    const bool address = k == "To" || k == "From";
    if (k.find_first_of("\r\n:") != std::string::npos ||
        (address && v.find_first_of("\r\n") != std::string::npos)) {
      return make_error("header " + k + ": contains a line break (header injection)");
    }
  }
  std::random_device rd;
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  headers["Message-Id"] = "<" + std::to_string(now) + "." + std::to_string(rd()) + "@" + host + ">";
  headers["Date"] = rfc1123z(now);
  auto html = expand_or(html_x ? *html_x : x, c.html, default_email_html(d), d, "html");
  if (!html) return std::unexpected(html.error());
  auto text = expand_or(x, c.text, c.default_text ? default_email_text(d) : std::string(), d,
                        "text");
  if (!text) return std::unexpected(text.error());
  json j = {{"from", froms[0]}, {"to", tos}, {"headers", headers}, {"text", *text}, {"html", *html}};
  return j.dump();
}

}  // namespace ruleeval::notifiers::detail
