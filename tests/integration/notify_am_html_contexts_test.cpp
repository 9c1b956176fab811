// Alertmanager as the oracle for html/template's contexts (issue 12): a real Alertmanager 0.25
// and ruleeval's notifier load the same alertmanager.yml, whose email receivers render `html`
// templates with values in JavaScript (<script> bodies: strings, regexps, values; on* handlers,
// quoted and unquoted), CSS (<style>, style= attributes, strings and url()), URL (href, src,
// srcset; javascript: filtered, query parts escaped), RCDATA, attribute names and values and
// element text, and in templates called from those contexts (a templates file too). Alert
// labels carry quotes, </script>, <!--, a backtick, a javascript: URL, U+2028 and non-ASCII
// text. Each side mails its own aiosmtpd sink; the HTML parts must be byte-identical. Templates
// html/template refuses (an action in a JS template literal, {{if}} branches ending in
// different contexts) send nothing from either.
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

// Subject -> the text/html part of every message in `maildir`/new (Python's email package).
std::map<std::string, std::string> html_parts(const fs::path& maildir) {
  std::map<std::string, std::string> parts;
  for (const auto& m : mail_json(maildir)) {
    for (const auto& p : m["parts"]) {
      if (p["type"] == "text/html") parts[m["subject"]] = p["body"];
    }
  }
  return parts;
}

// One receiver per context; the alert named like the receiver routes to it.
const std::vector<std::pair<std::string, std::string>> kCases = {
    {"script",
     R"T(<script>var s = "{{ .CommonLabels.v }}"; var q = '{{ .CommonLabels.v }}'; var j = {{ .CommonLabels.v }};
var m = {{ .CommonLabels }}; var a = {{ .Alerts }}; var n = {{ len .Alerts }}/2; var r = /{{ .CommonLabels.v }}/i;
var t = {{ (index .Alerts 0).StartsAt }}; var k = {{ .CommonLabels.SortedPairs }}; /* block
comment */ var u = {{ .CommonLabels.uni }}; // line comment {{ .CommonLabels.v }}
</script>)T"},
    {"handlers",
     R"T(<a onclick="f({{ .CommonLabels.v }}, '{{ .CommonLabels.v }}', &quot;{{ .CommonLabels.uni }}&quot;)" onmouseover=g({{ .CommonLabels.v }})>x</a>
<script type="text/template">{{ .CommonLabels.v }}</script><script type="application/json">{{ .CommonLabels }}</script>)T"},
    {"css",
     R"T(<style>p { color: {{ .CommonLabels.color }}; content: "{{ .CommonLabels.v }}"; background: url('/i/{{ .CommonLabels.v }}') } /* dropped */
a { x: {{ .CommonLabels.v }}; y: url({{ .CommonLabels.link }}) }</style>
<p style="color: {{ .CommonLabels.color }}; background: url({{ .CommonLabels.url }}); font-family: '{{ .CommonLabels.uni }}'">x</p>)T"},
    {"url",
     R"T(<a href="{{ .CommonLabels.link }}">j</a> <a href="{{ .CommonLabels.url }}">u</a>
<a href="/search?q={{ .CommonLabels.v }}&amp;l={{ .CommonLabels.uni }}#{{ .CommonLabels.v }}">s</a>
<a href="https://x.example/{{ .CommonLabels.uni }}/{{ .CommonLabels.v }}?q={{ .CommonLabels.url | urlquery }}">p</a>
<img src={{ .CommonLabels.url }} srcset="{{ .CommonLabels.url }} 2x, /a.png {{ .CommonLabels.color }}" data-url="{{ .CommonLabels.link }}">
{{ range .Alerts }}<a href="{{ .GeneratorURL }}">g</a>{{ end }} <a href="{{ template "ctx.path" . }}">t</a>)T"},
    {"text",
     R"T(<!DOCTYPE html><title>{{ .CommonLabels.v }}</title>
<p title={{ .CommonLabels.v }} data-x='{{ .CommonLabels.uni }}' {{ .CommonLabels.attr }}="1" class="{{ .CommonLabels.v | safeHtml }}">{{ .CommonLabels.v }} 1 < 2 <!-- dropped {{ .CommonLabels.v }} --></p>
<textarea>{{ .CommonLabels.v | safeHtml }}</textarea> {{ .CommonLabels.v | html }} {{ html .CommonLabels.v .CommonLabels.uni }})T"},
    {"calls",
     R"T({{ define "x.val" }}{{ .CommonLabels.v }}{{ end }}<p title="{{ template "x.val" . }}">{{ template "x.val" . }}</p>
<script>var x = {{ template "x.val" . }}; var y = "{{ template "x.val" . }}";</script>
<p style="color: {{ template "x.val" . }}">{{ range $i, $a := .Alerts }}{{ if $i }}, {{ end }}<b title="{{ $a.Labels.v }}">{{ $a.Labels.alertname }}</b>{{ end }}</p>)T"},
    {"jsliteral", R"T(<script>var s = `{{ .CommonLabels.v }}`;</script>)T"},
    {"branches", R"T({{ if .CommonLabels.v }}<a href="{{ else }}<p>{{ end }}">x</a>)T"},
};

constexpr const char* kTemplatesFile =
    R"T({{ define "ctx.path" }}/runbooks/{{ .CommonLabels.v }}?q={{ .CommonLabels.uni }}{{ end }})T";

std::string yaml(int smtp_port) {
  std::string routes, receivers;
  for (const auto& [name, html] : kCases) {
    routes.append("    - receiver: ").append(name).append("\n      matchers: [alertname=\"")
        .append(name).append("\"]\n");
    receivers.append("  - name: ").append(name)
        .append("\n    email_configs:\n      - to: oncall@example.org\n        headers: {Subject: ")
        .append(name).append("}\n        html: ").append(json(html).dump()).append("\n");
  }
  return "global:\n  smtp_smarthost: 127.0.0.1:" + std::to_string(smtp_port) +
         "\n  smtp_from: alertmanager@example.org\n  smtp_require_tls: false\n"
         "templates: ['*.tmpl']\n"
         "route:\n  receiver: script\n  group_by: [alertname]\n  group_wait: 1s\n  routes:\n" +
         routes + "receivers:\n" + receivers;
}

}  // namespace

TEST_CASE("email html in JS, CSS, URL and attribute contexts: byte-identical to Alertmanager") {
  const auto dir = fresh_dir("ruleeval_am_html_ctx_");
  SmtpSink am_smtp(dir / "am" / "mail", (dir / "am-smtp.log").string());
  SmtpSink re_smtp(dir / "re" / "mail", (dir / "re-smtp.log").string());
  std::ofstream(dir / "am" / "alertmanager.yml") << yaml(am_smtp.port);
  std::ofstream(dir / "re" / "alertmanager.yml") << yaml(re_smtp.port);
  std::ofstream(dir / "am" / "ctx.tmpl") << kTemplatesFile;
  std::ofstream(dir / "re" / "ctx.tmpl") << kTemplatesFile;
  const Alertmanager am(dir, kExternalUrl);
  auto n = load_parity_notifier(dir);

  Millis now = Env::Default()->now_ms();
  std::vector<rules::Alert> alerts;
  json body = json::array();
  for (const auto& [name, html] : kCases) {
    rules::Alert a;
    a.labels = Labels{{"alertname", name},
                      {"v", "a\"b'c`d</script><!--x-->&+\\/ \u2028\u00e9"},
                      {"uni", "\u65e5\u672c\u8a9e \u00fc \xf0\x9f\x94\xa5"},
                      {"link", "javascript:alert(1)"},
                      {"url", "https://h.example/a b?x=\u00e9&y=1#f"},
                      {"color", "red"},
                      {"attr", "data-ok"}};
    a.annotations = Labels{{"summary", "s"}};
    a.starts_at = now - 30'000 - now % 1000 + 123;
    a.ends_at = now + 600'000;
    a.generator_url = "http://prometheus.test/graph?g0.expr=up%3D%3D0&g0.tab=1";
    json labels = json::object();
    for (const auto& l : a.labels) labels[l.name] = l.value;
    json ann = json::object();
    ann["summary"] = "s";
    body.push_back({{"labels", labels},
                    {"annotations", ann},
                    {"startsAt", rfc3339(a.starts_at)},
                    {"endsAt", rfc3339(a.ends_at)},
                    {"generatorURL", a.generator_url}});
    alerts.push_back(std::move(a));
  }
  am.post(body);
  (*n)->send(alerts, Env::Default()->now_ms());

  const size_t want = kCases.size() - 2;  // the two refused templates send nothing
  std::map<std::string, std::string> a, r;
  for (int i = 0; i < 300 && (a.size() < want || r.size() < want); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    a = html_parts(am_smtp.maildir);
    r = html_parts(re_smtp.maildir);
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));  // a refused template would have sent
  a = html_parts(am_smtp.maildir);
  r = html_parts(re_smtp.maildir);
  CHECK(a.size() == want);
  CHECK(r.size() == want);
  for (const auto& [name, html] : kCases) {
    CAPTURE(name);
    const bool refused = name == "jsliteral" || name == "branches";
    CHECK(a.contains(name) == !refused);
    CHECK(r.contains(name) == !refused);
    if (refused || !a.contains(name) || !r.contains(name)) continue;
    CHECK(a[name].size() > 40);
    CHECK_MESSAGE(r[name] == a[name], "Alertmanager:\n" << a[name] << "\nruleeval:\n" << r[name]);
  }
  // Both report why: Alertmanager logs Go's html/template error.
  std::ifstream log(dir / "am.log");
  std::string am_log((std::istreambuf_iterator<char>(log)), {});
  CHECK(am_log.find("appears in a JS template literal") != std::string::npos);
  CHECK(am_log.find("{{if}} branches end in different contexts") != std::string::npos);
  (*n)->stop();
  fs::remove_all(dir);
}

// Telegram's HTML parse mode is Alertmanager's TmplHTML too: the whole message is escaped by
// html/template (URL attributes filtered and normalized, comments dropped, a stray '<' as &lt;).
TEST_CASE("telegram parse_mode HTML: the message escaped by context, as Alertmanager sends it") {
  HttpSink am_sink, re_sink;
  const auto dir = fresh_dir("ruleeval_am_html_tg_");
  fs::create_directories(dir / "am");
  fs::create_directories(dir / "re");
  auto tg_yaml = [](const std::string& sink) {
    const std::string msg =
        R"T(<b>{{ .Status }}</b> <a href="{{ .CommonLabels.link }}">{{ .CommonLabels.v }}</a> <a href="https://x.example/?q={{ .CommonLabels.v }}">q</a> 1 < 2 <!-- c -->)T";
    return "route:\n  receiver: tg\n  group_by: [alertname]\n  group_wait: 1s\nreceivers:\n"
           "  - name: tg\n    telegram_configs:\n      - bot_token: 123456:ABC-html\n"
           "        api_url: " + sink + "\n        chat_id: 7\n        parse_mode: HTML\n"
           "        message: " + json(msg).dump() + "\n";
  };
  std::ofstream(dir / "am" / "alertmanager.yml") << tg_yaml(am_sink.url("/tg"));
  std::ofstream(dir / "re" / "alertmanager.yml") << tg_yaml(re_sink.url("/tg"));
  const Alertmanager am(dir, kExternalUrl);
  auto n = load_parity_notifier(dir);
  Millis now = Env::Default()->now_ms();
  rules::Alert a;
  a.labels = Labels{{"alertname", "TgHtml"},
                    {"v", "a\"b<c>&d \u00e9"},
                    {"link", "javascript:alert(1)"}};
  a.starts_at = now - 30'000 - now % 1000;
  a.ends_at = now + 600'000;
  json labels = json::object();
  for (const auto& l : a.labels) labels[l.name] = l.value;
  json body = json::array();
  body.push_back({{"labels", labels},
                  {"startsAt", rfc3339(a.starts_at)},
                  {"endsAt", rfc3339(a.ends_at)}});
  am.post(body);
  std::vector<rules::Alert> alerts{a};
  (*n)->send(alerts, Env::Default()->now_ms());
  REQUIRE(am_sink.wait_accepted(1, 20'000));
  REQUIRE(re_sink.wait_accepted(1, 20'000));
  const Request ar = am_sink.accepted()[0], rr = re_sink.accepted()[0];
  CHECK(rr.path == ar.path);
  const json aj = json::parse(ar.body), rj = json::parse(rr.body);
  CHECK(aj["text"].get<std::string>().find("#ZgotmplZ") != std::string::npos);
  CHECK_MESSAGE(rj == aj, "Alertmanager: " << aj.dump() << "\nruleeval:     " << rj.dump());
  (*n)->stop();
  fs::remove_all(dir);
}
