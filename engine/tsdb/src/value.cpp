#include "ruleeval/engine/value.hpp"

#include <fmt/format.h>

#include <cmath>

namespace ruleeval::engine {
namespace {

std::string num(double v) {
  if (std::isnan(v)) return is_stale_nan(v) ? "stale" : "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

}  // namespace

std::string to_string(const Value& v) {
  std::string out;
  if (const auto* s = std::get_if<Scalar>(&v)) return "scalar: " + num(s->v);
  if (const auto* s = std::get_if<String>(&v)) return "string: " + s->v;
  if (const auto* vec = std::get_if<Vector>(&v)) {
    for (const auto& s : *vec) {
      out += s.metric.to_string() + " => " + (s.h ? histogram_test_expression(*s.h) : num(s.v)) + "\n";
    }
    return out.empty() ? "{} (empty vector)\n" : out;
  }
  for (const auto& s : std::get<Matrix>(v)) {
    out += s.metric.to_string() + " =>";
    for (const auto& p : s.points) out += " " + num(p.v) + " @" + std::to_string(p.t);
    for (const auto& p : s.histograms) {
      out += " " + histogram_test_expression(*p.h) + " @" + std::to_string(p.t);
    }
    out += "\n";
  }
  return out.empty() ? "(empty matrix)\n" : out;
}

}  // namespace ruleeval::engine
