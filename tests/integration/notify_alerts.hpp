// Alerts as the notifier integration tests hand them to a real Alertmanager: the JSON body of
// POST /api/v2/alerts, with times in RFC 3339 at millisecond precision. Written here by hand, not
// with ruleeval's own formatting, so a test compares against an independent encoding.
#pragma once

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ruleeval/notifiers/notifier.hpp"

namespace ruleeval::notifiers::testing {

inline std::string rfc3339(Millis ms) {
  time_t s = ms / 1000;
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[80];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

inline nlohmann::json post_body(const std::vector<rules::Alert>& alerts) {
  using nlohmann::json;
  json arr = json::array();
  for (const auto& a : alerts) {
    json labels = json::object(), ann = json::object();
    for (const auto& l : a.labels) labels[l.name] = l.value;
    for (const auto& l : a.annotations) ann[l.name] = l.value;
    arr.push_back({{"labels", labels},
                   {"annotations", ann},
                   {"startsAt", rfc3339(a.starts_at)},
                   {"endsAt", rfc3339(a.ends_at)},
                   {"generatorURL", a.generator_url}});
  }
  return arr;
}

}  // namespace ruleeval::notifiers::testing
