// Alertmanager's v2 silences API over a Silences store, transport-agnostic (the HTTP server of
// `ruleeval run` routes requests here):
//   GET    /api/v2/silences           list, Alertmanager's gettableSilence shape
//   POST   /api/v2/silences           create from a postableSilence; returns {"silenceID": id}
//   DELETE /api/v2/silence/<id>       expire
// Thread-safety: stateless over a Silences store (which locks itself).
#pragma once

#include <string>
#include <string_view>

#include "ruleeval/notifiers/silences.hpp"

namespace ruleeval::notifiers {

struct ApiReply {
  int status = 200;
  std::string body;  // JSON
};

// Bounds on the bodies of POST /api/v2/silences, checked before the JSON is parsed.
inline constexpr size_t kMaxSilenceBodyBytes = 1 << 20;
inline constexpr size_t kMaxJsonDepth = 32;

ApiReply silences_list(const Silences& s, Millis now);
ApiReply silences_create(Silences& s, std::string_view body, Millis now);
ApiReply silences_expire(Silences& s, std::string_view id, Millis now);

}  // namespace ruleeval::notifiers
