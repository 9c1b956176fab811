// SLO lint checks (Sloth- and Pyrra-style burn-rate rules):
//   slo/burn-rate   burn-rate alerts whose windows or factors do not match their objective
//   slo/recording   recording rules referenced by SLO alerts but defined in no loaded file
//   slo/ratio       error-ratio recordings that can exceed 1
#include "slo_checks.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <optional>
#include <string_view>
#include <unordered_set>

#include "ruleeval/parser/duration.hpp"
#include "ruleeval/parser/promql.hpp"

namespace ruleeval::rules {

namespace {

using promql::Expr;

const Expr* unparen(const Expr* e) {
  while (e != nullptr) {
    if (const auto* p = e->as<promql::Paren>()) {
      e = p->expr.get();
    } else {
      break;
    }
  }
  return e;
}

Pos pos_in_expr(const RuleFile& file, const Rule& rule, uint32_t offset) {
  const std::string& s = rule.expr.value;
  uint32_t line = 1, col = 1;
  for (uint32_t i = 0; i < offset && i < s.size(); ++i) {
    if (s[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return map_into_scalar(rule.expr, file, line, col);
}

void add(std::vector<Diagnostic>& out, const RuleFile& f, std::string_view check, Severity sev,
         std::string msg, Pos p, const std::string& group, const std::string& rule) {
  Diagnostic d;
  d.check = std::string(check);
  d.severity = sev;
  d.message = std::move(msg);
  d.where.file = f.path;
  d.where.line = p.line;
  d.where.col = p.col;
  d.group = group;
  d.rule = rule;
  out.push_back(std::move(d));
}

template <class F>
void walk(const Expr* e, F&& f) {
  if (e == nullptr) return;
  f(*e);
  std::visit(
      [&](const auto& n) {
        using T = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<T, promql::MatrixSelector>) {
          walk(n.vector.get(), f);
        } else if constexpr (std::is_same_v<T, promql::Subquery> ||
                             std::is_same_v<T, promql::Paren> || std::is_same_v<T, promql::Unary>) {
          walk(n.expr.get(), f);
        } else if constexpr (std::is_same_v<T, promql::Binary>) {
          walk(n.lhs.get(), f);
          walk(n.rhs.get(), f);
        } else if constexpr (std::is_same_v<T, promql::Aggregate>) {
          walk(n.param.get(), f);
          walk(n.expr.get(), f);
        } else if constexpr (std::is_same_v<T, promql::Call>) {
          for (const auto& a : n.args) walk(a.get(), f);
        }
      },
      e->node);
}

std::optional<double> number(const Expr* e) {
  e = unparen(e);
  if (e == nullptr) return std::nullopt;
  if (const auto* n = e->as<promql::NumberLiteral>()) return n->value;
  if (const auto* b = e->as<promql::Binary>()) {
    auto l = number(b->lhs.get()), r = number(b->rhs.get());
    if (!l || !r) return std::nullopt;
    switch (b->op) {
      case promql::BinaryOp::Sub: return *l - *r;
      case promql::BinaryOp::Add: return *l + *r;
      case promql::BinaryOp::Mul: return *l * *r;
      case promql::BinaryOp::Div: return *l / *r;
      default: return std::nullopt;
    }
  }
  return std::nullopt;
}

bool is_slo_metric(const std::string& n) {
  return n.starts_with("slo:") || n == "sloth_slo_info" || n.find(":burnrate") != std::string::npos;
}

// Window of an SLI recording name: slo:sli_error:ratio_rate5m -> 5m; x:burnrate1h -> 1h.
std::optional<int64_t> window_of(const std::string& name) {
  for (std::string_view pre : {std::string_view("slo:sli_error:ratio_rate"), std::string_view(":burnrate")}) {
    auto p = name.find(pre);
    if (p == std::string::npos) continue;
    auto d = parse_duration(std::string_view(name).substr(p + pre.size()));
    if (d && *d > 0) return *d;
  }
  return std::nullopt;
}

// `sel > (F * B)` of a burn-rate alert.
struct Burn {
  int64_t window = 0;
  double factor = 0, budget = 0;
  std::string sloth_id;
  uint32_t offset = 0;
};

std::optional<Burn> burn_of(const Expr& e) {
  const auto* b = e.as<promql::Binary>();
  if (b == nullptr || (b->op != promql::BinaryOp::Gtr && b->op != promql::BinaryOp::Gte)) return std::nullopt;
  const Expr* l = unparen(b->lhs.get());
  const auto* vs = l ? l->as<promql::VectorSelector>() : nullptr;
  if (vs == nullptr) return std::nullopt;
  auto w = window_of(vs->name);
  if (!w) return std::nullopt;
  const Expr* r = unparen(b->rhs.get());
  const auto* mul = r ? r->as<promql::Binary>() : nullptr;
  if (mul == nullptr || mul->op != promql::BinaryOp::Mul) return std::nullopt;
  auto f = number(mul->lhs.get()), bud = number(mul->rhs.get());
  if (!f || !bud) return std::nullopt;
  Burn out{*w, *f, *bud, "", l->span.begin};
  for (const auto& m : vs->matchers)
    if (m.name == "sloth_id" && m.op == promql::MatchOp::Equal) out.sloth_id = m.value;
  return out;
}

// Budget shares of the built-in Sloth windows (SRE workbook): period -> (short, long) -> share.
std::optional<double> builtin_share(int64_t period, int64_t shortw, int64_t longw) {
  const int64_t m = 60'000, h = 60 * m, d = 24 * h;
  struct T { int64_t s, l; double b30, b7; };
  static const T tiers[] = {{5 * m, h, 2, 8}, {30 * m, 6 * h, 5, 12.5}, {2 * h, d, 10, 20}, {6 * h, 3 * d, 10, 42}};
  for (const auto& t : tiers) {
    if (t.s != shortw || t.l != longw) continue;
    if (period == 30 * d || period == 28 * d) return t.b30 / 100;
    if (period == 7 * d) return t.b7 / 100;
  }
  return std::nullopt;
}

std::string period_str(int64_t ms) {
  return ms % 86'400'000 == 0 ? fmt::format("{}d", ms / 86'400'000) : format_duration(ms);
}

bool close(double a, double b) { return std::fabs(a - b) <= 1e-6 * std::max(std::fabs(a), std::fabs(b)); }

// The leaf counter of `sum(rate(x{..}[w]))`-like sides.
const promql::VectorSelector* counter(const Expr* e, int64_t& range) {
  e = unparen(e);
  while (e != nullptr) {
    if (const auto* a = e->as<promql::Aggregate>()) {
      e = unparen(a->expr.get());
    } else if (const auto* c = e->as<promql::Call>()) {
      if (c->args.size() != 1) return nullptr;
      std::string_view n = c->func->name;
      if (n != "rate" && n != "increase" && n != "irate") return nullptr;
      const Expr* m = unparen(c->args[0].get());
      const auto* ms = m ? m->as<promql::MatrixSelector>() : nullptr;
      if (ms == nullptr) return nullptr;
      range = ms->range;
      return ms->vector ? ms->vector->as<promql::VectorSelector>() : nullptr;
    } else {
      return nullptr;
    }
  }
  return nullptr;
}

}  // namespace

void check_slo_rules(std::span<const RuleFile* const> files, std::vector<Diagnostic>& out) {
  // Views of the rules' names and the ASTs' metric names: the files outlive this pass, and
  // copying every name of a 10,000-rule file into a std::set showed in lint's profile.
  std::unordered_set<std::string_view> recorded;
  // sloth_id -> error budget ratio / period, from the meta recordings.
  std::map<std::string, double> budget_of, period_of;
  for (const RuleFile* f : files) {
    for (const auto& g : f->groups) {
      for (const auto& r : g.rules) {
        if (r.is_alert()) continue;
        recorded.insert(r.name);
        std::string id;
        for (const auto& kv : r.labels)
          if (kv.key == "sloth_id") id = kv.value.value;
        if (id.empty() || !r.ast) continue;
        const Expr* e = unparen(r.ast.get());
        const auto* call = e ? e->as<promql::Call>() : nullptr;
        if (call == nullptr || call->func->name != "vector" || call->args.size() != 1) continue;
        auto v = number(call->args[0].get());
        if (!v) continue;
        if (r.name == "slo:error_budget:ratio") budget_of[id] = *v;
        if (r.name == "slo:time_period:days") period_of[id] = *v;
      }
    }
  }
  for (const RuleFile* f : files) {
    for (const auto& g : f->groups) {
      for (const auto& r : g.rules) {
        if (!r.ast) continue;
        if (!r.is_alert()) {
          // slo/ratio: error ratios whose numerator counts series or time the denominator does not.
          if (r.name.find("ratio") == std::string::npos) continue;
          const Expr* e = unparen(r.ast.get());
          const auto* div = e ? e->as<promql::Binary>() : nullptr;
          if (div == nullptr || div->op != promql::BinaryOp::Div) continue;
          int64_t rn = 0, rd = 0;
          const auto* num = counter(div->lhs.get(), rn);
          const auto* den = counter(div->rhs.get(), rd);
          if (num == nullptr || den == nullptr || num->name != den->name) continue;
          Pos p = pos_in_expr(*f, r, div->lhs ? div->lhs->span.begin : 0);
          if (rn != rd) {
            add(out, *f, "slo/ratio", Severity::Warning,
                fmt::format("the numerator's range [{}] differs from the denominator's [{}]: the ratio can exceed 1",
                            format_duration(rn), format_duration(rd)),
                p, g.name, r.name);
            continue;
          }
          for (const auto& dm : den->matchers) {
            if (dm.name == "__name__") continue;
            bool found = false;
            for (const auto& nm : num->matchers) found = found || nm == dm;
            if (!found) {
              add(out, *f, "slo/ratio", Severity::Warning,
                  fmt::format("the numerator lacks the denominator's matcher {}{}\"{}\": it counts series "
                              "the denominator does not, so the ratio can exceed 1",
                              dm.name, promql::to_string(dm.op), dm.value),
                  p, g.name, r.name);
              break;
            }
          }
          continue;
        }
        // Alerts: references and burn tiers.
        bool slo_alert = false;
        std::vector<std::pair<std::string_view, uint32_t>> refs;
        walk(r.ast.get(), [&](const Expr& x) {
          if (const auto* vs = x.as<promql::VectorSelector>()) {
            if (is_slo_metric(vs->name)) slo_alert = true;
            if (vs->name.find(':') != std::string::npos) refs.emplace_back(vs->name, x.span.begin);
          }
        });
        if (!slo_alert) continue;
        for (const auto& [name, off] : refs) {
          if (recorded.count(name) == 0)
            add(out, *f, "slo/recording", Severity::Warning,
                fmt::format("\"{}\" is recorded by no rule in the loaded files: this burn-rate alert can never fire", name),
                pos_in_expr(*f, r, off), g.name, r.name);
        }
        // Burn tiers: each `and` of two burn comparisons.
        walk(r.ast.get(), [&](const Expr& x) {
          const auto* b = x.as<promql::Binary>();
          if (b == nullptr || b->op != promql::BinaryOp::And) return;
          std::vector<Burn> side[2];
          int i = 0;
          for (const Expr* s : {b->lhs.get(), b->rhs.get()}) {
            walk(s, [&](const Expr& y) {
              if (auto bu = burn_of(y)) side[i].push_back(*bu);
            });
            ++i;
          }
          if (side[0].size() != 1 || side[1].size() != 1) return;
          Burn a = side[0][0], c = side[1][0];
          if (a.window > c.window) std::swap(a, c);  // a: short, c: long
          Pos p = pos_in_expr(*f, r, c.offset);
          if (a.window == c.window) {
            add(out, *f, "slo/burn-rate", Severity::Warning,
                fmt::format("both windows of this burn tier are {}: a multi-window alert needs a short and a long window",
                            format_duration(a.window)),
                p, g.name, r.name);
            return;
          }
          if (!close(a.factor, c.factor) || !close(a.budget, c.budget)) {
            add(out, *f, "slo/burn-rate", Severity::Warning,
                fmt::format("the {} window compares with {} x {} but the {} window with {} x {}: both windows of a tier "
                            "must use the same burn factor and budget",
                            format_duration(a.window), a.factor, a.budget, format_duration(c.window), c.factor, c.budget),
                p, g.name, r.name);
            return;
          }
          if (!c.sloth_id.empty()) {
            if (auto it = budget_of.find(c.sloth_id); it != budget_of.end() && !close(it->second, c.budget)) {
              add(out, *f, "slo/burn-rate", Severity::Warning,
                  fmt::format("burns against an error budget of {} but SLO \"{}\" records slo:error_budget:ratio {}",
                              c.budget, c.sloth_id, it->second),
                  p, g.name, r.name);
            }
            if (auto it = period_of.find(c.sloth_id); it != period_of.end()) {
              auto period = static_cast<int64_t>(std::llround(it->second * 86'400'000.0));
              double share = c.factor * static_cast<double>(c.window) / static_cast<double>(period);
              if (share > 1 + 1e-9) {
                add(out, *f, "slo/burn-rate", Severity::Warning,
                    fmt::format("factor {} over {} spends {:.0f}% of the {} budget: the alert fires only after the budget is gone",
                                c.factor, format_duration(c.window), share * 100, period_str(period)),
                    p, g.name, r.name);
              } else if (auto want = builtin_share(period, a.window, c.window)) {
                double expect = *want * static_cast<double>(period) / static_cast<double>(c.window);
                if (!close(expect, c.factor))
                  add(out, *f, "slo/burn-rate", Severity::Warning,
                      fmt::format("factor {} does not match the {}/{} tier of a {} SLO: {}% of the budget over {} is a factor of {}",
                                  c.factor, format_duration(a.window), format_duration(c.window),
                                  period_str(period), *want * 100, format_duration(c.window), expect),
                      p, g.name, r.name);
              }
            }
          }
        });
      }
    }
  }
}

}  // namespace ruleeval::rules
