// Go's math special cases (the tables in Go's documentation) and the amd64 quirks that the
// differential test against a real Prometheus relies on (tests/integration/backend_float_parity_test).
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "ruleeval/common/gomath.hpp"

namespace gm = ruleeval::gomath;

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::nan("");
bool neg_zero(double v) { return v == 0 && std::signbit(v); }
bool pos_zero(double v) { return v == 0 && !std::signbit(v); }
}  // namespace

TEST_CASE("gomath: special cases as Go documents them") {
  CHECK(neg_zero(gm::sin(-0.0)));
  CHECK(std::isnan(gm::sin(kInf)));
  CHECK(std::isnan(gm::cos(-kInf)));
  CHECK(neg_zero(gm::tan(-0.0)));
  CHECK(gm::atan(kInf) == 0x1.921fb54442d18p+0);
  CHECK(std::isnan(gm::asin(1.5)));
  CHECK(gm::exp(-kInf) == 0);
  CHECK(gm::exp(710) == kInf);
  CHECK(std::isnan(gm::exp(kNaN)));
  // cppcheck-suppress wrongmathcall ; gm:: is Go's math (defined results), not <cmath>
  CHECK(gm::log(0) == -kInf);
  // cppcheck-suppress wrongmathcall ; gm:: is Go's math (defined results), not <cmath>
  CHECK(std::isnan(gm::log(-1)));
  CHECK(gm::log(kInf) == kInf);
  // cppcheck-suppress wrongmathcall ; gm:: is Go's math (defined results), not <cmath>
  CHECK(gm::log1p(-1) == -kInf);
  CHECK(gm::atanh(1) == kInf);
  CHECK(std::isnan(gm::acosh(0.5)));
  CHECK(gm::tanh(-kInf) == -1);
  CHECK(gm::asinh(-kInf) == -kInf);

  CHECK(gm::pow(kNaN, 0) == 1);
  CHECK(gm::pow(1, kNaN) == 1);
  // cppcheck-suppress wrongmathcall ; gm:: is Go's math (defined results), not <cmath>
  CHECK(gm::pow(-0.0, -3) == -kInf);
  CHECK(gm::pow(0.0, -kInf) == kInf);
  CHECK(pos_zero(gm::pow(-0.0, 2)));
  CHECK(gm::pow(-1, kInf) == 1);
  CHECK(gm::pow(0.5, -kInf) == kInf);
  CHECK(gm::pow(-kInf, 3) == -kInf);
  CHECK(std::isnan(gm::pow(-8, 1.0 / 3)));
  CHECK(gm::pow(2, 10) == 1024);
  CHECK(gm::pow(2, -1075) == 0);

  CHECK(pos_zero(gm::atan2(0.0, 1)));
  CHECK(gm::atan2(-0.0, -1) == -0x1.921fb54442d18p+1);
  CHECK(gm::atan2(-kInf, kInf) == -0x1.921fb54442d18p-1);
}

TEST_CASE("gomath: frexp and ldexp follow Go (subnormals included)") {
  int e = 0;
  CHECK(gm::frexp(8, &e) == 0.5);
  CHECK(e == 4);
  CHECK(gm::frexp(5e-324, &e) == 0.5);
  CHECK(e == -1073);
  CHECK(gm::ldexp(0.5, -1073) == 5e-324);
  CHECK(gm::ldexp(1, 1024) == kInf);
  CHECK(neg_zero(gm::ldexp(-1, -2000)));
}

TEST_CASE("gomath: Go's amd64 Exp, not libm's") {
  // Go's Exp turns x*log2(e) into an integer with CVTSD2SL and returns +Inf once that exponent
  // reaches 1024, a little before the true overflow point 709.782712893384.
  CHECK(gm::exp(709.78) == kInf);
  CHECK(std::exp(709.78) < kInf);
  // Subnormal results are scaled in two steps, down to 2^-1074; below 52 more halvings, 0.
  CHECK(gm::exp(-744) > 0);
  CHECK(gm::exp(-760) == 0);
  // Both paths agree on exact cases.
  CHECK(gm::exp_path(0, true) == 1);
  CHECK(gm::exp_path(0, false) == 1);
}

TEST_CASE("gomath: Go's amd64 Log does not normalise subnormal inputs") {
  // The assembly takes the exponent bits as they are, so log of a subnormal is not libm's.
  double x = 1e-310;
  CHECK(gm::log(x) != std::log(x));
  CHECK(gm::log(1) == 0);
  CHECK(gm::log2(8) == 3);
  CHECK(gm::log10(100) == 2);
}
