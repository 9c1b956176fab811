// Grafana alerting provisioning (contactPoints, policies, muteTimes, templates) onto the notifier.
// Settings keys follow Grafana's contact point settings (pkg/services/ngalert/notifier/channels_config
// and grafana/alerting receivers); each maps onto the Alertmanager receiver ruleeval implements.
// What has no counterpart is refused at file:line:col rather than accepted and ignored.
#include "ruleeval/notifiers/grafana_provisioning.hpp"

#include <yaml-cpp/yaml.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>  // memmem (GNU)
#include <set>

#include "fmt/format.h"
#include "ruleeval/parser/duration.hpp"
#include "payloads.hpp"
#include "ruleeval/notifiers/notification.hpp"
#include "ruleeval/rules/grafana_interpolate.hpp"

namespace ruleeval::notifiers {
namespace {

struct Fail {
  Error err;
};

class Decoder {
 public:
  Decoder(std::string file, const GrafanaSmtp& smtp) : file_(std::move(file)), smtp_(smtp) {}

  SourceLocation at(const YAML::Node& n) const {
    SourceLocation l;
    l.file = file_;
    const auto m = n.Mark();
    if (m.line >= 0) {
      l.line = static_cast<uint32_t>(m.line + 1);
      l.col = static_cast<uint32_t>(m.column + 1);
    }
    return l;
  }
  [[noreturn]] void fail(const YAML::Node& n, std::string msg) const {
    throw Fail{Error(std::move(msg), at(n))};
  }

  std::string str(const YAML::Node& n, std::string_view what) const {
    if (!n.IsScalar()) fail(n, fmt::format("{}: want a string", what));
    return n.Scalar();
  }
  bool boolean(const YAML::Node& n, std::string_view what) const {
    if (n.IsScalar()) {
      const std::string& s = n.Scalar();
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
    }
    fail(n, fmt::format("{}: want true or false", what));
  }
  Millis duration(const YAML::Node& n, std::string_view what) const {
    auto d = parse_duration(str(n, what));
    if (!d) fail(n, fmt::format("{}: invalid duration \"{}\"", what, n.Scalar()));
    return *d;
  }
  std::vector<std::string> strings(const YAML::Node& n, std::string_view what) const {
    std::vector<std::string> out;
    if (n.IsNull()) return out;
    if (!n.IsSequence()) fail(n, fmt::format("{}: want a list of strings", what));
    for (const auto& e : n) out.push_back(str(e, what));
    return out;
  }
  static bool empty(const YAML::Node& n) {
    return n.IsNull() || (n.IsScalar() && n.Scalar().empty()) ||
           ((n.IsSequence() || n.IsMap()) && n.size() == 0);
  }

  GrafanaNotifications decode(const YAML::Node& root) {
    GrafanaNotifications out;
    if (!root.IsMap()) return out;
    for (const auto& kv : root) {
      const std::string key = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      // Grafana interpolates the values of contact points and of the policy tree, not those
      // of templates or mute timings.
      if (key == "contactPoints" || key == "policies") interpolate_tree(v);
      if (key == "contactPoints") {
        if (!v.IsNull() && !v.IsSequence()) fail(v, "contactPoints: want a list");
        if (v.IsSequence()) {
          for (const auto& cp : v) contact_point(cp, out);
        }
      } else if (key == "policies") {
        if (!v.IsNull() && !v.IsSequence()) fail(v, "policies: want a list");
        if (v.IsSequence()) {
          if (v.size() > 1) {
            fail(v[1], "policies: only one notification policy tree per file (ruleeval runs one "
                       "organization)");
          }
          if (v.size() == 1) {
            if (!v[0].IsMap()) fail(v[0], "policies: want a mapping");
            out.route = route(v[0], true, out);
          }
        }
      } else if (key == "muteTimes") {
        if (!v.IsNull() && !v.IsSequence()) fail(v, "muteTimes: want a list");
        if (v.IsSequence()) {
          for (const auto& mt : v) mute_time(mt, out);
        }
      } else if (key == "templates") {
        if (!v.IsNull() && !v.IsSequence()) fail(v, "templates: want a list");
        if (v.IsSequence()) {
          for (const auto& t : v) {
            if (!t.IsMap()) fail(t, "templates: want a mapping");
            for (const auto& tkv : t) {
              const std::string k = tkv.first.Scalar();
              if (k != "orgId" && k != "name" && k != "template") {
                fail(tkv.first, fmt::format("field {} not found in type definitions.TemplateV1", k));
              }
            }
            if (!t["name"] || str(t["name"], "templates.name").empty()) {
              fail(t, "templates: a template needs a `name`");
            }
            if (t["template"]) out.template_defs += str(t["template"], "templates.template") + "\n";
          }
        }
      } else if (key == "deleteContactPoints" || key == "resetPolicies" ||
                 key == "deleteMuteTimes" || key == "deleteTemplates" ||
                 key == "deleteNotificationPolicies") {
        if (empty(v)) continue;
        fail(kv.first, fmt::format("`{}` deletes objects provisioned earlier in Grafana's "
                                   "database; ruleeval has no such database: remove the entries "
                                   "from the files instead",
                                   key));
      }
    }
    out.template_settings = std::move(template_settings_);
    return out;
  }

  // A settings value that holds a template, for check_grafana_templates.
  void note_template(const YAML::Node& n, const std::string& text) const {
    if (text.find("{{") != std::string::npos) template_settings_.emplace_back(text, at(n));
  }

 private:
  // $VAR, ${VAR}, $__env{VAR}, $__file{path} and $$ in every scalar value below `n`, once per
  // node (an alias shares its anchor's node: "$$X" must not become "$X" and then be expanded).
  void interpolate_tree(YAML::Node n) {
    if (n.IsScalar()) {
      if (!interpolated_.insert(&n.Scalar()).second) return;
      auto r = rules::grafana_interpolate(n.Scalar());
      if (!r) fail(n, r.error().message);
      if (*r != n.Scalar()) {
        raw_[&n.Scalar()] = n.Scalar();
        n = *r;
        interpolated_.insert(&n.Scalar());
      }
    } else if (n.IsSequence()) {
      for (auto e : n) interpolate_tree(e);
    } else if (n.IsMap()) {
      for (auto kv : n) interpolate_tree(kv.second);
    }
  }
  std::set<const std::string*> interpolated_;
  std::map<const std::string*, std::string> raw_;  // the text of interpolated scalars
  std::string raw_before_interpolation(const YAML::Node& n) const {
    auto it = raw_.find(&n.Scalar());
    return it == raw_.end() ? std::string() : it->second;
  }
  mutable std::vector<std::pair<std::string, SourceLocation>> template_settings_;

  void contact_point(const YAML::Node& cp, GrafanaNotifications& out) {
    if (!cp.IsMap()) fail(cp, "contactPoints: want a mapping");
    std::string name;
    YAML::Node receivers;
    for (const auto& kv : cp) {
      const std::string k = kv.first.Scalar();
      if (k == "name") {
        name = str(kv.second, "contactPoints.name");
      } else if (k == "receivers") {
        receivers = kv.second;
      } else if (k != "orgId") {
        fail(kv.first, fmt::format("field {} not found in type definitions.ContactPointV1", k));
      }
    }
    if (name.empty()) fail(cp, "a contact point needs a `name`");
    ReceiverConfig* rc = nullptr;
    for (auto& r : out.receivers) {
      if (r.name == name) rc = &r;
    }
    if (!rc) {
      out.receivers.emplace_back();
      rc = &out.receivers.back();
      rc->name = name;
      rc->where = at(cp);
    }
    if (!receivers || !receivers.IsSequence() || receivers.size() == 0) {
      fail(cp, fmt::format("contact point \"{}\" needs a non-empty `receivers` list", name));
    }
    for (const auto& r : receivers) integration(r, *rc);
  }

  // One integration of a contact point: {uid, type, settings, disableResolveMessage}.
  void integration(const YAML::Node& r, ReceiverConfig& rc) {
    if (!r.IsMap()) fail(r, "receivers: want a mapping");
    std::string type;
    YAML::Node settings;
    bool disable_resolve = false;
    for (const auto& kv : r) {
      const std::string k = kv.first.Scalar();
      if (k == "type") {
        type = str(kv.second, "type");
      } else if (k == "settings") {
        settings = kv.second;
      } else if (k == "disableResolveMessage") {
        disable_resolve = boolean(kv.second, "disableResolveMessage");
      } else if (k != "uid") {
        fail(kv.first, fmt::format("field {} not found in type definitions.ReceiverV1", k));
      }
    }
    if (type.empty()) fail(r, "a contact point receiver needs a `type`");
    if (!settings || settings.IsNull()) settings = YAML::Node(YAML::NodeType::Map);
    if (!settings.IsMap()) fail(settings, "settings: want a mapping");
    Settings s(*this, settings, type);
    const bool send_resolved = !disable_resolve;
    if (type == "webhook") {
      WebhookConfig w;
      w.send_resolved = send_resolved;
      w.url = s.required("url");
      if (auto m = s.opt("httpMethod"); m && *m != "POST") {
        s.fail_key("httpMethod", "only POST is supported (Alertmanager's webhook)");
      }
      if (auto u = s.opt("username")) w.http.basic_user = *u;
      if (auto p = s.opt("password")) w.http.basic_password = *p;
      if (auto sch = s.opt("authorization_scheme")) w.http.authorization_type = *sch;
      if (auto c = s.opt("authorization_credentials")) w.http.bearer_token = *c;
      if (!w.http.basic_user.empty() && !w.http.bearer_token.empty()) {
        s.fail_key("authorization_credentials",
                   "set either username/password or authorization_credentials, not both");
      }
      for (const char* key : {"title", "message"}) {
        if (s.opt(key)) {
          s.fail_key(key, "Grafana adds it to its own webhook payload; ruleeval's webhook sends "
                          "Alertmanager's payload (version 4), which has no such field: remove "
                          "the setting");
        }
      }
      if (auto m = s.opt("maxAlerts")) {
        try {
          w.max_alerts = std::stoull(*m);
        } catch (const std::exception&) {
          s.fail_key("maxAlerts", "want a number");
        }
      }
      s.done();
      rc.webhook.push_back(std::move(w));
    } else if (type == "prometheus-alertmanager") {
      const std::string urls = s.required("url");
      std::string user = s.opt("basicAuthUser").value_or("");
      std::string password = s.opt("basicAuthPassword").value_or("");
      s.done();
      size_t start = 0;
      while (start <= urls.size()) {
        size_t comma = urls.find(',', start);
        std::string u = urls.substr(start, comma == std::string::npos ? std::string::npos
                                                                      : comma - start);
        u.erase(0, u.find_first_not_of(" \t"));
        u.erase(u.find_last_not_of(" \t/") + 1);
        if (!u.empty()) {
          AlertmanagerConfig a;
          a.send_resolved = send_resolved;
          a.url = u;
          a.http.basic_user = user;
          a.http.basic_password = password;
          rc.alertmanager.push_back(std::move(a));
        }
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else if (type == "slack") {
      SlackConfig c;
      c.send_resolved = send_resolved;
      c.runbook_buttons = false;
      auto url = s.opt("url");
      auto token = s.opt("token");
      if (url && token) s.fail_key("token", "set either url (incoming webhook) or token, not both");
      if (!url && !token) s.fail_missing("url or token");
      // endpointUrl: the Web API endpoint Grafana posts to with a token (with an incoming
      // webhook url Grafana does not use it either).
      const std::string endpoint =
          s.opt("endpointUrl").value_or("https://slack.com/api/chat.postMessage");
      if (url) {
        c.api_url = *url;
      } else {
        c.api_url = endpoint;
        c.http.bearer_token = *token;
      }
      if (auto v = s.opt("recipient")) c.channel = *v;
      if (token && c.channel.empty()) s.fail_missing("recipient (a channel, with token)");
      if (auto v = s.opt("username")) c.username = *v;
      if (auto v = s.opt("icon_emoji")) c.icon_emoji = *v;
      if (auto v = s.opt("icon_url")) c.icon_url = *v;
      c.title = s.opt("title").value_or(R"({{ template "default.title" . }})");
      if (auto v = s.opt("text")) c.text = *v;
      if (auto v = s.opt("color")) c.color = *v;
      // Mentions, as Grafana writes them: in the attachment's pretext, rendered as mrkdwn.
      std::string mentions;
      const std::string channel = s.opt("mentionChannel").value_or("");
      if (!channel.empty()) {
        if (channel != "here" && channel != "channel") {
          s.fail_key("mentionChannel",
                     fmt::format("invalid value for mentionChannel: \"{}\" (here or channel)",
                                 channel));
        }
        mentions += fmt::format("<!{}|{}>", channel, channel);
      }
      for (auto [key, fmt_one] : {std::pair{"mentionGroups", "<!subteam^{}>"},
                                  {"mentionUsers", "<@{}>"}}) {
        std::string part;
        for (const auto& id : comma_list(s.opt(key).value_or(""))) {
          part += fmt::format(fmt::runtime(fmt_one), id);
        }
        if (!part.empty()) mentions += (mentions.empty() ? "" : " ") + part;
      }
      if (!mentions.empty()) {
        c.pretext = mentions;
        c.mrkdwn_in = std::vector<std::string>{"pretext"};
      }
      // Grafana links the title to its alert rule list.
      c.title_link = R"({{ .ExternalURL }}/alerting/list)";
      s.done();
      rc.slack.push_back(std::move(c));
    } else if (type == "pagerduty") {
      PagerDutyConfig c;
      c.send_resolved = send_resolved;
      c.runbook_links = false;
      c.routing_key = s.required("integrationKey");
      // Grafana's defaults (receivers/pagerduty/v1/config.go) for what the file leaves out.
      // Severity: lower-cased, and one PagerDuty does not know becomes "critical" (a literal is
      // resolved here; a template is mapped at send time by the notifier, where an unknown value
      // becomes "error").
      c.severity = s.opt("severity").value_or("critical");
      if (c.severity.find("{{") == std::string::npos) {
        for (auto& ch : c.severity) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (c.severity != "critical" && c.severity != "error" && c.severity != "warning" &&
            c.severity != "info") {
          c.severity = "critical";
        }
        c.map_severity = false;
      }
      c.class_ = s.opt("class").value_or("default");
      c.component = s.opt("component").value_or("Grafana");
      c.group = s.opt("group").value_or("default");
      c.description = s.opt("summary").value_or(R"({{ template "default.title" . }})");
      c.client = s.opt("client").value_or("Grafana");
      c.client_url = s.opt("client_url").value_or("{{ .ExternalURL }}");
      if (auto v = s.opt("source")) {
        c.source = *v;
      } else {
        char host[256] = {};
        c.source = ::gethostname(host, sizeof host - 1) == 0 && host[0] ? host : c.client;
      }
      if (auto v = s.opt("url")) c.url = *v;
      c.links.push_back({"{{ .ExternalURL }}", "External URL"});
      if (YAML::Node d = s.take("details"); d && !d.IsNull()) {
        if (!d.IsMap()) fail(d, "details: want a mapping of strings");
        // Grafana merges them over its default details.
        c.details = {
            {"firing", R"({{ template "pagerduty.default.instances" .Alerts.Firing }})"},
            {"num_firing", "{{ .Alerts.Firing | len }}"},
            {"num_resolved", "{{ .Alerts.Resolved | len }}"},
            {"resolved", R"({{ template "pagerduty.default.instances" .Alerts.Resolved }})"}};
        for (const auto& kv : d) c.details[kv.first.Scalar()] = str(kv.second, "details");
      }
      s.done();
      rc.pagerduty.push_back(std::move(c));
    } else if (type == "email") {
      std::string addresses = s.required("addresses");
      bool single = false;
      if (YAML::Node v = s.take("singleEmail"); v && !v.IsNull()) {
        single = boolean(v, "singleEmail");
      }
      std::optional<std::string> subject = s.opt("subject");
      if (s.opt("message")) {
        s.fail_key("message", "Grafana renders it into its own HTML email template; ruleeval "
                              "sends Alertmanager's email template: remove the setting");
      }
      s.done();
      if (smtp_.smarthost.empty() || smtp_.from.empty()) {
        fail(r, "an email contact point needs the SMTP server: set global.smtp_smarthost and "
                "global.smtp_from in ruleeval.yaml (Grafana reads them from grafana.ini [smtp])");
      }
      std::vector<std::string> list;
      std::string cur;
      for (char ch : addresses + ";") {
        if (ch == ';' || ch == ',' || ch == '\n') {
          cur.erase(0, cur.find_first_not_of(" \t\r"));
          cur.erase(cur.find_last_not_of(" \t\r") + 1);
          if (!cur.empty()) list.push_back(cur);
          cur.clear();
        } else {
          cur += ch;
        }
      }
      if (list.empty()) s.fail_missing("addresses");
      auto make = [&](std::string to) {
        EmailConfig e;
        e.send_resolved = send_resolved;
        e.to = std::move(to);
        e.from = smtp_.from;
        e.smarthost = smtp_.smarthost;
        e.hello = smtp_.hello;
        e.auth_username = smtp_.auth_username;
        e.auth_password = smtp_.auth_password;
        e.require_tls = smtp_.require_tls;
        if (subject) e.headers["Subject"] = *subject;
        rc.email.push_back(std::move(e));
      };
      if (single) {
        std::string joined;
        for (const auto& a : list) joined += (joined.empty() ? "" : ", ") + a;
        make(joined);
      } else {
        for (const auto& a : list) make(a);
      }
    } else if (!more_types(type, s, rc, send_resolved)) {
      refuse_type(r, type);
    }
  }

  // The settings of one integration: every key must be taken, or it is refused.
  class Settings {
   public:
    Settings(const Decoder& d, const YAML::Node& n, std::string type)
        : d_(d), n_(n), type_(std::move(type)) {}
    YAML::Node take(const std::string& key) {
      taken_.insert(key);
      return n_[key];
    }
    std::optional<std::string> opt(const std::string& key) {
      YAML::Node v = take(key);
      if (!v || v.IsNull()) return std::nullopt;
      std::string s = d_.str(v, key);
      if (s == "[REDACTED]") {
        d_.fail(v, fmt::format("settings.{} is \"[REDACTED]\" (a secret left out of an export): "
                               "put the real value in the file",
                               key));
      }
      if (s.empty()) return std::nullopt;
      d_.note_template(v, s);
      return s;
    }
    std::string required(const std::string& key) {
      auto v = opt(key);
      if (!v) {
        // Empty because of the interpolation: say which text became empty.
        if (YAML::Node n = n_[key]; n && n.IsScalar()) {
          if (auto raw = d_.raw_before_interpolation(n); !raw.empty()) {
            d_.fail(n, fmt::format("{} contact point: settings.{} is empty after interpolating "
                                   "\"{}\" (an environment variable that is not set?)",
                                   type_, key, raw));
          }
        }
        fail_missing(key);
      }
      return *v;
    }
    [[noreturn]] void fail_missing(const std::string& what) {
      d_.fail(n_, fmt::format("{} contact point: settings.{} is required", type_, what));
    }
    [[noreturn]] void fail_key(const std::string& key, const std::string& why) {
      d_.fail(n_[key] ? n_[key] : n_, fmt::format("{} contact point: settings.{}: {}", type_, key, why));
    }
    void done() {
      for (const auto& kv : n_) {
        const std::string k = kv.first.Scalar();
        if (taken_.contains(k)) continue;
        if (empty(kv.second) || (kv.second.IsScalar() && kv.second.Scalar() == "false")) continue;
        d_.fail(kv.first, fmt::format("{} contact point: settings.{} is not supported by "
                                      "ruleeval's notifier",
                                      type_, k));
      }
    }

   private:
    const Decoder& d_;
    YAML::Node n_;
    std::string type_;
    std::set<std::string> taken_;
  };

  // Grafana's contact point types that have an Alertmanager counterpart in the notifier, with
  // Grafana's settings names (grafana/alerting receivers/<type>/v1/config.go) and, where the
  // counterpart's fields allow it, what Grafana's notifier sends. A setting with no counterpart
  // is refused (Settings::done or an explicit refusal), never accepted and ignored.
  bool more_types(const std::string& type, Settings& s, ReceiverConfig& rc, bool send_resolved) {
    if (type == "opsgenie") {
      OpsGenieConfig c;
      c.api_key = s.required("apiKey");
      // Grafana posts to apiUrl itself (default https://api.opsgenie.com/v2/alerts); the
      // notifier appends v2/alerts to a base URL.
      std::string url = s.opt("apiUrl").value_or("https://api.opsgenie.com/v2/alerts");
      while (!url.empty() && url.back() == '/') url.pop_back();
      constexpr std::string_view kAlerts = "/v2/alerts";
      if (!url.ends_with(kAlerts) || url.size() == kAlerts.size()) {
        s.fail_key("apiUrl", fmt::format("\"{}\" does not end with /v2/alerts (OpsGenie's alert "
                                         "API, which ruleeval's OpsGenie notifier calls)",
                                         url));
      }
      c.api_url = url.substr(0, url.size() - kAlerts.size() + 1);
      c.message = s.opt("message").value_or(R"({{ template "default.title" . }})");
      c.description =
          s.opt("description").value_or(R"({{ template "opsgenie.default.description" . }})");
      c.source = "Grafana";
      bool auto_close = true, override_priority = true;
      if (YAML::Node v = s.take("autoClose"); v && !v.IsNull()) auto_close = boolean(v, "autoClose");
      if (YAML::Node v = s.take("overridePriority"); v && !v.IsNull()) {
        override_priority = boolean(v, "overridePriority");
      }
      const std::string send_as = s.opt("sendTagsAs").value_or("tags");
      if (send_as != "tags" && send_as != "details" && send_as != "both") {
        s.fail_key("sendTagsAs", fmt::format("invalid value for sendTagsAs: \"{}\" (tags, "
                                             "details or both)",
                                             send_as));
      }
      // Grafana: tags are the common labels as "name:value", sorted; details always hold the
      // rule list URL (the notifier adds the common labels to details in every mode).
      if (send_as != "details") {
        c.tags = R"({{ range .CommonLabels.SortedPairs }}{{ .Name }}:{{ .Value }},{{ end }})";
      }
      c.details["url"] = R"({{ .ExternalURL }}/alerting/list)";
      if (override_priority) {
        c.priority =
            R"({{ with .CommonLabels.og_priority }}{{ if or (eq . "P1") (eq . "P2") (eq . "P3") (eq . "P4") (eq . "P5") }}{{ . }}{{ end }}{{ end }})";
      }
      // autoClose false: Grafana sends nothing when the group resolves.
      c.send_resolved = send_resolved && auto_close;
      if (YAML::Node rs = s.take("responders"); rs && !rs.IsNull()) {
        if (!rs.IsSequence()) fail(rs, "opsgenie contact point: settings.responders: want a list");
        size_t idx = 0;
        for (const auto& rn : rs) {
          if (!rn.IsMap()) fail(rn, "opsgenie contact point: settings.responders: want a mapping");
          OpsGenieConfig::Responder r;
          for (const auto& kv : rn) {
            const std::string k = kv.first.Scalar();
            std::string* field = k == "id"         ? &r.id
                                 : k == "name"     ? &r.name
                                 : k == "username" ? &r.username
                                 : k == "type"     ? &r.type
                                                   : nullptr;
            if (!field) {
              fail(kv.first, fmt::format("opsgenie contact point: responders[{}].{} is not a "
                                         "responder field (id, name, username, type)",
                                         idx, k));
            }
            if (!kv.second.IsNull()) *field = str(kv.second, "responders." + k);
          }
          if (r.id.empty() && r.name.empty() && r.username.empty()) {
            fail(rn, fmt::format("responder at index [{}] must have at least one of id, username "
                                 "or name specified",
                                 idx));
          }
          if (r.type.find("{{") == std::string::npos) {
            for (auto& ch : r.type) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            if (r.type != "team" && r.type != "teams" && r.type != "user" &&
                r.type != "escalation" && r.type != "schedule") {
              fail(rn, fmt::format("responder at index [{}] has unsupported type. Supported only: "
                                   "team,teams,user,escalation,schedule",
                                   idx));
            }
          }
          if (r.type == "teams" && r.name.empty()) {
            fail(rn, fmt::format("responder at index [{}] has type 'teams' but empty name. Must "
                                 "be comma-separated string of names",
                                 idx));
          }
          c.responders.push_back(std::move(r));
          ++idx;
        }
      }
      s.done();
      rc.opsgenie.push_back(std::move(c));
      return true;
    }
    if (type == "victorops") {
      VictorOpsConfig c;
      c.send_resolved = send_resolved;
      // Grafana's url is the REST endpoint with the API key and routing key as its last two
      // path segments: .../alert/<api key>/<routing key>.
      const std::string url = s.required("url");
      const size_t scheme = url.find("://");
      const size_t last = url.find_last_of('/');
      const size_t prev = last == std::string::npos || last == 0 ? std::string::npos
                                                                  : url.find_last_of('/', last - 1);
      if (scheme == std::string::npos || prev == std::string::npos || prev <= scheme + 2 ||
          last + 1 >= url.size() || prev + 1 >= last) {
        s.fail_key("url", "want VictorOps's REST endpoint URL ending in /<api key>/<routing key>");
      }
      c.api_url = url.substr(0, prev + 1);
      c.api_key = url.substr(prev + 1, last - prev - 1);
      c.routing_key = url.substr(last + 1);
      std::string mt = s.opt("messageType").value_or("CRITICAL");
      for (auto& ch : mt) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      c.message_type = mt;
      c.entity_display_name = s.opt("title").value_or(R"({{ template "default.title" . }})");
      c.state_message =
          s.opt("description").value_or(R"({{ template "victorops.default.state_message" . }})");
      c.monitoring_tool = R"({{ template "victorops.default.monitoring_tool" . }})";
      c.custom_fields["alert_url"] = R"({{ .ExternalURL }}/alerting/list)";
      s.done();
      rc.victorops.push_back(std::move(c));
      return true;
    }
    if (type == "pushover") {
      PushoverConfig c;
      c.send_resolved = send_resolved;
      c.user_key = s.required("userKey");
      c.token = s.required("apiToken");
      auto number = [&](const char* key) -> std::optional<int64_t> {
        auto v = s.opt(key);
        if (!v) return std::nullopt;
        try {
          size_t used = 0;
          const int64_t n = std::stoll(*v, &used);
          if (used == v->size()) return n;
        } catch (const std::exception&) {
        }
        s.fail_key(key, fmt::format("\"{}\" is not an integer", *v));
      };
      const int64_t prio = number("priority").value_or(0);
      const int64_t ok_prio = number("okPriority").value_or(0);
      for (auto [key, p] : {std::pair{"priority", prio}, {"okPriority", ok_prio}}) {
        if (p < -2 || p > 2) s.fail_key(key, "want a Pushover priority from -2 to 2");
      }
      c.priority = fmt::format(R"({{{{ if eq .Status "firing" }}}}{}{{{{ else }}}}{}{{{{ end }}}})",
                               prio, ok_prio);
      if (auto r = number("retry")) c.retry_s = *r;
      if (auto e = number("expire")) c.expire_s = *e;
      const std::string sound = s.opt("sound").value_or("");
      const std::string ok_sound = s.opt("okSound").value_or("");
      if (!sound.empty() || !ok_sound.empty()) {
        c.sound = fmt::format(R"({{{{ if eq .Status "firing" }}}}{}{{{{ else }}}}{}{{{{ end }}}})",
                              sound, ok_sound);
      }
      if (s.opt("device")) {
        s.fail_key("device", "ruleeval's Pushover notifier (Alertmanager 0.25's) sends to all of "
                             "the user's devices; remove the setting");
      }
      // Alert images: ruleeval has none, so Grafana would attach none either.
      if (YAML::Node v = s.take("uploadImage"); v && !v.IsNull()) (void)boolean(v, "uploadImage");
      c.title = s.opt("title").value_or(R"({{ template "default.title" . }})");
      c.message = s.opt("message").value_or(R"({{ template "pushover.default.message" . }})");
      // As Grafana: a link to the alert rules, HTML messages.
      c.url = R"({{ .ExternalURL }}/alerting/list)";
      c.url_title = "Show alert rule";
      c.html = true;
      s.done();
      rc.pushover.push_back(std::move(c));
      return true;
    }
    if (type == "telegram") {
      TelegramConfig c;
      c.send_resolved = send_resolved;
      c.bot_token = s.required("bottoken");
      const std::string chat = s.required("chatid");
      try {
        size_t used = 0;
        c.chat_id = std::stoll(chat, &used);
        if (used != chat.size()) throw std::invalid_argument(chat);
      } catch (const std::exception&) {
        s.fail_key("chatid", fmt::format("\"{}\" is not an integer chat id", chat));
      }
      if (s.opt("message_thread_id")) {
        s.fail_key("message_thread_id", "ruleeval's Telegram notifier (Alertmanager 0.25's) "
                                        "cannot post into a forum topic");
      }
      c.message = s.opt("message").value_or(R"({{ template "telegram.default.message" . }})");
      const std::string mode = s.opt("parse_mode").value_or("HTML");
      auto lower = [](std::string x) {
        for (auto& ch : x) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        return x;
      };
      if (lower(mode) == "html") {
        c.parse_mode = "HTML";
      } else if (lower(mode) == "markdown") {
        c.parse_mode = "Markdown";
      } else if (lower(mode) == "markdownv2") {
        c.parse_mode = "MarkdownV2";
      } else if (lower(mode) == "none") {
        c.parse_mode.clear();
      } else {
        s.fail_key("parse_mode", "unknown parse_mode, must be Markdown, MarkdownV2, HTML or None");
      }
      if (YAML::Node v = s.take("disable_notifications"); v && !v.IsNull()) {
        c.disable_notifications = boolean(v, "disable_notifications");
      }
      if (YAML::Node v = s.take("disable_web_page_preview"); v && !v.IsNull()) {
        (void)boolean(v, "disable_web_page_preview");  // the notifier always disables previews
      }
      if (YAML::Node v = s.take("protect_content"); v && !v.IsNull() && boolean(v, "protect_content")) {
        s.fail_key("protect_content", "ruleeval's Telegram notifier (Alertmanager 0.25's) cannot "
                                      "protect message content");
      }
      s.done();
      rc.telegram.push_back(std::move(c));
      return true;
    }
    if (type == "discord") {
      DiscordConfig c;
      c.send_resolved = send_resolved;
      c.webhook_url = s.required("url");
      c.title = s.opt("title").value_or(R"({{ template "default.title" . }})");
      c.message = s.opt("message").value_or(R"({{ template "discord.default.message" . }})");
      if (s.opt("avatar_url")) {
        s.fail_key("avatar_url", "ruleeval's Discord notifier (Alertmanager 0.25's) posts with "
                                 "the webhook's own avatar");
      }
      // The notifier always posts as the webhook's own user with the message in the embed: what
      // Grafana does with these two set to true.
      for (const char* key : {"use_discord_username", "use_embed_description"}) {
        if (YAML::Node v = s.take(key); v && !v.IsNull() && !boolean(v, key)) {
          s.fail_key(key, "false is not supported: ruleeval's Discord notifier (Alertmanager "
                          "0.25's) posts as the webhook's user with the message inside the embed "
                          "(set it to true)");
        }
      }
      s.done();
      rc.discord.push_back(std::move(c));
      return true;
    }
    if (type == "webex") {
      WebexConfig c;
      c.send_resolved = send_resolved;
      c.api_url = s.opt("api_url").value_or("https://webexapis.com/v1/messages");
      c.room_id = s.required("room_id");
      c.http.authorization_type = "Bearer";
      c.http.bearer_token = s.required("bot_token");
      c.message = s.opt("message").value_or(R"({{ template "webex.default.message" . }})");
      s.done();
      rc.webex.push_back(std::move(c));
      return true;
    }
    if (type == "sns") {
      SnsConfig c;
      c.send_resolved = send_resolved;
      if (auto v = s.opt("api_url")) c.api_url = *v;
      if (auto v = s.opt("topic_arn")) c.topic_arn = *v;
      if (auto v = s.opt("phone_number")) c.phone_number = *v;
      if (auto v = s.opt("target_arn")) c.target_arn = *v;
      for (auto [key, arn] : {std::pair{"topic_arn", &c.topic_arn}, {"target_arn", &c.target_arn}}) {
        if (!arn->empty() && (!arn->starts_with("arn:") ||
                              std::count(arn->begin(), arn->end(), ':') < 5)) {
          s.fail_key(key, fmt::format("invalid {} ARN provided", key == std::string("topic_arn")
                                                                     ? "topic"
                                                                     : "target"));
        }
      }
      if (c.topic_arn.empty() && c.target_arn.empty() && c.phone_number.empty()) {
        s.fail_missing("topic_arn, target_arn or phone_number");
      }
      c.subject = s.opt("subject").value_or(R"({{ template "default.title" . }})");
      c.message = s.opt("message").value_or(R"({{ template "sns.default.message" . }})");
      if (YAML::Node a = s.take("attributes"); a && !a.IsNull()) {
        if (!a.IsMap()) fail(a, "sns contact point: settings.attributes: want a mapping");
        for (const auto& kv : a) c.attributes[kv.first.Scalar()] = str(kv.second, "attributes");
      }
      if (YAML::Node v = s.take("sigv4"); v && !v.IsNull()) {
        if (!v.IsMap()) fail(v, "sns contact point: settings.sigv4: want a mapping");
        for (const auto& kv : v) {
          const std::string k = kv.first.Scalar();
          const std::string val = kv.second.IsNull() ? "" : str(kv.second, "sigv4." + k);
          if (k == "region") {
            c.region = val;
          } else if (k == "access_key") {
            c.access_key = val;
          } else if (k == "secret_key") {
            c.secret_key = val;
          } else if (k == "profile") {
            c.profile = val;
          } else if (k == "role_arn") {
            c.role_arn = val;
          } else {
            fail(kv.first, fmt::format("sns contact point: settings.sigv4.{} is not a SigV4 "
                                       "setting (region, access_key, secret_key, profile, "
                                       "role_arn)",
                                       k));
          }
        }
        if (c.access_key.empty() != c.secret_key.empty()) {
          fail(v, "sns contact point: must specify both access key and secret key");
        }
      }
      s.done();
      rc.sns.push_back(std::move(c));
      return true;
    }
    if (type == "wecom") {
      if (s.opt("url")) {
        s.fail_key("url", "WeCom group robots (a webhook URL) are not implemented by ruleeval's "
                          "notifier; its WeChat notifier is the API application (corp_id, "
                          "secret, agent_id)");
      }
      WechatConfig c;
      c.send_resolved = send_resolved;
      c.api_secret = s.required("secret");
      c.corp_id = s.required("corp_id");
      c.agent_id = s.required("agent_id");
      std::string endpoint = s.opt("endpointUrl").value_or("https://qyapi.weixin.qq.com");
      while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
      c.api_url = endpoint + "/cgi-bin/";
      c.to_user = s.opt("touser").value_or("@all");
      std::string msgtype = s.opt("msgtype").value_or("markdown");
      if (msgtype != "markdown" && msgtype != "text") msgtype = "markdown";  // as Grafana
      c.message_type = msgtype;
      const std::string title =
          s.opt("title").value_or(R"({{ template "default.title" . }})");
      const std::string message =
          s.opt("message").value_or(R"({{ template "wechat.default.message" . }})");
      // Grafana's content: "# title\nmessage\n" in markdown, "title\nmessage" in text.
      c.message = msgtype == "markdown" ? "# " + title + "\n" + message + "\n"
                                        : title + "\n" + message;
      s.done();
      rc.wechat.push_back(std::move(c));
      return true;
    }
    return false;
  }

  // Grafana's CommaSeparatedStrings: split at ',', trimmed, empty items dropped.
  static std::vector<std::string> comma_list(const std::string& text) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= text.size()) {
      size_t comma = text.find(',', start);
      std::string item = text.substr(start, comma == std::string::npos ? std::string::npos
                                                                       : comma - start);
      item.erase(0, item.find_first_not_of(" \t\r\n"));
      item.erase(item.find_last_not_of(" \t\r\n") + 1);
      if (!item.empty()) out.push_back(std::move(item));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return out;
  }

  // A type with no counterpart in the notifier: refused, naming it.
  [[noreturn]] void refuse_type(const YAML::Node& r, const std::string& type) const {
    static const std::set<std::string> kGrafana = {
        "googlechat", "teams", "line", "LINE", "threema", "kafka", "sensugo", "oncall",
        "dingding", "jira", "mqtt", "dooray", "jsm"};
    std::string why = "ruleeval's notifier has no integration for it";
    if (type == "teams") {
      why = "Microsoft Teams is not mapped yet";
    } else if (!kGrafana.contains(type)) {
      why = "not a Grafana contact point type ruleeval knows";
    }
    fail(r, fmt::format("contact point type \"{}\" is not supported by ruleeval's notifier ({}; "
                        "supported: email, webhook, slack, pagerduty, prometheus-alertmanager, "
                        "opsgenie, victorops, pushover, telegram, discord, webex, sns, wecom)",
                        type, why));
  }

  RouteConfig route(const YAML::Node& n, bool root, GrafanaNotifications& out) {
    RouteConfig r;
    r.where = at(n);
    for (const auto& kv : n) {
      const std::string k = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      if (k == "receiver") {
        r.receiver = str(v, "receiver");
      } else if (k == "group_by") {
        r.group_by_set = true;
        for (const auto& l : strings(v, "group_by")) {
          if (l == "...") {
            r.group_by_all = true;
          } else {
            r.group_by.push_back(l);
          }
        }
      } else if (k == "group_wait") {
        r.group_wait = duration(v, k);
      } else if (k == "group_interval") {
        r.group_interval = duration(v, k);
        if (*r.group_interval == 0) fail(v, "group_interval cannot be zero");
      } else if (k == "repeat_interval") {
        r.repeat_interval = duration(v, k);
        if (*r.repeat_interval == 0) fail(v, "repeat_interval cannot be zero");
      } else if (k == "continue") {
        if (root && boolean(v, k)) fail(v, "cannot have continue in root route");
        r.continue_ = boolean(v, k);
      } else if (k == "object_matchers") {
        if (v.IsNull()) continue;
        if (!v.IsSequence()) fail(v, "object_matchers: want a list of [name, op, value]");
        for (const auto& m : v) {
          if (!m.IsSequence() || m.size() != 3) {
            fail(m, "object_matchers: each matcher is [name, op, value]");
          }
          const std::string op = str(m[1], "object_matchers");
          MatchOp mo;
          if (op == "=") {
            mo = MatchOp::kEqual;
          } else if (op == "!=") {
            mo = MatchOp::kNotEqual;
          } else if (op == "=~") {
            mo = MatchOp::kRegex;
          } else if (op == "!~") {
            mo = MatchOp::kNotRegex;
          } else {
            fail(m[1], fmt::format("object_matchers: unknown operator \"{}\"", op));
          }
          auto made = Matcher::make(str(m[0], "object_matchers"), mo, str(m[2], "object_matchers"));
          if (!made) fail(m, "object_matchers: " + made.error().message);
          r.matchers.push_back(std::move(*made));
        }
      } else if (k == "matchers") {
        for (const auto& text : strings(v, k)) {
          auto ms = parse_matchers(text);
          if (!ms) fail(v, "matchers: " + ms.error().message);
          for (auto& m : *ms) r.matchers.push_back(std::move(m));
        }
      } else if (k == "match" || k == "match_re") {
        if (v.IsNull()) continue;
        if (!v.IsMap()) fail(v, fmt::format("{}: want a mapping", k));
        for (const auto& m : v) {
          auto made = Matcher::make(m.first.Scalar(), k == "match" ? MatchOp::kEqual : MatchOp::kRegex,
                                    str(m.second, k));
          if (!made) fail(m.second, k + ": " + made.error().message);
          r.matchers.push_back(std::move(*made));
        }
      } else if (k == "mute_time_intervals" || k == "active_time_intervals") {
        if (root) fail(kv.first, fmt::format("root route must not have any {}", k));
        auto names = strings(v, k);
        for (const auto& nm : names) out.interval_refs.emplace_back(nm, at(v));
        (k == "mute_time_intervals" ? r.mute_time_intervals : r.active_time_intervals) = names;
      } else if (k == "routes") {
        if (v.IsNull()) continue;
        if (!v.IsSequence()) fail(v, "routes: want a list");
        for (const auto& c : v) {
          if (!c.IsMap()) fail(c, "routes: want a mapping");
          r.routes.push_back(route(c, false, out));
        }
      } else if ((root && k == "orgId") || k == "provenance") {
        // bookkeeping
      } else {
        fail(kv.first, fmt::format("field {} not found in type definitions.Route", k));
      }
    }
    if (root) {
      if (r.receiver.empty()) fail(n, "root route must specify a default receiver");
      if (!r.matchers.empty()) fail(n, "root route must not have any matchers");
    }
    return r;
  }

  void mute_time(const YAML::Node& mt, GrafanaNotifications& out) {
    if (!mt.IsMap()) fail(mt, "muteTimes: want a mapping");
    std::string name;
    YAML::Node intervals;
    for (const auto& kv : mt) {
      const std::string k = kv.first.Scalar();
      if (k == "name") {
        name = str(kv.second, "name");
      } else if (k == "time_intervals") {
        intervals = kv.second;
      } else if (k != "orgId") {
        fail(kv.first, fmt::format("field {} not found in type definitions.MuteTimeIntervalV1", k));
      }
    }
    if (name.empty()) fail(mt, "a mute time needs a `name`");
    if (out.time_intervals.contains(name)) fail(mt, fmt::format("mute time \"{}\" is defined twice", name));
    auto& list = out.time_intervals[name];
    if (!intervals || intervals.IsNull()) return;
    if (!intervals.IsSequence()) fail(intervals, "time_intervals: want a list");
    for (const auto& ti : intervals) list.push_back(time_interval(ti));
  }

  // Alertmanager's timeinterval.TimeInterval (Grafana uses the same type).
  TimeInterval time_interval(const YAML::Node& n) {
    if (!n.IsMap()) fail(n, "time_intervals: want a mapping");
    TimeInterval ti;
    auto lower = [](std::string s) {
      for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return s;
    };
    static const char* kDays[] = {"sunday", "monday", "tuesday", "wednesday",
                                  "thursday", "friday", "saturday"};
    static const char* kMonths[] = {"january", "february", "march", "april",
                                    "may", "june", "july", "august",
                                    "september", "october", "november", "december"};
    auto integer = [&](const YAML::Node& at_node, const std::string& s, int lo, int hi,
                       std::string_view what) {
      int v = 0;
      try {
        size_t used = 0;
        v = std::stoi(s, &used);
        if (used != s.size()) throw std::invalid_argument(s);
      } catch (const std::exception&) {
        fail(at_node, fmt::format("{}: invalid value \"{}\"", what, s));
      }
      if (v < lo || v > hi || v == 0) {
        fail(at_node, fmt::format("{}: {} is out of range", what, s));
      }
      return v;
    };
    auto ranges = [&](const char* key, auto one) {
      std::optional<std::vector<TimeInterval::Range>> out;
      YAML::Node l = n[key];
      if (!l || l.IsNull()) return out;
      out.emplace();
      for (const auto& e : l.IsSequence() ? l : YAML::Node(YAML::NodeType::Sequence)) {
        const std::string s = lower(str(e, key));
        const auto c = s.find(':', s[0] == '-' ? 1 : 0);
        TimeInterval::Range r;
        r.begin = one(e, c == std::string::npos ? s : s.substr(0, c));
        r.end = c == std::string::npos ? r.begin : one(e, s.substr(c + 1));
        out->push_back(r);
      }
      if (!l.IsSequence()) fail(l, fmt::format("{}: want a list", key));
      return out;
    };
    for (const auto& kv : n) {
      const std::string k = kv.first.Scalar();
      if (k != "times" && k != "weekdays" && k != "days_of_month" && k != "months" &&
          k != "years" && k != "location") {
        fail(kv.first, fmt::format("field {} not found in type timeinterval.plain", k));
      }
    }
    ti.weekdays = ranges("weekdays", [&](const YAML::Node& e, const std::string& s) {
      for (int i = 0; i < 7; ++i) {
        if (s == kDays[i]) return i;
      }
      fail(e, fmt::format("weekdays: {} is not a valid weekday", s));
    });
    ti.days_of_month = ranges("days_of_month", [&](const YAML::Node& e, const std::string& s) {
      return integer(e, s, -31, 31, "days_of_month");
    });
    ti.months = ranges("months", [&](const YAML::Node& e, const std::string& s) {
      for (int i = 0; i < 12; ++i) {
        if (s == kMonths[i]) return i + 1;
      }
      return integer(e, s, 1, 12, "months");
    });
    ti.years = ranges("years", [&](const YAML::Node& e, const std::string& s) {
      return integer(e, s, 1, 9999, "years");
    });
    if (YAML::Node t = n["times"]; t && !t.IsNull()) {
      if (!t.IsSequence()) fail(t, "times: want a list of {start_time, end_time}");
      ti.times.emplace();
      for (const auto& e : t) {
        auto minutes = [&](const YAML::Node& v, std::string_view what) {
          if (!v) fail(e, fmt::format("times: {} is required", what));
          const std::string s = str(v, what);
          if (s.size() != 5 || s[2] != ':' || !std::isdigit(static_cast<unsigned char>(s[0])) ||
              !std::isdigit(static_cast<unsigned char>(s[1])) ||
              !std::isdigit(static_cast<unsigned char>(s[3])) ||
              !std::isdigit(static_cast<unsigned char>(s[4]))) {
            fail(v, fmt::format("couldn't parse timestamp {}, invalid format", s));
          }
          const int h = std::stoi(s.substr(0, 2));
          const int m = std::stoi(s.substr(3, 2));
          if (h > 24 || m > 59 || (h == 24 && m != 0)) {
            fail(v, fmt::format("couldn't parse timestamp {}, invalid format", s));
          }
          return h * 60 + m;
        };
        TimeInterval::Range r;
        r.begin = minutes(e["start_time"], "start_time");
        r.end = minutes(e["end_time"], "end_time");
        if (r.begin >= r.end) fail(e, "start time cannot be equal or greater than end time");
        ti.times->push_back(r);
      }
    }
    if (YAML::Node l = n["location"]; l && !l.IsNull()) {
      auto tz = TimeZone::load(str(l, "location"));
      if (!tz) fail(l, "location: " + tz.error().message);
      ti.location = *tz;
    }
    return ti;
  }

  std::string file_;
  GrafanaSmtp smtp_;
};

// Grafana's default.title (templates/default_template.go of grafana/alerting): Alertmanager's
// subject plus the count of resolved alerts in a firing group. The default of the title-like
// settings of every mapped type, and callable from users' templates. (Grafana's default.message
// needs alert fields ruleeval's notifications lack: .Values, .SilenceURL, .DashboardURL.)
constexpr std::string_view kGrafanaDefaultTemplates =
    R"({{ define "default.title" }}[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ if gt (.Alerts.Resolved | len) 0 }}, RESOLVED:{{ .Alerts.Resolved | len }}{{ end }}{{ end }}] {{ .GroupLabels.SortedPairs.Values | join " " }} {{ if gt (len .CommonLabels) (len .GroupLabels) }}({{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join " " }}{{ end }}){{ end }}{{ end }})"
    "\n";

bool is_private(std::string_view name) {
  return name.size() > 4 && name.starts_with("__") && name.ends_with("__");
}

RouteConfig autogenerated_routes(const std::string& root_receiver,
                                 const std::vector<std::string>& receivers,
                                 const std::vector<RuleNotificationSettings>& settings) {
  auto equal = [](std::string name, std::string value) {
    return *Matcher::make(std::move(name), MatchOp::kEqual, std::move(value));
  };
  RouteConfig root;
  root.receiver = root_receiver;
  root.matchers.push_back(equal("__grafana_autogenerated__", "true"));
  std::map<std::string, size_t> by_receiver;
  auto receiver_route = [&](const std::string& name) -> RouteConfig& {
    auto it = by_receiver.find(name);
    if (it != by_receiver.end()) return root.routes[it->second];
    RouteConfig r;
    r.receiver = name;
    r.matchers.push_back(equal("__grafana_receiver__", name));
    r.group_by = {"alertname", "grafana_folder"};
    r.group_by_set = true;
    by_receiver.emplace(name, root.routes.size());
    root.routes.push_back(std::move(r));
    return root.routes.back();
  };
  for (const auto& r : receivers) receiver_route(r);
  std::set<std::string> done;
  for (const auto& rs : settings) {
    const auto& s = rs.settings;
    RouteConfig& parent = receiver_route(s.receiver);
    if (s.all_default()) continue;
    const std::string fp = s.fingerprint();
    if (!done.insert(fp).second) continue;
    RouteConfig r;
    r.receiver = s.receiver;
    r.matchers.push_back(equal("__grafana_route_settings_hash__", fp));
    for (const auto& l : s.normalized_group_by()) {
      if (l == "...") {
        r.group_by_all = true;
      } else {
        r.group_by.push_back(l);
      }
    }
    r.group_by_set = true;
    r.group_wait = s.group_wait_ms;
    r.group_interval = s.group_interval_ms;
    r.repeat_interval = s.repeat_interval_ms;
    r.mute_time_intervals = s.mute_time_intervals;
    r.active_time_intervals = s.active_time_intervals;
    parent.routes.push_back(std::move(r));
  }
  return root;
}

void check_route_receivers(const RouteConfig& r, const NotifyConfig& cfg) {
  if (!r.receiver.empty() && !cfg.find_receiver(r.receiver)) {
    throw Fail{Error(fmt::format("undefined receiver \"{}\" used in route", r.receiver), r.where)};
  }
  for (const auto& c : r.routes) check_route_receivers(c, cfg);
}

}  // namespace

bool has_grafana_notifications(std::string_view text) {
  for (std::string_view key : {"contactPoints", "policies", "muteTimes", "templates"}) {
    size_t at = 0;
    // glibc's memmem rather than find(): find stops at every byte equal to the key's first
    // letter, and lint runs this over every rule file (1.8% of linting 10,000 rules).
    auto next = [&](size_t from) {
      const void* hit = ::memmem(text.data() + from, text.size() - from, key.data(), key.size());
      return hit == nullptr ? std::string_view::npos
                            : static_cast<size_t>(static_cast<const char*>(hit) - text.data());
    };
    while ((at = next(at)) != std::string_view::npos) {
      const bool line_start = at == 0 || text[at - 1] == '\n' || text[at - 1] == '"' ||
                              text[at - 1] == ' ' || text[at - 1] == '{';
      const size_t after = at + key.size();
      const bool key_end = after < text.size() && (text[after] == ':' || text[after] == '"');
      if (line_start && key_end) return true;
      at = after;
    }
  }
  return false;
}

Result<GrafanaNotifications> parse_grafana_notifications(std::string_view text,
                                                         const std::string& file,
                                                         const GrafanaSmtp& smtp) {
  Decoder d(file, smtp);
  try {
    YAML::Node root = YAML::Load(std::string(text));
    return d.decode(root);
  } catch (const Fail& f) {
    return std::unexpected(f.err);
  } catch (const YAML::Exception& e) {
    SourceLocation l;
    l.file = file;
    if (e.mark.line >= 0) {
      l.line = static_cast<uint32_t>(e.mark.line + 1);
      l.col = static_cast<uint32_t>(e.mark.column + 1);
    }
    return make_error("invalid YAML: " + e.msg, l);
  }
}

std::string grafana_notifications_fingerprint(std::string_view text) {
  std::string out;
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (!root.IsMap()) return out;
    for (const char* key : {"contactPoints", "policies", "muteTimes", "templates"}) {
      if (YAML::Node v = root[key]; v && !v.IsNull()) {
        YAML::Emitter e;
        e << v;
        out += std::string(key) + ":\n" + e.c_str() + "\n";
      }
    }
  } catch (const YAML::Exception&) {
    out.clear();
  }
  return out;
}

GrafanaSmtp grafana_smtp_from(std::string_view config_text) {
  GrafanaSmtp s;
  try {
    YAML::Node root = YAML::Load(std::string(config_text));
    YAML::Node g = root.IsMap() ? root["global"] : YAML::Node();
    if (!g || !g.IsMap()) return s;
    auto get = [&](const char* k, std::string& out) {
      if (g[k] && g[k].IsScalar()) out = g[k].Scalar();
    };
    get("smtp_smarthost", s.smarthost);
    get("smtp_from", s.from);
    get("smtp_hello", s.hello);
    get("smtp_auth_username", s.auth_username);
    get("smtp_auth_password", s.auth_password);
    if (g["smtp_require_tls"] && g["smtp_require_tls"].IsScalar()) {
      s.require_tls = g["smtp_require_tls"].Scalar() != "false";
    }
  } catch (const YAML::Exception&) {
    // The config loader reports invalid YAML.
  }
  return s;
}

Result<void> check_grafana_templates(const GrafanaNotifications& g, const std::string& defs,
                                     bool only_grafana_defaults) {
  if (g.template_settings.empty()) return {};
  const std::string all_defs = std::string(kGrafanaDefaultTemplates) + defs;
  const detail::Expander x = detail::default_expander(all_defs);
  const NotificationData empty;
  for (const auto& [text, where] : g.template_settings) {
    if (auto ok = detail::check_template(text, all_defs); !ok) {
      return make_error("invalid template: " + ok.error().message, where);
    }
    // Every {{ template "name" ... }} it calls.
    size_t at = 0;
    while ((at = text.find("{{", at)) != std::string::npos) {
      size_t i = at + 2;
      at = i;
      if (i < text.size() && text[i] == '-') ++i;
      while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
      if (text.compare(i, 8, "template") != 0) continue;
      i += 8;
      while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
      if (i >= text.size() || (text[i] != '"' && text[i] != '`')) continue;
      const char quote = text[i];
      const size_t end = text.find(quote, i + 1);
      if (end == std::string::npos) continue;
      const std::string name = text.substr(i + 1, end - i - 1);
      const bool grafana_default = name == "default.message";
      if (only_grafana_defaults && !grafana_default) continue;
      auto r = x("{{ template \"" + name + "\" . }}", empty);
      if (r || r.error().message.find("template \"" + name + "\" not defined") ==
                   std::string::npos) {
        continue;
      }
      return make_error(
          fmt::format("template \"{}\" is not defined{}", name,
                      grafana_default
                          ? ": Grafana's default.message is not provided by ruleeval (leave "
                            "the setting out for the receiver's default, or define the template "
                            "in `templates`)"
                          : " (not in `templates` nor among the default templates)"),
          where);
    }
  }
  return {};
}

Result<void> merge_grafana_notifications(NotifyConfig& cfg, bool has_route,
                                         std::vector<GrafanaNotifications> parts,
                                         const std::vector<RuleNotificationSettings>& settings) {
  try {
    std::optional<RouteConfig> policy;
    std::vector<std::string> grafana_receivers;
    std::vector<std::pair<std::string, SourceLocation>> refs;
    for (auto& p : parts) {
      for (auto& r : p.receivers) {
        if (cfg.find_receiver(r.name)) {
          throw Fail{Error(fmt::format("contact point \"{}\": a receiver of that name is already "
                                       "defined",
                                       r.name),
                           r.where)};
        }
        grafana_receivers.push_back(r.name);
        cfg.receivers.push_back(std::move(r));
      }
      for (auto& [name, list] : p.time_intervals) {
        if (cfg.time_intervals.contains(name)) {
          throw Fail{Error(fmt::format("mute time \"{}\" is already defined", name))};
        }
        cfg.time_intervals.emplace(name, std::move(list));
      }
      if (!p.template_defs.empty()) cfg.template_defs += p.template_defs;
      if (p.route) {
        if (policy) {
          throw Fail{Error("a second notification policy tree (`policies`); ruleeval runs one "
                           "organization with one tree",
                           p.route->where)};
        }
        policy = std::move(p.route);
      }
      refs.insert(refs.end(), p.interval_refs.begin(), p.interval_refs.end());
    }
    if (!grafana_receivers.empty()) {
      // Grafana's default templates first: the files' and ruleeval.yaml's may redefine them.
      cfg.template_defs = std::string(kGrafanaDefaultTemplates) + cfg.template_defs;
    }
    for (const auto& p : parts) {
      if (auto ok = check_grafana_templates(p, cfg.template_defs); !ok) throw Fail{ok.error()};
    }
    for (const auto& [name, where] : refs) {
      if (!cfg.time_intervals.contains(name)) {
        throw Fail{Error(fmt::format("undefined time interval \"{}\" used in route", name), where)};
      }
    }
    if (policy) {
      // Grafana's defaults for what the tree leaves unset, so nothing is inherited from
      // ruleeval.yaml's route.
      if (!policy->group_wait) policy->group_wait = 30'000;
      if (!policy->group_interval) policy->group_interval = 5 * 60'000;
      if (!policy->repeat_interval) policy->repeat_interval = 4 * 3'600'000;
      policy->group_by_set = true;
      check_route_receivers(*policy, cfg);
      if (!has_route) {
        cfg.route = std::move(*policy);
        has_route = true;
      } else {
        // Alerts of Grafana rules carry __alert_rule_uid__: they take Grafana's tree.
        policy->matchers.push_back(*Matcher::make("__alert_rule_uid__", MatchOp::kRegex, ".+"));
        cfg.route.routes.insert(cfg.route.routes.begin(), std::move(*policy));
      }
    }
    if (!settings.empty()) {
      for (const auto& rs : settings) {
        if (!cfg.find_receiver(rs.settings.receiver)) {
          SourceLocation w = rs.where;
          if (rs.settings.receiver_pos.known()) {
            w.line = rs.settings.receiver_pos.line;
            w.col = rs.settings.receiver_pos.col;
          }
          throw Fail{Error(fmt::format("notification_settings.receiver \"{}\" is not a contact "
                                       "point or receiver",
                                       rs.settings.receiver),
                           w)};
        }
        for (const auto& [name, pos] : rs.settings.interval_refs) {
          if (!cfg.time_intervals.contains(name)) {
            SourceLocation w = rs.where;
            if (pos.known()) {
              w.line = pos.line;
              w.col = pos.col;
            }
            throw Fail{Error(fmt::format("notification_settings: time interval \"{}\" is not "
                                         "defined",
                                         name),
                             w)};
          }
        }
      }
      if (!has_route) {
        throw Fail{Error("rules use notification_settings but there is no notification policy "
                         "tree: add `policies` to a provisioning file or a `route` to "
                         "ruleeval.yaml",
                         settings.front().where)};
      }
      std::vector<std::string> all;
      all.reserve(cfg.receivers.size());
      for (const auto& r : cfg.receivers) all.push_back(r.name);
      cfg.route.routes.insert(cfg.route.routes.begin(),
                              autogenerated_routes(cfg.route.receiver, all, settings));
    }
    if (!has_route && !parts.empty()) {
      for (const auto& p : parts) {
        (void)p;
      }
      if (!grafana_receivers.empty()) {
        throw Fail{Error(fmt::format("contact point \"{}\" is defined but there is no "
                                     "notification policy tree: add `policies` to a provisioning "
                                     "file or a `route` to ruleeval.yaml",
                                     grafana_receivers.front()))};
      }
    }
  } catch (const Fail& f) {
    return std::unexpected(f.err);
  }
  return {};
}

Labels without_grafana_private_labels(const Labels& labels) {
  if (!labels.has("__alert_rule_uid__")) return labels;
  LabelsBuilder b(labels);
  for (const auto& l : labels) {
    if (is_private(l.name)) b.del(l.name);
  }
  return b.build();
}

}  // namespace ruleeval::notifiers
