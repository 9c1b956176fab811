// Binary operators: arithmetic, comparisons and set operators between scalars and instant
// vectors, with Prometheus's vector matching (on/ignoring, group_left/right, fill modifiers)
// and its rules for native histograms (vectorElemBinop).
#include <cmath>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "ruleeval/common/gomath.hpp"
#include "eval_internal.hpp"

namespace ruleeval::engine::detail {

using promql::BinaryOp;

double apply_binop(BinaryOp op, double lhs, double rhs, bool& keep) {
  keep = true;
  switch (op) {
    case BinaryOp::Add: return lhs + rhs;
    case BinaryOp::Sub: return lhs - rhs;
    case BinaryOp::Mul: return lhs * rhs;
    case BinaryOp::Div: return lhs / rhs;
    case BinaryOp::Mod: return std::fmod(lhs, rhs);
    case BinaryOp::Pow: return gomath::pow(lhs, rhs);
    case BinaryOp::Atan2: return gomath::atan2(lhs, rhs);
    case BinaryOp::Eql: keep = lhs == rhs; return lhs;
    case BinaryOp::Neq: keep = lhs != rhs; return lhs;
    case BinaryOp::Gtr: keep = lhs > rhs; return lhs;
    case BinaryOp::Lss: keep = lhs < rhs; return lhs;
    case BinaryOp::Gte: keep = lhs >= rhs; return lhs;
    case BinaryOp::Lte: keep = lhs <= rhs; return lhs;
    default: break;
  }
  fail("operator \"" + std::string(promql::to_string(op)) + "\" not allowed here");
}


namespace {

bool drops_metric_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: case BinaryOp::Sub: case BinaryOp::Mul: case BinaryOp::Div:
    case BinaryOp::Mod: case BinaryOp::Pow: case BinaryOp::Atan2:
      return true;
    default:
      return false;
  }
}

}  // namespace

Value Evaluator::eval_binary(const promql::Binary& b, Millis t) {
  Value lv = eval(*b.lhs, t);
  Value rv = eval(*b.rhs, t);
  auto* ls = std::get_if<Scalar>(&lv);
  auto* rs = std::get_if<Scalar>(&rv);
  bool keep = true;
  if (ls && rs) {
    double v = apply_binop(b.op, ls->v, rs->v, keep);
    if (promql::is_comparison(b.op)) v = keep ? 1 : 0;
    return Scalar{v, t};
  }
  auto* lvec = std::get_if<Vector>(&lv);
  auto* rvec = std::get_if<Vector>(&rv);
  // Set operators only look at labels; arithmetic and comparisons follow Prometheus's
  // vectorElemBinop for floats and native histograms.
  if (lvec && rvec) {
    if (promql::is_set_operator(b.op)) return set_binop(b, std::move(*lvec), std::move(*rvec));
    return vector_binop(b, std::move(*lvec), std::move(*rvec));
  }
  if (promql::is_set_operator(b.op)) {
    fail("set operator \"" + std::string(promql::to_string(b.op)) +
         "\" not allowed in binary scalar expression");
  }
  Vector* vec = lvec ? lvec : rvec;
  const Scalar* sc = lvec ? rs : ls;
  if (!vec || !sc) fail("binary expression must contain only scalar and instant vector types");
  bool swap = !lvec;
  bool cmp = promql::is_comparison(b.op);
  Vector out;
  out.reserve(vec->size());
  for (auto& s : *vec) {
    double l = s.v, r = sc->v;
    HistogramPtr lh = s.h, rh = nullptr;
    if (swap) {
      std::swap(l, r);
      std::swap(lh, rh);
    }
    ElemResult er = elem_binop(b.op, l, r, lh, rh);
    if (!er.ok) continue;
    if (cmp && swap) {
      er.v = r;
      er.h = rh;
    }
    if (b.return_bool) {
      er.v = er.keep ? 1 : 0;
      er.h = nullptr;
      er.keep = true;
    }
    if (!er.keep) continue;
    s.v = er.h ? histogram_marker() : er.v;
    s.h = std::move(er.h);
    s.t = t;
    if (b.return_bool || drops_metric_name(b.op)) s.drop_name = true;
    out.push_back(std::move(s));
  }
  return out;
}

ElemResult Evaluator::elem_binop(BinaryOp op, double lf, double rf, const HistogramPtr& lh,
                                 const HistogramPtr& rh) {
  ElemResult r;
  auto incompatible = [&](const char* lt, const char* rt) {
    std::string o(promql::to_string(op));
    info("PromQL info: incompatible sample types encountered for binary operator \"" + o +
         "\": " + lt + " " + o + " " + rt);
    r.ok = false;
    return r;
  };
  if (!lh && !rh) {
    r.v = apply_binop(op, lf, rf, r.keep);
    return r;
  }
  if (!lh) {
    if (op != BinaryOp::Mul) return incompatible("float", "histogram");
    auto h = std::make_shared<FloatHistogram>(*rh);
    histogram_scale(*h, lf, false);
    histogram_compact(*h);
    r.h = std::move(h);
    return r;
  }
  if (!rh) {
    if (op != BinaryOp::Mul && op != BinaryOp::Div) return incompatible("histogram", "float");
    auto h = std::make_shared<FloatHistogram>(*lh);
    histogram_scale(*h, rf, op == BinaryOp::Div);
    histogram_compact(*h);
    r.h = std::move(h);
    return r;
  }
  switch (op) {
    case BinaryOp::Add:
    case BinaryOp::Sub: {
      auto h = std::make_shared<FloatHistogram>(*lh);
      bool reconciled = false, collision = false;
      auto res = histogram_add(*h, *rh, op == BinaryOp::Sub, &reconciled, &collision);
      if (reconciled) {
        info(std::string("PromQL info: mismatched custom buckets were reconciled during ") +
             (op == BinaryOp::Sub ? "subtraction" : "addition"));
      }
      if (!res) {
        if (lh->uses_custom_buckets() != rh->uses_custom_buckets()) {
          warn("PromQL warning: incompatible bucket layout encountered for binary operator " +
               std::string(promql::to_string(op)));
        }
        r.ok = false;
        return r;
      }
      if (collision) {
        warn(std::string("PromQL warning: conflicting counter resets during histogram ") +
             (op == BinaryOp::Sub ? "subtraction" : "addition"));
      }
      if (op == BinaryOp::Sub) h->hint = CounterResetHint::kGauge;
      histogram_compact(*h);
      r.h = std::move(h);
      return r;
    }
    case BinaryOp::Eql:
    case BinaryOp::Neq:
      r.keep = histogram_equals(*lh, *rh) == (op == BinaryOp::Eql);
      r.h = lh;
      return r;
    default:
      return incompatible("histogram", "histogram");
  }
}

namespace {

struct Sig {
  bool on;
  std::span<const std::string> names;
  uint64_t operator()(const Labels& l) const { return on ? l.hash_for(names) : l.hash_without(names); }
  Labels match_labels(const Labels& l) const {
    return on ? l.keep_only(names) : l.drop(names).without_metric_name();
  }
};

}  // namespace

Vector Evaluator::set_binop(const promql::Binary& b, Vector lhs, Vector rhs) {
  static const promql::VectorMatching kDefault{promql::Cardinality::ManyToMany, false, false, {}, {}};
  const auto& m = b.matching ? *b.matching : kDefault;
  Sig sig{m.on, m.matching_labels};
  Vector out;
  switch (b.op) {
    case BinaryOp::And: {
      if (lhs.empty() || rhs.empty()) return out;
      std::unordered_set<uint64_t> right;
      for (const auto& s : rhs) right.insert(sig(s.metric));
      for (auto& s : lhs) {
        if (right.contains(sig(s.metric))) out.push_back(std::move(s));
      }
      return out;
    }
    case BinaryOp::Or: {
      std::unordered_set<uint64_t> left;
      for (const auto& s : lhs) left.insert(sig(s.metric));
      out = std::move(lhs);
      for (auto& s : rhs) {
        if (!left.contains(sig(s.metric))) out.push_back(std::move(s));
      }
      return out;
    }
    case BinaryOp::Unless: {
      std::unordered_set<uint64_t> right;
      for (const auto& s : rhs) right.insert(sig(s.metric));
      for (auto& s : lhs) {
        if (!right.contains(sig(s.metric))) out.push_back(std::move(s));
      }
      return out;
    }
    default:
      break;
  }
  fail("not a set operator");
}

Vector Evaluator::vector_binop(const promql::Binary& b, Vector lhs, Vector rhs) {
  static const promql::VectorMatching kDefault{};
  const auto& m = b.matching ? *b.matching : kDefault;
  if (m.card == promql::Cardinality::ManyToMany) {
    fail("many-to-many only allowed for set operators");
  }
  Vector out;
  // fill()/fill_left()/fill_right() (experimental): a missing side takes the fill value.
  const bool fills = m.fill_left.has_value() || m.fill_right.has_value();
  if ((lhs.empty() && rhs.empty()) || ((lhs.empty() || rhs.empty()) && !fills)) return out;
  Sig sig{m.on, m.matching_labels};
  bool swap = m.card == promql::Cardinality::OneToMany;
  if (swap) std::swap(lhs, rhs);
  // The "one" side must have unique signatures.
  std::unordered_map<uint64_t, size_t> right;
  for (size_t i = 0; i < rhs.size(); ++i) {
    auto [it, inserted] = right.emplace(sig(rhs[i].metric), i);
    if (!inserted) {
      const auto& dup = rhs[it->second];
      fail("found duplicate series for the match group " + sig.match_labels(dup.metric).to_string() +
           " on the " + (swap ? "left" : "right") + " hand-side of the operation: [" +
           dup.metric.to_string() + ", " + rhs[i].metric.to_string() +
           "];many-to-many matching not allowed: matching labels must be unique on one side");
    }
  }
  bool cmp = promql::is_comparison(b.op);
  bool drop = b.return_bool || drops_metric_name(b.op);
  std::unordered_map<uint64_t, std::unordered_set<uint64_t>> matched;
  auto do_binop = [&](const Sample& ls, const Sample& rs, uint64_t s) {
    double vl = ls.v, vr = rs.v;
    HistogramPtr hl = ls.h, hr = rs.h;
    if (swap) {
      std::swap(vl, vr);
      std::swap(hl, hr);
    }
    // One-to-one: a second match is an error even if the comparison would filter it out.
    if (m.card == promql::Cardinality::OneToOne && !matched.try_emplace(s).second) {
      fail("multiple matches for labels: many-to-one matching must be explicit "
           "(group_left/group_right)");
    }
    ElemResult er = elem_binop(b.op, vl, vr, hl, hr);
    if (!er.ok) return;
    if (b.return_bool) {
      er.v = er.keep ? 1 : 0;
      er.h = nullptr;
    } else if (!er.keep) {
      return;
    }
    (void)cmp;
    // Result labels.
    Labels metric;
    if (m.card == promql::Cardinality::OneToOne) {
      metric = m.on ? ls.metric.keep_only(m.matching_labels) : ls.metric.drop(m.matching_labels);
    } else {
      metric = ls.metric;
    }
    if (!m.include.empty()) {
      LabelsBuilder lb(metric);
      for (const auto& name : m.include) lb.set(name, rs.metric.get(name));
      metric = lb.build();
    }
    if (!opts_.delayed_name_removal && drop) metric = metric.without_metric_name();
    if (m.card != promql::Cardinality::OneToOne &&
        !matched[s].insert(metric.hash()).second) {
      fail("multiple matches for labels: grouping labels must ensure unique matches");
    }
    double v = er.h ? histogram_marker() : er.v;
    out.push_back(Sample{std::move(metric), v, ls.t, drop || ls.drop_name, std::move(er.h)});
  };
  std::unordered_set<uint64_t> matched_sigs;
  for (auto& ls : lhs) {
    uint64_t s = sig(ls.metric);
    auto rit = right.find(s);
    if (rit != right.end()) {
      matched_sigs.insert(s);
      do_binop(ls, rhs[rit->second], s);
    } else if (m.fill_right) {
      do_binop(ls, Sample{sig.match_labels(ls.metric), *m.fill_right, ls.t, false}, s);
    }
  }
  if (m.fill_left) {
    for (auto& rs : rhs) {
      uint64_t s = sig(rs.metric);
      if (matched_sigs.contains(s)) continue;
      do_binop(Sample{sig.match_labels(rs.metric), *m.fill_left, rs.t, false}, rs, s);
    }
  }
  return out;
}


}  // namespace ruleeval::engine::detail
