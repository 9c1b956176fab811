// The data model Go templates execute against: a value that is nil, bool, int, float, string, a
// time instant, a duration, a list, a map with string keys (iterated in sorted order, like Go's
// text/template) or a callable. Lists and maps may carry a TypeInfo: a Go-ish type name for
// error messages, methods (Alertmanager's .Alerts.Firing, .CommonLabels.SortedPairs, ...),
// whether a missing field is an error (a struct) and the zero value of a missing map key.
// Values are immutable and cheap to copy (containers are shared); safe to share across threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ruleeval/common/error.hpp"
#include "ruleeval/common/labels.hpp"

namespace ruleeval::tmpl {

class Value;
using List = std::vector<Value>;
using Map = std::map<std::string, Value, std::less<>>;
// A function callable from a template. Arguments are already evaluated.
using Function = std::function<Result<Value>(std::span<const Value> args)>;
// A method: the receiver plus the arguments.
using Method = std::function<Result<Value>(const Value& self, std::span<const Value> args)>;

// Nanoseconds since the Unix epoch, printed like Go's time.Time (in UTC, or in the process's
// local zone (TZ) after .Local). Go's zero time.Time (0001-01-01 00:00:00 UTC, what Alertmanager
// puts in .EndsAt of a firing alert) lies outside int64 nanoseconds: unix_nanos == kGoZero stands
// for it, plus since_zero nanoseconds (so .EndsAt.Add 28800e9 is 0001-01-01 08:00 as in Go); a
// default-constructed Time is the zero time. Times in the int64 range always use unix_nanos.
struct Time {
  static constexpr int64_t kGoZero = INT64_MIN;
  int64_t unix_nanos = kGoZero;
  bool local = false;      // Go's Location: UTC (false) or Local (true)
  int64_t since_zero = 0;  // only when unix_nanos == kGoZero: nanoseconds after 0001-01-01
  bool is_zero() const { return unix_nanos == kGoZero && since_zero == 0; }
  friend bool operator==(const Time&, const Time&) = default;
};
// Nanoseconds, printed like Go's time.Duration ("1h2m3.5s").
struct Duration {
  int64_t nanos = 0;
  friend bool operator==(const Duration&, const Duration&) = default;
};

struct TypeInfo {
  std::string name;           // e.g. "template.KV", used in error messages
  bool is_struct = false;     // a missing field is an error, not a missing key
  bool string_elems = false;  // missing key yields "" (rather than nil) under missingkey=zero
  std::map<std::string, Method, std::less<>> methods;
  // Go's fmt.Stringer: when set, printing the value ({{ . }}, print, inside a map or list) uses
  // it instead of the field dump (e.g. Grafana's template.Value prints its number).
  std::function<std::string(const Value&)> stringer;
  // A struct's fields in Go's declaration order with their encoding/json names (Alertmanager's
  // `json:"startsAt"` tags), for html/template's JS value escaper; empty: fields by name.
  std::vector<std::pair<std::string, std::string>> json_fields;
};

class Value {
 public:
  enum class Kind : uint8_t {
    kNil,
    kBool,
    kInt,
    kFloat,
    kString,
    kTime,
    kDuration,
    kList,
    kMap,
    kFunc
  };

  Value() = default;
  Value(std::nullptr_t) {}
  Value(bool b) : v_(b) {}
  Value(int v) : v_(static_cast<int64_t>(v)) {}
  Value(int64_t v) : v_(v) {}
  // A named integer type (Go's time.Month, time.Weekday): printed by type->stringer.
  Value(int64_t v, std::shared_ptr<const TypeInfo> type) : v_(v), type_(std::move(type)) {}
  Value(double v) : v_(v) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(std::string_view s) : v_(std::string(s)) {}
  // A named string type (html/template's template.HTML from safeHtml).
  Value(std::string s, std::shared_ptr<const TypeInfo> type) : v_(std::move(s)), type_(std::move(type)) {}
  Value(const Time& t) : v_(t) {}
  Value(Duration d) : v_(d) {}
  Value(List l, std::shared_ptr<const TypeInfo> type = nullptr)
      : v_(std::make_shared<const List>(std::move(l))), type_(std::move(type)) {}
  Value(Map m, std::shared_ptr<const TypeInfo> type = nullptr)
      : v_(std::make_shared<const Map>(std::move(m))), type_(std::move(type)) {}
  Value(Function f) : v_(std::make_shared<const Function>(std::move(f))) {}

  // A map[string]string, e.g. a label set: missing keys read as "" under missingkey=zero.
  static Value string_map(const std::map<std::string, std::string, std::less<>>& m,
                          const std::shared_ptr<const TypeInfo>& type = nullptr);
  static Value from_labels(const Labels& labels,
                           const std::shared_ptr<const TypeInfo>& type = nullptr);
  static Value strings(const std::vector<std::string>& items);

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_nil() const { return kind() == Kind::kNil; }
  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_float() const { return std::get<double>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  Time as_time() const { return std::get<Time>(v_); }
  Duration as_duration() const { return std::get<Duration>(v_); }
  const List& as_list() const { return *std::get<std::shared_ptr<const List>>(v_); }
  const Map& as_map() const { return *std::get<std::shared_ptr<const Map>>(v_); }
  const Function& as_func() const { return *std::get<std::shared_ptr<const Function>>(v_); }
  const TypeInfo* type() const { return type_.get(); }
  const std::shared_ptr<const TypeInfo>& type_ptr() const { return type_; }

  // Go's truth: false, 0, nil, "" and empty containers are false.
  bool truthy() const;
  // Go's type name for messages: "string", "float64", "int", "bool", "map[string]string", ...
  std::string type_name() const;
  // fmt.Sprint(v): 1.5, 1e+06, [a b], map[a:b], true, <nil> for nil.
  std::string to_string() const;

 private:
  std::variant<std::monostate, bool, int64_t, double, std::string, Time, Duration,
               std::shared_ptr<const List>, std::shared_ptr<const Map>,
               std::shared_ptr<const Function>>
      v_;
  std::shared_ptr<const TypeInfo> type_;
};

// Go's %v for a float64 (strconv 'g' with the shortest digits; exponent form when the decimal
// exponent is < -4 or >= 6... as Go decides): 1, 0.5, 123456, 1e+06, 1.5e-07, +Inf, -Inf, NaN.
std::string go_format_float(double v);
// Go's time.Time.String(): "2006-01-02 15:04:05.999999999 -0700 MST" ("+0000 UTC" in UTC).
std::string go_format_time(const Time& t);
// Go's time.Time.Format(layout) with the full reference-layout grammar.
std::string go_time_format(const Time& t, std::string_view layout);
// Go's time.Duration.String(): "1h2m3s", "1.5s", "500ms", "0s".
std::string go_format_duration(Duration d);

}  // namespace ruleeval::tmpl
