// Go's math.Log, math.Log2 and math.Log10 (FreeBSD's e_log.c as ported to Go), so that ln,
// log2 and log10 give Prometheus's results to the last bit: glibc's log is correctly rounded
// and Go's is not (ln(3) is 1.0986122886681098 in C, 1.0986122886681096 in Go), and Go's Log2
// and Log10 are computed from its Log.
#pragma once

#include <cmath>
#include <limits>
#include <numbers>

namespace ruleeval::engine::gomath {

inline double log(double x) {
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kL1 = 6.666666666666735130e-01;
  constexpr double kL2 = 3.999999999940941908e-01;
  constexpr double kL3 = 2.857142874366239149e-01;
  constexpr double kL4 = 2.222219843214978396e-01;
  constexpr double kL5 = 1.818357216161805012e-01;
  constexpr double kL6 = 1.531383769920937332e-01;
  constexpr double kL7 = 1.479819860511658591e-01;
  if (std::isnan(x) || x == std::numeric_limits<double>::infinity()) return x;
  if (x < 0) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0) return -std::numeric_limits<double>::infinity();
  int ki = 0;
  double f1 = std::frexp(x, &ki);
  if (f1 < std::numbers::sqrt2 / 2) {
    f1 *= 2;
    --ki;
  }
  const double f = f1 - 1;
  const double k = static_cast<double>(ki);
  const double s = f / (2 + f);
  const double s2 = s * s;
  const double s4 = s2 * s2;
  const double t1 = s2 * (kL1 + s4 * (kL3 + s4 * (kL5 + s4 * kL7)));
  const double t2 = s4 * (kL2 + s4 * (kL4 + s4 * kL6));
  const double r = t1 + t2;
  const double hfsq = 0.5 * f * f;
  return k * kLn2Hi - ((hfsq - (s * (hfsq + r) + k * kLn2Lo)) - f);
}

inline double log2(double x) {
  int exp = 0;
  const double frac = std::frexp(x, &exp);
  if (frac == 0.5) return static_cast<double>(exp - 1);  // exact powers of two
  return log(frac) * std::numbers::log2e + static_cast<double>(exp);
}

inline double log10(double x) { return log(x) * std::numbers::log10e; }

}  // namespace ruleeval::engine::gomath
