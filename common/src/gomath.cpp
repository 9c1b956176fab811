// Go's math package on amd64, re-implemented step by step (see gomath.hpp). Every expression
// keeps Go's association order; the file is compiled with -ffp-contract=off.
#include "ruleeval/common/gomath.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace ruleeval::gomath {
namespace {

constexpr double kPi = 0x1.921fb54442d18p+1;
constexpr double kPi2 = 0x1.921fb54442d18p+0;  // Pi/2
constexpr double kPi4 = 0x1.921fb54442d18p-1;  // Pi/4
constexpr double kFourOverPi = 0x1.45f306dc9c883p+0;  // the constant 4/Pi, rounded once
constexpr double kInvLn2 = 0x1.71547652b82fep+0;      // 1/Ln2
constexpr double kInvLn10 = 0x1.bcb7b1526e50ep-2;     // 1/Ln10
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr uint64_t kSignBit = uint64_t{1} << 63;
constexpr uint64_t kPosInfBits = 0x7FF0000000000000;
constexpr uint64_t kNegInfBits = 0xFFF0000000000000;
constexpr uint64_t kMantMask = 0x000FFFFFFFFFFFFF;
constexpr int kBias = 1023;
constexpr int kShift = 52;
constexpr uint64_t kExpMask = 0x7FF;

uint64_t bits(double x) { return std::bit_cast<uint64_t>(x); }
double from_bits(uint64_t b) { return std::bit_cast<double>(b); }
double nan() { return from_bits(0x7FF8000000000001); }  // Go's NaN()
double copysign(double x, double sign) { return std::copysign(x, sign); }

// CVTSD2SL: round to nearest even; out of range gives the "integer indefinite" value.
int32_t cvtsd2sl(double v) {
  double r = std::nearbyint(v);
  if (!(r >= -2147483648.0 && r <= 2147483647.0)) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(r);
}

bool detect_fma() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

// ---- Exp: Go's exp_amd64.s (Shibata's method: reduce by ln2, divide by 16, Taylor series,
// square back four times).
constexpr double kLn2U = 0.69314718055966295651160180568695068359375;
constexpr double kLn2L = 0.28235290563031577122588448175013436025525412068e-12;
constexpr double kLog2E = 1.4426950408889634073599246810018920;
constexpr double kExpOverflow = 7.09782712893384e+02;
constexpr double kE2 = 1.6666666666666666667e-1;
constexpr double kE3 = 4.1666666666666666667e-2;
constexpr double kE4 = 8.3333333333333333333e-3;
constexpr double kE5 = 1.3888888888888888889e-3;
constexpr double kE6 = 1.9841269841269841270e-4;
constexpr double kE7 = 2.4801587301587301587e-5;

// ---- Log: Go's log_amd64.s (FreeBSD e_log.c without normalising subnormals).
constexpr double kHSqrt2 = 7.07106781186547524401e-01;
constexpr double kLn2Hi = 6.93147180369123816490e-01;
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kL1 = 6.666666666666735130e-01;
constexpr double kL2 = 3.999999999940941908e-01;
constexpr double kL3 = 2.857142874366239149e-01;
constexpr double kL4 = 2.222219843214978396e-01;
constexpr double kL5 = 1.818357216161805012e-01;
constexpr double kL6 = 1.531383769920937332e-01;
constexpr double kL7 = 1.479819860511658591e-01;

// ---- sin, cos, tan (Cephes).
constexpr double kPI4A = 7.85398125648498535156e-1;
constexpr double kPI4B = 3.77489470793079817668e-8;
constexpr double kPI4C = 2.69515142907905952645e-15;
constexpr double kReduceThreshold = 1 << 29;
constexpr double kSin[] = {1.58962301576546568060e-10, -2.50507477628578072866e-8,
                           2.75573136213857245213e-6,  -1.98412698295895385996e-4,
                           8.33333333332211858878e-3,  -1.66666666666666307295e-1};
constexpr double kCos[] = {-1.13585365213876817300e-11, 2.08757008419747316778e-9,
                           -2.75573141792967388112e-7,  2.48015872888517045348e-5,
                           -1.38888888888730564116e-3,  4.16666666666665929218e-2};
constexpr double kTanP[] = {-1.30936939181383777646e4, 1.15351664838587416140e6,
                            -1.79565251976484877988e7};
constexpr double kTanQ[] = {1.00000000000000000000e0, 1.36812963470692954678e4,
                            -1.32089234440210967447e6, 2.50083801823357915839e7,
                            -5.38695755929454629881e7};

// The binary digits of 4/pi, 64 bits per element (Payne-Hanek reduction for |x| >= 2^29).
constexpr uint64_t kMPi4[] = {
    0x0000000000000001, 0x45f306dc9c882a53, 0xf84eafa3ea69bb81, 0xb6c52b3278872083,
    0xfca2c757bd778ac3, 0x6e48dc74849ba5c0, 0x0c925dd413a32439, 0xfc3bd63962534e7d,
    0xd1046bea5d768909, 0xd338e04d68befc82, 0x7323ac7306a673e9, 0x3908bf177bf25076,
    0x3ff12fffbc0b301f, 0xde5e2316b414da3e, 0xda6cfd9e4f96136e, 0x9e8c7ecd3cbfd45a,
    0xea4f758fd7cbe2f6, 0x7a0e73ef14a525d4, 0xd7f6bf623f1aba10, 0xac06608df8f6d757,
};

struct Reduced {
  uint64_t j;  // octant
  double z;    // the remainder, in radians
};

// x / (Pi/4) for x >= 2^29 with 64-bit integer arithmetic: integer part mod 8 and the fraction.
Reduced trig_reduce(double x) {
  if (x < kPi4) return {0, x};
  uint64_t ix = bits(x);
  int exp = static_cast<int>((ix >> kShift) & kExpMask) - kBias - kShift;
  ix &= ~(kExpMask << kShift);
  ix |= uint64_t{1} << kShift;
  unsigned digit = static_cast<unsigned>(exp + 61) / 64;
  unsigned bitshift = static_cast<unsigned>(exp + 61) % 64;
  auto shl = [](uint64_t v, unsigned s) { return s >= 64 ? 0 : v << s; };
  auto shr = [](uint64_t v, unsigned s) { return s >= 64 ? 0 : v >> s; };
  uint64_t z0 = shl(kMPi4[digit], bitshift) | shr(kMPi4[digit + 1], 64 - bitshift);
  uint64_t z1 = shl(kMPi4[digit + 1], bitshift) | shr(kMPi4[digit + 2], 64 - bitshift);
  uint64_t z2 = shl(kMPi4[digit + 2], bitshift) | shr(kMPi4[digit + 3], 64 - bitshift);
  __extension__ typedef unsigned __int128 u128;
  // cppcheck-suppress shiftTooManyBits ; false positive: the value is a 128-bit unsigned __int128
  uint64_t z2hi = static_cast<uint64_t>((u128{z2} * ix) >> 64);
  u128 p1 = u128{z1} * ix;
  uint64_t z1hi = static_cast<uint64_t>(p1 >> 64);
  uint64_t z1lo = static_cast<uint64_t>(p1);
  uint64_t z0lo = z0 * ix;
  uint64_t lo = z1lo + z2hi;
  uint64_t carry = lo < z1lo ? 1 : 0;
  uint64_t hi = z0lo + z1hi + carry;
  uint64_t j = hi >> 61;
  hi = hi << 3 | lo >> 61;
  unsigned lz = static_cast<unsigned>(std::countl_zero(hi));
  uint64_t e = static_cast<uint64_t>(kBias - static_cast<int>(lz + 1));
  hi = shl(hi, lz + 1) | shr(lo, 64 - (lz + 1));
  hi >>= 64 - kShift;
  hi |= e << kShift;
  double z = from_bits(hi);
  if ((j & 1) == 1) {
    j++;
    j &= 7;
    z--;
  }
  return {j, z * kPi4};
}

// The shared reduction of sin, cos and tan below 2^29: octant j (zeros mapped to the origin)
// and z = x - j*Pi/4 in extended precision.
Reduced cephes_reduce(double x) {
  if (x >= kReduceThreshold) return trig_reduce(x);
  uint64_t j = static_cast<uint64_t>(x * kFourOverPi);
  double y = static_cast<double>(j);
  if ((j & 1) == 1) {
    j++;
    y++;
  }
  return {j & 7, ((x - y * kPI4A) - y * kPI4B) - y * kPI4C};
}

double sin_poly(double z, double zz) {
  return z + z * zz * ((((((kSin[0] * zz) + kSin[1]) * zz + kSin[2]) * zz + kSin[3]) * zz +
                        kSin[4]) * zz + kSin[5]);
}
double cos_poly(double zz) {
  return 1.0 - 0.5 * zz + zz * zz * ((((((kCos[0] * zz) + kCos[1]) * zz + kCos[2]) * zz +
                                       kCos[3]) * zz + kCos[4]) * zz + kCos[5]);
}

// atan on [0, 0.66] (Cephes atan.c).
double xatan(double x) {
  constexpr double P0 = -8.750608600031904122785e-01, P1 = -1.615753718733365076637e+01,
                   P2 = -7.500855792314704667340e+01, P3 = -1.228866684490136173410e+02,
                   P4 = -6.485021904942025371773e+01, Q0 = +2.485846490142306297962e+01,
                   Q1 = +1.650270098316988542046e+02, Q2 = +4.328810604912902668951e+02,
                   Q3 = +4.853903996359136964868e+02, Q4 = +1.945506571482613964425e+02;
  double z = x * x;
  z = z * ((((P0 * z + P1) * z + P2) * z + P3) * z + P4) /
      (((((z + Q0) * z + Q1) * z + Q2) * z + Q3) * z + Q4);
  z = x * z + x;
  return z;
}

// atan for x >= 0, reduced to [0, 0.66].
double satan(double x) {
  constexpr double kMorebits = 6.123233995736765886130e-17;  // pi/2 = PIO2 + Morebits
  constexpr double kTan3pio8 = 2.41421356237309504880;       // tan(3*pi/8)
  if (x <= 0.66) return xatan(x);
  if (x > kTan3pio8) return kPi2 - xatan(1 / x) + kMorebits;
  return kPi4 + xatan((x - 1) / (x + 1)) + 0.5 * kMorebits;
}

double trunc(double x) { return std::trunc(x); }

bool is_odd_int(double x) {
  double xi = trunc(x);
  double xf = copysign(x - xi, x);
  // Go converts with CVTTSD2SQ: |xi| >= 2^63 gives 0x8000000000000000, an even number; every
  // double at or above 2^53 is even anyway.
  if (xf != 0 || !(std::fabs(xi) < 9007199254740992.0)) return false;
  return (static_cast<int64_t>(xi) & 1) == 1;
}

// x * 2^52 for subnormals, as Go's normalize.
double normalize(double x, int* exp) {
  constexpr double kSmallestNormal = 2.2250738585072014e-308;
  if (std::fabs(x) < kSmallestNormal) {
    *exp = -52;
    return x * 4503599627370496.0;  // 1 << 52
  }
  *exp = 0;
  return x;
}

}  // namespace

bool exp_uses_fma() {
  static const bool use = detect_fma();
  return use;
}

double exp(double x) { return exp_path(x, exp_uses_fma()); }

double exp_path(double x, bool fma) {
  uint64_t b = bits(x);
  if ((b & ~kSignBit) >= kPosInfBits) {
    if (b == kNegInfBits) return 0;
    return x;  // NaN or +Inf
  }
  if (x > kExpOverflow) return kInf;
  int32_t e = cvtsd2sl(kLog2E * x);
  double k = e;
  double r;
  if (fma) {
    r = std::fma(-k, kLn2U, x);
    r = std::fma(-k, kLn2L, r);
    r *= 0.0625;
    double p = kE7;
    p = std::fma(p, r, kE6);
    p = std::fma(p, r, kE5);
    p = std::fma(p, r, kE4);
    p = std::fma(p, r, kE3);
    p = std::fma(p, r, kE2);
    p = std::fma(p, r, 0.5);
    p = std::fma(p, r, 1.0);
    r = r * p;
    for (int i = 0; i < 3; i++) r = r * (r + 2.0);
    r = std::fma(r, r + 2.0, 1.0);
  } else {
    r = x - kLn2U * k;
    r = r - kLn2L * k;
    r *= 0.0625;
    double p = kE7;
    p = p * r + kE6;
    p = p * r + kE5;
    p = p * r + kE4;
    p = p * r + kE3;
    p = p * r + kE2;
    p = p * r + 0.5;
    p = p * r + 1.0;
    r = r * p;
    for (int i = 0; i < 4; i++) r = r * (2.0 + r);
    r = r + 1.0;
  }
  // Multiply by 2^e; a subnormal result is scaled in two steps (2^(e+1022), then 2^-1022).
  int64_t biased = int64_t{e} + 0x3FF;
  if (biased <= 0) {
    if (biased < -52) return 0;
    r *= from_bits(static_cast<uint64_t>(biased + 0x3FE) << kShift);
    biased = 1;
  } else if (biased >= 0x7FF) {
    return kInf;
  }
  return r * from_bits(static_cast<uint64_t>(biased) << kShift);
}

// e^r * 2^k where r = hi - lo and |r| <= ln(2)/2 (Go's expmulti, FreeBSD e_exp.c).
double expmulti(double hi, double lo, int k) {
  constexpr double P1 = 1.66666666666666657415e-01, P2 = -2.77777777770155933842e-03,
                   P3 = 6.61375632143793436117e-05, P4 = -1.65339022054652515390e-06,
                   P5 = 4.13813679705723846039e-08;
  double r = hi - lo;
  double t = r * r;
  double c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  double y = 1 - ((lo - (r * c) / (2 - c)) - hi);
  return ldexp(y, k);
}

// Pure Go on amd64 (no assembly version).
double exp2(double x) {
  constexpr double kOverflow = 1.0239999999999999e+03;
  constexpr double kUnderflow = -1.0740e+03;
  if (std::isnan(x) || x == kInf) return x;
  if (x == -kInf) return 0;
  if (x > kOverflow) return kInf;
  if (x < kUnderflow) return 0;
  int k = 0;
  // Go's exp truncates x +/- 0.5 (not lround: the port must match Go bit for bit).
  if (x > 0) {
    k = static_cast<int>(x + 0.5);  // NOLINT(bugprone-incorrect-roundings): Go's rounding
  } else if (x < 0) {
    k = static_cast<int>(x - 0.5);
  }
  double t = x - static_cast<double>(k);
  double hi = t * kLn2Hi;
  double lo = -t * kLn2Lo;
  return expmulti(hi, lo, k);
}

double log(double x) {
  uint64_t b = bits(x);
  if ((b & ~kSignBit) == 0) return -kInf;
  if (static_cast<int64_t>(b) < 0) return nan();
  if (static_cast<int64_t>(b) >= static_cast<int64_t>(kPosInfBits)) return x;  // +Inf or NaN
  double f1 = from_bits((b & kMantMask) | bits(0.5));
  double k = static_cast<double>(static_cast<int32_t>((b >> kShift) & kExpMask) - 0x3FE);
  double adj = f1 <= kHSqrt2 ? 1.0 : 0.0;  // CMPSD not-less-than
  k = k - adj;
  f1 = f1 * (adj + 1.0);
  double f = f1 - 1.0;
  double s = f / (2.0 + f);
  double s2 = s * s;
  double s4 = s2 * s2;
  double t1 = s2 * (((kL7 * s4 + kL5) * s4 + kL3) * s4 + kL1);
  double t2 = s4 * ((kL6 * s4 + kL4) * s4 + kL2);
  double R = t1 + t2;
  double hfsq = 0.5 * f * f;
  double u = s * (R + hfsq) + kLn2Lo * k;
  double v = (hfsq - u) - f;
  return k * kLn2Hi - v;
}

double frexp(double x, int* exp) {
  *exp = 0;
  if (x == 0 || std::isinf(x) || std::isnan(x)) return x;
  int e = 0;
  x = normalize(x, &e);
  uint64_t b = bits(x);
  e += static_cast<int>((b >> kShift) & kExpMask) - kBias + 1;
  b &= ~(kExpMask << kShift);
  b |= uint64_t{kBias - 1} << kShift;
  *exp = e;
  return from_bits(b);
}

double ldexp(double frac, int exp) {
  if (frac == 0 || std::isinf(frac) || std::isnan(frac)) return frac;
  int e = 0;
  frac = normalize(frac, &e);
  int64_t ex = int64_t{exp} + e;
  uint64_t b = bits(frac);
  ex += static_cast<int64_t>((b >> kShift) & kExpMask) - kBias;
  if (ex < -1075) return copysign(0, frac);
  if (ex > 1023) return frac < 0 ? -kInf : kInf;
  double m = 1;
  if (ex < -1022) {  // subnormal
    ex += 53;
    m = 1.0 / 9007199254740992.0;  // 2^-53
  }
  b &= ~(kExpMask << kShift);
  b |= static_cast<uint64_t>(ex + kBias) << kShift;
  return m * from_bits(b);
}

double log2(double x) {
  int e = 0;
  double frac = frexp(x, &e);
  return log(frac) * kInvLn2 + static_cast<double>(e);
}

double log10(double x) { return log(x) * kInvLn10; }

double log1p(double x) {
  constexpr double kSqrt2M1 = 4.142135623730950488017e-01;
  constexpr double kSqrt2HalfM1 = -2.928932188134524755992e-01;
  constexpr double kSmall = 1.0 / (1 << 29);
  constexpr double kTiny = 1.0 / static_cast<double>(uint64_t{1} << 54);
  constexpr double kTwo53 = static_cast<double>(uint64_t{1} << 53);
  constexpr double kLp1 = 6.666666666666735130e-01, kLp2 = 3.999999999940941908e-01,
                   kLp3 = 2.857142874366239149e-01, kLp4 = 2.222219843214978396e-01,
                   kLp5 = 1.818357216161805012e-01, kLp6 = 1.531383769920937332e-01,
                   kLp7 = 1.479819860511658591e-01;
  if (x < -1 || std::isnan(x)) return nan();
  if (x == -1) return -kInf;
  if (std::isinf(x)) return kInf;

  double absx = std::fabs(x);
  double f = 0;
  uint64_t iu = 0;
  int64_t k = 1;
  if (absx < kSqrt2M1) {
    if (absx < kSmall) {
      if (absx < kTiny) return x;
      return x - x * x * 0.5;
    }
    if (x > kSqrt2HalfM1) {
      k = 0;
      f = x;
      iu = 1;
    }
  }
  double c = 0;
  if (k != 0) {
    double u;
    if (absx < kTwo53) {
      u = 1.0 + x;
      iu = bits(u);
      k = static_cast<int64_t>(iu >> 52) - 1023;
      if (k > 0) {
        c = 1.0 - (u - x);
      } else {
        c = x - (u - 1.0);
      }
      c /= u;
    } else {
      u = x;
      iu = bits(u);
      k = static_cast<int64_t>(iu >> 52) - 1023;
      c = 0;
    }
    iu &= 0x000fffffffffffff;
    if (iu < 0x0006a09e667f3bcd) {
      u = from_bits(iu | 0x3ff0000000000000);
    } else {
      k++;
      u = from_bits(iu | 0x3fe0000000000000);
      iu = (0x0010000000000000 - iu) >> 2;
    }
    f = u - 1.0;
  }
  double hfsq = 0.5 * f * f;
  double fk = static_cast<double>(k);
  if (iu == 0) {  // |f| < 2^-20
    if (f == 0) {
      if (k == 0) return 0;
      c += fk * kLn2Lo;
      return fk * kLn2Hi + c;
    }
    double R = hfsq * (1.0 - 0.66666666666666666 * f);
    if (k == 0) return f - R;
    return fk * kLn2Hi - ((R - (fk * kLn2Lo + c)) - f);
  }
  double s = f / (2.0 + f);
  double z = s * s;
  double R = z * (kLp1 + z * (kLp2 + z * (kLp3 + z * (kLp4 + z * (kLp5 + z * (kLp6 + z * kLp7))))));
  if (k == 0) return f - (hfsq - s * (hfsq + R));
  return fk * kLn2Hi - ((hfsq - (s * (hfsq + R) + (fk * kLn2Lo + c))) - f);
}

double pow(double x, double y) {
  if (y == 0 || x == 1) return 1;
  if (y == 1) return x;
  if (std::isnan(x) || std::isnan(y)) return nan();
  if (x == 0) {
    if (y < 0) return is_odd_int(y) ? copysign(kInf, x) : kInf;
    if (y > 0) return is_odd_int(y) ? x : 0;
  }
  if (std::isinf(y)) {
    if (x == -1) return 1;
    if ((std::fabs(x) < 1) == (y > 0)) return 0;
    return kInf;
  }
  if (std::isinf(x)) {
    if (x < 0) return pow(1 / x, -y);  // Pow(-0, -y)
    if (y < 0) return 0;
    if (y > 0) return kInf;
  }
  if (y == 0.5) return std::sqrt(x);
  if (y == -0.5) return 1 / std::sqrt(x);

  double ay = std::fabs(y);
  double yi = trunc(ay);
  double yf = copysign(ay - yi, ay);
  if (yf != 0 && x < 0) return nan();
  if (yi >= 9223372036854775808.0) {  // 1 << 63
    if (x == -1) return 1;
    if ((std::fabs(x) < 1) == (y > 0)) return 0;
    return kInf;
  }
  double a1 = 1.0;
  int64_t ae = 0;
  if (yf != 0) {
    if (yf > 0.5) {
      yf--;
      yi++;
    }
    a1 = exp(yf * log(x));
  }
  int xe_int = 0;
  double x1 = frexp(x, &xe_int);
  int64_t xe = xe_int;
  for (int64_t i = static_cast<int64_t>(yi); i != 0; i >>= 1) {
    if (xe < -(int64_t{1} << 12) || (int64_t{1} << 12) < xe) {
      ae += xe;
      break;
    }
    if ((i & 1) == 1) {
      a1 *= x1;
      ae += xe;
    }
    x1 *= x1;
    xe <<= 1;
    if (x1 < .5) {
      x1 += x1;
      xe--;
    }
  }
  if (y < 0) {
    a1 = 1 / a1;
    ae = -ae;
  }
  // Go's int is 64 bits; ldexp saturates long before an int overflows.
  if (ae > 100000) ae = 100000;
  if (ae < -100000) ae = -100000;
  return ldexp(a1, static_cast<int>(ae));
}

double sin(double x) {
  if (x == 0 || std::isnan(x)) return x;
  if (std::isinf(x)) return nan();
  bool sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  auto [j, z] = cephes_reduce(x);
  if (j > 3) {
    sign = !sign;
    j -= 4;
  }
  double zz = z * z;
  double y = (j == 1 || j == 2) ? cos_poly(zz) : sin_poly(z, zz);
  return sign ? -y : y;
}

double cos(double x) {
  if (std::isnan(x) || std::isinf(x)) return nan();
  bool sign = false;
  x = std::fabs(x);
  auto [j, z] = cephes_reduce(x);
  if (j > 3) {
    j -= 4;
    sign = !sign;
  }
  if (j > 1) sign = !sign;
  double zz = z * z;
  double y = (j == 1 || j == 2) ? sin_poly(z, zz) : cos_poly(zz);
  return sign ? -y : y;
}

double tan(double x) {
  if (x == 0 || std::isnan(x)) return x;
  if (std::isinf(x)) return nan();
  bool sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  auto [j, z] = cephes_reduce(x);
  double zz = z * z;
  double y;
  if (zz > 1e-14) {
    y = z + z * (zz * (((kTanP[0] * zz) + kTanP[1]) * zz + kTanP[2]) /
                 ((((zz + kTanQ[1]) * zz + kTanQ[2]) * zz + kTanQ[3]) * zz + kTanQ[4]));
  } else {
    y = z;
  }
  if ((j & 2) == 2) y = -1 / y;
  return sign ? -y : y;
}

double asin(double x) {
  if (x == 0) return x;
  bool sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  if (x > 1) return nan();
  double temp = std::sqrt(1 - x * x);
  if (x > 0.7) {
    temp = kPi2 - satan(temp / x);
  } else {
    temp = satan(x / temp);
  }
  return sign ? -temp : temp;
}

double acos(double x) { return kPi2 - asin(x); }

double atan(double x) {
  if (x == 0) return x;
  if (x > 0) return satan(x);
  return -satan(-x);
}

double atan2(double y, double x) {
  if (std::isnan(y) || std::isnan(x)) return nan();
  if (y == 0) {
    if (x >= 0 && !std::signbit(x)) return copysign(0, y);
    return copysign(kPi, y);
  }
  if (x == 0) return copysign(kPi2, y);
  if (std::isinf(x)) {
    if (x > 0) return std::isinf(y) ? copysign(kPi4, y) : copysign(0, y);
    return std::isinf(y) ? copysign(3 * kPi4, y) : copysign(kPi, y);
  }
  if (std::isinf(y)) return copysign(kPi2, y);
  double q = atan(y / x);
  if (x < 0) {
    if (q <= 0) return q + kPi;
    return q - kPi;
  }
  return q;
}

double sinh(double x) {
  constexpr double P0 = -0.6307673640497716991184787251e+6, P1 = -0.8991272022039509355398013511e+5,
                   P2 = -0.2894211355989563807284660366e+4, P3 = -0.2630563213397497062819489e+2,
                   Q0 = -0.6307673640497716991212077277e+6, Q1 = 0.1521517378790019070696485176e+5,
                   Q2 = -0.173678953558233699533450911e+3;
  bool sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  double temp;
  if (x > 21) {
    temp = exp(x) * 0.5;
  } else if (x > 0.5) {
    double ex = exp(x);
    temp = (ex - 1 / ex) * 0.5;
  } else {
    double sq = x * x;
    temp = (((P3 * sq + P2) * sq + P1) * sq + P0) * x;
    temp = temp / (((sq + Q2) * sq + Q1) * sq + Q0);
  }
  return sign ? -temp : temp;
}

double cosh(double x) {
  x = std::fabs(x);
  if (x > 21) return exp(x) * 0.5;
  double ex = exp(x);
  return (ex + 1 / ex) * 0.5;
}

double tanh(double x) {
  constexpr double kMaxLog = 8.8029691931113054295988e+01;  // log(2**127)
  constexpr double P[] = {-9.64399179425052238628E-1, -9.92877231001918586564E1,
                          -1.61468768441708447952E3};
  constexpr double Q[] = {1.12811678491632931402E2, 2.23548839060100448583E3,
                          4.84406305325125486048E3};
  double z = std::fabs(x);
  if (z > 0.5 * kMaxLog) return x < 0 ? -1 : 1;
  if (z >= 0.625) {
    double s = exp(2 * z);
    z = 1 - 2 / (s + 1);
    return x < 0 ? -z : z;
  }
  if (x == 0) return x;
  double s = x * x;
  return x + x * s * ((P[0] * s + P[1]) * s + P[2]) / (((s + Q[0]) * s + Q[1]) * s + Q[2]);
}

double asinh(double x) {
  constexpr double kLn2 = 6.93147180559945286227e-01;
  constexpr double kNearZero = 1.0 / (1 << 28);
  constexpr double kLarge = 1 << 28;
  if (std::isnan(x) || std::isinf(x)) return x;
  bool sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  double temp;
  if (x > kLarge) {
    temp = log(x) + kLn2;
  } else if (x > 2) {
    temp = log(2 * x + 1 / (std::sqrt(x * x + 1) + x));
  } else if (x < kNearZero) {
    temp = x;
  } else {
    temp = log1p(x + x * x / (1 + std::sqrt(1 + x * x)));
  }
  return sign ? -temp : temp;
}

double acosh(double x) {
  constexpr double kLn2 = 6.93147180559945286227e-01;
  constexpr double kLarge = 1 << 28;
  if (x < 1 || std::isnan(x)) return nan();
  if (x == 1) return 0;
  if (x >= kLarge) return log(x) + kLn2;
  if (x > 2) return log(2 * x - 1 / (x + std::sqrt(x * x - 1)));
  double t = x - 1;
  return log1p(t + std::sqrt(2 * t + t * t));
}

double atanh(double x) {
  constexpr double kNearZero = 1.0 / (1 << 28);
  if (x < -1 || x > 1 || std::isnan(x)) return nan();
  if (x == 1) return kInf;
  if (x == -1) return -kInf;
  bool sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  double temp;
  if (x < kNearZero) {
    temp = x;
  } else if (x < 0.5) {
    temp = x + x;
    temp = 0.5 * log1p(temp + temp * x / (1 - x));
  } else {
    temp = 0.5 * log1p((x + x) / (1 - x));
  }
  return sign ? -temp : temp;
}

}  // namespace ruleeval::gomath
