// Raw input series for an SLI query: see sli_model.hpp.
#include "sli_model.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "ruleeval/parser/promql.hpp"

namespace ruleeval::slo {

namespace {

using promql::Expr;
using promql::LabelMatcher;
using promql::MatchOp;

const RE2& compiled(const std::string& pattern) {
  thread_local std::map<std::string, std::unique_ptr<RE2>> cache;
  auto& re = cache[pattern];
  if (!re) re = std::make_unique<RE2>(pattern, RE2::Quiet);
  return *re;
}

bool matches(const LabelMatcher& m, const std::string& v) {
  switch (m.op) {
    case MatchOp::Equal: return v == m.value;
    case MatchOp::NotEqual: return v != m.value;
    case MatchOp::Regex: return compiled(m.value).ok() && RE2::FullMatch(v, compiled(m.value));
    case MatchOp::NotRegex: return compiled(m.value).ok() && !RE2::FullMatch(v, compiled(m.value));
  }
  return false;
}

// A string the regex probably matches (checked by the caller): the first alternative, one of
// each `+`, none of `*` and `?`, the first character of a class, 'x' for any character.
std::string regex_example(std::string_view re, size_t& i, int depth) {
  std::string out;
  size_t atom = std::string::npos;  // where the last atom starts in `out`
  while (i < re.size() && depth < 20) {
    char c = re[i];
    if (c == '|') {  // keep the first alternative: skip to the end of this group
      int level = 0;
      for (; i < re.size(); ++i) {
        if (re[i] == '\\') ++i;
        else if (re[i] == '(') ++level;
        else if (re[i] == ')') {
          if (level == 0) break;
          --level;
        }
      }
      break;
    }
    if (c == ')') break;
    if (c == '^' || c == '$') {
      ++i;
      continue;
    }
    if (c == '*' || c == '?' || c == '+' || c == '{') {
      size_t start = i;
      if (c == '{') {
        size_t close = re.find('}', i);
        if (close == std::string_view::npos) return out;
        int n = std::atoi(std::string(re.substr(i + 1, close - i - 1)).c_str());
        i = close + 1;
        if (atom != std::string::npos) {
          std::string a = out.substr(atom);
          out.resize(atom);
          for (int k = 0; k < n && k < 64; ++k) out += a;
        }
      } else {
        ++i;
        if ((c == '*' || c == '?') && atom != std::string::npos) out.resize(atom);
      }
      if (i < re.size() && re[i] == '?' && start != i) ++i;  // lazy
      atom = std::string::npos;
      continue;
    }
    atom = out.size();
    if (c == '\\' && i + 1 < re.size()) {
      char e = re[i + 1];
      i += 2;
      switch (e) {
        case 'd': out += '0'; break;
        case 'w': case 'S': case 'D': out += 'a'; break;
        case 's': out += ' '; break;
        case 'W': out += '-'; break;
        default: out += e;
      }
    } else if (c == '.') {
      out += 'x';
      ++i;
    } else if (c == '[') {
      size_t j = i + 1;
      bool neg = j < re.size() && re[j] == '^';
      if (neg) ++j;
      size_t close = re.find(']', j + 1);
      if (close == std::string_view::npos) return out;
      std::string_view cls = re.substr(j, close - j);
      if (neg) {
        for (char cand : std::string_view("xa0_-Z")) {
          if (cls.find(cand) == std::string_view::npos) {
            out += cand;
            break;
          }
        }
      } else {
        out += cls.empty() ? 'x' : (cls[0] == '\\' && cls.size() > 1 ? (cls[1] == 'd' ? '0' : cls[1]) : cls[0]);
      }
      i = close + 1;
    } else if (c == '(') {
      ++i;
      if (re.substr(i, 2) == "?:") i += 2;
      out += regex_example(re, i, depth + 1);
      if (i < re.size() && re[i] == ')') ++i;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

// A value for label `name` that satisfies every matcher on it ("" = the label is absent).
std::optional<std::string> label_value(const std::vector<const LabelMatcher*>& ms) {
  std::vector<std::string> cands;
  for (const auto* m : ms) {
    if (m->op == MatchOp::Equal) cands.push_back(m->value);
    if (m->op == MatchOp::Regex) {
      size_t i = 0;
      cands.push_back(regex_example(m->value, i, 0));
    }
  }
  for (const char* c : {"", "ruleeval", "x", "0", "a"}) cands.emplace_back(c);
  for (const auto& c : cands) {
    if (std::all_of(ms.begin(), ms.end(), [&](const auto* m) { return matches(*m, c); })) return c;
  }
  return std::nullopt;
}

bool selects(const promql::VectorSelector& vs, const StrMap& labels) {
  for (const auto& m : vs.matchers) {
    auto it = labels.find(m.name);
    if (!matches(m, it == labels.end() ? std::string() : it->second)) return false;
  }
  return true;
}

struct Elem {
  StrMap labels;
  double v = 0;
};
struct Val {
  bool scalar = false;
  double s = 0;
  std::vector<Elem> elems;
};

enum class Mode { Unknown, Counter, Gauge };

struct Ctx {
  const std::vector<StrMap>* series = nullptr;
  std::vector<double> x;
  Mode mode = Mode::Unknown;
  std::string err;
};

constexpr double kSamples = 10;  // count_over_time's value: the same for every series

std::optional<Val> fail(Ctx& c, std::string why) {
  if (c.err.empty()) c.err = std::move(why);
  return std::nullopt;
}

StrMap without_name(StrMap l) {
  l.erase("__name__");
  return l;
}

double arith(promql::BinaryOp op, double a, double b) {
  switch (op) {
    case promql::BinaryOp::Add: return a + b;
    case promql::BinaryOp::Sub: return a - b;
    case promql::BinaryOp::Mul: return a * b;
    default: return a / b;
  }
}

std::optional<Val> eval(const Expr& e, Ctx& c) {
  if (const auto* n = e.as<promql::NumberLiteral>()) return Val{true, n->value, {}};
  if (const auto* p = e.as<promql::Paren>()) return eval(*p->expr, c);
  if (const auto* u = e.as<promql::Unary>()) {
    auto v = eval(*u->expr, c);
    if (!v || u->op == promql::UnaryOp::Plus) return v;
    v->s = -v->s;
    for (auto& el : v->elems) el.v = -el.v;
    return v;
  }
  if (const auto* b = e.as<promql::Binary>()) {
    using promql::BinaryOp;
    if (b->op != BinaryOp::Add && b->op != BinaryOp::Sub && b->op != BinaryOp::Mul && b->op != BinaryOp::Div)
      return fail(c, "operator " + std::string(promql::to_string(b->op)));
    if (b->matching && b->matching->explicit_matching) return fail(c, "on()/ignoring() vector matching");
    auto l = eval(*b->lhs, c);
    if (!l) return l;
    auto r = eval(*b->rhs, c);
    if (!r) return r;
    if (l->scalar && r->scalar) return Val{true, arith(b->op, l->s, r->s), {}};
    Val out;
    if (l->scalar || r->scalar) {
      out.elems = l->scalar ? r->elems : l->elems;
      for (auto& el : out.elems) el.v = l->scalar ? arith(b->op, l->s, el.v) : arith(b->op, el.v, r->s);
      return out;
    }
    for (const auto& le : l->elems)
      for (const auto& re : r->elems)
        if (le.labels == re.labels) out.elems.push_back({le.labels, arith(b->op, le.v, re.v)});
    return out;
  }
  if (const auto* a = e.as<promql::Aggregate>()) {
    using promql::AggregateOp;
    if (a->without) return fail(c, "aggregation without()");
    if (a->param) return fail(c, "aggregation " + std::string(promql::to_string(a->op)));
    auto v = eval(*a->expr, c);
    if (!v) return v;
    if (v->scalar) return fail(c, "aggregation of a scalar");
    std::map<StrMap, std::vector<double>> groups;
    for (const auto& el : v->elems) {
      StrMap key;
      for (const auto& g : a->grouping)
        if (auto it = el.labels.find(g); it != el.labels.end()) key[g] = it->second;
      groups[key].push_back(el.v);
    }
    Val out;
    for (const auto& [key, xs] : groups) {
      double r = 0;
      switch (a->op) {
        case AggregateOp::Sum: for (double x : xs) r += x; break;
        case AggregateOp::Avg: for (double x : xs) r += x / static_cast<double>(xs.size()); break;
        case AggregateOp::Min: r = *std::min_element(xs.begin(), xs.end()); break;
        case AggregateOp::Max: r = *std::max_element(xs.begin(), xs.end()); break;
        case AggregateOp::Count: r = static_cast<double>(xs.size()); break;
        default: return fail(c, "aggregation " + std::string(promql::to_string(a->op)));
      }
      out.elems.push_back({key, r});
    }
    return out;
  }
  if (const auto* call = e.as<promql::Call>()) {
    const std::string fn(call->func->name);
    const bool counter = fn == "rate" || fn == "increase";
    const bool gauge = fn == "avg_over_time" || fn == "sum_over_time" || fn == "count_over_time";
    if (!counter && !gauge) return fail(c, "function " + fn + "()");
    if (call->args.size() != 1) return fail(c, "function " + fn + "()");
    const auto* ms = call->args[0]->as<promql::MatrixSelector>();
    const auto* vs = ms ? ms->vector->as<promql::VectorSelector>() : nullptr;
    if (vs == nullptr) return fail(c, fn + "() of a subquery");
    if (vs->offset != 0 || vs->at.kind != promql::AtModifier::Kind::None || vs->offset_expr || ms->range_expr)
      return fail(c, "offset or @ modifiers");
    Mode want = counter ? Mode::Counter : Mode::Gauge;
    if (c.mode != Mode::Unknown && c.mode != want) return fail(c, "counters and gauges in one query");
    c.mode = want;
    Val out;
    for (size_t i = 0; i < c.series->size(); ++i) {
      if (!selects(*vs, (*c.series)[i])) continue;
      double x = c.x[i];
      double v = fn == "increase" ? x * static_cast<double>(ms->range) / 1000
                 : fn == "sum_over_time" ? x * kSamples
                 : fn == "count_over_time" ? kSamples
                                           : x;
      out.elems.push_back({without_name((*c.series)[i]), v});
    }
    return out;
  }
  if (e.is<promql::VectorSelector>()) return fail(c, "an instant vector selector outside rate()/increase()/*_over_time()");
  return fail(c, "this PromQL construct");
}

struct Parsed {
  promql::ExprPtr expr;
  std::vector<StrMap> series;
};

Result<Parsed> synthesise(const std::string& text) {
  auto e = promql::parse(text);
  if (!e) return make_error("the SLI query does not parse: " + promql::format_parse_error(e.error()));
  Parsed p{std::move(*e), {}};
  std::vector<const promql::VectorSelector*> sels;
  std::set<std::string> grouping;
  promql::walk(*p.expr, [&](const Expr& x) {
    if (const auto* vs = x.as<promql::VectorSelector>()) sels.push_back(vs);
    if (const auto* a = x.as<promql::Aggregate>())
      for (const auto& g : a->grouping) grouping.insert(g);
  });
  std::set<StrMap> seen;
  for (const auto* vs : sels) {
    std::map<std::string, std::vector<const LabelMatcher*>> by_name;
    for (const auto& m : vs->matchers) by_name[m.name].push_back(&m);
    StrMap labels;
    for (const auto& [name, ms] : by_name) {
      auto v = label_value(ms);
      if (!v) return make_error("no label value satisfies the matchers on \"" + name + "\"");
      if (!v->empty()) labels[name] = *v;
    }
    if (!labels.contains("__name__")) return make_error("a selector without a metric name");
    // Grouping labels the selector leaves free get one shared value, so that the query has one
    // result series.
    for (const auto& g : grouping) {
      if (labels.contains(g)) continue;
      auto it = by_name.find(g);
      if (it != by_name.end() && !std::all_of(it->second.begin(), it->second.end(), [](const auto* m) { return matches(*m, "ruleeval"); }))
        continue;
      labels[g] = "ruleeval";
    }
    if (seen.insert(labels).second) p.series.push_back(labels);
  }
  if (p.series.empty()) return make_error("the SLI query reads no series");
  if (p.series.size() > 10) return make_error("the SLI query reads more than 10 distinct series selectors");
  return p;
}

// The single result of the query for `x`; nullopt (with c.err for unsupported shapes) otherwise.
std::optional<Elem> run(const Expr& e, const std::vector<StrMap>& series, const std::vector<double>& x, Ctx& c) {
  c.series = &series;
  c.x = x;
  auto v = eval(e, c);
  if (!v || v->scalar || v->elems.size() != 1) return std::nullopt;
  return v->elems[0];
}

bool near(double a, double b) { return std::isfinite(a) && std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b)); }

}  // namespace

Result<SliModel> derive_sli_model(const std::string& text) {
  auto p = synthesise(text);
  if (!p) return std::unexpected(p.error());
  const size_t n = p->series.size();
  Ctx c;
  std::vector<std::vector<double>> goods, bads;
  for (uint32_t mask = 0; mask < (1u << n); ++mask) {
    std::vector<double> x(n);
    for (size_t i = 0; i < n; ++i) x[i] = (mask >> i) & 1u ? 1.0 : 0.0;
    auto r = run(*p->expr, p->series, x, c);
    if (!c.err.empty()) return make_error("the SLI query uses " + c.err);
    if (!r) continue;
    if (near(r->v, 0)) goods.push_back(x);
    if (near(r->v, 1)) bads.push_back(x);
  }
  auto weight = [](const std::vector<double>& v) { return std::count(v.begin(), v.end(), 1.0); };
  auto by_weight = [&](const auto& a, const auto& b) { return weight(a) < weight(b); };
  std::stable_sort(goods.begin(), goods.end(), by_weight);
  std::stable_sort(bads.begin(), bads.end(), by_weight);
  for (const auto& b : bads) {
    for (const auto& g : goods) {
      bool ok = true;
      StrMap out;
      for (double pr : {0.0123, 0.37, 0.81}) {
        for (double scale : {1.0, c.mode == Mode::Gauge ? 1.0 : 7.5}) {
          std::vector<double> x(n);
          for (size_t i = 0; i < n; ++i) x[i] = scale * (pr * b[i] + (1 - pr) * g[i]);
          auto r = run(*p->expr, p->series, x, c);
          if (!r || !near(r->v, pr)) {
            ok = false;
            break;
          }
          out = r->labels;
        }
        if (!ok) break;
      }
      if (ok) return SliModel{c.mode == Mode::Gauge, p->series, b, g, out};
    }
  }
  return make_error("no mix of the series it reads gives error ratios 0 and 1 linearly");
}

double eval_sli(const std::string& text, const SliModel& m, const std::vector<double>& x) {
  auto e = promql::parse(text);
  if (!e) return NAN;
  Ctx c;
  auto r = run(**e, m.series, x, c);
  return r ? r->v : NAN;
}

}  // namespace ruleeval::slo
