#include <doctest/doctest.h>

#include "ruleeval/notifiers/dispatch.hpp"
#include "ruleeval/notifiers/inhibit.hpp"
#include "test_util.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;
using testing::alert;

namespace {

NotifyConfig config(const char* yaml) {
  auto c = parse_notify_config(yaml);
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  return *c;
}

const char* kTree = R"(
route:
  receiver: default
  group_by: [alertname]
  routes:
    - receiver: db
      matchers: [team="db"]
      routes:
        - receiver: db-pager
          matchers: [severity="page"]
    - receiver: web
      matchers: [team="web"]
      continue: true
    - receiver: audit
      matchers: [team=~"web|db"]
receivers: [{name: default}, {name: db}, {name: db-pager}, {name: web}, {name: audit}]
)";

std::vector<std::string> receivers_for(const RouteTree& t, const Labels& l) {
  std::vector<std::string> out;
  for (const auto* r : t.match(l)) out.push_back(r->receiver);
  return out;
}

}  // namespace

TEST_CASE("routing is depth-first, first match wins unless continue is set") {
  auto c = config(kTree);
  auto t = RouteTree::build(c);
  REQUIRE(t);
  CHECK(receivers_for(**t, Labels{{"team", "db"}, {"severity", "page"}}) ==
        std::vector<std::string>{"db-pager"});
  // No child of "db" matches: the db route handles it itself; siblings are not tried.
  CHECK(receivers_for(**t, Labels{{"team", "db"}}) == std::vector<std::string>{"db"});
  // continue: true on "web" lets "audit" match too.
  CHECK(receivers_for(**t, Labels{{"team", "web"}}) == std::vector<std::string>{"web", "audit"});
  CHECK(receivers_for(**t, Labels{{"team", "ops"}}) == std::vector<std::string>{"default"});
}

TEST_CASE("undefined receivers are rejected with the route's line") {
  // As Alertmanager's config loader does, before any route tree is built.
  auto c = parse_notify_config(
      "route:\n  receiver: a\n  routes:\n    - receiver: nope\nreceivers: [{name: a}]\n", "r.yaml");
  REQUIRE_FALSE(c);
  CHECK(c.error().message ==
        R"(route.routes[0].receiver: undefined receiver "nope" used in route)");
  CHECK(c.error().where.line == 4);
  // A tree built from a hand-made config still checks.
  NotifyConfig hand;
  hand.route.receiver = "missing";
  auto t = RouteTree::build(hand);
  REQUIRE_FALSE(t);
  CHECK(t.error().message == R"(route: undefined receiver "missing")");
}

TEST_CASE("group keys look like Alertmanager's") {
  auto c = config(R"(
route:
  receiver: pd
  group_by: [alertname, ruler]
  routes:
    - receiver: pd
      matchers: ['severity="page"']
    - receiver: pd
receivers: [{name: pd}]
)");
  auto t = RouteTree::build(c);
  REQUIRE(t);
  Labels l{{"alertname", "DemoHighErrorRatio"}, {"job", "api"}, {"ruler", "prometheus"},
           {"severity", "page"}};
  auto routes = (*t)->match(l);
  REQUIRE(routes.size() == 1);
  std::string key = group_key(*routes[0], routes[0]->group_labels(l));
  CHECK(key == R"({}/{severity="page"}:{alertname="DemoHighErrorRatio", ruler="prometheus"})");
  // The dedup_key Alertmanager 0.25 sent for this group (ref/samples/alertmanager_pagerduty.json).
  CHECK(sha256_hex(key) == "eda94eedf2db20316914c751570a1d3a443e62e26bb4474709166186a492fb4e");
  auto other = (*t)->match(Labels{{"alertname", "X"}});
  CHECK(group_key(*other[0], other[0]->group_labels(Labels{{"alertname", "X"}})) ==
        R"({}/{}:{alertname="X"})");
}

TEST_CASE("groups flush after group_wait, then every group_interval") {
  auto c = config(R"(
route:
  receiver: a
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
receivers: [{name: a}]
)");
  auto t = RouteTree::build(c);
  REQUIRE(t);
  Dispatcher d(*t, Millis{5} * 60'000);
  Millis t0 = 1'000'000;
  std::vector<rules::Alert> batch{alert(Labels{{"alertname", "A"}, {"i", "1"}}, t0),
                                  alert(Labels{{"alertname", "A"}, {"i", "2"}}, t0),
                                  alert(Labels{{"alertname", "B"}}, t0)};
  d.ingest(batch, t0);
  CHECK(d.group_count() == 2);
  std::vector<GroupFlush> flushed;
  auto collect = [&](const GroupFlush& g) { flushed.push_back(g); };
  d.flush_due(t0 + 29'999, collect);
  CHECK(flushed.empty());
  d.flush_due(t0 + 30'000, collect);
  REQUIRE(flushed.size() == 2);
  CHECK(flushed[0].key == R"({}:{alertname="A"})");
  CHECK(flushed[0].alerts.size() == 2);
  CHECK(flushed[0].alerts[0].ends_at == t0 + Millis{5} * 60'000);  // resolve_timeout applied
  CHECK(d.next_flush() == t0 + 30'000 + Millis{5} * 60'000);
  flushed.clear();
  // A new alert in a flushed group waits for the next group_interval.
  std::vector<rules::Alert> more{alert(Labels{{"alertname", "A"}, {"i", "3"}}, t0 + 60'000)};
  d.ingest(more, t0 + 60'000);
  d.flush_due(t0 + 60'000 + 30'000, collect);
  CHECK(flushed.empty());
  d.flush_due(t0 + 30'000 + Millis{5} * 60'000, collect);
  REQUIRE(flushed.size() == 2);
  // cppcheck-suppress containerOutOfBounds ; false positive: REQUIRE above ends the test if empty
  CHECK(flushed[0].alerts.size() == 3);
}

TEST_CASE("an alert older than group_wait flushes a new group at once") {
  auto c = config("route:\n  receiver: a\n  group_wait: 30s\nreceivers: [{name: a}]\n");
  auto t = RouteTree::build(c);
  REQUIRE(t);
  Dispatcher d(*t, 300'000);
  std::vector<rules::Alert> old{alert(Labels{{"alertname", "Old"}}, 1)};
  d.ingest(old, 100'000);
  int n = 0;
  d.flush_due(100'000, [&](const GroupFlush&) { ++n; });
  CHECK(n == 1);
}

TEST_CASE("resolved alerts leave the group after they were flushed and empty groups go away") {
  auto c = config("route:\n  receiver: a\n  group_wait: 0s\n  group_interval: 10s\n"
                  "receivers: [{name: a}]\n");
  auto t = RouteTree::build(c);
  REQUIRE(t);
  Dispatcher d(*t, 300'000);
  std::vector<rules::Alert> a{alert(Labels{{"alertname", "A"}}, 0, 50'000)};
  d.ingest(a, 1'000);
  int n = 0;
  d.flush_due(1'000, [&](const GroupFlush&) { ++n; });
  CHECK(d.group_count() == 1);
  d.flush_due(60'000, [&](const GroupFlush& g) {
    ++n;
    CHECK(g.alerts[0].resolved_at(60'000));
  });
  CHECK(n == 2);
  CHECK(d.group_count() == 0);
}

TEST_CASE("inhibition needs a firing source, equal labels and never self-inhibits") {
  auto c = config(R"(
route: {receiver: a}
receivers: [{name: a}]
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity=~"warning|critical"]
    equal: [cluster]
)");
  std::vector<rules::Alert> sources{
      alert(Labels{{"alertname", "Down"}, {"severity", "critical"}, {"cluster", "eu"}}, 0)};
  Inhibitor inh(c.inhibit_rules, sources);
  CHECK(inh.inhibited(Labels{{"alertname", "Slow"}, {"severity", "warning"}, {"cluster", "eu"}}));
  CHECK_FALSE(
      inh.inhibited(Labels{{"alertname", "Slow"}, {"severity", "warning"}, {"cluster", "us"}}));
  CHECK_FALSE(inh.inhibited(Labels{{"alertname", "Slow"}, {"severity", "info"}, {"cluster", "eu"}}));
  // The source matches both sides: it does not inhibit itself, nor another two-sided alert.
  CHECK_FALSE(inh.inhibited(sources[0].labels));
  CHECK_FALSE(
      inh.inhibited(Labels{{"alertname", "Other"}, {"severity", "critical"}, {"cluster", "eu"}}));
  // A missing equal label equals "" on both sides.
  std::vector<rules::Alert> no_cluster{alert(Labels{{"alertname", "X"}, {"severity", "critical"}}, 0)};
  Inhibitor inh2(c.inhibit_rules, no_cluster);
  CHECK(inh2.inhibited(Labels{{"alertname", "Y"}, {"severity", "warning"}}));
}
