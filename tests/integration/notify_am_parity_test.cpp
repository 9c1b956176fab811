// Alertmanager as the oracle: a real Alertmanager 0.25 and ruleeval's notifier load the same
// alertmanager.yml (global defaults, a templates file, webhook/Slack/PagerDuty receivers) and
// get the same alerts; each delivers to its own local sink, and the requests are compared per
// receiver type (method, path, Content-Type, Authorization, JSON body).
#include <doctest/doctest.h>

#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "notify_alerts.hpp"
#include "notify_parity.hpp"
#include "notify_scripts.hpp"
#include "notify_servers.hpp"
#include "ruleeval/notifiers/notifier.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;
using namespace ruleeval::notifiers::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// One alertmanager.yml for both, differing only in the sink's address.
std::string am_yaml(const std::string& sink) {
  std::string s = R"(
global:
  resolve_timeout: 5m
  slack_api_url: SINK/slack
  pagerduty_url: SINK/pagerduty
  http_config:
    authorization: {credentials: global-token}
templates: ['templates/*.tmpl']
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1m
  routes:
    - receiver: slack
      matchers: [alertname="SlackParity"]
    - receiver: pd
      matchers: [alertname="PagerParity"]
    - receiver: slack-defaults
      matchers: [alertname="SlackDefaults"]
    - receiver: pd-defaults
      matchers: [alertname="PagerDefaults"]
    - receiver: muted
      matchers: [alertname="Muted"]
      mute_time_intervals: [always]
    - receiver: muted
      matchers: [alertname="Inactive"]
      active_time_intervals: [never]
    - receiver: active
      matchers: [alertname="Active"]
      active_time_intervals: [always]
      mute_time_intervals: [never]
time_intervals:
  - name: always
    time_intervals:
      - weekdays: ['sunday:saturday']
        location: Europe/Berlin
  - name: never
    time_intervals:
      - years: ['1999']
receivers:
  - name: muted
    webhook_configs:
      - url: SINK/muted
  - name: active
    webhook_configs:
      - url: SINK/active
  - name: slack-defaults
    slack_configs:
      - api_url: SINK/slack-defaults
  - name: pd-defaults
    pagerduty_configs:
      - routing_key: rk-456
        url: SINK/pd-defaults
        http_config:
          basic_auth: {username: pd, password: secret}
  - name: hook
    webhook_configs:
      - url: SINK/hook
        max_alerts: 5
  - name: slack
    slack_configs:
      - channel: '#ops'
        title: '{{ template "parity.title" . }}'
        text: '{{ range .Alerts }}{{ .Annotations.summary }} {{ end }}'
        fields:
          - title: Severity
            value: '{{ .CommonLabels.severity }}'
        actions:
          - type: button
            text: Runbook
            url: '{{ .CommonAnnotations.runbook_url }}'
  - name: pd
    pagerduty_configs:
      - routing_key: rk-123
        severity: critical
        links:
          - href: '{{ .CommonAnnotations.runbook_url }}'
            text: Runbook
)";
  for (size_t p; (p = s.find("SINK")) != std::string::npos;) s.replace(p, 4, sink);
  return s;
}

constexpr const char* kTemplates =
    R"({{ define "parity.title" }}[{{ .Status | toUpper }}] {{ .GroupLabels.alertname }} ({{ len .Alerts }}){{ end }})";

struct Sent {
  std::string labels_json;  // for Alertmanager's API
  rules::Alert alert;
};

rules::Alert make(const std::string& name, Millis starts, Millis ends) {
  rules::Alert a;
  a.labels = Labels{{"alertname", name}, {"severity", "critical"}, {"instance", "db-1:9100"}};
  a.annotations = Labels{{"summary", "database down <now>"},
                         {"runbook_url", "https://runbooks.example.org/db?x=1&y=2"}};
  a.starts_at = starts;
  a.ends_at = ends;
  a.generator_url = "http://prometheus.test/graph?g0.expr=up%3D%3D0";
  return a;
}

const Request* find(const std::vector<Request>& rs, const std::string& path) {
  for (const auto& r : rs) {
    if (r.path == path) return &r;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("ruleeval delivers what a real Alertmanager delivers for the same alertmanager.yml") {
  HttpSink am_sink, re_sink;
  const auto dir = fresh_dir("ruleeval_am_parity_");
  for (const char* sub : {"am/templates", "re/templates"}) fs::create_directories(dir / sub);
  std::ofstream(dir / "am" / "alertmanager.yml") << am_yaml(am_sink.url(""));
  std::ofstream(dir / "re" / "alertmanager.yml") << am_yaml(re_sink.url(""));
  std::ofstream(dir / "am" / "templates" / "parity.tmpl") << kTemplates;
  std::ofstream(dir / "re" / "templates" / "parity.tmpl") << kTemplates;

  const Alertmanager am(dir, kExternalUrl);

  NotifierOptions o;
  o.slack_min_interval_ms = 0;
  auto n = load_parity_notifier(dir, std::move(o));

  Millis now = Env::Default()->now_ms();
  Millis starts = now - 30'000 - now % 1000 + 123;
  std::vector<rules::Alert> alerts{make("HookParity", starts, now + 600'000),
                                   make("SlackParity", starts, now + 600'000),
                                   make("PagerParity", starts, now + 600'000),
                                   make("SlackDefaults", starts, now + 600'000),
                                   make("PagerDefaults", starts, now + 600'000),
                                   make("Muted", starts, now + 600'000),
                                   make("Inactive", starts, now + 600'000),
                                   make("Active", starts, now + 600'000)};
  am.post(alerts);
  (*n)->send(alerts, Env::Default()->now_ms());

  REQUIRE(am_sink.wait_accepted(6, 20'000));
  REQUIRE(re_sink.wait_accepted(6, 20'000));
  std::this_thread::sleep_for(std::chrono::seconds(2));  // a muted route would have sent by now
  auto am_reqs = am_sink.all();
  auto re_reqs = re_sink.all();
  // Time intervals: inside a mute interval / outside every active interval nothing is sent.
  CHECK(find(am_reqs, "/muted") == nullptr);
  CHECK(find(re_reqs, "/muted") == nullptr);
  CHECK(am_reqs.size() == 6);
  CHECK(re_reqs.size() == 6);
  for (const char* path :
       {"/hook", "/slack", "/pagerduty", "/slack-defaults", "/pd-defaults", "/active"}) {
    CAPTURE(path);
    const Request* a = find(am_reqs, path);
    const Request* r = find(re_reqs, path);
    REQUIRE(a);
    REQUIRE(r);
    CHECK(r->header("Authorization") == a->header("Authorization"));
    // A receiver's own http_config replaces global.http_config.
    CHECK(r->header("Authorization") == (std::string(path) == "/pd-defaults"
                                             ? "Basic cGQ6c2VjcmV0"
                                             : "Bearer global-token"));
    CHECK(r->header("Content-Type") == a->header("Content-Type"));
    json aj = json::parse(a->body), rj = json::parse(r->body);
    CHECK_MESSAGE(aj == rj, "Alertmanager: " << aj.dump() << "\nruleeval:     " << rj.dump()
                                             << "\ndiff: " << json::diff(aj, rj).dump());
  }
  (*n)->stop();
  fs::remove_all(dir);
}

namespace {

// The MIME of the one message in `smtp`'s maildir, parsed by Python's email package (line ends
// as LF).
json read_mail(const SmtpSink& smtp) {
  json m = mail_json(smtp.wait_mail()).at(0);
  for (auto& p : m["parts"]) {
    if (!p["body"].is_string()) continue;
    std::string body = p["body"];
    for (size_t i; (i = body.find("\r\n")) != std::string::npos;) body.replace(i, 2, "\n");
    p["body"] = body;
  }
  return m;
}

}  // namespace

// One email from Alertmanager 0.25 and from ruleeval with the same configuration (global smtp_*
// defaults; `email_extra` adds keys to the email config) and the same alert, compared part by part.
void email_parity(const std::string& email_extra) {
  const auto dir = fresh_dir("ruleeval_am_parity_mail_");
  SmtpSink am_smtp(dir / "am" / "mail", (dir / "am-smtp.log").string());
  SmtpSink re_smtp(dir / "re" / "mail", (dir / "re-smtp.log").string());
  auto yaml = [&](int smtp_port) {
    return std::string(R"(
global:
  smtp_smarthost: 127.0.0.1:)") +
           std::to_string(smtp_port) + R"(
  smtp_from: alertmanager@example.org
  smtp_hello: parity.example.org
  smtp_require_tls: false
route:
  receiver: 'on-call mail & pager+1'
  group_by: [alertname]
  group_wait: 1s
receivers:
  - name: 'on-call mail & pager+1'
    email_configs:
      - to: 'oncall@example.org'
)" + email_extra;
  };
  std::ofstream(dir / "am" / "alertmanager.yml") << yaml(am_smtp.port);
  std::ofstream(dir / "re" / "alertmanager.yml") << yaml(re_smtp.port);
  const Alertmanager am(dir, kExternalUrl);
  auto n = load_parity_notifier(dir);
  Millis now = Env::Default()->now_ms();
  std::vector<rules::Alert> alerts{make("MailParity", now - 30'000 - now % 1000 + 123, now + 600'000)};
  // Alertmanager renders `html` with Go's html/template: values are escaped by context (element
  // text; href URLs normalized, query parts URL-escaped, then attribute-escaped). HTML-special
  // characters in labels, annotations, the receiver name and the generator URL on purpose.
  alerts[0].labels = Labels{{"alertname", "MailParity"},
                            {"severity", "critical"},
                            {"instance", "db-1:9100 <primary> & 'replica'"},
                            {"link", "javascript:alert(1)"}};
  alerts[0].annotations = Labels{{"summary", "database <b>down</b> & \"out\" + gone"},
                                 {"runbook_url", "https://runbooks.example.org/db?x=1&y=2"}};
  alerts[0].generator_url =
      "http://prometheus.test/graph?g0.expr=rate(errors_total%7Bjob%3D%22db%22%7D[5m])+%3E+0&g0.tab=1";
  am.post(alerts);
  (*n)->send(alerts, Env::Default()->now_ms());
  json a = read_mail(am_smtp);
  json r = read_mail(re_smtp);
  CHECK(r["subject"] == a["subject"]);
  CHECK(r["to"] == a["to"]);
  CHECK(r["from"] == a["from"]);
  CHECK(r["mailfrom"] == a["mailfrom"]);
  CHECK(r["rcpt"] == a["rcpt"]);
  // Known difference: libcurl wraps the multipart/alternative body in a multipart/mixed
  // top level; the alternative parts themselves are compared below.
  json r_types = json::array();
  for (const auto& t : r["types"]) {
    if (t != "multipart/mixed") r_types.push_back(t);
  }
  CHECK(r_types == a["types"]);
  REQUIRE(r["parts"].size() == a["parts"].size());
  for (size_t i = 0; i < a["parts"].size(); ++i) {
    CAPTURE(i);
    CHECK(r["parts"][i]["type"] == a["parts"][i]["type"]);
    CHECK(r["parts"][i]["charset"] == a["parts"][i]["charset"]);
    // Debian's email.tmpl carries a license comment (and blank lines) ahead of the document
    // that Alertmanager's compiled-in copy does not: compare from <!DOCTYPE on.
    auto doc = [](const std::string& b) {
      auto p = b.find("<!DOCTYPE");
      return p == std::string::npos ? b : b.substr(p);
    };
    std::string ab = doc(a["parts"][i]["body"]), rb = doc(r["parts"][i]["body"]);
    CHECK(ab.size() > 200);  // a real document, not an empty render
    CHECK_MESSAGE(rb == ab, "Alertmanager:\n" << ab << "\nruleeval:\n" << rb);
  }
  (*n)->stop();
  fs::remove_all(dir);
}

TEST_CASE("email from global smtp_* defaults: same message from Alertmanager and ruleeval") {
  email_parity("");
}

// A user `html` template with values in each HTML context html/template distinguishes: element
// text, quoted and unquoted attributes, URL attributes (start, path, query; a javascript: URL
// filtered), a pipeline ending in `html` or `urlquery` (not escaped twice), inside a range.
TEST_CASE("email html user template: html/template's contextual escaping, as Alertmanager") {
  email_parity(R"(        html: |
          <!DOCTYPE html><html><head><title>{{ template "__subject" . }}</title></head><body>
          <p class="{{ .Status }}" title="{{ .CommonAnnotations.summary }}" data-n={{ .CommonLabels.instance }}>{{ .CommonAnnotations.summary }}</p>
          <a href="{{ .CommonAnnotations.runbook_url }}">runbook</a>
          <a href='https://search.example.org/q/{{ .CommonLabels.severity }} x?q={{ .CommonLabels.instance }}&amp;r={{ .Receiver | urlquery }}#{{ .CommonLabels.alertname }}'>search</a>
          <a href="{{ .CommonLabels.link }}">bad scheme</a> <a href="{{ .GroupLabels.alertname }}">relative</a>
          {{ .CommonAnnotations.summary | html }} {{ .CommonAnnotations.summary | safeHtml }}
          {{ range .Alerts }}<img src="https://img.example.org/{{ .Labels.severity }}/x y.png" alt="{{ .Labels.instance }}">{{ end }}
          </body></html>
)");
}

// Methods of time.Time in a user template (issue 12): .StartsAt.Format with an RFC 3339 layout,
// .StartsAt.Unix, the +8h shift Chinese configurations use, and .EndsAt.IsZero / .EndsAt of a
// firing alert (Alertmanager blanks EndsAt to Go's zero time, 0001-01-01).
TEST_CASE("email text template calling time.Time methods: same bytes as Alertmanager") {
  email_parity(R"(        headers:
          Subject: '{{ range .Alerts }}{{ .Labels.alertname }} since {{ .StartsAt.Format "Jan _2 15:04:05 MST" }}{{ end }}'
        text: |
          {{ range .Alerts }}starts={{ .StartsAt.Format "2006-01-02T15:04:05Z07:00" }} unix={{ .StartsAt.Unix }} ms={{ .StartsAt.UnixMilli }}
          beijing={{ (.StartsAt.Add 28800e9).Format "2006-01-02 15:04:05.000" }} day={{ .StartsAt.Weekday }} {{ .StartsAt.Month }} {{ .StartsAt.YearDay }}
          {{ if .EndsAt.IsZero }}still firing (ends {{ .EndsAt }}){{ else }}ended {{ .EndsAt.Format "15:04" }}{{ end }} zero={{ .StartsAt.IsZero }}
          utc={{ .StartsAt.UTC }} trunc={{ .StartsAt.Truncate 3600e9 }}
          {{ end }}
)");
}
