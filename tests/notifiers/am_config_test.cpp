// alertmanager.yml parity: global defaults applied per receiver, time intervals, templates.
// (Accept/reject parity with amtool itself is the data-driven test tests/amconfig_diff.py.)
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "ruleeval/notifiers/config.hpp"
#include "ruleeval/notifiers/timeinterval.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;

namespace {

// 2026-12-04 (a Friday) at hh:mm UTC, in Unix milliseconds.
int64_t dec4(int hh, int mm) { return (1796342400LL + int64_t{hh} * 3600 + int64_t{mm} * 60) * 1000; }

}  // namespace

TEST_CASE("global smtp_*, slack_api_url, pagerduty_url and http_config reach every receiver") {
  auto c = parse_alertmanager_config(R"(
global:
  smtp_smarthost: mail.example.org:587
  smtp_from: am@example.org
  smtp_hello: am.example.org
  smtp_auth_username: am
  smtp_auth_password: pw
  smtp_require_tls: false
  slack_api_url: https://hooks.slack.com/services/T/B/X
  pagerduty_url: https://events.eu.pagerduty.com/v2/enqueue
  resolve_timeout: 2m
  http_config:
    authorization: {credentials: tok}
    follow_redirects: false
route:
  receiver: r
receivers:
  - name: r
    email_configs:
      - to: ops@example.org
      - to: db@example.org
        from: db-am@example.org
        require_tls: true
    slack_configs:
      - channel: '#a'
    pagerduty_configs:
      - routing_key: k
      - routing_key: k2
        url: https://pd.example.org/enqueue
        http_config:
          basic_auth: {username: u, password: p}
    webhook_configs:
      - url: http://127.0.0.1:1/x
)",
                                     "am.yml", "");
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  CHECK(c->resolve_timeout == 120'000);
  const auto& r = c->receivers.at(0);
  CHECK(r.email[0].smarthost == "mail.example.org:587");
  CHECK(r.email[0].from == "am@example.org");
  CHECK(r.email[0].hello == "am.example.org");
  CHECK(r.email[0].auth_username == "am");
  CHECK(r.email[0].auth_password == "pw");
  CHECK_FALSE(r.email[0].require_tls);
  CHECK(r.email[1].from == "db-am@example.org");
  CHECK(r.email[1].require_tls);
  CHECK(r.slack[0].api_url == "https://hooks.slack.com/services/T/B/X");
  CHECK(r.pagerduty[0].url == "https://events.eu.pagerduty.com/v2/enqueue");
  CHECK(r.pagerduty[1].url == "https://pd.example.org/enqueue");
  // A receiver's own http_config replaces the global one entirely (not merged).
  CHECK(r.pagerduty[0].http.bearer_token == "tok");
  CHECK_FALSE(r.pagerduty[0].http.follow_redirects);
  CHECK(r.pagerduty[1].http.bearer_token.empty());
  CHECK(r.pagerduty[1].http.basic_user == "u");
  CHECK(r.pagerduty[1].http.follow_redirects);
  CHECK(r.webhook[0].http.bearer_token == "tok");
  CHECK(r.slack[0].http.bearer_token == "tok");
}

TEST_CASE("pagerduty service_key selects Events API v1") {
  auto c = parse_alertmanager_config(R"(
route: {receiver: r}
receivers:
  - name: r
    pagerduty_configs:
      - service_key: abc
)",
                                     "am.yml", "");
  REQUIRE(c);
  const auto& pd = c->receivers.at(0).pagerduty.at(0);
  CHECK(pd.v1());
  CHECK(pd.url == "https://events.pagerduty.com/generic/2010-04-15/create_event.json");
}

TEST_CASE("an option Alertmanager accepts but ruleeval does not implement is refused") {
  // Every receiver of Alertmanager 0.25 is implemented; an SMTP auth_secret together with a
  // password (Alertmanager picks by the server's AUTH list) is not.
  auto c = parse_alertmanager_config(R"(
route: {receiver: r}
receivers:
  - name: r
    email_configs:
      - to: oncall@example.org
        from: am@example.org
        smarthost: smtp.example.org:587
        auth_username: am
        auth_password: p
        auth_secret: s
)",
                                     "am.yml", "");
  REQUIRE_FALSE(c);
  CHECK(c.error().message.find("not implemented by ruleeval") != std::string::npos);
  CHECK(c.error().where.line == 11);
}

TEST_CASE("alertmanager.yml errors carry Alertmanager's wording and file:line:col") {
  auto c = parse_alertmanager_config("route:\n  receiver: a\nreceivers:\n  - name: b\n", "am.yml",
                                     "");
  REQUIRE_FALSE(c);
  CHECK(c.error().to_string() ==
        "am.yml:2:13: route.receiver: undefined receiver \"a\" used in route");
  auto k = parse_alertmanager_config("route:\n  receiver: a\n  foo: 1\nreceivers:\n  - name: a\n",
                                     "am.yml", "");
  REQUIRE_FALSE(k);
  CHECK(k.error().where.line == 3);
  CHECK(k.error().message.find("field foo not found") != std::string::npos);
}

TEST_CASE("time intervals: weekdays, times, days_of_month (negative), months, years") {
  auto c = parse_alertmanager_config(R"(
route:
  receiver: r
  routes:
    - receiver: r
      mute_time_intervals: [offhours]
      active_time_intervals: [december]
receivers: [{name: r}]
time_intervals:
  - name: offhours
    time_intervals:
      - weekdays: ['saturday', 'sunday']
      - times: [{start_time: '00:00', end_time: '08:00'}, {start_time: '18:00', end_time: '24:00'}]
  - name: december
    time_intervals:
      - months: ['december']
        years: ['2026:2027']
        days_of_month: ['-28:-1']
  - name: last-day
    time_intervals:
      - days_of_month: ['-1']
)",
                                     "am.yml", "");
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  const auto& route = c->route.routes.at(0);
  CHECK(route.mute_time_intervals == std::vector<std::string>{"offhours"});
  CHECK(route.active_time_intervals == std::vector<std::string>{"december"});
  const auto& ti = c->time_intervals;
  CHECK(in_time_intervals(ti, {"offhours"}, dec4(7, 59)));
  CHECK_FALSE(in_time_intervals(ti, {"offhours"}, dec4(8, 0)));
  CHECK_FALSE(in_time_intervals(ti, {"offhours"}, dec4(17, 59)));
  CHECK(in_time_intervals(ti, {"offhours"}, dec4(18, 0)));
  CHECK(in_time_intervals(ti, {"offhours"}, dec4(12, 0) + 86'400'000));  // Saturday
  CHECK(in_time_intervals(ti, {"december"}, dec4(12, 0)));     // 4th = 28th from the end
  CHECK_FALSE(in_time_intervals(ti, {"december"}, dec4(12, 0) - 86'400'000));  // 3rd
  CHECK_FALSE(in_time_intervals(ti, {"december"}, dec4(12, 0) - 30LL * 86'400'000));  // Nov
  CHECK(in_time_intervals(ti, {"last-day"}, dec4(12, 0) + 27LL * 86'400'000));   // Dec 31
  CHECK_FALSE(in_time_intervals(ti, {"last-day"}, dec4(12, 0) + 26LL * 86'400'000));
}

TEST_CASE("time interval location converts UTC with the system tz database") {
  auto tz = TimeZone::load("America/New_York");
  REQUIRE(tz);
  TimeInterval ti;
  ti.location = *tz;
  ti.times = std::vector<TimeInterval::Range>{{9 * 60, 17 * 60}};
  // 14:00 UTC on 2026-12-04 is 09:00 EST (UTC-5); in July (EDT, UTC-4) 12:59 UTC is 08:59.
  CHECK(ti.contains(dec4(14, 0)));
  CHECK_FALSE(ti.contains(dec4(13, 59)));
  int64_t jul1 = 1782864000LL * 1000;  // 2026-07-01 00:00 UTC
  CHECK_FALSE(ti.contains(jul1 + int64_t{12 * 3600 + 59 * 60} * 1000));
  CHECK(ti.contains(jul1 + int64_t{13} * 3600 * 1000));
  CHECK_FALSE(TimeZone::load("Mars/Olympus_Mons"));
}

TEST_CASE("templates: globs relative to the config are loaded; a broken file is an error") {
  auto dir = std::filesystem::temp_directory_path() / "ruleeval_am_tmpl_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "t");
  std::ofstream(dir / "t" / "a.tmpl") << R"({{ define "my.title" }}T {{ .Status }}{{ end }})";
  std::ofstream(dir / "am.yml") << R"(
templates: ['t/*.tmpl', 'none/*.tmpl']
route: {receiver: r}
receivers:
  - name: r
    slack_configs:
      - api_url: https://hooks.slack.com/x
        title: '{{ template "my.title" . }}'
)";
  auto c = load_alertmanager_config((dir / "am.yml").string());
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  CHECK(c->template_defs.find("my.title") != std::string::npos);
  std::ofstream(dir / "t" / "b.tmpl") << R"({{ define "broken" }}{{ if }}{{ end }})";
  auto bad = load_alertmanager_config((dir / "am.yml").string());
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("b.tmpl") != std::string::npos);
  std::filesystem::remove_all(dir);
}
