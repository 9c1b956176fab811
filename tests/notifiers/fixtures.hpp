// Shared fixtures of the notifier tests that read what each integration rendered: a notifier
// with a RecordingTransport and a FakeEnv flushes the alerts (firing, then optionally resolved)
// and the outbox envelopes ({"requests": [{"body", "headers", ...}]}) are returned per integration.
#pragma once

#include <doctest/doctest.h>

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

// When the flushes happen, relative to the alerts' start t0: the group flushes at t0 + flush;
// with `resolve` the alerts end at t0 + ends and the group flushes again at t0 + reflush.
struct FlushTimes {
  Millis flush = 30'000;
  Millis ends = 40'000;
  Millis reflush = 400'000;
};

// Flushes `alerts` (starting at t0) through a notifier with `cfg` and returns the envelopes per
// integration id, firing first; with `resolve`, the same alerts are then resolved and flushed.
inline Envelopes flush_envelopes(NotifyConfig cfg, std::vector<rules::Alert> alerts, bool resolve,
                                 Millis t0, const std::string& external_url, FlushTimes at = {}) {
  auto transport = std::make_shared<RecordingTransport>();
  auto clock = std::make_shared<FakeEnv>(t0 + at.flush);
  NotifierOptions o = driven_options(clock, transport);
  o.external_url = external_url;
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
