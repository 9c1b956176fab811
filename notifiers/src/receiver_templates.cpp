// The default named templates of the opsgenie, victorops, pushover, telegram, discord and webex
// receivers, rendering what Alertmanager's default.tmpl renders. With an alertmanager.yml,
// Debian's default.tmpl is loaded after these and its definitions take over.
#include "receiver_http.hpp"

namespace ruleeval::notifiers::detail {

namespace {

// "<common annotation values>\n" then the firing and resolved alert lists; `tight` trims the
// blank lines around the lists (opsgenie/victorops use {{- }}), `tail` adds the final newline.
#define RULEEVAL_ALERT_LISTS                                                   \
  "{{ if gt (len .Alerts.Firing) 0 }}\nAlerts Firing:\n"                       \
  "{{ template \"__text_alert_list\" .Alerts.Firing }}\n{{ end }}\n"           \
  "{{ if gt (len .Alerts.Resolved) 0 }}\nAlerts Resolved:\n"                   \
  "{{ template \"__text_alert_list\" .Alerts.Resolved }}\n{{ end }}\n"
#define RULEEVAL_ALERT_LISTS_TIGHT                                             \
  "{{ if gt (len .Alerts.Firing) 0 -}}\nAlerts Firing:\n"                      \
  "{{ template \"__text_alert_list\" .Alerts.Firing }}\n{{- end }}\n"          \
  "{{ if gt (len .Alerts.Resolved) 0 -}}\nAlerts Resolved:\n"                  \
  "{{ template \"__text_alert_list\" .Alerts.Resolved }}\n{{- end }}\n{{- end }}"

#define RULEEVAL_MARKDOWN_LISTS                                                \
  "{{ if gt (len .Alerts.Firing) 0 }}\n# Alerts Firing:\n"                     \
  "{{ template \"__text_alert_list_markdown\" .Alerts.Firing }}\n{{ end }}\n"  \
  "{{ if gt (len .Alerts.Resolved) 0 }}\n# Alerts Resolved:\n"                 \
  "{{ template \"__text_alert_list_markdown\" .Alerts.Resolved }}\n{{ end }}\n"

constexpr std::string_view kTemplates =
    R"({{ define "opsgenie.default.message" }}{{ template "__subject" . }}{{ end }})"
    R"({{ define "opsgenie.default.description" }}{{ .CommonAnnotations.SortedPairs.Values | join " " }})"
    "\n" RULEEVAL_ALERT_LISTS_TIGHT
    R"({{ define "opsgenie.default.source" }}{{ template "__alertmanagerURL" . }}{{ end }})"
    R"({{ define "victorops.default.state_message" }}{{ .CommonAnnotations.SortedPairs.Values | join " " }})"
    "\n" RULEEVAL_ALERT_LISTS_TIGHT
    R"({{ define "victorops.default.entity_display_name" }}{{ template "__subject" . }}{{ end }})"
    R"({{ define "victorops.default.monitoring_tool" }}{{ template "__alertmanager" . }}{{ end }})"
    R"({{ define "pushover.default.title" }}{{ template "__subject" . }}{{ end }})"
    R"({{ define "pushover.default.message" }}{{ .CommonAnnotations.SortedPairs.Values | join " " }})"
    "\n" RULEEVAL_ALERT_LISTS "{{ end }}"
    R"({{ define "pushover.default.url" }}{{ template "__alertmanagerURL" . }}{{ end }})"
    "{{ define \"telegram.default.message\" }}\n" RULEEVAL_ALERT_LISTS "{{ end }}"
    R"({{ define "discord.default.title" }}{{ template "__subject" . }}{{ end }})"
    "{{ define \"discord.default.message\" }}\n" RULEEVAL_ALERT_LISTS "{{ end }}"
    R"({{ define "webex.default.message" }}{{ .CommonAnnotations.SortedPairs.Values | join " " }})"
    "\n" RULEEVAL_ALERT_LISTS "{{ end }}"
    // Microsoft Teams (Alertmanager 0.26+/0.28+ default.tmpl; Debian's 0.25 default.tmpl, loaded
    // after these for an alertmanager.yml, does not define them, so these stay in force).
    "{{ define \"__text_alert_list_markdown\" }}{{ range . }}\nLabels:\n"
    "{{ range .Labels.SortedPairs }}  - {{ .Name }} = {{ .Value }}\n"
    "{{ end }}\nAnnotations:\n"
    "{{ range .Annotations.SortedPairs }}  - {{ .Name }} = {{ .Value }}\n"
    "{{ end }}\nSource: {{ .GeneratorURL }}\n{{ end }}\n{{ end }}"
    R"({{ define "msteams.default.summary" }}{{ template "__subject" . }}{{ end }})"
    R"({{ define "msteams.default.title" }}{{ template "__subject" . }}{{ end }})"
    "{{ define \"msteams.default.text\" }}\n" RULEEVAL_MARKDOWN_LISTS "{{ end }}"
    R"({{ define "msteamsv2.default.title" }}{{ template "__subject" . }}{{ end }})"
    "{{ define \"msteamsv2.default.text\" }}\n" RULEEVAL_MARKDOWN_LISTS "{{ end }}";

#undef RULEEVAL_ALERT_LISTS
#undef RULEEVAL_ALERT_LISTS_TIGHT
#undef RULEEVAL_MARKDOWN_LISTS

}  // namespace

std::string_view receiver_default_templates() { return kTemplates; }

}  // namespace ruleeval::notifiers::detail
