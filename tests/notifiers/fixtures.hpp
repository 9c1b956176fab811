// Shared fixtures of the notifier tests that read what each integration rendered: a notifier
// with a RecordingTransport and a FakeEnv flushes the alerts (firing, then optionally resolved)
// and the outbox envelopes ({"requests": [{"body", "headers", ...}]}) are returned per integration.
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "../common/fake_env.hpp"
#include "ruleeval/notifiers/notifier.hpp"
#include "test_util.hpp"

namespace ruleeval::notifiers::testing {

using Envelopes = std::map<std::string, std::vector<nlohmann::json>>;

// Options of a notifier the test drives: its clock and transport, and no flush thread (the test
// calls tick()).
inline NotifierOptions driven_options(std::shared_ptr<Env> env,
                                      std::shared_ptr<Transport> transport) {
  NotifierOptions o;
  o.env = std::move(env);
  o.transport = std::move(transport);
  o.start_threads = false;
  return o;
}

// Notifier::create, REQUIRE-ing that it succeeds (the error is the message when it does not).
inline Result<std::unique_ptr<Notifier>> create_notifier(NotifyConfig cfg, NotifierOptions o) {
  auto n = Notifier::create(std::move(cfg), std::move(o));
  REQUIRE_MESSAGE(n, (n ? "" : n.error().to_string()));
  return n;
}

// `yaml` parsed as an Alertmanager configuration file am.yml whose relative paths are in `dir`.
inline Result<NotifyConfig> parse_am(const std::string& yaml, const std::string& dir = "") {
  return parse_alertmanager_config(yaml, "am.yml", dir);
}

// The parsed notify configuration `yaml` (ruleeval's own format); REQUIREs that it parses.
inline NotifyConfig notify_config(const std::string& yaml) {
  auto c = parse_notify_config(yaml);
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  return std::move(*c);
}

// A notifier the test drives from t0 (driven_options: a FakeEnv at t0 and a
// RecordingTransport); `tweak` sets further options before it is created.
struct DrivenNotifier {
  Millis t0;
  std::shared_ptr<FakeEnv> clock;
  std::shared_ptr<RecordingTransport> transport = std::make_shared<RecordingTransport>();
  std::unique_ptr<Notifier> n;

  DrivenNotifier(NotifyConfig cfg, Millis start,
                 const std::function<void(NotifierOptions&)>& tweak = {})
      : t0(start), clock(std::make_shared<FakeEnv>(start)) {
    NotifierOptions o = driven_options(clock, transport);
    if (tweak) tweak(o);
    n = std::move(*create_notifier(std::move(cfg), std::move(o)));
  }
  // Hands `alerts` to the notifier at the clock's time.
  void fire(const std::vector<rules::Alert>& alerts) { n->send(alerts, clock->now_ms()); }
  // Moves the clock to t0 + offset, flushes what is due then and waits for the deliveries.
  void at(Millis offset) {
    clock->set(t0 + offset);
    n->tick(t0 + offset);
    REQUIRE(n->wait_idle(5000));
  }
};

// When the flushes happen, relative to the alerts' start t0: the group flushes at t0 + flush;
// with `resolve` the alerts end at t0 + ends and the group flushes again at t0 + reflush.
struct FlushTimes {
  Millis flush = 30'000;
  Millis ends = 40'000;
  Millis reflush = 400'000;
};

// Flushes `alerts` (starting at t0) through a notifier with `cfg` and returns the envelopes per
// integration id, firing first; with `resolve`, the same alerts are then resolved and flushed.
// `tweak` sets further options; `metrics`, when given, receives the notifier's metrics at the end.
inline Envelopes flush_envelopes(NotifyConfig cfg, std::vector<rules::Alert> alerts, bool resolve,
                                 Millis t0, const std::string& external_url, FlushTimes at = {},
                                 const std::function<void(NotifierOptions&)>& tweak = {},
                                 std::vector<IntegrationMetrics>* metrics = nullptr) {
  auto transport = std::make_shared<RecordingTransport>();
  auto clock = std::make_shared<FakeEnv>(t0 + at.flush);
  NotifierOptions o = driven_options(clock, transport);
  o.external_url = external_url;
  if (tweak) tweak(o);
  auto n = create_notifier(std::move(cfg), std::move(o));
  (*n)->send(alerts, t0);
  (*n)->tick(t0 + at.flush);
  REQUIRE((*n)->wait_idle(5000));
  if (resolve) {
    for (auto& a : alerts) a.ends_at = t0 + at.ends;
    clock->set(t0 + at.reflush);
    (*n)->send(alerts, t0 + at.ends);
    (*n)->tick(t0 + at.reflush);
    REQUIRE((*n)->wait_idle(5000));
  }
  Envelopes out;
  for (auto& s : transport->sent()) {
    out[s.entry.integration].push_back(nlohmann::json::parse(s.entry.body));
  }
  if (metrics) *metrics = (*n)->metrics();
  return out;
}

// The req-th HTTP request of the nth envelope of integration `id` (each must exist).
inline const nlohmann::json& envelope_request(const Envelopes& m, const std::string& id,
                                              size_t nth = 0, size_t req = 0) {
  REQUIRE(m.count(id));
  REQUIRE(m.at(id).size() > nth);
  REQUIRE(m.at(id)[nth]["requests"].size() > req);
  return m.at(id)[nth]["requests"][req];
}

// The value of header `name` of an envelope request, "" when absent.
inline std::string request_header(const nlohmann::json& req, const std::string& name) {
  for (const auto& h : req["headers"]) {
    if (h[0] == name) return h[1];
  }
  return {};
}

}  // namespace ruleeval::notifiers::testing
