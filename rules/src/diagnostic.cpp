#include "ruleeval/rules/diagnostic.hpp"

#include <tuple>

namespace ruleeval::rules {

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::Info:
      return "info";
    case Severity::Warning:
      return "warning";
    case Severity::Error:
      return "error";
  }
  return "error";
}

std::optional<Severity> parse_severity(std::string_view s) {
  if (s == "info") return Severity::Info;
  if (s == "warning" || s == "warn") return Severity::Warning;
  if (s == "error") return Severity::Error;
  return std::nullopt;
}

std::string Diagnostic::to_string() const {
  std::string out = where.to_string();
  if (!out.empty()) out += ": ";
  out += rules::to_string(severity);
  out += ": ";
  out += message;
  out += " [";
  out += check;
  out += "]";
  return out;
}

bool diagnostic_less(const Diagnostic& a, const Diagnostic& b) {
  return std::tie(a.where.file, a.where.line, a.where.col, a.check, a.message) <
         std::tie(b.where.file, b.where.line, b.where.col, b.check, b.message);
}

}  // namespace ruleeval::rules
