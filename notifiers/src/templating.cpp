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

using tmpl::Map;
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

// Alertmanager's template.Data (parser/gotmpl's one model of it) plus the webhook message's
// .GroupKey and .TruncatedAlerts, which ruleeval's notification templates also see.
Value to_value(const NotificationData& d) {
  const Value data = tmpl::notification_template_data(d);
  Map m = data.as_map();
  m.emplace("GroupKey", Value(d.group_key));
  m.emplace("TruncatedAlerts", Value(static_cast<int64_t>(d.truncated_alerts)));
  return Value(std::move(m), data.type_ptr());
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

Expander default_expander(const std::string& defs, bool html, bool contextual) {
  auto cache = std::make_shared<TemplateCache>(defs);
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
