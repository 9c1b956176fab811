#include "ruleeval/rules/label_analysis.hpp"

#include "ruleeval/parser/promql_functions.hpp"

namespace ruleeval::rules {
namespace {

using promql::Expr;

LabelSetInfo closed(std::set<std::string, std::less<>> known = {}) {
  LabelSetInfo s;
  s.open = false;
  s.known = std::move(known);
  return s;
}

void add_label(LabelSetInfo& s, const std::string& name) {
  if (s.open) {
    s.removed.erase(name);
  } else {
    s.known.insert(name);
  }
}

void drop_label(LabelSetInfo& s, const std::string& name) {
  if (s.open) {
    s.removed.insert(name);
  } else {
    s.known.erase(name);
  }
}

// Keeps only `names` (that the input can have).
LabelSetInfo keep_only(const LabelSetInfo& in, const std::vector<std::string>& names) {
  LabelSetInfo out = closed();
  for (const auto& n : names) {
    if (in.can_have(n)) out.known.insert(n);
  }
  return out;
}

LabelSetInfo union_of(const LabelSetInfo& a, const LabelSetInfo& b) {
  if (!a.open && !b.open) {
    LabelSetInfo out = a;
    out.known.insert(b.known.begin(), b.known.end());
    return out;
  }
  LabelSetInfo out;
  out.open = true;
  // A label is impossible only when no side can have it.
  auto impossible = [&](const std::string& n) { return !a.can_have(n) && !b.can_have(n); };
  for (const auto& n : a.removed) {
    if (impossible(n)) out.removed.insert(n);
  }
  for (const auto& n : b.removed) {
    if (impossible(n)) out.removed.insert(n);
  }
  return out;
}

const Expr* first_vector_arg(const promql::Call& c) {
  for (const auto& a : c.args) {
    auto t = a->type();
    if (t == promql::ValueType::Vector || t == promql::ValueType::Matrix) return a.get();
  }
  return nullptr;
}

const promql::VectorSelector* selector_of(const Expr& e) {
  if (const auto* v = e.as<promql::VectorSelector>()) return v;
  if (const auto* m = e.as<promql::MatrixSelector>()) {
    return m->vector ? m->vector->as<promql::VectorSelector>() : nullptr;
  }
  if (const auto* p = e.as<promql::Paren>()) return p->expr ? selector_of(*p->expr) : nullptr;
  return nullptr;
}

std::string string_arg(const promql::Call& c, size_t i) {
  if (i >= c.args.size()) return {};
  const Expr* e = c.args[i].get();
  while (const auto* p = e->as<promql::Paren>()) e = p->expr.get();
  if (const auto* s = e->as<promql::StringLiteral>()) return s->value;
  return {};
}

LabelSetInfo analyze(const Expr& e);

LabelSetInfo analyze_call(const promql::Call& c) {
  const std::string_view name = c.func == nullptr ? std::string_view() : c.func->name;
  if (c.func != nullptr && c.func->return_type == promql::ValueType::Scalar) return closed();
  if (name == "vector" || name == "time") return closed();
  if (name == "absent" || name == "absent_over_time") {
    // Labels come from the equality matchers of the selector.
    LabelSetInfo out = closed();
    if (!c.args.empty()) {
      if (const auto* sel = selector_of(*c.args[0])) {
        for (const auto& m : sel->matchers) {
          if (m.op == promql::MatchOp::Equal && m.name != "__name__") out.known.insert(m.name);
        }
      }
    }
    return out;
  }
  const Expr* arg = first_vector_arg(c);
  LabelSetInfo out = arg == nullptr ? closed() : analyze(*arg);
  if (name == "label_replace" || name == "label_join") {
    std::string dst = string_arg(c, 1);
    if (!dst.empty()) add_label(out, dst);
  } else if (name == "histogram_quantile" || name == "histogram_fraction") {
    drop_label(out, "le");
  }
  return out;
}

LabelSetInfo analyze_binary(const promql::Binary& b) {
  const auto lt = b.lhs->type();
  const auto rt = b.rhs->type();
  const bool lv = lt == promql::ValueType::Vector;
  const bool rv = rt == promql::ValueType::Vector;
  if (!lv && !rv) return closed();
  if (lv && !rv) return analyze(*b.lhs);
  if (!lv && rv) return analyze(*b.rhs);
  LabelSetInfo lhs = analyze(*b.lhs);
  if (b.op == promql::BinaryOp::And || b.op == promql::BinaryOp::Unless) return lhs;
  LabelSetInfo rhs = analyze(*b.rhs);
  if (b.op == promql::BinaryOp::Or) return union_of(lhs, rhs);
  if (!b.matching) return lhs;
  const auto& m = *b.matching;
  switch (m.card) {
    case promql::Cardinality::OneToOne:
      if (m.on) return keep_only(lhs, m.matching_labels);
      for (const auto& n : m.matching_labels) drop_label(lhs, n);
      return lhs;
    case promql::Cardinality::ManyToOne:
      for (const auto& n : m.include) add_label(lhs, n);
      return lhs;
    case promql::Cardinality::OneToMany:
      for (const auto& n : m.include) add_label(rhs, n);
      return rhs;
    case promql::Cardinality::ManyToMany:
      return union_of(lhs, rhs);
  }
  return lhs;
}

LabelSetInfo analyze_aggregate(const promql::Aggregate& a) {
  using promql::AggregateOp;
  if (a.op == AggregateOp::Topk || a.op == AggregateOp::Bottomk || a.op == AggregateOp::Limitk ||
      a.op == AggregateOp::LimitRatio) {
    return a.expr ? analyze(*a.expr) : closed();
  }
  LabelSetInfo out;
  if (a.without) {
    out = a.expr ? analyze(*a.expr) : closed();
    for (const auto& n : a.grouping) drop_label(out, n);
    drop_label(out, "__name__");
  } else {
    out = closed();
    LabelSetInfo in = a.expr ? analyze(*a.expr) : closed();
    for (const auto& n : a.grouping) {
      if (in.can_have(n)) out.known.insert(n);
    }
  }
  if (a.op == AggregateOp::CountValues && a.param) {
    const Expr* p = a.param.get();
    while (const auto* paren = p->as<promql::Paren>()) p = paren->expr.get();
    if (const auto* s = p->as<promql::StringLiteral>()) add_label(out, s->value);
  }
  return out;
}

LabelSetInfo analyze(const Expr& e) {
  return std::visit(
      [&](const auto& n) -> LabelSetInfo {
        using T = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<T, promql::VectorSelector>) {
          return LabelSetInfo{};
        } else if constexpr (std::is_same_v<T, promql::MatrixSelector>) {
          return n.vector ? analyze(*n.vector) : LabelSetInfo{};
        } else if constexpr (std::is_same_v<T, promql::Subquery> ||
                             std::is_same_v<T, promql::Paren> ||
                             std::is_same_v<T, promql::Unary>) {
          return n.expr ? analyze(*n.expr) : closed();
        } else if constexpr (std::is_same_v<T, promql::Binary>) {
          return n.lhs && n.rhs ? analyze_binary(n) : closed();
        } else if constexpr (std::is_same_v<T, promql::Aggregate>) {
          return analyze_aggregate(n);
        } else if constexpr (std::is_same_v<T, promql::Call>) {
          return analyze_call(n);
        } else {
          return closed();  // number and string literals
        }
      },
      e.node);
}

}  // namespace

std::string LabelSetInfo::describe() const {
  std::string out;
  const auto& names = open ? removed : known;
  for (const auto& n : names) {
    if (n == "__name__") continue;
    if (!out.empty()) out += ", ";
    out += n;
  }
  if (open) return out.empty() ? "any label" : "any label except " + out;
  return out.empty() ? "no labels" : out;
}

LabelSetInfo output_labels(const promql::Expr& e) { return analyze(e); }

}  // namespace ruleeval::rules
