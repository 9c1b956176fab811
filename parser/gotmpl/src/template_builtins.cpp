// Go's text/template builtins (and, or, not, len, index, slice, print, printf, println, eq, ne,
// lt, le, gt, ge, html, js, urlquery, call) and a Go-compatible fmt subset for them.
#include <fmt/format.h>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <map>

#include "template_internal.hpp"

namespace ruleeval::tmpl {

Error wrong_type(std::string_view expected, const Value& got) {
  return Error(fmt::format("wrong type for value; expected {}; got {}", expected,
                           got.is_nil() ? std::string("<nil>") : got.type_name()));
}

Result<std::string> arg_string(const Value& v) {
  if (v.kind() == Value::Kind::kString) return v.as_string();
  return std::unexpected(wrong_type("string", v));
}

Result<int64_t> arg_int(const Value& v) {
  if (v.kind() == Value::Kind::kInt) return v.as_int();
  return std::unexpected(wrong_type("int", v));
}

Result<Time> arg_time(const Value& v) {
  if (v.kind() == Value::Kind::kTime) return v.as_time();
  return std::unexpected(wrong_type("time.Time", v));
}

Result<double> to_float(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kFloat:
      return v.as_float();
    case Value::Kind::kInt:
      return static_cast<double>(v.as_int());
    case Value::Kind::kDuration:
      return static_cast<double>(v.as_duration().nanos) / 1e9;
    case Value::Kind::kString: {
      const std::string& s = v.as_string();
      // strconv.ParseFloat accepts Go's spellings of the specials, case-insensitively.
      std::string lower;
      for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string_view l = lower;
      const bool neg = l.starts_with('-');
      if (l.starts_with('+') || l.starts_with('-')) l.remove_prefix(1);
      if (l == "inf" || l == "infinity") {
        return neg ? -std::numeric_limits<double>::infinity()
                   : std::numeric_limits<double>::infinity();
      }
      if (l == "nan") return std::numeric_limits<double>::quiet_NaN();
      bool ok = !s.empty();
      for (char c : s) {
        if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' ||
              c == '+' || c == '-' || c == '_' || c == 'x' || c == 'X' || c == 'p' || c == 'P' ||
              std::isxdigit(static_cast<unsigned char>(c)))) {
          ok = false;
        }
      }
      char* end = nullptr;
      const double d = ok ? std::strtod(s.c_str(), &end) : 0;
      if (!ok || end != s.c_str() + s.size()) {
        return make_error(
            fmt::format("strconv.ParseFloat: parsing {}: invalid syntax", go_quote(s)));
      }
      if (std::isinf(d)) {
        return make_error(
            fmt::format("strconv.ParseFloat: parsing {}: value out of range", go_quote(s)));
      }
      return d;
    }
    default:
      return make_error(fmt::format("can't convert {} to float", v.type_name()));
  }
}

std::string go_g4(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.4g", v);
  return buf;
}


std::string js_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\'':
        out += "\\'";
        break;
      case '"':
        out += "\\\"";
        break;
      case '<':
        out += "\\u003C";
        break;
      case '>':
        out += "\\u003E";
        break;
      case '&':
        out += "\\u0026";
        break;
      case '=':
        out += "\\u003D";
        break;
      default:
        if (u < ' ') {
          out += fmt::format("\\u{:04X}", u);
        } else {
          out += c;
        }
    }
  }
  return out;
}


// ---- fmt ----------------------------------------------------------------------------------

std::string go_sprint(std::span<const Value> args) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    const bool is_str = args[i].kind() == Value::Kind::kString;
    if (i > 0 && !is_str && args[i - 1].kind() != Value::Kind::kString) out += ' ';
    out += args[i].to_string();
  }
  return out;
}

std::string go_sprintln(std::span<const Value> args) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out += ' ';
    out += args[i].to_string();
  }
  out += '\n';
  return out;
}

namespace {

struct Spec {
  bool minus = false, plus = false, sharp = false, zero = false, space = false;
  int width = -1;
  int prec = -1;
  char verb = 'v';
};

std::string pad(std::string s, const Spec& sp, bool numeric) {
  // Width counts runes in Go; count UTF-8 lead bytes.
  int n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  if (sp.width < 0 || n >= sp.width) return s;
  const auto fill = static_cast<size_t>(sp.width - n);
  if (sp.minus) return s + std::string(fill, ' ');
  if (sp.zero && numeric) {
    size_t sign = (!s.empty() && (s[0] == '-' || s[0] == '+' || s[0] == ' ')) ? 1 : 0;
    return s.substr(0, sign) + std::string(fill, '0') + s.substr(sign);
  }
  return std::string(fill, ' ') + s;
}

std::string bad_verb(const Spec& sp, const Value& v) {
  if (v.is_nil()) return fmt::format("%!{}(<nil>)", sp.verb);
  return fmt::format("%!{}({}={})", sp.verb, v.type_name(), v.to_string());
}

std::string c_float(const Spec& sp, double v, char verb) {
  if (std::isnan(v)) return pad("NaN", sp, false);
  if (std::isinf(v)) {
    std::string s = v > 0 ? "+Inf" : "-Inf";
    return pad(s, sp, false);
  }
  std::string f = "%";
  if (sp.plus) f += '+';
  if (sp.space) f += ' ';
  if (sp.sharp) f += '#';
  if (sp.minus) f += '-';
  if (sp.zero) f += '0';
  if (sp.width >= 0) f += std::to_string(std::min(sp.width, 200));
  if (sp.prec >= 0) f += "." + std::to_string(std::min(sp.prec, 200));
  f += verb;
  char buf[512];
  std::snprintf(buf, sizeof(buf), f.c_str(), v);
  return buf;
}

std::string format_int(const Spec& sp, int64_t v, int base, bool upper) {
  std::string digits;
  const bool neg = v < 0;
  uint64_t u = neg ? static_cast<uint64_t>(0) - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  const char* set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  do {
    digits.insert(digits.begin(), set[u % static_cast<uint64_t>(base)]);
    u /= static_cast<uint64_t>(base);
  } while (u != 0);
  if (sp.prec >= 0 && static_cast<int>(digits.size()) < sp.prec) {
    digits.insert(0, static_cast<size_t>(sp.prec) - digits.size(), '0');
  }
  if (sp.sharp) {
    if (base == 16) digits.insert(0, upper ? "0X" : "0x");
    if (base == 8) digits.insert(0, "0");
    if (base == 2) digits.insert(0, "0b");
  }
  if (neg) {
    digits.insert(digits.begin(), '-');
  } else if (sp.plus) {
    digits.insert(digits.begin(), '+');
  } else if (sp.space) {
    digits.insert(digits.begin(), ' ');
  }
  return pad(digits, sp, sp.prec < 0);
}

std::string format_one(const Spec& sp, const Value& v) {
  using K = Value::Kind;
  switch (sp.verb) {
    case 'v':
      if (v.kind() == K::kFloat) {
        std::string s = go_format_float(v.as_float());
        if (sp.plus && s[0] != '-' && s[0] != '+') s = "+" + s;
        return pad(s, sp, true);
      }
      if (v.kind() == K::kInt) return format_int(sp, v.as_int(), 10, false);
      if (v.kind() == K::kString && sp.sharp) return pad(go_quote(v.as_string()), sp, false);
      return pad(v.to_string(), sp, false);
    case 's': {
      if (v.kind() == K::kString || v.kind() == K::kTime || v.kind() == K::kDuration ||
          v.kind() == K::kList || v.kind() == K::kMap) {
        std::string s = v.to_string();
        if (sp.prec >= 0) {
          // Truncate to prec runes.
          size_t i = 0;
          int runes = 0;
          while (i < s.size() && runes < sp.prec) {
            ++i;
            while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
            ++runes;
          }
          s.resize(i);
        }
        return pad(s, sp, false);
      }
      return bad_verb(sp, v);
    }
    case 'q':
      if (v.kind() == K::kString) return pad(go_quote(v.as_string()), sp, false);
      if (v.kind() == K::kInt) {
        std::string s;
        const int64_t c = v.as_int();
        if (c >= 0 && c < 0x110000) {
          std::string q = go_quote(std::string(1, static_cast<char>(c < 128 ? c : '?')));
          if (c < 128 && c != '\'') {
            s = "'" + (c == '"' ? std::string("\"") : q.substr(1, q.size() - 2)) + "'";
          } else if (c == '\'') {
            s = "'\\''";
          } else {
            s = fmt::format("'\\u{:04x}'", c);
          }
        }
        return pad(s, sp, false);
      }
      return bad_verb(sp, v);
    case 'd':
      if (v.kind() == K::kInt) return format_int(sp, v.as_int(), 10, false);
      return bad_verb(sp, v);
    case 'b':
    case 'o':
      if (v.kind() == K::kInt) return format_int(sp, v.as_int(), sp.verb == 'b' ? 2 : 8, false);
      return bad_verb(sp, v);
    case 'x':
    case 'X': {
      const bool upper = sp.verb == 'X';
      if (v.kind() == K::kInt) return format_int(sp, v.as_int(), 16, upper);
      if (v.kind() == K::kString) {
        std::string s;
        for (char c : v.as_string()) {
          s += upper ? fmt::format("{:02X}", static_cast<unsigned char>(c))
                     : fmt::format("{:02x}", static_cast<unsigned char>(c));
        }
        return pad(s, sp, false);
      }
      if (v.kind() == K::kFloat) return c_float(sp, v.as_float(), upper ? 'A' : 'a');
      return bad_verb(sp, v);
    }
    case 'c':
      if (v.kind() == K::kInt) {
        std::string s;
        const int64_t c = v.as_int();
        if (c >= 0 && c < 0x80)
          s = std::string(1, static_cast<char>(c));
        else
          s = "\xef\xbf\xbd";
        return pad(s, sp, false);
      }
      return bad_verb(sp, v);
    case 't':
      if (v.kind() == K::kBool) return pad(v.as_bool() ? "true" : "false", sp, false);
      return bad_verb(sp, v);
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G': {
      double d = 0;
      if (v.kind() == K::kFloat) {
        d = v.as_float();
      } else {
        return bad_verb(sp, v);
      }
      if ((sp.verb == 'g' || sp.verb == 'G') && sp.prec < 0) {
        std::string s = go_format_float(d);
        if (sp.verb == 'G') {
          for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
          if (s == "NAN") s = "NaN";
          if (s == "+INF") s = "+Inf";
          if (s == "-INF") s = "-Inf";
        }
        if (sp.plus && s[0] != '-' && s[0] != '+') s = "+" + s;
        return pad(s, sp, true);
      }
      Spec c = sp;
      if (c.prec < 0) c.prec = 6;
      return c_float(c, d, sp.verb == 'F' ? 'f' : sp.verb);
    }
    default:
      return bad_verb(sp, v);
  }
}

}  // namespace

Result<std::string> go_sprintf(std::string_view f, std::span<const Value> args) {
  std::string out;
  size_t argi = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') {
      out += f[i];
      continue;
    }
    if (++i >= f.size()) {
      out += "%!(NOVERB)";
      break;
    }
    Spec sp;
    for (; i < f.size(); ++i) {
      const char c = f[i];
      if (c == '-')
        sp.minus = true;
      else if (c == '+')
        sp.plus = true;
      else if (c == '#')
        sp.sharp = true;
      else if (c == '0')
        sp.zero = !sp.minus;
      else if (c == ' ')
        sp.space = true;
      else
        break;
    }
    auto number = [&](int& dst) {
      if (i < f.size() && f[i] == '*') {
        ++i;
        if (argi < args.size() && args[argi].kind() == Value::Kind::kInt) {
          dst = static_cast<int>(std::clamp<int64_t>(args[argi].as_int(), -1000000, 1000000));
          if (dst < 0 && &dst == &sp.width) {
            sp.minus = true;
            dst = -dst;
          }
        } else {
          out += "%!(BADWIDTH)";
        }
        ++argi;
        return;
      }
      int n = -1;
      while (i < f.size() && f[i] >= '0' && f[i] <= '9') {
        n = (n < 0 ? 0 : n) * 10 + (f[i] - '0');
        if (n > 1000000) n = 1000000;
        ++i;
      }
      dst = n;
    };
    number(sp.width);
    if (i < f.size() && f[i] == '.') {
      ++i;
      sp.prec = 0;
      number(sp.prec);
      if (sp.prec < 0) sp.prec = 0;
    }
    if (i >= f.size()) {
      out += "%!(NOVERB)";
      break;
    }
    sp.verb = f[i];
    if (sp.verb == '%') {
      out += '%';
      continue;
    }
    if (argi >= args.size()) {
      out += fmt::format("%!{}(MISSING)", sp.verb);
      continue;
    }
    out += format_one(sp, args[argi++]);
    if (out.size() > (16u << 20)) return make_error("printf output too large");
  }
  if (argi < args.size()) {
    out += "%!(EXTRA ";
    for (size_t k = argi; k < args.size(); ++k) {
      if (k > argi) out += ", ";
      out += args[k].is_nil() ? "<nil>" : args[k].type_name() + "=" + args[k].to_string();
    }
    out += ")";
  }
  return out;
}

// ---- builtins -----------------------------------------------------------------------------

namespace {

enum class BasicKind { kInvalid, kBool, kInt, kFloat, kString, kOther };

BasicKind basic_kind(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNil:
      return BasicKind::kInvalid;
    case Value::Kind::kBool:
      return BasicKind::kBool;
    case Value::Kind::kInt:
      return BasicKind::kInt;
    case Value::Kind::kFloat:
      return BasicKind::kFloat;
    case Value::Kind::kString:
      return BasicKind::kString;
    case Value::Kind::kDuration:
      return BasicKind::kInt;
    default:
      return BasicKind::kOther;
  }
}

int64_t int_of(const Value& v) {
  return v.kind() == Value::Kind::kDuration ? v.as_duration().nanos : v.as_int();
}

Result<bool> eq2(const Value& a, const Value& b) {
  const BasicKind ka = basic_kind(a), kb = basic_kind(b);
  if (ka != kb) {
    if (ka != BasicKind::kInvalid && kb != BasicKind::kInvalid) {
      return make_error("incompatible types for comparison");
    }
    return false;
  }
  switch (ka) {
    case BasicKind::kInvalid:
      return true;
    case BasicKind::kBool:
      return a.as_bool() == b.as_bool();
    case BasicKind::kInt:
      return int_of(a) == int_of(b);
    case BasicKind::kFloat:
      return a.as_float() == b.as_float();
    case BasicKind::kString:
      return a.as_string() == b.as_string();
    case BasicKind::kOther:
      if (a.kind() == Value::Kind::kTime && b.kind() == Value::Kind::kTime) {
        return a.as_time() == b.as_time();
      }
      return make_error(fmt::format("non-comparable type {}: {}", a.to_string(), a.type_name()));
  }
  return false;
}

Result<bool> lt2(const Value& a, const Value& b) {
  const BasicKind ka = basic_kind(a), kb = basic_kind(b);
  if (ka == BasicKind::kOther || ka == BasicKind::kInvalid || ka == BasicKind::kBool ||
      kb == BasicKind::kOther || kb == BasicKind::kInvalid || kb == BasicKind::kBool) {
    return make_error("invalid type for comparison");
  }
  if (ka != kb) return make_error("incompatible types for comparison");
  switch (ka) {
    case BasicKind::kInt:
      return int_of(a) < int_of(b);
    case BasicKind::kFloat:
      return a.as_float() < b.as_float();
    case BasicKind::kString:
      return a.as_string() < b.as_string();
    default:
      return make_error("invalid type for comparison");
  }
}

Result<Value> index_one(const Value& item, const Value& idx) {
  switch (item.kind()) {
    case Value::Kind::kList:
    case Value::Kind::kString: {
      if (idx.kind() != Value::Kind::kInt) {
        return make_error(fmt::format("cannot index slice/array with type {}", idx.type_name()));
      }
      const int64_t i = idx.as_int();
      const size_t n =
          item.kind() == Value::Kind::kList ? item.as_list().size() : item.as_string().size();
      if (i < 0 || static_cast<size_t>(i) >= n) {
        return make_error(fmt::format("index out of range: {}", i));
      }
      if (item.kind() == Value::Kind::kList) return item.as_list()[static_cast<size_t>(i)];
      return Value(static_cast<int64_t>(
          static_cast<unsigned char>(item.as_string()[static_cast<size_t>(i)])));
    }
    case Value::Kind::kMap: {
      if (idx.kind() != Value::Kind::kString) {
        return make_error(fmt::format("value has type {}; should be string", idx.type_name()));
      }
      const auto& m = item.as_map();
      auto it = m.find(idx.as_string());
      if (it != m.end()) return it->second;
      const TypeInfo* ti = item.type();
      return (ti != nullptr && ti->string_elems) ? Value(std::string()) : Value();
    }
    case Value::Kind::kNil:
      return make_error("index of untyped nil");
    default:
      return make_error(fmt::format("can't index item of type {}", item.type_name()));
  }
}

std::string eval_args_string(std::span<const Value> args) {
  if (args.size() == 1 && args[0].kind() == Value::Kind::kString) return args[0].as_string();
  return go_sprint(args);
}

const std::map<std::string, FuncSpec, std::less<>>& builtins() {
  static const std::map<std::string, FuncSpec, std::less<>> kMap = [] {
    std::map<std::string, FuncSpec, std::less<>> m;
    // and/or are evaluated lazily by the executor; these are never called.
    m["and"] = {[](std::span<const Value> a) -> Result<Value> { return a.back(); }, 1, -1};
    m["or"] = {[](std::span<const Value> a) -> Result<Value> { return a.back(); }, 1, -1};
    m["not"] = {[](std::span<const Value> a) -> Result<Value> { return !a[0].truthy(); }, 1, 1};
    m["len"] = {[](std::span<const Value> a) -> Result<Value> {
                  switch (a[0].kind()) {
                    case Value::Kind::kString:
                      return static_cast<int64_t>(a[0].as_string().size());
                    case Value::Kind::kList:
                      return static_cast<int64_t>(a[0].as_list().size());
                    case Value::Kind::kMap:
                      return static_cast<int64_t>(a[0].as_map().size());
                    case Value::Kind::kNil:
                      return make_error("len of nil pointer");
                    default:
                      return make_error(fmt::format("len of type {}", a[0].type_name()));
                  }
                },
                1, 1};
    m["index"] = {[](std::span<const Value> a) -> Result<Value> {
                    Value item = a[0];
                    for (size_t i = 1; i < a.size(); ++i) {
                      auto r = index_one(item, a[i]);
                      if (!r) return r;
                      item = std::move(*r);
                    }
                    return item;
                  },
                  1, -1};
    m["slice"] = {
        [](std::span<const Value> a) -> Result<Value> {
          const Value& item = a[0];
          if (a.size() > 4)
            return make_error("too many slice indexes: " + std::to_string(a.size() - 1));
          size_t n = 0;
          if (item.kind() == Value::Kind::kString) {
            n = item.as_string().size();
            if (a.size() == 4) return make_error("cannot 3-index slice a string");
          } else if (item.kind() == Value::Kind::kList) {
            n = item.as_list().size();
          } else if (item.is_nil()) {
            return make_error("slice of untyped nil");
          } else {
            return make_error(fmt::format("can't slice item of type {}", item.type_name()));
          }
          int64_t idx[3] = {0, static_cast<int64_t>(n), static_cast<int64_t>(n)};
          for (size_t i = 1; i < a.size(); ++i) {
            if (a[i].kind() != Value::Kind::kInt) {
              return make_error(
                  fmt::format("cannot index slice/array with type {}", a[i].type_name()));
            }
            const int64_t x = a[i].as_int();
            if (x < 0 || x > static_cast<int64_t>(n)) {
              return make_error(fmt::format("index out of range: {}", x));
            }
            idx[i - 1] = x;
          }
          if (idx[0] > idx[1])
            return make_error(fmt::format("invalid slice index: {} > {}", idx[0], idx[1]));
          if (a.size() == 4 && idx[1] > idx[2])
            return make_error(fmt::format("invalid slice index: {} > {}", idx[1], idx[2]));
          if (item.kind() == Value::Kind::kString) {
            return Value(item.as_string().substr(static_cast<size_t>(idx[0]),
                                                 static_cast<size_t>(idx[1] - idx[0])));
          }
          const auto& l = item.as_list();
          return Value(List(l.begin() + idx[0], l.begin() + idx[1]), item.type_ptr());
        },
        1, -1};
    m["print"] = {[](std::span<const Value> a) -> Result<Value> { return go_sprint(a); }, 0, -1};
    m["println"] = {[](std::span<const Value> a) -> Result<Value> { return go_sprintln(a); }, 0,
                    -1};
    m["printf"] = {[](std::span<const Value> a) -> Result<Value> {
                     auto f = arg_string(a[0]);
                     if (!f) return std::unexpected(f.error());
                     auto s = go_sprintf(*f, a.subspan(1));
                     if (!s) return std::unexpected(s.error());
                     return Value(std::move(*s));
                   },
                   1, -1};
    m["eq"] = {[](std::span<const Value> a) -> Result<Value> {
                 if (a.size() < 2) return make_error("missing argument for comparison");
                 for (size_t i = 1; i < a.size(); ++i) {
                   auto r = eq2(a[0], a[i]);
                   if (!r) return std::unexpected(r.error());
                   if (*r) return true;
                 }
                 return false;
               },
               1, -1};
    m["ne"] = {[](std::span<const Value> a) -> Result<Value> {
                 auto r = eq2(a[0], a[1]);
                 if (!r) return std::unexpected(r.error());
                 return !*r;
               },
               2, 2};
    m["lt"] = {[](std::span<const Value> a) -> Result<Value> {
                 auto r = lt2(a[0], a[1]);
                 if (!r) return std::unexpected(r.error());
                 return *r;
               },
               2, 2};
    m["le"] = {[](std::span<const Value> a) -> Result<Value> {
                 auto r = lt2(a[0], a[1]);
                 if (!r) return std::unexpected(r.error());
                 if (*r) return true;
                 auto e = eq2(a[0], a[1]);
                 if (!e) return std::unexpected(e.error());
                 return *e;
               },
               2, 2};
    m["gt"] = {[](std::span<const Value> a) -> Result<Value> {
                 auto r = lt2(a[0], a[1]);
                 if (!r) return std::unexpected(r.error());
                 if (*r) return false;
                 auto e = eq2(a[0], a[1]);
                 if (!e) return std::unexpected(e.error());
                 return !*e;
               },
               2, 2};
    m["ge"] = {[](std::span<const Value> a) -> Result<Value> {
                 auto r = lt2(a[0], a[1]);
                 if (!r) return std::unexpected(r.error());
                 return !*r;
               },
               2, 2};
    m["html"] = {
        [](std::span<const Value> a) -> Result<Value> { return html_escape(eval_args_string(a)); },
        0, -1};
    m["js"] = {
        [](std::span<const Value> a) -> Result<Value> { return js_escape(eval_args_string(a)); }, 0,
        -1};
    m["urlquery"] = {
        [](std::span<const Value> a) -> Result<Value> { return url_query_escape(eval_args_string(a)); },
        0, -1};
    m["call"] = {[](std::span<const Value> a) -> Result<Value> {
                   if (a[0].is_nil()) return make_error("call of nil");
                   if (a[0].kind() != Value::Kind::kFunc) {
                     return make_error(fmt::format("non-function of type {}", a[0].type_name()));
                   }
                   return a[0].as_func()(a.subspan(1));
                 },
                 1, -1};
    return m;
  }();
  return kMap;
}

}  // namespace

const FuncSpec* builtin_function(std::string_view name) {
  const auto& m = builtins();
  auto it = m.find(name);
  return it == m.end() ? nullptr : &it->second;
}

}  // namespace ruleeval::tmpl
