// Go's `math` package on amd64, bit for bit.
//
// promtool compares rule-test values exactly, and teams take their expectations from Prometheus,
// which is written in Go. C's libm rounds differently from Go's math package in the last bit for
// most transcendental functions, so the evaluator calls these instead of <cmath>. Each function
// follows the algorithm Go uses on amd64 (hand-written: no Debian library offers Go's
// algorithms): the Cephes and FreeBSD msun derivations of its pure-Go code, and for Exp and Log
// the amd64 assembly versions (Exp takes a fused multiply-add path on CPUs with AVX2 and FMA,
// exactly as Go's runtime chooses). Pow is the algorithm of the released Go toolchains that
// Prometheus 2.x and 3.x are built with (Frexp-based repeated squaring).
//
// The functions are pure; the file is compiled with -ffp-contract=off so that the compiler
// never fuses a multiply and an add that Go keeps apart.
#pragma once

namespace ruleeval::gomath {

double exp(double x);
double exp2(double x);
double log(double x);
double log2(double x);
double log10(double x);
double log1p(double x);
double pow(double x, double y);

double sin(double x);
double cos(double x);
double tan(double x);
double asin(double x);
double acos(double x);
double atan(double x);
double atan2(double y, double x);

double sinh(double x);
double cosh(double x);
double tanh(double x);
double asinh(double x);
double acosh(double x);
double atanh(double x);

// frac in [0.5, 1) and exp with x == frac * 2^exp; ±0, ±Inf and NaN give (x, 0).
double frexp(double x, int* exp);
// frac * 2^exp, with Go's underflow and overflow rules.
double ldexp(double frac, int exp);

// Which Exp path this process takes (true: the AVX2+FMA path, as Go's useFMA), and Exp with a
// chosen path (tests compare both against Go binaries run with and without FMA).
bool exp_uses_fma();
double exp_path(double x, bool fma);

}  // namespace ruleeval::gomath
