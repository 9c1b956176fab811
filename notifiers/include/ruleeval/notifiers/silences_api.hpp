// Alertmanager's v2 silences API over a Silences store, transport-agnostic (the HTTP server of
// `ruleeval run` routes requests here):
//   GET    /api/v2/silences           list, Alertmanager's gettableSilence shape
//   POST   /api/v2/silences           create from a postableSilence; returns {"silenceID": id}
//   DELETE /api/v2/silence/<id>       expire
// Thread-safety: stateless over a Silences store (which locks itself).
#pragma once

#include <map>
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

// The status page's HTML form (application/x-www-form-urlencoded, works without JavaScript):
// `matchers` (one Alertmanager matcher per line: name=value, name="value", name=~"re",
// name!=value, name!~"re"), `hours` (duration, default 2), `createdBy` and `comment` (both
// required, as in Alertmanager's UI). Builds a postableSilence and goes through
// silences_create, so the validation is the API's. On success the reply's body is the JSON
// {"silenceID": id}; otherwise the status and the reason (JSON string or Alertmanager's
// {"code","message"} object).
ApiReply silences_create_form(Silences& s, const std::multimap<std::string, std::string>& form,
                              Millis now);
// The text of an ApiReply's error for a person: the JSON string or the "message" field.
std::string reply_reason(const ApiReply& r);
// {"error": reason} (what the page's script reads).
std::string error_json(std::string_view reason);

}  // namespace ruleeval::notifiers
