#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "ruleeval/notifiers/config.hpp"
#include "ruleeval/notifiers/lint.hpp"
#include "ruleeval/notifiers/matcher.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;

TEST_CASE("matchers parse quoted, unquoted and braced forms") {
  auto one = parse_matchers(R"(severity="page")");
  REQUIRE(one);
  REQUIRE(one->size() == 1);
  CHECK((*one)[0].name() == "severity");
  CHECK((*one)[0].op() == MatchOp::kEqual);
  CHECK((*one)[0].value() == "page");

  auto unquoted = parse_matchers("team = db");
  REQUIRE(unquoted);
  CHECK((*unquoted)[0].value() == "db");

  auto list = parse_matchers(R"({a="1", b!="2",c=~"x|y", d!~'z.*'})");
  REQUIRE(list);
  REQUIRE(list->size() == 4);
  CHECK((*list)[1].op() == MatchOp::kNotEqual);
  CHECK((*list)[2].op() == MatchOp::kRegex);
  CHECK((*list)[3].op() == MatchOp::kNotRegex);
  CHECK((*list)[3].value() == "z.*");
  CHECK(matchers_to_string(*list) == R"({a="1",b!="2",c=~"x|y",d!~"z.*"})");
}

TEST_CASE("regex matchers are anchored and a missing label matches the empty string") {
  auto m = parse_matchers(R"(sev=~"crit|page")");
  REQUIRE(m);
  CHECK((*m)[0].matches(Labels{{"sev", "page"}}));
  CHECK_FALSE((*m)[0].matches(Labels{{"sev", "pager"}}));
  auto ne = parse_matchers(R"(team!="db")");
  REQUIRE(ne);
  CHECK(ne->at(0).matches(Labels{{"x", "y"}}));
  auto empty = parse_matchers(R"(team="")");
  REQUIRE(empty);
  CHECK(empty->at(0).matches(Labels{{"x", "y"}}));
  CHECK_FALSE(empty->at(0).matches(Labels{{"team", "a"}}));
}

TEST_CASE("bad matchers give a clear error") {
  auto no_op = parse_matchers("severity");
  REQUIRE_FALSE(no_op);
  CHECK(no_op.error().message.find("expected one of") != std::string::npos);
  auto bad_re = parse_matchers(R"(a=~"(")");
  REQUIRE_FALSE(bad_re);
  CHECK(bad_re.error().message.find("invalid regular expression") != std::string::npos);
  CHECK_FALSE(parse_matchers(R"(a="unterminated)"));
  CHECK_FALSE(parse_matchers(R"({a="b")"));
}

static const char* kConfig = R"(
global:
  resolve_timeout: 2m
route:
  receiver: default
  group_by: [alertname]
  group_wait: 10s
  routes:
    - receiver: pager
      matchers: ['severity="page"', 'team=~"db|web"']
      group_by: ['...']
      continue: true
    - receiver: slack
      match:
        team: web
      repeat_interval: 1h
receivers:
  - name: default
    webhook_configs:
      - url: http://127.0.0.1:1/hook
        max_alerts: 3
  - name: pager
    pagerduty_configs:
      - routing_key: abc
  - name: slack
    slack_configs:
      - api_url: http://127.0.0.1:1/slack
        channel: '#x'
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [cluster]
)";

TEST_CASE("the notification config loads routes, receivers and inhibit rules") {
  auto c = parse_notify_config(kConfig, "ruleeval.yaml");
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  CHECK(c->resolve_timeout == 120'000);
  CHECK(c->route.receiver == "default");
  CHECK(c->route.group_wait.value() == 10'000);
  REQUIRE(c->route.routes.size() == 2);
  CHECK(c->route.routes[0].group_by_all);
  CHECK(c->route.routes[0].continue_);
  CHECK(c->route.routes[0].matchers.size() == 2);
  CHECK(c->route.routes[1].matchers.at(0).to_string() == R"(team="web")");
  CHECK(c->route.routes[1].repeat_interval.value() == 3'600'000);
  CHECK(c->route.routes[1].where.line == 13);
  REQUIRE(c->receivers.size() == 3);
  CHECK(c->receivers[0].webhook.at(0).max_alerts == 3);
  CHECK(c->receivers[1].pagerduty.at(0).routing_key == "abc");
  CHECK(c->receivers[1].pagerduty.at(0).send_resolved);
  CHECK_FALSE(c->receivers[2].slack.at(0).send_resolved);
  REQUIRE(c->inhibit_rules.size() == 1);
  CHECK(c->inhibit_rules[0].equal == std::vector<std::string>{"cluster"});
}

TEST_CASE("config errors name the key and the line") {
  auto bad_duration = parse_notify_config(
      "route:\n  receiver: a\n  group_wait: 10x\nreceivers:\n  - name: a\n", "r.yaml");
  REQUIRE_FALSE(bad_duration);
  CHECK(bad_duration.error().where.line == 3);
  CHECK(bad_duration.error().to_string().find("r.yaml:3:") == 0);
  CHECK(bad_duration.error().message.find("route.group_wait") != std::string::npos);

  auto unknown = parse_notify_config(
      "route:\n  receiver: a\nreceivers:\n  - name: a\n    slack_configs:\n      - api_url: x\n"
      "        colour: red\n",
      "r.yaml");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message.find(
            "receivers[0].slack_configs[0].colour: field colour not found") == 0);
  CHECK(unknown.error().where.line == 7);

  auto bad_matcher = parse_notify_config(
      "route:\n  receiver: a\n  routes:\n    - matchers: ['sev=~\"(\"']\nreceivers:\n  - name: a\n");
  REQUIRE_FALSE(bad_matcher);
  CHECK(bad_matcher.error().message.find("route.routes[0].matchers[0]") == 0);
  CHECK(bad_matcher.error().where.line == 4);

  auto missing = parse_notify_config("route:\n  receiver: a\nreceivers:\n  - name: a\n"
                                     "    pagerduty_configs:\n      - severity: x\n");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("missing service or routing key in PagerDuty config") !=
        std::string::npos);

  auto bad_yaml = parse_notify_config("route: [\n");
  REQUIRE_FALSE(bad_yaml);
  CHECK(bad_yaml.error().message.find("invalid YAML") == 0);
}

TEST_CASE("*_file secrets are paths relative to the config, read when sending, not at load") {
  auto dir = std::filesystem::temp_directory_path() / "ruleeval_notif_secrets";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "ruleeval.yaml")
      << "route:\n  receiver: a\nreceivers:\n  - name: a\n"
         "    slack_configs:\n      - api_url_file: url.txt\n"
         "    pagerduty_configs:\n      - routing_key_file: key.txt\n"
         "      - service_key_file: /run/secrets/pd_v1\n"
         "    email_configs:\n      - to: a@b.c\n        from: x@y.z\n        smarthost: h:25\n"
         "        auth_password_file: pw.txt\n"
         "    webhook_configs:\n      - url_file: /nonexistent/ruleeval/url\n";
  // None of the files exists: as with Alertmanager, that is no config error (its notifiers read
  // them at every send: notify/slack, pagerduty, email, webhook).
  auto c = load_notify_config((dir / "ruleeval.yaml").string());
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  const auto& r = c->receivers[0];
  CHECK(r.slack[0].api_url.empty());
  CHECK(r.slack[0].api_url_file == (dir / "url.txt").string());
  CHECK(r.pagerduty[0].routing_key_file == (dir / "key.txt").string());
  CHECK_FALSE(r.pagerduty[0].v1());
  CHECK(r.pagerduty[1].service_key_file == "/run/secrets/pd_v1");
  CHECK(r.pagerduty[1].v1());  // a v1 service key, even from a file
  CHECK(r.pagerduty[1].url == "https://events.pagerduty.com/generic/2010-04-15/create_event.json");
  CHECK(r.email[0].auth_password_file == (dir / "pw.txt").string());
  CHECK(r.webhook[0].url_file == "/nonexistent/ruleeval/url");

  // The global ones are inherited as paths too (Config.UnmarshalYAML copies the *File fields).
  auto g = parse_notify_config(
      "global:\n  slack_api_url_file: /run/secrets/slack\n"
      "  smtp_auth_password_file: /run/secrets/smtp\n  smtp_auth_username: u\n"
      "route:\n  receiver: a\nreceivers:\n  - name: a\n    slack_configs: [{channel: '#x'}]\n"
      "    email_configs: [{to: a@b.c, from: x@y.z, smarthost: 'h:25'}]\n");
  REQUIRE_MESSAGE(g, (g ? "" : g.error().to_string()));
  CHECK(g->receivers[0].slack[0].api_url_file == "/run/secrets/slack");
  CHECK(g->receivers[0].email[0].auth_password_file == "/run/secrets/smtp");

  auto both = parse_notify_config(
      "route:\n  receiver: a\nreceivers:\n  - name: a\n    webhook_configs:\n"
      "      - url: http://x/\n        url_file: /u\n");
  REQUIRE_FALSE(both);
  CHECK(both.error().message.find("url_file: cannot be combined with url") != std::string::npos);
  CHECK(both.error().where.line == 7);
}

TEST_CASE("route lint reports unknown receivers and alerts only the default route gets") {
  // An undefined receiver is a config error (Alertmanager's wording), found before the lint.
  auto ghost = parse_notify_config(
      "route:\n  receiver: default\n  routes:\n    - receiver: ghost\n"
      "      matchers: [team=ghost]\nreceivers:\n  - name: default\n");
  REQUIRE_FALSE(ghost);
  CHECK(ghost.error().message.find(R"(undefined receiver "ghost" used in route)") !=
        std::string::npos);
  CHECK(ghost.error().where.line == 4);
  auto c = parse_notify_config(
      "route:\n  receiver: default\n  routes:\n    - receiver: db-team\n"
      "      matchers: [team=db]\n"
      "receivers:\n  - name: default\n  - name: db-team\n  - name: unused\n");
  REQUIRE(c);
  auto findings = lint_routes(*c, {Labels{{"alertname", "A"}, {"team", "db"}},
                                   Labels{{"alertname", "B"}, {"team", "web"}}});
  std::vector<std::string> msgs;
  msgs.reserve(findings.size());
  for (const auto& f : findings) msgs.push_back(f.message);
  REQUIRE(msgs.size() == 2);
  CHECK(msgs[0] == R"(receiver "unused" is not used by any route)");
  CHECK(msgs[1].find(R"(alert {alertname="B", team="web"} matches no route)") == 0);
}
