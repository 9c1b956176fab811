#include "ruleeval/common/go_format.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>

namespace ruleeval {

namespace {

// Shortest round-trip digits of |v| (no leading or trailing zeros) and the decimal exponent of the
// first one: v = d.ddd * 10^exp.
void shortest_digits(double v, bool& neg, std::string& digits, int& exp) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string s(buf, r.ptr);
  auto epos = s.find('e');
  exp = std::stoi(s.substr(epos + 1));
  std::string mant = s.substr(0, epos);
  neg = mant[0] == '-';
  if (neg) mant.erase(0, 1);
  digits.clear();
  for (char c : mant) {
    if (c != '.') digits += c;
  }
}

// The digits laid out without an exponent.
std::string plain(const std::string& digits, int exp) {
  if (exp < 0) return "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  if (static_cast<size_t>(exp) + 1 >= digits.size())
    return digits + std::string(static_cast<size_t>(exp) + 1 - digits.size(), '0');
  return digits.substr(0, static_cast<size_t>(exp) + 1) + "." + digits.substr(static_cast<size_t>(exp) + 1);
}

// NaN, ±Inf and ±0 as Go prints them; nullopt for every other value.
std::optional<std::string> special(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  return std::nullopt;
}

}  // namespace

std::string format_go_float(double v, int exp_limit) {
  if (auto s = special(v)) return *s;
  // Shortest digits in scientific form, then choose the layout as Go's %g does.
  bool neg = false;
  std::string digits;
  int exp = 0;
  shortest_digits(v, neg, digits, exp);
  std::string out;
  if (exp < -4 || exp >= exp_limit) {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    out += eb;
  } else {
    out = plain(digits, exp);
  }
  return neg ? "-" + out : out;
}

std::string format_go_float_fixed(double v) {
  if (auto s = special(v)) return *s;
  bool neg = false;
  std::string digits;
  int exp = 0;
  shortest_digits(v, neg, digits, exp);
  return (neg ? "-" : "") + plain(digits, exp);
}

}  // namespace ruleeval
