// The evaluator core: selectors, subqueries, unary and binary operators, aggregations, and the
// instant_query / range_query entry points.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "eval_internal.hpp"

namespace ruleeval::engine {
namespace detail {

using promql::AggregateOp;
using promql::BinaryOp;
using promql::Expr;

double go_max(double a, double b) {
  if (std::isinf(a) && a > 0) return a;
  if (std::isinf(b) && b > 0) return b;
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  if (a == 0 && a == b) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}

double go_min(double a, double b) {
  if (std::isinf(a) && a < 0) return a;
  if (std::isinf(b) && b < 0) return b;
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  if (a == 0 && a == b) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}

// Go's FormatFloat(v, 'f', -1, 64): the shortest digits that round-trip, laid out without an
// exponent and padded with zeros (4727839468229346000, where the exact value ends in ...304).
std::string format_f(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view s(buf, static_cast<size_t>(r.ptr - buf));
  const size_t epos = s.find('e');
  const int exp = std::stoi(std::string(s.substr(epos + 1)));
  std::string out;
  std::string digits;
  for (char c : s.substr(0, epos)) {
    if (c == '-') {
      out += '-';
    } else if (c != '.') {
      digits += c;
    }
  }
  const int n = static_cast<int>(digits.size());
  if (exp < 0) {
    out += "0.";
    out.append(static_cast<size_t>(-exp - 1), '0');
    out += digits;
  } else if (exp + 1 >= n) {
    out += digits;
    out.append(static_cast<size_t>(exp + 1 - n), '0');
  } else {
    out += digits.substr(0, static_cast<size_t>(exp + 1));
    out += '.';
    out += digits.substr(static_cast<size_t>(exp + 1));
  }
  return out;
}

std::string format_g(double v) { return format_go_float(v, 21); }

std::string format_go_float(double v, int exp_limit) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  // Shortest digits in scientific form, then choose the layout as Go's %g does.
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string s(buf, r.ptr);
  auto epos = s.find('e');
  int exp = std::stoi(s.substr(epos + 1));
  std::string mant = s.substr(0, epos);
  bool neg = mant[0] == '-';
  if (neg) mant.erase(0, 1);
  std::string digits;
  for (char c : mant) {
    if (c != '.') digits += c;
  }
  std::string out;
  if (exp < -4 || exp >= exp_limit) {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    out += eb;
  } else if (exp < 0) {
    out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  } else if (static_cast<size_t>(exp) + 1 >= digits.size()) {
    out = digits + std::string(static_cast<size_t>(exp) + 1 - digits.size(), '0');
  } else {
    out = digits.substr(0, static_cast<size_t>(exp) + 1) + "." +
          digits.substr(static_cast<size_t>(exp) + 1);
  }
  return neg ? "-" + out : out;
}

double quantile_of(double q, std::vector<double>& values) {
  if (values.empty() || std::isnan(q)) return std::numeric_limits<double>::quiet_NaN();
  if (q < 0) return -std::numeric_limits<double>::infinity();
  if (q > 1) return std::numeric_limits<double>::infinity();
  // Go's sort.Float64s: NaNs first.
  std::sort(values.begin(), values.end(), [](double a, double b) {
    return a < b || (std::isnan(a) && !std::isnan(b));
  });
  double n = static_cast<double>(values.size());
  double rank = q * (n - 1);
  double lower = std::max(0.0, std::floor(rank));
  double upper = std::min(n - 1, lower + 1);
  double weight = rank - std::floor(rank);
  return values[static_cast<size_t>(lower)] * (1 - weight) +
         values[static_cast<size_t>(upper)] * weight;
}

bool valid_label_name(std::string_view s) {
  if (s.empty()) return false;
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

double apply_binop(BinaryOp op, double lhs, double rhs, bool& keep) {
  keep = true;
  switch (op) {
    case BinaryOp::Add: return lhs + rhs;
    case BinaryOp::Sub: return lhs - rhs;
    case BinaryOp::Mul: return lhs * rhs;
    case BinaryOp::Div: return lhs / rhs;
    case BinaryOp::Mod: return std::fmod(lhs, rhs);
    case BinaryOp::Pow: return std::pow(lhs, rhs);
    case BinaryOp::Atan2: return std::atan2(lhs, rhs);
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

void Evaluator::warn(std::string msg) {
  if (std::find(warnings_.begin(), warnings_.end(), msg) == warnings_.end()) {
    warnings_.push_back(std::move(msg));
  }
}

void Evaluator::info(std::string msg) {
  if (std::find(infos_.begin(), infos_.end(), msg) == infos_.end()) {
    infos_.push_back(std::move(msg));
  }
}

Millis Evaluator::at_time(const promql::AtModifier& at, Millis t) const {
  switch (at.kind) {
    case promql::AtModifier::Kind::Timestamp: return at.timestamp;
    case promql::AtModifier::Kind::Start: return start_;
    case promql::AtModifier::Kind::End: return end_;
    case promql::AtModifier::Kind::None: break;
  }
  return t;
}

const std::vector<SeriesView>& Evaluator::series_for(const promql::VectorSelector& vs) {
  auto it = series_cache_.find(&vs);
  if (it != series_cache_.end()) return it->second;
  auto r = q_.select(vs.matchers, std::numeric_limits<Millis>::min(),
                     std::numeric_limits<Millis>::max());
  if (!r) fail(r.error().message);
  return series_cache_.emplace(&vs, std::move(*r)).first->second;
}

Vector Evaluator::eval_vector_selector(const promql::VectorSelector& vs, Millis t, bool keep_ts,
                                       bool include_histograms) {
  Millis ref = at_time(vs.at, t) - vs.offset;
  Millis floor_t = ref - opts_.lookback_delta;
  Vector out;
  for (const auto& s : series_for(vs)) {
    auto it = std::upper_bound(s.t.begin(), s.t.end(), ref);
    if (it == s.t.begin()) continue;
    size_t idx = static_cast<size_t>(it - s.t.begin()) - 1;
    if (s.t[idx] <= floor_t - (opts_.closed_windows ? 1 : 0)) continue;
    double v = s.v[idx];
    if (is_stale_nan(v)) continue;
    if (is_histogram_marker(v)) {
      if (!include_histograms) continue;
      const HistogramPtr* h = s.histogram_at(idx);
      out.push_back(Sample{*s.labels, v, keep_ts ? s.t[idx] : t, false, h ? *h : nullptr});
      continue;
    }
    out.push_back(Sample{*s.labels, v, keep_ts ? s.t[idx] : t, false});
  }
  return out;
}

Matrix Evaluator::eval_matrix_selector(const promql::MatrixSelector& ms, Millis t) {
  Matrix out;
  const auto& vs = *ms.vector->as<promql::VectorSelector>();
  Millis ref = at_time(vs.at, t) - vs.offset;
  Millis lo = ref - ms.range;
  for (const auto& s : series_for(vs)) {
    auto b = std::upper_bound(s.t.begin(), s.t.end(), lo - (opts_.closed_windows ? 1 : 0));
    auto e = std::upper_bound(b, s.t.end(), ref);
    Series series;
    for (auto it = b; it != e; ++it) {
      double v = s.v[static_cast<size_t>(it - s.t.begin())];
      if (!is_stale_nan(v) && !is_histogram_marker(v)) series.points.push_back({*it, v});
    }
    if (series.points.empty()) continue;
    series.metric = *s.labels;
    out.push_back(std::move(series));
  }
  return out;
}

Matrix Evaluator::eval_subquery(const promql::Subquery& sq, Millis t) {
  Millis ref = at_time(sq.at, t) - sq.offset;
  Millis step = sq.step > 0 ? sq.step : opts_.default_subquery_step;
  if (step <= 0) fail("subquery step must be positive");
  Millis lo = ref - sq.range;
  Millis first = step * (lo / step);
  if (first <= lo - (opts_.closed_windows ? 1 : 0)) first += step;
  if (ref >= first && static_cast<uint64_t>((ref - first) / step) >= opts_.max_samples) {
    fail("query processing would load too many samples into memory in query execution");
  }
  size_t points = 0;
  Matrix out;
  std::unordered_map<uint64_t, size_t> index;
  for (Millis it = first; it <= ref; it += step) {
    Value v = eval(*sq.expr, it);
    if (auto* sc = std::get_if<Scalar>(&v)) {
      if (out.empty()) out.emplace_back();
      out[0].points.push_back({it, sc->v});
      continue;
    }
    auto* vec = std::get_if<Vector>(&v);
    if (!vec) fail("subquery is only allowed on instant vector or scalar expressions");
    drop_histograms(*vec);  // range functions read float points only
    for (auto& s : *vec) {
      auto [pos, inserted] = index.emplace(s.metric.hash(), out.size());
      if (inserted) {
        out.push_back(Series{std::move(s.metric), {}, s.drop_name});
      }
      out[pos->second].points.push_back({it, s.v});
      if (s.drop_name) out[pos->second].drop_name = true;
    }
    points += vec->size();
    if (points > opts_.max_samples) {
      fail("query processing would load too many samples into memory in query execution");
    }
  }
  return out;
}

void Evaluator::for_each_range_series(const Expr& arg, Millis t,
                                      const std::function<void(const RangeArg&)>& fn,
                                      Millis* window_end, Millis* range) {
  const Expr* a = &arg;
  while (const auto* p = a->as<promql::Paren>()) a = p->expr.get();
  if (const auto* ms = a->as<promql::MatrixSelector>()) {
    const auto& vs = *ms->vector->as<promql::VectorSelector>();
    Millis ref = at_time(vs.at, t) - vs.offset;
    Millis lo = ref - ms->range;
    if (window_end) *window_end = ref;
    if (range) *range = ms->range;
    for (const auto& s : series_for(vs)) {
      auto b = std::upper_bound(s.t.begin(), s.t.end(), lo - (opts_.closed_windows ? 1 : 0));
      auto e = std::upper_bound(b, s.t.end(), ref);
      range_buf_.clear();
      RangeArg ra{s.labels, false, {}};
      bool last_hist = false;
      for (auto it = b; it != e; ++it) {
        double v = s.v[static_cast<size_t>(it - s.t.begin())];
        if (is_stale_nan(v)) continue;
        last_hist = is_histogram_marker(v);
        if (last_hist) {
          if (ra.histograms == 0 && range_buf_.empty()) ra.first_is_histogram = true;
          ++ra.histograms;
        } else {
          range_buf_.push_back({*it, v});
        }
      }
      ra.last_is_histogram = last_hist;
      ra.points = range_buf_;
      fn(ra);
    }
    return;
  }
  if (const auto* sq = a->as<promql::Subquery>()) {
    Millis ref = at_time(sq->at, t) - sq->offset;
    if (window_end) *window_end = ref;
    if (range) *range = sq->range;
    Matrix m = eval_subquery(*sq, t);
    for (const auto& s : m) fn(RangeArg{&s.metric, s.drop_name, s.points});
    return;
  }
  fail("expected a range vector argument");
}

Value Evaluator::eval(const Expr& e, Millis t) {
  struct DepthGuard {
    size_t& d;
    explicit DepthGuard(size_t& dd) : d(dd) {
      if (++d > 2000) fail("expression nesting too deep");
    }
    ~DepthGuard() { --d; }
  } guard(depth_);
  return std::visit(
      [&](const auto& n) -> Value {
        using T = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<T, promql::NumberLiteral>) {
          return Scalar{n.value, t};
        } else if constexpr (std::is_same_v<T, promql::StringLiteral>) {
          return String{n.value, t};
        } else if constexpr (std::is_same_v<T, promql::VectorSelector>) {
          // Histogram samples flow on; float-only consumers drop them (drop_histograms).
          return eval_vector_selector(n, t, false, true);
        } else if constexpr (std::is_same_v<T, promql::MatrixSelector>) {
          return eval_matrix_selector(n, t);
        } else if constexpr (std::is_same_v<T, promql::Subquery>) {
          return eval_subquery(n, t);
        } else if constexpr (std::is_same_v<T, promql::Paren>) {
          return eval(*n.expr, t);
        } else if constexpr (std::is_same_v<T, promql::Unary>) {
          return eval_unary(n, t);
        } else if constexpr (std::is_same_v<T, promql::Binary>) {
          return eval_binary(n, t);
        } else if constexpr (std::is_same_v<T, promql::Aggregate>) {
          return eval_aggregate(n, t);
        } else {
          return eval_call(n, e, t);
        }
      },
      e.node);
}

double Evaluator::eval_scalar(const Expr& e, Millis t) {
  Value v = eval(e, t);
  if (auto* s = std::get_if<Scalar>(&v)) return s->v;
  fail("expected scalar expression");
}

void drop_histograms(Vector& v) {
  std::erase_if(v, [](const Sample& s) { return s.h || is_histogram_marker(s.v); });
}

Vector Evaluator::eval_vector(const Expr& e, Millis t) {
  Vector v = eval_vector_keep_histograms(e, t);
  drop_histograms(v);
  return v;
}

Vector Evaluator::eval_vector_keep_histograms(const Expr& e, Millis t) {
  Value v = eval(e, t);
  if (auto* s = std::get_if<Vector>(&v)) return std::move(*s);
  fail("expected instant vector expression");
}

Value Evaluator::eval_unary(const promql::Unary& u, Millis t) {
  Value v = eval(*u.expr, t);
  if (u.op == promql::UnaryOp::Plus) return v;
  if (auto* s = std::get_if<Scalar>(&v)) {
    s->v = -s->v;
    return v;
  }
  if (auto* vec = std::get_if<Vector>(&v)) {
    drop_histograms(*vec);
    for (auto& s : *vec) {
      s.v = -s.v;
      s.drop_name = true;
    }
    return v;
  }
  fail("unary expression only allowed on expressions of type scalar or instant vector");
}

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
  // Set operators only look at labels and keep histogram samples; arithmetic and comparisons
  // are float-only here, so histogram samples are dropped from their operands.
  if (lvec && rvec) {
    if (promql::is_set_operator(b.op)) return set_binop(b, std::move(*lvec), std::move(*rvec));
    drop_histograms(*lvec);
    drop_histograms(*rvec);
    return vector_binop(b, std::move(*lvec), std::move(*rvec));
  }
  if (lvec) drop_histograms(*lvec);
  if (rvec) drop_histograms(*rvec);
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
    if (swap) std::swap(l, r);
    double v = apply_binop(b.op, l, r, keep);
    if (cmp && swap) v = r;
    if (b.return_bool) {
      v = keep ? 1 : 0;
      keep = true;
    }
    if (!keep) continue;
    s.v = v;
    s.t = t;
    if (b.return_bool || drops_metric_name(b.op)) s.drop_name = true;
    out.push_back(std::move(s));
  }
  return out;
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
  if (lhs.empty() || rhs.empty()) return out;
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
  for (auto& ls : lhs) {
    uint64_t s = sig(ls.metric);
    auto rit = right.find(s);
    if (rit == right.end()) continue;
    const Sample& rs = rhs[rit->second];
    double vl = ls.v, vr = rs.v;
    if (swap) std::swap(vl, vr);
    // One-to-one: a second match is an error even if the comparison would filter it out.
    if (m.card == promql::Cardinality::OneToOne && !matched.try_emplace(s).second) {
      fail("multiple matches for labels: many-to-one matching must be explicit "
           "(group_left/group_right)");
    }
    bool keep = true;
    double v = apply_binop(b.op, vl, vr, keep);
    if (b.return_bool) {
      v = keep ? 1 : 0;
    } else if (!keep) {
      continue;
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
    out.push_back(Sample{std::move(metric), v, ls.t, drop || ls.drop_name});
  }
  return out;
}

Value Evaluator::eval_aggregate(const promql::Aggregate& a, Millis t) {
  const auto op = a.op;
  double param = 0;
  std::string label_param;
  if (op == AggregateOp::CountValues) {
    Value pv = eval(*a.param, t);
    auto* s = std::get_if<String>(&pv);
    if (!s) fail("expected string parameter for count_values");
    label_param = s->v;
    if (!valid_label_name(label_param)) fail("invalid label name " + go_quote(label_param));
  } else if (a.param) {
    param = eval_scalar(*a.param, t);
    if ((op == AggregateOp::Topk || op == AggregateOp::Bottomk || op == AggregateOp::Limitk) &&
        std::isnan(param)) {
      fail("Parameter value is NaN");
    }
    if (op == AggregateOp::LimitRatio) {
      if (std::isnan(param)) fail("Ratio value is NaN");
      if (param < -1 || param > 1) {
        double capped = param < -1 ? -1 : 1;
        warn("PromQL warning: ratio value should be between -1 and 1, got " + format_g(param) +
             ", capping to " + format_g(capped));
        param = capped;
      }
    }
    if (op == AggregateOp::Quantile && (std::isnan(param) || param < 0 || param > 1)) {
      warn("PromQL warning: quantile value should be between 0 and 1, got " + format_g(param));
    }
  }
  Vector in = eval_vector_keep_histograms(*a.expr, t);
  // count and group only count samples, so histograms take part as in Prometheus. The float
  // selections (min, max, topk, bottomk, quantile, stddev, stdvar) ignore them with Prometheus's
  // info annotation; sum, avg, count_values and limits need histogram arithmetic or values, which
  // are not implemented, so histogram samples are dropped there.
  if (op != AggregateOp::Count && op != AggregateOp::Group &&
      std::any_of(in.begin(), in.end(),
                  [](const Sample& s) { return s.h || is_histogram_marker(s.v); })) {
    const char* name = nullptr;
    switch (op) {
      case AggregateOp::Max: name = "max"; break;
      case AggregateOp::Min: name = "min"; break;
      case AggregateOp::Topk: name = "topk"; break;
      case AggregateOp::Bottomk: name = "bottomk"; break;
      case AggregateOp::Quantile: name = "quantile"; break;
      case AggregateOp::Stddev: name = "stddev"; break;
      case AggregateOp::Stdvar: name = "stdvar"; break;
      default: break;
    }
    if (name) info(std::string("PromQL info: ignored histogram in ") + name + " aggregation");
    drop_histograms(in);
  }

  bool by_name = !a.without && std::find(a.grouping.begin(), a.grouping.end(),
                                         std::string(kMetricName)) != a.grouping.end();
  struct Group {
    Labels labels;
    bool drop_name = false;
    double value = 0, comp = 0, mean = 0, count = 0;
    bool incremental = false;
    std::vector<size_t> members;  // indices into `in` (topk/bottomk/quantile/limit)
    std::vector<double> values;
  };
  std::vector<Group> groups;
  std::unordered_map<uint64_t, size_t> index;
  std::vector<size_t> group_of(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const auto& s = in[i];
    uint64_t key = a.without ? s.metric.hash_without(a.grouping) : s.metric.hash_for(a.grouping);
    auto [it, inserted] = index.emplace(key, groups.size());
    if (inserted) {
      Group g;
      g.labels = a.without ? s.metric.drop(a.grouping).without_metric_name()
                           : s.metric.keep_only(a.grouping);
      groups.push_back(std::move(g));
    }
    group_of[i] = it->second;
    // Grouping by __name__: the name is dropped if any member series drops it.
    if (by_name && s.drop_name) groups[it->second].drop_name = true;
  }

  Vector out;
  auto emit = [&](const Group& g, double v) {
    out.push_back(Sample{g.labels, v, t, g.drop_name});
  };

  switch (op) {
    case AggregateOp::Sum:
      for (size_t i = 0; i < in.size(); ++i) {
        auto& g = groups[group_of[i]];
        kahan_inc(in[i].v, g.value, g.comp);
      }
      for (const auto& g : groups) emit(g, g.value + g.comp);
      return out;
    case AggregateOp::Avg:
      for (size_t i = 0; i < in.size(); ++i) {
        auto& g = groups[group_of[i]];
        double v = in[i].v;
        g.count += 1;
        if (g.count == 1) {
          g.value = v;
          continue;
        }
        if (!g.incremental) {
          double s = g.value, c = g.comp;
          kahan_inc(v, s, c);
          if (!std::isinf(s)) {
            g.value = s;
            g.comp = c;
            continue;
          }
          g.incremental = true;
          g.mean = g.value / (g.count - 1);
          g.comp /= g.count - 1;
        }
        if (std::isinf(g.mean)) {
          if (std::isinf(v) && (g.mean > 0) == (v > 0)) continue;
          if (!std::isinf(v) && !std::isnan(v)) continue;
        }
        double q = (g.count - 1) / g.count;
        double mean = q * g.mean, c = q * g.comp;
        kahan_inc(v / g.count, mean, c);
        g.mean = mean;
        g.comp = c;
      }
      for (const auto& g : groups) {
        emit(g, g.incremental ? g.mean + g.comp : (g.value + g.comp) / g.count);
      }
      return out;
    case AggregateOp::Count:
      for (size_t i = 0; i < in.size(); ++i) groups[group_of[i]].count += 1;
      for (const auto& g : groups) emit(g, g.count);
      return out;
    case AggregateOp::Group:
      for (const auto& g : groups) emit(g, 1);
      return out;
    case AggregateOp::Min:
    case AggregateOp::Max:
      for (size_t i = 0; i < in.size(); ++i) {
        auto& g = groups[group_of[i]];
        double v = in[i].v;
        g.count += 1;
        if (g.count == 1 || std::isnan(g.value) ||
            (op == AggregateOp::Max ? g.value < v : g.value > v)) {
          g.value = v;
        }
      }
      for (const auto& g : groups) emit(g, g.value);
      return out;
    case AggregateOp::Stddev:
    case AggregateOp::Stdvar:
      for (size_t i = 0; i < in.size(); ++i) {
        auto& g = groups[group_of[i]];
        double v = in[i].v;
        g.count += 1;
        double delta = v - (g.mean + g.comp);
        kahan_inc(delta / g.count, g.mean, g.comp);
        g.value += delta * (v - (g.mean + g.comp));
      }
      for (const auto& g : groups) {
        double var = g.value / g.count;
        emit(g, op == AggregateOp::Stddev ? std::sqrt(var) : var);
      }
      return out;
    case AggregateOp::Quantile:
      for (size_t i = 0; i < in.size(); ++i) groups[group_of[i]].values.push_back(in[i].v);
      for (auto& g : groups) emit(g, quantile_of(param, g.values));
      return out;
    case AggregateOp::CountValues: {
      // Per group, distinct values in order of appearance.
      std::vector<std::pair<Labels, double>> results;
      std::unordered_map<uint64_t, size_t> pos;
      for (size_t i = 0; i < in.size(); ++i) {
        const auto& g = groups[group_of[i]];
        LabelsBuilder lb(g.labels);
        lb.set(label_param, format_f(in[i].v));
        Labels l = lb.build();
        auto [it, inserted] = pos.emplace(l.hash(), results.size());
        if (inserted) results.emplace_back(std::move(l), 0);
        results[it->second].second += 1;
      }
      for (auto& [l, n] : results) out.push_back(Sample{std::move(l), n, t, false});
      return out;
    }
    case AggregateOp::Topk:
    case AggregateOp::Bottomk:
    case AggregateOp::Limitk: {
      if (param < 1) return out;
      double kmax = std::min(param, static_cast<double>(in.size()));
      auto k = static_cast<size_t>(kmax);
      for (size_t i = 0; i < in.size(); ++i) groups[group_of[i]].members.push_back(i);
      bool top = op == AggregateOp::Topk;
      for (auto& g : groups) {
        auto& mem = g.members;
        if (op != AggregateOp::Limitk) {
          std::stable_sort(mem.begin(), mem.end(), [&](size_t x, size_t y) {
            double a1 = in[x].v, b1 = in[y].v;
            if (std::isnan(a1)) return false;
            if (std::isnan(b1)) return true;
            return top ? a1 > b1 : a1 < b1;
          });
        }
        if (mem.size() > k) mem.resize(k);
        for (size_t i : mem) {
          Sample s = in[i];
          s.t = t;
          out.push_back(std::move(s));
        }
      }
      return out;
    }
    case AggregateOp::LimitRatio: {
      for (auto& s : in) {
        double offset = static_cast<double>(s.metric.hash()) /
                        static_cast<double>(std::numeric_limits<uint64_t>::max());
        if ((param >= 0 && offset < param) || (param < 0 && offset >= 1.0 + param)) {
          s.t = t;
          out.push_back(std::move(s));
        }
      }
      return out;
    }
  }
  fail("unknown aggregation");
}

namespace {

// Drops __name__ where the query asked for it and rejects duplicate label sets.
template <class Items>
void finalize_names(Items& items) {
  std::unordered_map<uint64_t, size_t> seen;
  for (size_t i = 0; i < items.size(); ++i) {
    auto& it = items[i];
    if (it.drop_name) {
      it.metric = it.metric.without_metric_name();
      it.drop_name = false;
    }
    auto [pos, inserted] = seen.emplace(it.metric.hash(), i);
    if (!inserted && items[pos->second].metric == it.metric) {
      fail("vector cannot contain metrics with the same labelset");
    }
  }
}

}  // namespace
}  // namespace detail

Result<QueryResult> instant_query(const Queryable& q, const promql::Expr& expr, Millis t,
                                  const EngineOptions& opts) {
  detail::Evaluator ev(q, opts, t, t, 0);
  try {
    Value v = ev.eval(expr, t);
    if (auto* vec = std::get_if<Vector>(&v)) detail::finalize_names(*vec);
    if (auto* mat = std::get_if<Matrix>(&v)) detail::finalize_names(*mat);
    return QueryResult{std::move(v), ev.take_warnings(), ev.take_infos()};
  } catch (const detail::EvalError& e) {
    return make_error(e.what());
  } catch (const std::bad_alloc&) {
    return make_error("query ran out of memory");
  } catch (const std::exception& e) {
    return make_error(std::string("internal error evaluating query: ") + e.what());
  }
}

Result<QueryResult> range_query(const Queryable& q, const promql::Expr& expr, Millis start,
                                Millis end, Millis step, const EngineOptions& opts) {
  if (step <= 0) return make_error("zero or negative query resolution step widths are not accepted");
  if (end < start) return make_error("end timestamp must not be before start time");
  auto type = expr.type();
  if (type != promql::ValueType::Scalar && type != promql::ValueType::Vector) {
    return make_error("invalid expression type \"" + std::string(promql::to_string(type)) +
                      "\" for range query, must be Scalar or instant Vector");
  }
  if (static_cast<uint64_t>((end - start) / step) >= opts.max_samples) {
    return make_error("query processing would load too many samples into memory in query execution");
  }
  detail::Evaluator ev(q, opts, start, end, step);
  try {
    Matrix out;
    std::unordered_map<uint64_t, size_t> index;
    std::unordered_set<uint64_t> step_seen;
    for (Millis t = start; t <= end; t += step) {
      Value v = ev.eval(expr, t);
      if (auto* sc = std::get_if<Scalar>(&v)) {
        if (out.empty()) out.emplace_back();
        out[0].points.push_back({t, sc->v});
        continue;
      }
      auto* vec = std::get_if<Vector>(&v);
      if (!vec) detail::fail("range query must evaluate to a scalar or instant vector");
      step_seen.clear();
      detail::drop_histograms(*vec);  // matrices carry float points only
      for (auto& s : *vec) {
        // Series are merged by their final label set (after delayed __name__ removal), so
        // differently named series that lose their names join if they never overlap.
        if (s.drop_name) s.metric = s.metric.without_metric_name();
        uint64_t h = s.metric.hash();
        if (!step_seen.insert(h).second) {
          detail::fail("vector cannot contain metrics with the same labelset");
        }
        auto [it, inserted] = index.emplace(h, out.size());
        if (inserted) out.push_back(Series{std::move(s.metric), {}, false});
        out[it->second].points.push_back({t, s.v});
      }
    }
    detail::finalize_names(out);
    std::sort(out.begin(), out.end(),
              [](const Series& a, const Series& b) { return a.metric < b.metric; });
    return QueryResult{std::move(out), ev.take_warnings(), ev.take_infos()};
  } catch (const detail::EvalError& e) {
    return make_error(e.what());
  } catch (const std::bad_alloc&) {
    return make_error("query ran out of memory");
  } catch (const std::exception& e) {
    return make_error(std::string("internal error evaluating query: ") + e.what());
  }
}

}  // namespace ruleeval::engine
