// Functions on a vector as a whole: vector(), scalar(), absent(), sort(), sort_desc().
#include <algorithm>
#include <cmath>

#include "functions.hpp"

namespace ruleeval::engine::detail {
namespace {

using promql::Call;

Value fn_vector(Evaluator& ev, const Call& call, Millis t) {
  return Vector{Sample{Labels{}, ev.eval_scalar(*call.args[0], t), t, false}};
}

Value fn_scalar(Evaluator& ev, const Call& call, Millis t) {
  Vector v = ev.eval_vector(*call.args[0], t);
  return Scalar{v.size() == 1 ? v[0].v : kNaN, t};
}

Value fn_absent(Evaluator& ev, const Call& call, Millis t) {
  const promql::Expr* a = call.args[0].get();
  while (const auto* p = a->as<promql::Paren>()) a = p->expr.get();
  const auto* vs = a->as<promql::VectorSelector>();
  Vector v = vs ? ev.eval_vector_selector(*vs, t, false, true)
                : ev.eval_vector_keep_histograms(*call.args[0], t);
  if (!v.empty()) return Vector{};
  return Vector{Sample{absent_labels(*call.args[0]), 1, t, false}};
}

template <bool Desc>
Value fn_sort(Evaluator& ev, const Call& call, Millis t) {
  if (ev.start() != ev.end()) {
    ev.warn("PromQL warning: sort is ineffective for range queries since results are always "
            "ordered by labels");
  }
  Vector v = ev.eval_vector(*call.args[0], t);
  std::stable_sort(v.begin(), v.end(), [](const Sample& a, const Sample& b) {
    if (std::isnan(a.v)) return false;
    if (std::isnan(b.v)) return true;
    return Desc ? a.v > b.v : a.v < b.v;
  });
  return v;
}

constexpr FunctionDef kDefs[] = {
    {"vector", fn_vector},
    {"scalar", fn_scalar},
    {"absent", fn_absent},
    {"sort", fn_sort<false>},
    {"sort_desc", fn_sort<true>},
};

}  // namespace

std::span<const FunctionDef> vector_function_defs() { return kDefs; }

}  // namespace ruleeval::engine::detail
