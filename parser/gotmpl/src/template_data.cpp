// Alertmanager's notification template data model (template.Data, Alert, KV, Pairs) expressed as
// template values with Go-like methods.
#include <fmt/format.h>

#include "template_internal.hpp"

namespace ruleeval::tmpl {
namespace {

std::vector<std::pair<std::string, std::string>> sorted_pairs(const Map& m) {
  std::vector<std::pair<std::string, std::string>> out;
  // Alertmanager puts alertname first, then sorts the rest by name (the map is already sorted).
  if (auto it = m.find("alertname"); it != m.end())
    out.emplace_back(it->first, it->second.to_string());
  for (const auto& [k, v] : m) {
    if (k != "alertname") out.emplace_back(k, v.to_string());
  }
  return out;
}

std::shared_ptr<const TypeInfo> pair_type() {
  static const auto t = [] {
    auto ti = std::make_shared<TypeInfo>();
    ti->name = "template.Pair";
    ti->is_struct = true;
    ti->json_fields = {{"Name", "Name"}, {"Value", "Value"}};
    return std::shared_ptr<const TypeInfo>(ti);
  }();
  return t;
}

std::vector<std::string> column(const Value& pairs, const char* field) {
  std::vector<std::string> out;
  for (const auto& p : pairs.as_list()) {
    const auto& m = p.as_map();
    auto it = m.find(field);
    out.push_back(it == m.end() ? std::string() : it->second.to_string());
  }
  return out;
}

std::shared_ptr<const TypeInfo> pairs_type() {
  static const auto t = [] {
    auto ti = std::make_shared<TypeInfo>();
    ti->name = "template.Pairs";
    ti->methods["Names"] = [](const Value& self, std::span<const Value>) -> Result<Value> {
      return Value::strings(column(self, "Name"));
    };
    ti->methods["Values"] = [](const Value& self, std::span<const Value>) -> Result<Value> {
      return Value::strings(column(self, "Value"));
    };
    return std::shared_ptr<const TypeInfo>(ti);
  }();
  return t;
}

Value pairs_of(const Map& m) {
  List l;
  for (auto& [k, v] : sorted_pairs(m)) {
    Map p;
    p.emplace("Name", Value(k));
    p.emplace("Value", Value(v));
    l.emplace_back(std::move(p), pair_type());
  }
  return Value(std::move(l), pairs_type());
}

std::shared_ptr<const TypeInfo> kv_type();

Result<Value> no_args(std::string_view name, std::span<const Value> args) {
  if (!args.empty()) {
    return make_error(fmt::format("wrong number of args for {}: want 0 got {}", name, args.size()));
  }
  return Value();
}

std::shared_ptr<const TypeInfo> kv_type() {
  static const auto t = [] {
    auto ti = std::make_shared<TypeInfo>();
    ti->name = "template.KV";
    ti->string_elems = true;
    ti->methods["SortedPairs"] = [](const Value& self, std::span<const Value> a) -> Result<Value> {
      if (auto r = no_args("SortedPairs", a); !r) return r;
      return pairs_of(self.as_map());
    };
    ti->methods["Names"] = [](const Value& self, std::span<const Value> a) -> Result<Value> {
      if (auto r = no_args("Names", a); !r) return r;
      return Value::strings(column(pairs_of(self.as_map()), "Name"));
    };
    ti->methods["Values"] = [](const Value& self, std::span<const Value> a) -> Result<Value> {
      if (auto r = no_args("Values", a); !r) return r;
      return Value::strings(column(pairs_of(self.as_map()), "Value"));
    };
    ti->methods["Remove"] = [](const Value& self, std::span<const Value> a) -> Result<Value> {
      if (a.size() != 1) {
        return make_error(fmt::format("wrong number of args for Remove: want 1 got {}", a.size()));
      }
      if (a[0].kind() != Value::Kind::kList) return std::unexpected(wrong_type("[]string", a[0]));
      Map out = self.as_map();
      for (const auto& k : a[0].as_list()) {
        if (k.kind() == Value::Kind::kString) out.erase(k.as_string());
      }
      return Value(std::move(out), self.type_ptr());
    };
    return std::shared_ptr<const TypeInfo>(ti);
  }();
  return t;
}

std::shared_ptr<const TypeInfo> alert_type() {
  static const auto t = [] {
    auto ti = std::make_shared<TypeInfo>();
    ti->name = "template.Alert";
    ti->is_struct = true;
    ti->json_fields = {{"Status", "status"},           {"Labels", "labels"},
                       {"Annotations", "annotations"}, {"StartsAt", "startsAt"},
                       {"EndsAt", "endsAt"},           {"GeneratorURL", "generatorURL"},
                       {"Fingerprint", "fingerprint"}};
    return std::shared_ptr<const TypeInfo>(ti);
  }();
  return t;
}

Value filter_status(const Value& alerts, std::string_view status);

std::shared_ptr<const TypeInfo> alerts_type() {
  static const auto t = [] {
    auto ti = std::make_shared<TypeInfo>();
    ti->name = "template.Alerts";
    ti->methods["Firing"] = [](const Value& self, std::span<const Value> a) -> Result<Value> {
      if (auto r = no_args("Firing", a); !r) return r;
      return filter_status(self, "firing");
    };
    ti->methods["Resolved"] = [](const Value& self, std::span<const Value> a) -> Result<Value> {
      if (auto r = no_args("Resolved", a); !r) return r;
      return filter_status(self, "resolved");
    };
    return std::shared_ptr<const TypeInfo>(ti);
  }();
  return t;
}

Value filter_status(const Value& alerts, std::string_view status) {
  List out;
  for (const auto& a : alerts.as_list()) {
    const auto& m = a.as_map();
    auto it = m.find("Status");
    if (it != m.end() && it->second.kind() == Value::Kind::kString &&
        it->second.as_string() == status) {
      out.push_back(a);
    }
  }
  return Value(std::move(out), alerts_type());
}

}  // namespace

Value kv_value(const Labels& kv) { return Value::from_labels(kv, kv_type()); }

Value notification_template_data(const NotificationData& d) {
  static const auto kDataType = [] {
    auto ti = std::make_shared<TypeInfo>();
    ti->name = "template.Data";
    ti->is_struct = true;
    ti->json_fields = {{"Receiver", "receiver"},         {"Status", "status"},
                       {"Alerts", "alerts"},             {"GroupLabels", "groupLabels"},
                       {"CommonLabels", "commonLabels"}, {"CommonAnnotations", "commonAnnotations"},
                       {"ExternalURL", "externalURL"}};
    return std::shared_ptr<const TypeInfo>(ti);
  }();
  List alerts;
  for (const auto& a : d.alerts) {
    Map m;
    m.emplace("Status", Value(a.status));
    m.emplace("Labels", kv_value(a.labels));
    m.emplace("Annotations", kv_value(a.annotations));
    m.emplace("StartsAt", Value(a.starts_at));
    m.emplace("EndsAt", Value(a.ends_at));
    m.emplace("GeneratorURL", Value(a.generator_url));
    m.emplace("Fingerprint", Value(a.fingerprint));
    alerts.emplace_back(std::move(m), alert_type());
  }
  Map m;
  m.emplace("Receiver", Value(d.receiver));
  m.emplace("Status", Value(d.status));
  m.emplace("Alerts", Value(std::move(alerts), alerts_type()));
  m.emplace("GroupLabels", kv_value(d.group_labels));
  m.emplace("CommonLabels", kv_value(d.common_labels));
  m.emplace("CommonAnnotations", kv_value(d.common_annotations));
  m.emplace("ExternalURL", Value(d.external_url));
  return Value(std::move(m), kDataType);
}

}  // namespace ruleeval::tmpl
