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
#include "notify_servers.hpp"
#include "ruleeval/notifiers/notifier.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;
using namespace ruleeval::notifiers::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kExternalUrl = "http://alertmanager.test:9093";

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
  auto dir = fs::temp_directory_path() / ("ruleeval_am_parity_" + std::to_string(getpid()));
  fs::remove_all(dir);
  for (const char* sub : {"am/templates", "re/templates"}) fs::create_directories(dir / sub);
  std::ofstream(dir / "am" / "alertmanager.yml") << am_yaml(am_sink.url(""));
  std::ofstream(dir / "re" / "alertmanager.yml") << am_yaml(re_sink.url(""));
  std::ofstream(dir / "am" / "templates" / "parity.tmpl") << kTemplates;
  std::ofstream(dir / "re" / "templates" / "parity.tmpl") << kTemplates;

  int port = free_port();
  ChildProcess am(alertmanager_argv((dir / "am" / "alertmanager.yml").string(),
                                    (dir / "am" / "data").string(), port, kExternalUrl),
                  (dir / "am.log").string());
  REQUIRE(wait_port(port, 15'000));

  NotifierOptions o;
  o.state_dir = (dir / "re" / "state").string();
  o.external_url = kExternalUrl;
  o.slack_min_interval_ms = 0;
  auto n = load_notifier((dir / "re" / "alertmanager.yml").string(), std::move(o));

  Millis now = SystemClock().now();
  Millis starts = now - 30'000 - now % 1000 + 123;
  std::vector<rules::Alert> alerts{make("HookParity", starts, now + 600'000),
                                   make("SlackParity", starts, now + 600'000),
                                   make("PagerParity", starts, now + 600'000),
                                   make("SlackDefaults", starts, now + 600'000),
                                   make("PagerDefaults", starts, now + 600'000),
                                   make("Muted", starts, now + 600'000),
                                   make("Inactive", starts, now + 600'000),
                                   make("Active", starts, now + 600'000)};
  httplib::Client client("127.0.0.1", port);
  auto res = client.Post("/api/v2/alerts", post_body(alerts).dump(), "application/json");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  (*n)->send(alerts, SystemClock().now());

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

// The MIME of the one message in `maildir`/new, parsed by Python's email package.
json read_mail(const fs::path& maildir) {
  fs::path mail;
  for (int i = 0; i < 1000 && mail.empty(); ++i) {
    for (auto& e : fs::directory_iterator(maildir / "new")) mail = e.path();
    if (mail.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE_FALSE(mail.empty());
  std::string cmd =
      "/usr/bin/python3 -c \"import email,email.policy,json,sys\n"
      "m=email.message_from_binary_file(open(sys.argv[1],'rb'),policy=email.policy.default)\n"
      "parts=[]\n"
      "for p in m.walk():\n"
      "  if not p.is_multipart(): parts.append({'type':p.get_content_type(),"
      "'charset':p.get_content_charset(),'body':p.get_content().replace('\\r\\n','\\n')})\n"
      "print(json.dumps({'subject':m['Subject'],'to':m['To'],'from':m['From'],"
      "'rcpt':m['X-RcptTo'],'mailfrom':m['X-MailFrom'],'parts':parts,"
      "'types':[p.get_content_type() for p in m.walk()]}))\" " +
      mail.string();
  FILE* pipe = ::popen(cmd.c_str(), "r");
  REQUIRE(pipe);
  std::string out;
  char buf[4096];
  while (size_t got = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, got);
  ::pclose(pipe);
  return json::parse(out);
}

}  // namespace

// One email from Alertmanager 0.25 and from ruleeval with the same configuration (global smtp_*
// defaults; `email_extra` adds keys to the email config) and the same alert, compared part by part.
void email_parity(const std::string& email_extra) {
  auto dir = fs::temp_directory_path() / ("ruleeval_am_parity_mail_" + std::to_string(getpid()));
  fs::remove_all(dir);
  struct Smtp {
    fs::path maildir;
    int port;
    std::unique_ptr<ChildProcess> proc;
  };
  auto start = [&](const std::string& name) {
    Smtp s{dir / name / "mail", free_port(), nullptr};
    for (const char* sub : {"new", "cur", "tmp"}) fs::create_directories(s.maildir / sub);
    s.proc = std::make_unique<ChildProcess>(
        std::vector<std::string>{"/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l",
                                 "127.0.0.1:" + std::to_string(s.port), "-c",
                                 "aiosmtpd.handlers.Mailbox", s.maildir.string()},
        (dir / (name + "-smtp.log")).string());
    REQUIRE(wait_port(s.port, 10'000));
    return s;
  };
  auto am_smtp = start("am");
  auto re_smtp = start("re");
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
  int port = free_port();
  ChildProcess am(alertmanager_argv((dir / "am" / "alertmanager.yml").string(),
                                    (dir / "am" / "data").string(), port, kExternalUrl),
                  (dir / "am.log").string());
  REQUIRE(wait_port(port, 15'000));
  NotifierOptions o;
  o.state_dir = (dir / "re" / "state").string();
  o.external_url = kExternalUrl;
  auto n = load_notifier((dir / "re" / "alertmanager.yml").string(), std::move(o));
  Millis now = SystemClock().now();
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
  httplib::Client client("127.0.0.1", port);
  auto res = client.Post("/api/v2/alerts", post_body(alerts).dump(), "application/json");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  (*n)->send(alerts, SystemClock().now());
  json a = read_mail(am_smtp.maildir);
  json r = read_mail(re_smtp.maildir);
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
