// User templates in receiver fields, executed by the Go template engine (parser/template.hpp)
// against Alertmanager's template.Data model, with Alertmanager's default named templates
// (__subject, slack.default.title, pagerduty.default.instances, ...) available.
#include <cctype>
#include <map>
#include <mutex>

#include "payloads.hpp"
#include "ruleeval/parser/template_exec.hpp"
#include "ruleeval/parser/template_funcs.hpp"
#include "ruleeval/parser/template_parse.hpp"

namespace ruleeval::notifiers::detail {

namespace {

using tmpl::List;
using tmpl::Map;
using tmpl::TypeInfo;
using tmpl::Value;

// Alertmanager's template/default.tmpl, the parts that are not HTML.
constexpr std::string_view kDefaults =
    R"({{ define "__alertmanager" }}ruleeval{{ end }})"
    R"({{ define "__alertmanagerURL" }}{{ .ExternalURL }}/#/alerts?receiver={{ .Receiver | urlquery }}{{ end }})"
    R"({{ define "__subject" }}[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .GroupLabels.SortedPairs.Values | join " " }} {{ if gt (len .CommonLabels) (len .GroupLabels) }}({{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join " " }}{{ end }}){{ end }}{{ end }})"
    R"({{ define "__description" }}{{ end }})"
    "{{ define \"__text_alert_list\" }}{{ range . }}Labels:\n"
    "{{ range .Labels.SortedPairs }} - {{ .Name }} = {{ .Value }}\n"
    "{{ end }}Annotations:\n"
    "{{ range .Annotations.SortedPairs }} - {{ .Name }} = {{ .Value }}\n"
    "{{ end }}Source: {{ .GeneratorURL }}\n"
    "{{ end }}{{ end }}"
    R"({{ define "slack.default.title" }}{{ template "__subject" . }}{{ end }})"
    R"({{ define "slack.default.username" }}{{ template "__alertmanager" . }}{{ end }})"
    R"({{ define "slack.default.fallback" }}{{ template "slack.default.title" . }} | {{ template "slack.default.titlelink" . }}{{ end }})"
    R"({{ define "slack.default.callbackid" }}{{ end }})"
    R"({{ define "slack.default.pretext" }}{{ end }})"
    R"({{ define "slack.default.titlelink" }}{{ template "__alertmanagerURL" . }}{{ end }})"
    R"({{ define "slack.default.iconemoji" }}{{ end }})"
    R"({{ define "slack.default.iconurl" }}{{ end }})"
    R"({{ define "slack.default.text" }}{{ end }})"
    R"({{ define "slack.default.footer" }}{{ end }})"
    R"({{ define "pagerduty.default.description" }}{{ template "__subject" . }}{{ end }})"
    R"({{ define "pagerduty.default.client" }}{{ template "__alertmanager" . }}{{ end }})"
    R"({{ define "pagerduty.default.clientURL" }}{{ template "__alertmanagerURL" . }}{{ end }})"
    R"({{ define "pagerduty.default.instances" }}{{ template "__text_alert_list" . }}{{ end }})"
    R"({{ define "email.default.subject" }}{{ template "__subject" . }}{{ end }})"
    // SNS and WeChat (receiver_sns.cpp, receiver_wechat.cpp).
    R"({{ define "sns.default.subject" }}{{ template "__subject" . }}{{ end }})"
    "{{ define \"sns.default.message\" }}{{ .CommonAnnotations.SortedPairs.Values | join \" \" }}\n"
    "{{ if gt (len .Alerts.Firing) 0 }}\nAlerts Firing:\n{{ template \"__text_alert_list\" .Alerts.Firing }}\n{{ end }}\n"
    "{{ if gt (len .Alerts.Resolved) 0 }}\nAlerts Resolved:\n{{ template \"__text_alert_list\" .Alerts.Resolved }}\n{{ end }}\n"
    "{{ end }}"
    "{{ define \"wechat.default.message\" }}{{ template \"__subject\" . }}\n{{ .CommonAnnotations.SortedPairs.Values | join \" \" }}\n"
    "{{ if gt (len .Alerts.Firing) 0 -}}\nAlerts Firing:\n{{ template \"__text_alert_list\" .Alerts.Firing }}\n{{- end }}\n"
    "{{ if gt (len .Alerts.Resolved) 0 -}}\nAlerts Resolved:\n{{ template \"__text_alert_list\" .Alerts.Resolved }}\n{{- end }}\n"
    "AlertmanagerUrl:\n{{ template \"__alertmanagerURL\" . }}\n{{- end }}"
    R"({{ define "wechat.default.to_user" }}{{ end }}{{ define "wechat.default.to_party" }}{{ end }})"
    R"({{ define "wechat.default.to_tag" }}{{ end }}{{ define "wechat.default.agent_id" }}{{ end }})";

std::shared_ptr<const TypeInfo> kv_type();

Value kv_value(const Labels& l) { return Value::from_labels(l, kv_type()); }

std::vector<std::string> string_list(const Value& v) {
  std::vector<std::string> out;
  if (v.kind() != Value::Kind::kList) return out;
  for (const auto& e : v.as_list()) {
    if (e.kind() == Value::Kind::kString) out.push_back(e.as_string());
  }
  return out;
}

Labels labels_of(const Value& kv) {
  std::vector<Label> out;
  if (kv.kind() != Value::Kind::kMap) return {};
  for (const auto& [k, v] : kv.as_map()) {
    if (v.kind() == Value::Kind::kString) out.push_back({k, v.as_string()});
  }
  return Labels::from_sorted(std::move(out));
}

std::shared_ptr<const TypeInfo> pair_type() {
  static auto t = [] {
    auto ti = std::make_shared<TypeInfo>();
    ti->name = "template.Pair";
    ti->is_struct = true;
    ti->json_fields = {{"Name", "Name"}, {"Value", "Value"}};
    return std::shared_ptr<const TypeInfo>(ti);
  }();
  return t;
}

std::shared_ptr<const TypeInfo> pairs_type() {
  static auto t = [] {
    auto ti = std::make_shared<TypeInfo>();
    ti->name = "template.Pairs";
    auto field = [](const char* f) {
      return [f](const Value& self, std::span<const Value>) -> Result<Value> {
        std::vector<std::string> out;
        for (const auto& p : self.as_list()) out.push_back(p.as_map().at(f).as_string());
        return Value::strings(out);
      };
    };
    ti->methods["Names"] = field("Name");
    ti->methods["Values"] = field("Value");
    return std::shared_ptr<const TypeInfo>(ti);
  }();
  return t;
}

std::shared_ptr<const TypeInfo> kv_type() {
  static auto t = [] {
    auto ti = std::make_shared<TypeInfo>();
    ti->name = "template.KV";
    ti->string_elems = true;
    ti->methods["SortedPairs"] = [](const Value& self, std::span<const Value>) -> Result<Value> {
      List pairs;
      for (const auto& l : sorted_pairs(labels_of(self))) {
        pairs.push_back(Value(Map{{"Name", Value(l.name)}, {"Value", Value(l.value)}}, pair_type()));
      }
      return Value(std::move(pairs), pairs_type());
    };
    ti->methods["Names"] = [](const Value& self, std::span<const Value>) -> Result<Value> {
      std::vector<std::string> out;
      for (const auto& l : sorted_pairs(labels_of(self))) out.push_back(l.name);
      return Value::strings(out);
    };
    ti->methods["Values"] = [](const Value& self, std::span<const Value>) -> Result<Value> {
      std::vector<std::string> out;
      for (const auto& l : sorted_pairs(labels_of(self))) out.push_back(l.value);
      return Value::strings(out);
    };
    ti->methods["Remove"] = [](const Value& self, std::span<const Value> args) -> Result<Value> {
      if (args.size() != 1) return make_error("wrong number of args for Remove: want 1");
      auto drop = string_list(args[0]);
      return kv_value(labels_of(self).drop(drop));
    };
    return std::shared_ptr<const TypeInfo>(ti);
  }();
  return t;
}

std::shared_ptr<const TypeInfo> alert_type() {
  static auto t = [] {
    auto ti = std::make_shared<TypeInfo>();
    ti->name = "template.Alert";
    ti->is_struct = true;
    // Go's field order and json tags (html/template's JS escaper marshals alerts).
    ti->json_fields = {{"Status", "status"},           {"Labels", "labels"},
                       {"Annotations", "annotations"}, {"StartsAt", "startsAt"},
                       {"EndsAt", "endsAt"},           {"GeneratorURL", "generatorURL"},
                       {"Fingerprint", "fingerprint"}};
    return std::shared_ptr<const TypeInfo>(ti);
  }();
  return t;
}

std::shared_ptr<const TypeInfo> alerts_type() {
  static auto t = [] {
    auto ti = std::make_shared<TypeInfo>();
    ti->name = "template.Alerts";
    auto by_status = [](const char* status) {
      return [status](const Value& self, std::span<const Value>) -> Result<Value> {
        List out;
        for (const auto& a : self.as_list()) {
          if (a.as_map().at("Status").as_string() == status) out.push_back(a);
        }
        return Value(std::move(out), alerts_type());
      };
    };
    ti->methods["Firing"] = by_status("firing");
    ti->methods["Resolved"] = by_status("resolved");
    return std::shared_ptr<const TypeInfo>(ti);
  }();
  return t;
}

std::shared_ptr<const TypeInfo> data_type() {
  static auto t = [] {
    auto ti = std::make_shared<TypeInfo>();
    ti->name = "template.Data";
    ti->is_struct = true;
    ti->json_fields = {{"Receiver", "receiver"},         {"Status", "status"},
                       {"Alerts", "alerts"},             {"GroupLabels", "groupLabels"},
                       {"CommonLabels", "commonLabels"}, {"CommonAnnotations", "commonAnnotations"},
                       {"ExternalURL", "externalURL"}};
    return std::shared_ptr<const TypeInfo>(ti);
  }();
  return t;
}

// Millis 0 is an unset time (a firing alert's EndsAt): Go's zero time.Time, as in Alertmanager.
Value time_value(Millis ms) { return Value(ms == 0 ? tmpl::Time{} : tmpl::Time{ms * 1'000'000}); }

Value to_value(const NotificationData& d) {
  List alerts;
  for (const auto& a : d.alerts) {
    alerts.push_back(Value(Map{{"Status", Value(a.status)},
                               {"Labels", kv_value(a.labels)},
                               {"Annotations", kv_value(a.annotations)},
                               {"StartsAt", time_value(a.starts_at)},
                               {"EndsAt", time_value(a.ends_at)},
                               {"GeneratorURL", Value(a.generator_url)},
                               {"Fingerprint", Value(a.fingerprint)}},
                           alert_type()));
  }
  return Value(Map{{"Receiver", Value(d.receiver)},
                   {"Status", Value(d.status)},
                   {"Alerts", Value(std::move(alerts), alerts_type())},
                   {"GroupLabels", kv_value(d.group_labels)},
                   {"CommonLabels", kv_value(d.common_labels)},
                   {"CommonAnnotations", kv_value(d.common_annotations)},
                   {"ExternalURL", Value(d.external_url)},
                   {"GroupKey", Value(d.group_key)},
                   {"TruncatedAlerts", Value(static_cast<int64_t>(d.truncated_alerts))}},
               data_type());
}

// Keeps only the top-level actions of a template file (its `define`s): text between them belongs
// to the file's own template in Go, which no field ever executes, so it must not leak into the
// fields rendered with these definitions as a prefix.
std::string defines_only(std::string_view in) {
  std::string out;
  int depth = 0;
  size_t i = 0;
  while (i < in.size()) {
    size_t open = in.find("{{", i);
    if (open == std::string_view::npos) {
      if (depth > 0) out.append(in.substr(i));
      break;
    }
    if (depth > 0) out.append(in.substr(i, open - i));
    size_t close;
    if (in.substr(open, 4) == "{{/*" || in.substr(open, 6) == "{{- /*") {
      close = in.find("*/", open);
      close = close == std::string_view::npos ? std::string_view::npos : in.find("}}", close);
    } else {
      // Skip over quoted strings inside the action (they may contain "}}").
      close = open + 2;
      char quote = 0;
      while (close + 1 < in.size()) {
        char ch = in[close];
        if (quote) {
          if (ch == '\\' && quote != '`') {
            ++close;
          } else if (ch == quote) {
            quote = 0;
          }
        } else if (ch == '"' || ch == '`' || ch == '\'') {
          quote = ch;
        } else if (ch == '}' && in[close + 1] == '}') {
          break;
        }
        ++close;
      }
      if (close + 1 >= in.size()) close = std::string_view::npos;
    }
    if (close == std::string_view::npos) {  // unterminated: keep it so the parser reports it
      out.append(in.substr(open));
      break;
    }
    std::string_view action = in.substr(open, close + 2 - open);
    std::string_view word = action.substr(2);
    while (!word.empty() && (word.front() == '-' || word.front() == ' ' || word.front() == '\t' ||
                             word.front() == '\n' || word.front() == '\r')) {
      word.remove_prefix(1);
    }
    auto starts = [&](std::string_view kw) {
      return word.substr(0, kw.size()) == kw &&
             (word.size() == kw.size() || !std::isalnum(static_cast<unsigned char>(word[kw.size()])));
    };
    bool opens = starts("define") || starts("block") || starts("if") || starts("range") ||
                 starts("with");
    bool ends = starts("end");
    if (depth > 0 || opens) out.append(action);
    if (opens) ++depth;
    if (ends && depth > 0) --depth;
    i = close + 2;
  }
  return out;
}

class TemplateCache {
 public:
  explicit TemplateCache(const std::string& defs = {})
      : prefix_(std::string(kDefaults) + std::string(receiver_default_templates()) +
                defines_only(defs)) {}
  Result<std::shared_ptr<const tmpl::Template>> get(std::string_view text) {
    std::lock_guard lock(mu_);
    auto it = cache_.find(text);
    if (it != cache_.end()) return it->second;
    tmpl::ParseOptions o;
    // As Alertmanager: the field is template "" and its errors count its own lines
    // ("template: :1:31: executing \"\" at <.StartsAt.Formatt>: ...").
    o.name = "";
    o.go_positions_in_text = true;
    o.dialect = tmpl::Dialect::kAlertmanager;
    o.prefix = prefix_;
    auto t = tmpl::parse(text, o);
    if (!t) return std::unexpected(t.error());
    auto p = std::make_shared<const tmpl::Template>(std::move(*t));
    if (cache_.size() > 1000) cache_.clear();
    cache_.emplace(std::string(text), p);
    return p;
  }

 private:
  std::string prefix_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const tmpl::Template>, std::less<>> cache_;
};

}  // namespace

Result<void> check_template(std::string_view text, const std::string& defs) {
  if (text.find("{{") == std::string_view::npos) return {};
  if (!defs.empty()) {
    TemplateCache cache(defs);
    auto t = cache.get(text);
    if (!t) return std::unexpected(t.error());
    return {};
  }
  static TemplateCache cache;
  auto t = cache.get(text);
  if (!t) return std::unexpected(t.error());
  return {};
}

Result<void> check_template_defs(std::string_view defs) {
  TemplateCache cache{std::string(defs)};
  auto t = cache.get("");
  if (!t) return std::unexpected(t.error());
  return {};
}

Expander default_expander(std::string defs, bool html, bool contextual) {
  auto cache = std::make_shared<TemplateCache>(std::move(defs));
  auto funcs = std::make_shared<const tmpl::FuncMap>(tmpl::alertmanager_functions());
  // Alertmanager's TmplHTML (email html, pushover html, telegram's HTML parse mode) is
  // ExecuteHTMLString: html/template's contextual escaping of the whole field, which also
  // rewrites text without actions (comments dropped, a stray '<' as &lt;).
  contextual = contextual || html;
  return [cache, funcs, contextual](std::string_view text,
                                    const NotificationData& d) -> Result<std::string> {
    if (!contextual && text.find("{{") == std::string_view::npos) return std::string(text);
    auto t = cache->get(text);
    if (!t) return std::unexpected(t.error());
    Value value = to_value(d);
    tmpl::RenderOptions ro;
    // Alertmanager parses every template with Option("missingkey=zero"): a missing label or
    // annotation renders as "" (not "<no value>").
    ro.missing_key = tmpl::MissingKey::kZero;
    ro.html_contextual = contextual;
    return tmpl::render(**t, value, *funcs, ro);
  };
}

}  // namespace ruleeval::notifiers::detail
