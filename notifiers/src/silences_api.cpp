#include "ruleeval/notifiers/silences_api.hpp"
#include "ruleeval/common/time_format.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <optional>

#include "ruleeval/common/json_limits.hpp"

#include "ruleeval/rules/unittest_file.hpp"  // parse_timestamp (RFC3339)

namespace ruleeval::notifiers {
namespace {

using json = nlohmann::json;

std::string rfc3339(Millis ms) { return format_rfc3339_ms(ms, Rfc3339Fraction::kMillis); }


ApiReply error(int status, const std::string& msg) { return {status, json(msg).dump()}; }

json to_json(const Silence& s, Millis now) {
  json matchers = json::array();
  for (const auto& m : s.matchers) {
    bool regex = m.op() == MatchOp::kRegex || m.op() == MatchOp::kNotRegex;
    bool equal = m.op() == MatchOp::kEqual || m.op() == MatchOp::kRegex;
    matchers.push_back({{"name", m.name()}, {"value", m.value()}, {"isRegex", regex},
                        {"isEqual", equal}});
  }
  return {{"id", s.id},
          {"matchers", matchers},
          {"startsAt", rfc3339(s.starts_at)},
          {"endsAt", rfc3339(s.ends_at)},
          {"updatedAt", rfc3339(s.updated_at)},
          {"createdBy", s.created_by},
          {"comment", s.comment},
          {"status", {{"state", s.state(now)}}}};
}

// Alertmanager 0.25 checks the postableSilence schema (go-swagger) before anything else and
// answers the first missing required property, in this order, with a 422:
//   {"code":602,"message":"comment in body is required"}
// null counts as missing; an empty string is accepted (as Alertmanager does).
std::optional<ApiReply> schema_error(const json& in) {
  auto missing = [](const json& o, const char* k) {
    auto it = o.find(k);
    return it == o.end() || it->is_null();
  };
  auto required = [](const std::string& p) {
    return ApiReply{422, json{{"code", 602}, {"message", p + " in body is required"}}.dump()};
  };
  for (const char* k : {"comment", "createdBy", "endsAt", "matchers"}) {
    if (missing(in, k)) return required(k);
  }
  const json& ms = in["matchers"];
  if (ms.is_array()) {
    if (ms.empty()) {
      return ApiReply{
          422, json{{"code", 612}, {"message", "matchers in body should have at least 1 items"}}
                   .dump()};
    }
    for (size_t i = 0; i < ms.size(); ++i) {
      if (!ms[i].is_object()) continue;  // a type error: 400 below
      for (const char* k : {"isRegex", "name", "value"}) {
        if (missing(ms[i], k)) return required("matchers." + std::to_string(i) + "." + k);
      }
    }
  }
  if (missing(in, "startsAt")) return required("startsAt");
  return std::nullopt;
}

}  // namespace

ApiReply silences_list(const Silences& s, Millis now) {
  json out = json::array();
  for (const auto& x : s.list()) out.push_back(to_json(x, now));
  return {200, out.dump()};
}

ApiReply silences_create(Silences& s, std::string_view body, Millis now) {
  // Bounded before parsing: a deeply nested body must not exhaust the stack.
  if (body.size() > kMaxSilenceBodyBytes) {
    return error(413, "request body too large: the limit is " +
                          std::to_string(kMaxSilenceBodyBytes) + " bytes");
  }
  if (json_nesting_depth(body) > kMaxJsonDepth) {
    return error(400, "body is nested more than " + std::to_string(kMaxJsonDepth) + " levels deep");
  }
  json in = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (in.is_discarded() || !in.is_object()) return error(400, "body is not a JSON object");
  if (auto e = schema_error(in)) return *e;
  for (const char* k : {"comment", "createdBy", "endsAt", "startsAt", "id"}) {
    auto it = in.find(k);
    if (it != in.end() && !it->is_null() && !it->is_string()) {
      return error(400, std::string("parsing silence body failed: ") + k + " must be a string, not " +
                            it->type_name());
    }
  }
  Silence sil;
  try {
    if (in.contains("id") && !in["id"].is_null()) sil.id = in["id"].get<std::string>();
    const json matchers = in.value("matchers", json::array());
    if (!matchers.is_array()) return error(400, "matchers: not an array");
    for (const auto& m : matchers) {
      if (!m.is_object()) return error(400, "matchers: each matcher must be an object");
      bool regex = m.value("isRegex", false);
      bool equal = m.value("isEqual", true);
      MatchOp op = regex ? (equal ? MatchOp::kRegex : MatchOp::kNotRegex)
                         : (equal ? MatchOp::kEqual : MatchOp::kNotEqual);
      auto matcher = Matcher::make(m.at("name").get<std::string>(), op,
                                   m.at("value").get<std::string>());
      if (!matcher) return error(400, matcher.error().message);
      sil.matchers.push_back(std::move(*matcher));
    }
    auto starts = rules::parse_timestamp(in.at("startsAt").get<std::string>());
    auto ends = rules::parse_timestamp(in.at("endsAt").get<std::string>());
    if (!starts || !ends) return error(400, "startsAt/endsAt must be RFC3339 timestamps");
    sil.starts_at = *starts;
    sil.ends_at = *ends;
    sil.created_by = in.at("createdBy").get<std::string>();
    sil.comment = in.at("comment").get<std::string>();
  } catch (const json::exception& e) {
    return error(400, std::string("invalid silence: ") + e.what());
  }
  auto id = s.create(std::move(sil), now);
  if (!id) return error(Silences::is_not_found(id.error()) ? 404 : 400, id.error().message);
  return {200, json{{"silenceID", *id}}.dump()};
}

ApiReply silences_create_form(Silences& s, const std::multimap<std::string, std::string>& form,
                              Millis now) {
  auto field = [&](const char* k) -> std::string {
    auto it = form.find(k);
    return it == form.end() ? std::string() : it->second;
  };
  auto trimmed = [](const std::string& v) {
    size_t b = v.find_first_not_of(" \t\r\n"), e = v.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? std::string() : v.substr(b, e - b + 1);
  };
  const std::string text = field("matchers");
  if (text.size() > kMaxSilenceBodyBytes) return error(413, "matchers: too long");
  json matchers = json::array();
  size_t line_no = 0;
  for (size_t pos = 0; pos <= text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = trimmed(text.substr(pos, nl - pos));
    pos = nl + 1;
    ++line_no;
    if (line.empty()) continue;
    auto ms = parse_matchers(line);
    if (!ms) {
      return error(400, "matchers, line " + std::to_string(line_no) + " (\"" + line +
                            "\"): " + ms.error().message);
    }
    for (const auto& m : *ms) {
      bool regex = m.op() == MatchOp::kRegex || m.op() == MatchOp::kNotRegex;
      bool equal = m.op() == MatchOp::kEqual || m.op() == MatchOp::kRegex;
      matchers.push_back(
          {{"name", m.name()}, {"value", m.value()}, {"isRegex", regex}, {"isEqual", equal}});
    }
  }
  if (matchers.empty()) return error(400, "matchers: at least one matcher required");
  const std::string created_by = trimmed(field("createdBy"));
  const std::string comment = trimmed(field("comment"));
  if (created_by.empty()) return error(400, "created by: required (who is silencing)");
  if (comment.empty()) return error(400, "comment: required (why)");
  double hours = 2;
  if (std::string h = trimmed(field("hours")); !h.empty()) {
    char* end = nullptr;
    hours = std::strtod(h.c_str(), &end);
    if (end != h.c_str() + h.size() || !(hours > 0) || hours > 24 * 366) {
      return error(400, "duration: \"" + h + "\" is not a number of hours (more than 0, at most "
                        "a year)");
    }
  }
  json body = {{"matchers", matchers},
               {"startsAt", rfc3339(now)},
               {"endsAt", rfc3339(now + static_cast<Millis>(hours * 3600'000.0))},
               {"createdBy", created_by},
               {"comment", comment}};
  return silences_create(s, body.dump(), now);
}

std::string reply_reason(const ApiReply& r) {
  json j = json::parse(r.body, nullptr, false);
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("message") && j["message"].is_string()) {
    return j["message"].get<std::string>();
  }
  return r.body;
}

std::string error_json(std::string_view reason) { return json{{"error", std::string(reason)}}.dump(); }

ApiReply silences_expire(Silences& s, std::string_view id, Millis now) {
  auto r = s.expire(std::string(id), now);
  if (!r) return error(404, r.error().message);
  return {200, ""};
}

}  // namespace ruleeval::notifiers
