#include "yaml_util.hpp"
#include "metricsql.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <unordered_map>
#include <vector>

#include "fmt/format.h"
#include "ruleeval/parser/duration.hpp"

namespace ruleeval::rules {

std::string_view yaml_kind(const yml::Node& n) {
  switch (n.Type()) {
    case yml::NodeType::Sequence:
      return "!!seq";
    case yml::NodeType::Map:
      return "!!map";
    case yml::NodeType::Null:
      return "!!null";
    default:
      return "!!str";
  }
}

Pos YamlContext::pos(const yml::Node& n) const {
  const yml::Mark m = n.Mark();
  if (m.is_null() || m.line < 0) return {};
  return Pos{static_cast<uint32_t>(m.line + 1), static_cast<uint32_t>(m.column + 1)};
}

SourceLocation YamlContext::location(Pos p) const {
  SourceLocation loc;
  loc.file = file_.path;
  loc.line = p.line;
  loc.col = p.col;
  return loc;
}

void YamlContext::report(std::string check, Severity sev, std::string message, Pos p,
                         std::string group, std::string rule) {
  Diagnostic d;
  d.check = std::move(check);
  d.severity = sev;
  d.message = std::move(message);
  d.where = location(p);
  d.group = std::move(group);
  d.rule = std::move(rule);
  diags_.push_back(std::move(d));
}

void YamlContext::type_error(const yml::Node& n, std::string_view go_type) {
  Pos p = pos(n);
  error("yaml/parse",
        fmt::format("line {}: cannot unmarshal {} into {}", p.line, yaml_kind(n), go_type), p, "",
        "");
}

void YamlContext::unknown_field(const yml::Node& key, std::string_view go_type) {
  if (opts_.ignore_unknown_fields) return;
  Pos p = pos(key);
  std::string name = key.IsScalar() ? key.Scalar() : std::string(yaml_kind(key));
  if (file_.metricsql && is_vmalert_field(name, go_type)) {
    // A VMRule's vmalert-only settings: refused by name rather than silently ignored.
    error("yaml/parse",
          fmt::format("line {}: vmalert's `{}` is not supported: ruleeval evaluates groups as "
                      "Prometheus does (remove it or use vmalert)",
                      p.line, name),
          p, "", "");
    return;
  }
  error("yaml/parse", fmt::format("line {}: field {} not found in type {}", p.line, name, go_type),
        p, "", "");
}

void YamlContext::check_duplicate_keys(const yml::Node& map) {
  if (!map.IsMap() || map.size() < 2) {
    for (const auto& kv : map) {
      if (!kv.first.IsScalar()) {
        error("yaml/parse", "mapping keys must be strings", pos(kv.first), "", "");
      }
    }
    return;
  }
  // Small maps: a linear scan beats hashing. Keys seen so far live on the stack for the usual
  // maps (a rule, its labels and annotations: ~30,000 maps in a 10,000-rule file, each of which
  // allocated this list).
  using Seen = std::pair<std::string_view, Pos>;
  constexpr size_t kOnStack = 16;
  std::array<Seen, kOnStack> stack_seen;
  std::vector<Seen> heap_seen;
  if (map.size() > kOnStack) heap_seen.resize(map.size());
  Seen* const seen = heap_seen.empty() ? stack_seen.data() : heap_seen.data();
  size_t n_seen = 0;
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) {
      error("yaml/parse", "mapping keys must be strings", pos(kv.first), "", "");
      continue;
    }
    std::string_view key = kv.first.Scalar();
    Pos p = pos(kv.first);
    const Seen* const begin = seen;
    const Seen* const end = begin + n_seen;
    const Seen* it = std::find_if(begin, end, [&](const Seen& s) { return s.first == key; });
    if (it != end) {
      error("yaml/parse",
            fmt::format("line {}: mapping key \"{}\" already defined at line {}", p.line, key,
                        it->second.line),
            p, "", "");
    } else {
      seen[n_seen++] = Seen{key, p};
    }
  }
}

Scalar YamlContext::string_value(const yml::Node& n) {
  Scalar s;
  s.pos = pos(n);
  if (n.IsNull()) return s;  // Go: null leaves the zero value
  if (!n.IsScalar()) {
    type_error(n, "string");
    return s;
  }
  s.value = n.Scalar();
  s.present = true;
  switch (n.style()) {
    case '\'':
      s.style = ScalarStyle::SingleQuoted;
      break;
    case '"':
      s.style = ScalarStyle::DoubleQuoted;
      break;
    case '|':
      s.style = ScalarStyle::Literal;
      break;
    case '>':
      s.style = ScalarStyle::Folded;
      break;
    default:
      s.style = ScalarStyle::Plain;
  }
  return s;
}

DurationField YamlContext::duration_value(const yml::Node& n) {
  DurationField d;
  d.pos = pos(n);
  if (n.IsNull()) return d;
  if (!n.IsScalar()) {
    type_error(n, "model.Duration");
    return d;
  }
  auto ms = parse_duration(n.Scalar());
  if (!ms) {
    error("yaml/parse", ms.error().message, d.pos, "", "");
    return d;
  }
  d.ms = *ms;
  d.present = true;
  return d;
}

int64_t YamlContext::int_value(const yml::Node& n) {
  if (n.IsNull()) return 0;
  if (!n.IsScalar()) {
    type_error(n, "int");
    return 0;
  }
  const std::string& s = n.Scalar();
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) {
    Pos p = pos(n);
    error("yaml/parse", fmt::format("line {}: cannot unmarshal !!str `{}` into int", p.line, s), p,
          "", "");
    return 0;
  }
  return v;
}

std::optional<double> YamlContext::float_value(const yml::Node& n) {
  if (!n.IsScalar()) {
    type_error(n, "float64");
    return std::nullopt;
  }
  const std::string& s = n.Scalar();
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) {
    Pos p = pos(n);
    error("yaml/parse", fmt::format("line {}: cannot unmarshal !!str `{}` into float64", p.line, s),
          p, "", "");
    return std::nullopt;
  }
  return v;
}

std::vector<KeyValue> YamlContext::string_map(const yml::Node& n) {
  std::vector<KeyValue> out;
  if (n.IsNull()) return out;
  if (!n.IsMap()) {
    type_error(n, "map[string]string");
    return out;
  }
  check_duplicate_keys(n);
  out.reserve(n.size());
  for (const auto& kv : n) {
    if (!kv.first.IsScalar()) continue;
    KeyValue item;
    item.key = kv.first.Scalar();
    item.key_pos = pos(kv.first);
    item.value = string_value(kv.second);
    out.push_back(std::move(item));
  }
  return out;
}

std::optional<Threshold> YamlContext::threshold_value(const yml::Node& n,
                                                      const std::string& group) {
  Pos p = pos(n);
  if (!n.IsMap() || n.size() != 1) {
    error("rule/format",
          "threshold must be a mapping with one of above, below, within_range, outside_range",
          p, group, "");
    return std::nullopt;
  }
  check_duplicate_keys(n);
  const auto kv = *n.begin();
  const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
  Threshold t;
  t.pos = p;
  static const std::unordered_map<std::string, ThresholdOp> kSingle = {
      {"above", ThresholdOp::Above},          {"below", ThresholdOp::Below},
      {"equal", ThresholdOp::Equal},          {"not_equal", ThresholdOp::NotEqual},
      {"above_or_equal", ThresholdOp::AboveOrEqual},
      {"below_or_equal", ThresholdOp::BelowOrEqual}};
  static const std::unordered_map<std::string, ThresholdOp> kRange = {
      {"within_range", ThresholdOp::WithinRange},
      {"outside_range", ThresholdOp::OutsideRange},
      {"within_range_included", ThresholdOp::WithinRangeIncluded},
      {"outside_range_included", ThresholdOp::OutsideRangeIncluded}};
  if (auto it = kSingle.find(key); it != kSingle.end()) {
    t.op = it->second;
    auto v = float_value(kv.second);
    if (!v) return std::nullopt;
    t.a = *v;
    return t;
  }
  if (auto it = kRange.find(key); it != kRange.end()) {
    t.op = it->second;
    if (!kv.second.IsSequence() || kv.second.size() != 2) {
      error("rule/format", fmt::format("{} takes a list of two numbers: [low, high]", key),
            pos(kv.second), group, "");
      return std::nullopt;
    }
    auto a = float_value(kv.second[0]);
    auto b = float_value(kv.second[1]);
    if (!a || !b) return std::nullopt;
    if (*a > *b) {
      error("rule/format", fmt::format("{}: low bound {} is above high bound {}", key, *a, *b),
            pos(kv.second), group, "");
      return std::nullopt;
    }
    t.a = *a;
    t.b = *b;
    return t;
  }
  error("rule/format",
        fmt::format("unknown threshold \"{}\" (want above, below, within_range or outside_range)",
                    key),
        pos(kv.first), group, "");
  return std::nullopt;
}

}  // namespace ruleeval::rules
