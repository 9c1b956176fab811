// The evaluator core: selectors, subqueries, unary minus, and the instant_query / range_query
// entry points. Binary operators are in eval_binop.cpp, aggregations in eval_aggregate.cpp,
// functions in functions*.cpp.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "eval_internal.hpp"
#include "ruleeval/common/gomath.hpp"

namespace ruleeval::engine {
namespace detail {

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
    out += digits.substr(0, static_cast<size_t>(exp) + 1);
    out += '.';
    out += digits.substr(static_cast<size_t>(exp) + 1);
  }
  return out;
}

std::string format_g(double v) { return format_go_float(v, 21); }

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
  Millis ref = at_time(vs.at, t) - offset_of(vs);
  Millis floor_t = ref - opts_.lookback_delta;
  Vector out;
  if (vs.smoothed) {
    for (const auto& s : series_for(vs)) {
      auto r = smoothed_sample(*this, s, ref, t, opts_.lookback_delta);
      if (!r || (r->h && !include_histograms)) continue;
      if (keep_ts) r->t = t;
      out.push_back(std::move(*r));
    }
    return out;
  }
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
  Millis ref = at_time(vs.at, t) - offset_of(vs);
  Millis lo = ref - range_of(ms);
  const bool extended = ms.anchored || ms.smoothed;
  // Anchored and smoothed ranges read a lookback further back (and ahead when smoothed).
  Millis fetch_lo = extended ? lo - opts_.lookback_delta : lo - (opts_.closed_windows ? 1 : 0);
  Millis fetch_hi = ms.smoothed ? ref + opts_.lookback_delta : ref;
  for (const auto& s : series_for(vs)) {
    auto b = std::upper_bound(s.t.begin(), s.t.end(), fetch_lo);
    auto e = std::upper_bound(b, s.t.end(), fetch_hi);
    Series series;
    for (auto it = b; it != e; ++it) {
      auto idx = static_cast<size_t>(it - s.t.begin());
      double v = s.v[idx];
      if (is_stale_nan(v)) continue;
      if (is_histogram_marker(v)) {
        if (const HistogramPtr* h = s.histogram_at(idx); h && *h) series.histograms.push_back({*it, *h});
      } else {
        series.points.push_back({*it, v});
      }
    }
    if (extended) {
      if (!series.histograms.empty()) {
        fail(std::string(ms.anchored ? "anchored" : "smoothed") +
             " modifier is not supported with histograms");
      }
      series.points = extend_floats(series.points, lo, ref, ms.smoothed);
    }
    if (series.points.empty() && series.histograms.empty()) continue;
    series.metric = *s.labels;
    out.push_back(std::move(series));
  }
  return out;
}

Matrix Evaluator::eval_subquery(const promql::Subquery& sq, Millis t) {
  Millis ref = at_time(sq.at, t) - duration(sq.offset_expr.get(), sq.offset, true);
  Millis sq_step = duration(sq.step_expr.get(), sq.step, false);
  Millis step = sq_step > 0 ? sq_step : opts_.default_subquery_step;
  if (step <= 0) fail("subquery step must be positive");
  Millis lo = ref - duration(sq.range_expr.get(), sq.range, false);
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
    for (auto& s : *vec) {
      auto [pos, inserted] = index.emplace(s.metric.hash(), out.size());
      if (inserted) {
        out.push_back(Series{std::move(s.metric), {}, s.drop_name});
      }
      if (s.h) {
        // As Prometheus: explicit (not_)reset hints become unknown, so that resets are detected
        // from the values the subquery returns.
        if (s.h->hint == CounterResetHint::kReset || s.h->hint == CounterResetHint::kNotReset) {
          auto h = std::make_shared<FloatHistogram>(*s.h);
          h->hint = CounterResetHint::kUnknown;
          s.h = std::move(h);
        }
        out[pos->second].histograms.push_back({it, std::move(s.h)});
      } else {
        out[pos->second].points.push_back({it, s.v});
      }
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
    Millis ref = at_time(vs.at, t) - offset_of(vs);
    Millis ms_range = range_of(*ms);
    Millis lo = ref - ms_range;
    if (window_end) *window_end = ref;
    if (range) *range = ms_range;
    const bool extended = ms->anchored || ms->smoothed;
    Millis fetch_lo = extended ? lo - opts_.lookback_delta : lo - (opts_.closed_windows ? 1 : 0);
    Millis fetch_hi = ms->smoothed ? ref + opts_.lookback_delta : ref;
    for (const auto& s : series_for(vs)) {
      auto b = std::upper_bound(s.t.begin(), s.t.end(), fetch_lo);
      auto e = std::upper_bound(b, s.t.end(), fetch_hi);
      range_buf_.clear();
      hrange_buf_.clear();
      RangeArg ra{s.labels, false, {}};
      ra.anchored = ms->anchored;
      ra.smoothed = ms->smoothed;
      bool last_hist = false;
      for (auto it = b; it != e; ++it) {
        auto idx = static_cast<size_t>(it - s.t.begin());
        double v = s.v[idx];
        if (is_stale_nan(v)) continue;
        last_hist = is_histogram_marker(v);
        if (last_hist) {
          if (ra.histograms == 0 && range_buf_.empty()) ra.first_is_histogram = true;
          ++ra.histograms;
          const HistogramPtr* h = s.histogram_at(idx);
          hrange_buf_.push_back({*it, h ? *h : nullptr});
        } else {
          range_buf_.push_back({*it, v});
        }
      }
      ra.last_is_histogram = last_hist;
      ra.points = range_buf_;
      ra.hpoints = hrange_buf_;
      fn(ra);
    }
    return;
  }
  if (const auto* sq = a->as<promql::Subquery>()) {
    Millis ref = at_time(sq->at, t) - duration(sq->offset_expr.get(), sq->offset, true);
    if (window_end) *window_end = ref;
    if (range) *range = duration(sq->range_expr.get(), sq->range, false);
    Matrix m = eval_subquery(*sq, t);
    for (const auto& s : m) {
      RangeArg ra{&s.metric, s.drop_name, s.points};
      ra.hpoints = s.histograms;
      ra.histograms = s.histograms.size();
      if (!s.histograms.empty()) {
        ra.first_is_histogram = s.points.empty() || s.histograms.front().t < s.points.front().t;
        ra.last_is_histogram = s.points.empty() || s.histograms.back().t > s.points.back().t;
      }
      fn(ra);
    }
    return;
  }
  fail("expected a range vector argument");
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

Value Evaluator::eval(const Expr& e, Millis t) {
  struct DepthGuard {
    size_t& d;
    explicit DepthGuard(size_t& dd) : d(dd) {
      if (++d > 2000) fail("expression nesting too deep");
    }
    ~DepthGuard() { --d; }
  } guard(depth_);
  Value v = std::visit(
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
  if (!opts_.delayed_name_removal && (e.is<promql::Unary>() || e.is<promql::Binary>() ||
                                      e.is<promql::Aggregate>() || e.is<promql::Call>())) {
    // Without delayed name removal (Prometheus 2, and Prometheus 3 without the feature) each
    // operator and function drops __name__ from its own result and rejects two series that
    // then share a label set, as Prometheus's rangeEval does after every call.
    if (auto* vec = std::get_if<Vector>(&v)) finalize_names(*vec);
  }
  return v;
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
    for (auto& s : *vec) {
      if (s.h) {
        auto h = std::make_shared<FloatHistogram>(*s.h);
        histogram_scale(*h, -1, false);
        s.h = std::move(h);
      } else {
        s.v = -s.v;
      }
      s.drop_name = true;
    }
    return v;
  }
  fail("unary expression only allowed on expressions of type scalar or instant vector");
}

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
        if (s.h) {
          out[it->second].histograms.push_back({t, std::move(s.h)});
        } else {
          out[it->second].points.push_back({t, s.v});
        }
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
