// Element-wise math functions (abs, ceil, exp, ln, sin, deg, sgn, ...), round, clamp,
// clamp_min, clamp_max, and the scalar functions pi, min_of, max_of.
#include <cmath>
#include <numbers>

#include "ruleeval/common/gomath.hpp"
#include "functions.hpp"

namespace ruleeval::engine::detail {
namespace {

using promql::Call;

double sgn(double v) { return v < 0 ? -1 : v > 0 ? 1 : v; }

// f applied to every float sample of the vector argument; the name is dropped.
template <double (*F)(double)>
Value unary_math(Evaluator& ev, const Call& call, Millis t) {
  Vector v = ev.eval_vector(*call.args[0], t);
  for (auto& s : v) {
    s.v = F(s.v);
    s.t = t;
    drop_name(s, ev.options());
  }
  return v;
}

double f_abs(double v) { return std::fabs(v); }
double f_ceil(double v) { return std::ceil(v); }
double f_floor(double v) { return std::floor(v); }
double f_exp(double v) { return gomath::exp(v); }
double f_sqrt(double v) { return std::sqrt(v); }
double f_ln(double v) { return gomath::log(v); }
double f_log2(double v) { return gomath::log2(v); }
double f_log10(double v) { return gomath::log10(v); }
double f_sin(double v) { return gomath::sin(v); }
double f_cos(double v) { return gomath::cos(v); }
double f_tan(double v) { return gomath::tan(v); }
double f_asin(double v) { return gomath::asin(v); }
double f_acos(double v) { return gomath::acos(v); }
double f_atan(double v) { return gomath::atan(v); }
double f_sinh(double v) { return gomath::sinh(v); }
double f_cosh(double v) { return gomath::cosh(v); }
double f_tanh(double v) { return gomath::tanh(v); }
double f_asinh(double v) { return gomath::asinh(v); }
double f_acosh(double v) { return gomath::acosh(v); }
double f_atanh(double v) { return gomath::atanh(v); }
double f_deg(double v) { return v * 180 / std::numbers::pi; }
double f_rad(double v) { return v * std::numbers::pi / 180; }

Value fn_round(Evaluator& ev, const Call& call, Millis t) {
  Vector v = ev.eval_vector(*call.args[0], t);
  double to = call.args.size() > 1 ? ev.eval_scalar(*call.args[1], t) : 1;
  double inv = 1.0 / to;
  for (auto& s : v) {
    s.v = std::floor(s.v * inv + 0.5) / inv;
    s.t = t;
    drop_name(s, ev.options());
  }
  return v;
}

Value clamp_between(Evaluator& ev, Vector v, double lo, double hi, Millis t) {
  for (auto& s : v) {
    s.v = go_max(lo, go_min(hi, s.v));
    s.t = t;
    drop_name(s, ev.options());
  }
  return v;
}

Value fn_clamp(Evaluator& ev, const Call& call, Millis t) {
  Vector v = ev.eval_vector(*call.args[0], t);
  double lo = ev.eval_scalar(*call.args[1], t);
  double hi = ev.eval_scalar(*call.args[2], t);
  if (hi < lo) return Vector{};
  return clamp_between(ev, std::move(v), lo, hi, t);
}

Value fn_clamp_min(Evaluator& ev, const Call& call, Millis t) {
  Vector v = ev.eval_vector(*call.args[0], t);
  double lo = ev.eval_scalar(*call.args[1], t);
  for (auto& s : v) {
    s.v = go_max(s.v, lo);
    s.t = t;
    drop_name(s, ev.options());
  }
  return v;
}

Value fn_clamp_max(Evaluator& ev, const Call& call, Millis t) {
  Vector v = ev.eval_vector(*call.args[0], t);
  double hi = ev.eval_scalar(*call.args[1], t);
  for (auto& s : v) {
    s.v = go_min(s.v, hi);
    s.t = t;
    drop_name(s, ev.options());
  }
  return v;
}

Value fn_pi(Evaluator&, const Call&, Millis t) { return Scalar{std::numbers::pi, t}; }

Value fn_min_of(Evaluator& ev, const Call& call, Millis t) {
  return Scalar{go_min(ev.eval_scalar(*call.args[0], t), ev.eval_scalar(*call.args[1], t)), t};
}

Value fn_max_of(Evaluator& ev, const Call& call, Millis t) {
  return Scalar{go_max(ev.eval_scalar(*call.args[0], t), ev.eval_scalar(*call.args[1], t)), t};
}

constexpr FunctionDef kDefs[] = {
    {"abs", unary_math<f_abs>},     {"ceil", unary_math<f_ceil>},
    {"floor", unary_math<f_floor>}, {"exp", unary_math<f_exp>},
    {"sqrt", unary_math<f_sqrt>},   {"ln", unary_math<f_ln>},
    {"log2", unary_math<f_log2>},   {"log10", unary_math<f_log10>},
    {"sgn", unary_math<sgn>},       {"sin", unary_math<f_sin>},
    {"cos", unary_math<f_cos>},     {"tan", unary_math<f_tan>},
    {"asin", unary_math<f_asin>},   {"acos", unary_math<f_acos>},
    {"atan", unary_math<f_atan>},   {"sinh", unary_math<f_sinh>},
    {"cosh", unary_math<f_cosh>},   {"tanh", unary_math<f_tanh>},
    {"asinh", unary_math<f_asinh>}, {"acosh", unary_math<f_acosh>},
    {"atanh", unary_math<f_atanh>}, {"deg", unary_math<f_deg>},
    {"rad", unary_math<f_rad>},     {"round", fn_round},
    {"clamp", fn_clamp},            {"clamp_min", fn_clamp_min},
    {"clamp_max", fn_clamp_max},    {"pi", fn_pi},
    {"min_of", fn_min_of},          {"max_of", fn_max_of},
};

}  // namespace

std::span<const FunctionDef> math_function_defs() { return kDefs; }

}  // namespace ruleeval::engine::detail
