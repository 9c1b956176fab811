#include "ruleeval/engine/http_api.hpp"
#include "ruleeval/common/time_format.hpp"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>

namespace ruleeval::engine {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void str(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

template <class LabelSet>
void labels_obj(Writer& w, const LabelSet& l) {
  w.StartObject();
  for (const auto& x : l) {
    w.Key(x.name.data(), static_cast<rapidjson::SizeType>(x.name.size()));
    str(w, x.value);
  }
  w.EndObject();
}

// Seconds as a JSON number (Prometheus encodes durations and intervals as float seconds).
void seconds(Writer& w, Millis ms) {
  if (ms % 1000 == 0) {
    w.Int64(trunc_seconds(ms));
  } else {
    w.Double(ms_to_seconds(ms));
  }
}

std::vector<const ActiveAlert*> active_alerts(const AlertMap* m) {
  std::vector<const ActiveAlert*> out;
  if (m == nullptr) return out;
  for (const auto& [_, a] : *m) {
    if (a.state != AlertState::kInactive) out.push_back(&a);
  }
  std::sort(out.begin(), out.end(),
            [](const ActiveAlert* x, const ActiveAlert* y) { return x->labels < y->labels; });
  return out;
}

void alert_obj(Writer& w, const ActiveAlert& a) {
  w.StartObject();
  w.Key("labels");
  labels_obj(w, a.labels);
  w.Key("annotations");
  labels_obj(w, a.annotations);
  w.Key("state");
  str(w, to_string(a.state));
  w.Key("activeAt");
  str(w, format_rfc3339(a.active_at));
  if (is_set(a.keep_firing_since)) {
    w.Key("keepFiringSince");
    str(w, format_rfc3339(a.keep_firing_since));
  }
  w.Key("value");
  str(w, format_go_float_e(a.value));
  w.EndObject();
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool rule_passes(const RuleView& r, const RulesFilter& f) {
  if (f.type && r.type != *f.type) return false;
  if (!f.rule_names.empty() && !contains(f.rule_names, r.name)) return false;
  return true;
}

void envelope_start(Writer& w) {
  w.StartObject();
  w.Key("status");
  w.String("success");
  w.Key("data");
  w.StartObject();
}

void envelope_end(Writer& w) {
  w.EndObject();
  w.EndObject();
}

}  // namespace

std::string format_rfc3339(Millis t) {
  if (!is_set(t)) return "0001-01-01T00:00:00Z";
  return format_rfc3339_ms(t);
}


std::string format_go_float_e(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  if (ec != std::errc()) return fmt::format("{:e}", v);
  return std::string(buf, p);
}

Result<std::optional<RuleView::Type>> parse_rule_type(std::string_view s) {
  if (s.empty()) return std::optional<RuleView::Type>{};
  if (s == "alert") return std::optional<RuleView::Type>{RuleView::Type::kAlerting};
  if (s == "record") return std::optional<RuleView::Type>{RuleView::Type::kRecording};
  return make_error(
      fmt::format("invalid query parameter type='{}', allowed values are 'alert' and 'record'", s));
}

std::string render_rules(std::span<const GroupView> groups, const RulesFilter& filter) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  const bool rule_filter = filter.type.has_value() || !filter.rule_names.empty();
  envelope_start(w);
  w.Key("groups");
  w.StartArray();
  for (const auto& g : groups) {
    if (!filter.rule_groups.empty() && !contains(filter.rule_groups, g.name)) continue;
    if (!filter.files.empty() && !contains(filter.files, g.file)) continue;
    std::vector<const RuleView*> rules;
    for (const auto& r : g.rules) {
      if (rule_passes(r, filter)) rules.push_back(&r);
    }
    if (rule_filter && rules.empty()) continue;
    w.StartObject();
    w.Key("name");
    str(w, g.name);
    w.Key("file");
    str(w, g.file);
    w.Key("rules");
    w.StartArray();
    for (const RuleView* r : rules) {
      w.StartObject();
      if (r->type == RuleView::Type::kAlerting) {
        auto alerts = active_alerts(r->alerts);
        AlertState st = r->alerts != nullptr ? rule_state(*r->alerts) : AlertState::kInactive;
        w.Key("state");
        str(w, to_string(st));
        w.Key("name");
        str(w, r->name);
        w.Key("query");
        str(w, r->query);
        w.Key("duration");
        seconds(w, r->duration);
        w.Key("keepFiringFor");
        seconds(w, r->keep_firing_for);
        w.Key("labels");
        labels_obj(w, r->labels);
        w.Key("annotations");
        labels_obj(w, r->annotations);
        if (!filter.exclude_alerts) {
          w.Key("alerts");
          w.StartArray();
          for (const ActiveAlert* a : alerts) alert_obj(w, *a);
          w.EndArray();
        }
      } else {
        w.Key("name");
        str(w, r->name);
        w.Key("query");
        str(w, r->query);
        w.Key("labels");
        labels_obj(w, r->labels);
      }
      w.Key("health");
      str(w, r->health);
      if (r->last_error) {
        w.Key("lastError");
        str(w, *r->last_error);
      }
      w.Key("evaluationTime");
      w.Double(r->eval_seconds);
      w.Key("lastEvaluation");
      str(w, format_rfc3339(r->last_eval));
      w.Key("type");
      w.String(r->type == RuleView::Type::kAlerting ? "alerting" : "recording");
      w.EndObject();
    }
    w.EndArray();
    w.Key("interval");
    seconds(w, g.interval);
    w.Key("limit");
    w.Uint64(g.limit);
    w.Key("evaluationTime");
    w.Double(g.eval_seconds);
    w.Key("lastEvaluation");
    str(w, format_rfc3339(g.last_eval));
    w.EndObject();
  }
  w.EndArray();
  envelope_end(w);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string render_alerts(std::span<const GroupView> groups) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  envelope_start(w);
  w.Key("alerts");
  w.StartArray();
  for (const auto& g : groups) {
    for (const auto& r : g.rules) {
      if (r.type != RuleView::Type::kAlerting) continue;
      for (const ActiveAlert* a : active_alerts(r.alerts)) alert_obj(w, *a);
    }
  }
  w.EndArray();
  envelope_end(w);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string render_error(std::string_view error_type, std::string_view message) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("status");
  w.String("error");
  w.Key("errorType");
  str(w, error_type);
  w.Key("error");
  str(w, message);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace ruleeval::engine
