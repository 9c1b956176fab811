// Template values: Go's truth, type names and fmt.Sprint printing.
#include <fmt/format.h>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "ruleeval/parser/template_value.hpp"

namespace ruleeval::tmpl {

Value Value::string_map(const std::map<std::string, std::string, std::less<>>& m,
                        const std::shared_ptr<const TypeInfo>& type) {
  static const auto kDefault = [] {
    auto t = std::make_shared<TypeInfo>();
    t->name = "map[string]string";
    t->string_elems = true;
    return std::shared_ptr<const TypeInfo>(t);
  }();
  Map out;
  for (const auto& [k, v] : m) out.emplace(k, Value(v));
  return Value(std::move(out), type ? type : kDefault);
}

Value Value::from_labels(const Labels& labels, const std::shared_ptr<const TypeInfo>& type) {
  std::map<std::string, std::string, std::less<>> m;
  for (const auto& l : labels) m.emplace(l.name, l.value);
  return string_map(m, type);
}

Value Value::strings(const std::vector<std::string>& items) {
  static const auto kType = [] {
    auto t = std::make_shared<TypeInfo>();
    t->name = "[]string";
    return std::shared_ptr<const TypeInfo>(t);
  }();
  List l;
  l.reserve(items.size());
  for (const auto& s : items) l.emplace_back(s);
  return Value(std::move(l), kType);
}

bool Value::truthy() const {
  switch (kind()) {
    case Kind::kNil:
      return false;
    case Kind::kBool:
      return as_bool();
    case Kind::kInt:
      return as_int() != 0;
    case Kind::kFloat:
      return as_float() != 0;
    case Kind::kString:
      return !as_string().empty();
    case Kind::kTime:
      return true;
    case Kind::kDuration:
      return as_duration().nanos != 0;
    case Kind::kList:
      return !as_list().empty();
    case Kind::kMap:
      return type_ && type_->is_struct ? true : !as_map().empty();
    case Kind::kFunc:
      return true;
  }
  return false;
}

std::string Value::type_name() const {
  if (type_ && !type_->name.empty()) return type_->name;
  switch (kind()) {
    case Kind::kNil:
      return "<nil>";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float64";
    case Kind::kString:
      return "string";
    case Kind::kTime:
      return "time.Time";
    case Kind::kDuration:
      return "time.Duration";
    case Kind::kList:
      return "[]interface {}";
    case Kind::kMap:
      return "map[string]interface {}";
    case Kind::kFunc:
      return "func";
  }
  return "?";
}

namespace {

void print_into(const Value& v, std::string& out) {
  if (v.kind() != Value::Kind::kMap && v.type() != nullptr && v.type()->stringer) {
    out += v.type()->stringer(v);
    return;
  }
  switch (v.kind()) {
    case Value::Kind::kNil:
      out += "<nil>";
      return;
    case Value::Kind::kBool:
      out += v.as_bool() ? "true" : "false";
      return;
    case Value::Kind::kInt:
      out += std::to_string(v.as_int());
      return;
    case Value::Kind::kFloat:
      out += go_format_float(v.as_float());
      return;
    case Value::Kind::kString:
      out += v.as_string();
      return;
    case Value::Kind::kTime:
      out += go_format_time(v.as_time());
      return;
    case Value::Kind::kDuration:
      out += go_format_duration(v.as_duration());
      return;
    case Value::Kind::kList: {
      out += '[';
      bool first = true;
      for (const auto& e : v.as_list()) {
        if (!first) out += ' ';
        first = false;
        print_into(e, out);
      }
      out += ']';
      return;
    }
    case Value::Kind::kMap: {
      if (v.type() != nullptr && v.type()->stringer) {
        out += v.type()->stringer(v);
        return;
      }
      const bool is_struct = v.type() != nullptr && v.type()->is_struct;
      // fmt prints a pointer to a struct (Prometheus's *sample) as &{...}.
      if (is_struct && v.type()->name.starts_with('*')) out += '&';
      out += is_struct ? "{" : "map[";
      bool first = true;
      for (const auto& [k, e] : v.as_map()) {
        if (!first) out += ' ';
        first = false;
        if (!is_struct) {
          out += k;
          out += ':';
        }
        print_into(e, out);
      }
      out += is_struct ? "}" : "]";
      return;
    }
    case Value::Kind::kFunc:
      out += "<func>";
      return;
  }
}

}  // namespace

std::string Value::to_string() const {
  std::string s;
  print_into(*this, s);
  return s;
}

std::string go_format_float(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string sci(buf, r.ptr);
  const size_t e = sci.find('e');
  const int exp = std::stoi(sci.substr(e + 1));
  if (exp < -4 || exp >= 6) {  // strconv 'g' with shortest digits uses eprec 6
    // Go writes at least two exponent digits: 1e+06, 1.5e-07, 1e+100.
    std::string mant = sci.substr(0, e);
    const char sign = exp < 0 ? '-' : '+';
    const int a = std::abs(exp);
    return fmt::format("{}e{}{:02d}", mant, sign, a);
  }
  r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

std::string go_format_time(const Time& t) {
  return go_time_format(t, "2006-01-02 15:04:05.999999999 -0700 MST");
}

std::string go_format_duration(Duration d) {
  // Port of the algorithm of Go's time.Duration.String (facts: units and fraction rules).
  uint64_t u = d.nanos < 0 ? static_cast<uint64_t>(0) - static_cast<uint64_t>(d.nanos)
                           : static_cast<uint64_t>(d.nanos);
  const bool neg = d.nanos < 0;
  auto frac = [](uint64_t v, int prec, std::string& digits) {
    // Strips trailing zeros of the `prec` low digits; returns v / 10^prec.
    bool print = false;
    std::string out;
    for (int i = 0; i < prec; ++i) {
      const auto digit = static_cast<char>(v % 10);
      print = print || digit != 0;
      if (print) out.insert(out.begin(), static_cast<char>('0' + digit));
      v /= 10;
    }
    if (print) out.insert(out.begin(), '.');
    digits = out;
    return v;
  };
  std::string s;
  if (u < 1'000'000'000ULL) {
    if (u == 0) return "0s";
    int prec = 0;
    std::string unit;
    if (u < 1000) {
      unit = "ns";
    } else if (u < 1'000'000) {
      prec = 3;
      unit = "\xc2\xb5s";
    } else {
      prec = 6;
      unit = "ms";
    }
    std::string f;
    const uint64_t w = frac(u, prec, f);
    s = std::to_string(w) + f + unit;
  } else {
    std::string f;
    uint64_t w = frac(u, 9, f);
    s = std::to_string(w % 60) + f + "s";
    w /= 60;
    if (w > 0) {
      s = std::to_string(w % 60) + "m" + s;
      w /= 60;
      if (w > 0) s = std::to_string(w) + "h" + s;
    }
  }
  return neg ? "-" + s : s;
}

}  // namespace ruleeval::tmpl
