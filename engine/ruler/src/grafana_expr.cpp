// Grafana server-side expressions: see grafana_expr.hpp and ../shared/spec/grafana-expressions.md.
#include "ruleeval/common/gomath.hpp"
#include "ruleeval/engine/grafana_expr.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "ruleeval/engine/group_eval.hpp"

namespace ruleeval::engine::gexpr {
namespace {

using grafana::MathFunc;
using grafana::MathNode;
using grafana::MathOp;
using Kind = GValue::Kind;

bool has_number(Nullable v) { return v && std::isfinite(*v); }

// binaryOp of pkg/expr/mathexp/exp.go on two non-null floats.
double binary_op(MathOp op, double a, double b) {
  if (op == MathOp::kOr && a != 0) return 1;
  if (op == MathOp::kAnd && a == 0) return 0;
  if (std::isnan(a) || std::isnan(b)) return NAN;
  switch (op) {
    case MathOp::kAdd:
      return a + b;
    case MathOp::kSub:
      return a - b;
    case MathOp::kMul:
      return a * b;
    case MathOp::kDiv:
      return a / b;
    case MathOp::kMod:
      return std::fmod(a, b);
    case MathOp::kPow:
      return gomath::pow(a, b);
    case MathOp::kEq:
      return a == b;
    case MathOp::kNe:
      return a != b;
    case MathOp::kGt:
      return a > b;
    case MathOp::kGe:
      return a >= b;
    case MathOp::kLt:
      return a < b;
    case MathOp::kLe:
      return a <= b;
    case MathOp::kOr:
    case MathOp::kAnd:
      return b != 0;
    default:
      return NAN;
  }
}

Nullable binary_nullable(MathOp op, Nullable a, Nullable b) {
  if (!a || !b) return std::nullopt;
  return binary_op(op, *a, *b);
}

Nullable unary_op(MathOp op, Nullable a) {
  if (!a) return std::nullopt;
  if (std::isnan(*a)) return NAN;
  if (op == MathOp::kNeg) return -*a;
  return *a == 0 ? 1.0 : 0.0;
}

Nullable func_op(MathFunc f, Nullable a) {
  if (f == MathFunc::kIsNull) return a ? 0.0 : 1.0;
  if (f == MathFunc::kIsNumber) return has_number(a) ? 1.0 : 0.0;
  if (!a) return NAN;  // the other functions turn null into NaN
  double x = *a;
  switch (f) {
    case MathFunc::kAbs:
      return std::fabs(x);
    case MathFunc::kCeil:
      return std::ceil(x);
    case MathFunc::kFloor:
      return std::floor(x);
    case MathFunc::kLog:
      return gomath::log(x);
    case MathFunc::kRound:
      return std::round(x);  // half away from zero, as Go's math.Round
    case MathFunc::kIsNaN:
      return std::isnan(x) ? 1.0 : 0.0;
    case MathFunc::kIsInf:
      return std::isinf(x) ? 1.0 : 0.0;
    default:
      return NAN;
  }
}

bool contains_all(const Labels& big, const Labels& small) {
  for (const auto& l : small) {
    if (!big.has(l.name) || big.get(l.name) != l.value) return false;
  }
  return true;
}

// The union of two results (exp.go union): pairs whose label sets are equal, empty, or one a
// subset of the other.
struct Pair {
  const GValue* a;
  const GValue* b;
  Labels labels;
};

std::vector<Pair> union_of(const GResults& A, const GResults& B) {
  std::vector<Pair> out;
  if (A.empty() || B.empty()) return out;
  if ((A.size() == 1 || B.size() == 1) &&
      (A[0].kind == Kind::kNoData || B[0].kind == Kind::kNoData)) {
    out.push_back(Pair{&A[0], &B[0], Labels{}});
    return out;
  }
  for (const auto& a : A) {
    for (const auto& b : B) {
      const Labels& la = a.labels;
      const Labels& lb = b.labels;
      if (la == lb || la.empty() || lb.empty()) {
        out.push_back(Pair{&a, &b, la.empty() ? lb : la});
      } else if (la.size() == lb.size()) {
        continue;
      } else if (la.size() > lb.size() && contains_all(la, lb)) {
        out.push_back(Pair{&a, &b, la});
      } else if (lb.size() > la.size() && contains_all(lb, la)) {
        out.push_back(Pair{&a, &b, lb});
      }
    }
  }
  if (out.empty() && A.size() == 1 && B.size() == 1) out.push_back(Pair{&A[0], &B[0], Labels{}});
  return out;
}

GValue combine(MathOp op, const GValue& a, const GValue& b, Labels labels) {
  if (a.kind == Kind::kNoData || b.kind == Kind::kNoData) return GValue::no_data();
  const bool sa = a.kind == Kind::kSeries;
  const bool sb = b.kind == Kind::kSeries;
  GValue out;
  out.labels = std::move(labels);
  if (!sa && !sb) {
    out.kind = a.kind == Kind::kNumber || b.kind == Kind::kNumber ? Kind::kNumber : Kind::kScalar;
    if (out.kind == Kind::kScalar) out.labels = Labels{};
    out.v = binary_nullable(op, a.v, b.v);
    return out;
  }
  out.kind = Kind::kSeries;
  if (sa && sb) {
    for (const auto& pa : a.points) {
      auto it = std::lower_bound(b.points.begin(), b.points.end(), pa.t,
                                 [](const GPoint& p, Millis t) { return p.t < t; });
      if (it == b.points.end() || it->t != pa.t) {
        // B may not be sorted (Grafana does not sort); fall back to a scan.
        it = std::find_if(b.points.begin(), b.points.end(),
                          [&](const GPoint& p) { return p.t == pa.t; });
        if (it == b.points.end()) continue;
      }
      out.points.push_back(GPoint{pa.t, binary_nullable(op, pa.v, it->v)});
    }
    return out;
  }
  const GValue& series = sa ? a : b;
  const GValue& num = sa ? b : a;
  out.points.reserve(series.points.size());
  for (const auto& p : series.points) {
    out.points.push_back(
        GPoint{p.t, sa ? binary_nullable(op, p.v, num.v) : binary_nullable(op, num.v, p.v)});
  }
  return out;
}

template <class F>
GResults map_values(const GResults& in, F f) {
  GResults out;
  out.reserve(in.size());
  for (const auto& v : in) {
    GValue o = v;
    if (o.kind == Kind::kNoData) {
      out.push_back(std::move(o));
      continue;
    }
    if (o.kind == Kind::kSeries) {
      for (auto& p : o.points) p.v = f(p.v);
    } else {
      o.v = f(o.v);
    }
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace

GValue GValue::scalar(Nullable v) {
  GValue g;
  g.kind = Kind::kScalar;
  g.v = v;
  return g;
}
GValue GValue::number(Labels l, Nullable v) {
  GValue g;
  g.kind = Kind::kNumber;
  g.labels = std::move(l);
  g.v = v;
  return g;
}
GValue GValue::no_data() {
  GValue g;
  g.kind = Kind::kNoData;
  return g;
}

bool is_no_data(const GResults& r) {
  return r.empty() || (r.size() == 1 && r[0].kind == Kind::kNoData);
}

Result<GResults> eval_math(const MathNode& n, const Vars& vars) {
  switch (n.kind) {
    case MathNode::Kind::kNumber:
      return GResults{GValue::scalar(n.number)};
    case MathNode::Kind::kVar: {
      auto it = vars.find(n.var);
      if (it == vars.end()) return make_error(fmt::format("unable to find dependent node '{}'", n.var));
      return it->second;
    }
    case MathNode::Kind::kUnary: {
      auto a = eval_math(n.args[0], vars);
      if (!a) return a;
      return map_values(*a, [&](Nullable v) { return unary_op(n.op, v); });
    }
    case MathNode::Kind::kBinary: {
      auto a = eval_math(n.args[0], vars);
      if (!a) return a;
      auto b = eval_math(n.args[1], vars);
      if (!b) return b;
      GResults out;
      for (auto& p : union_of(*a, *b)) out.push_back(combine(n.op, *p.a, *p.b, std::move(p.labels)));
      return out;
    }
    case MathNode::Kind::kCall: {
      switch (n.func) {
        case MathFunc::kNaN:
          return GResults{GValue::scalar(NAN)};
        case MathFunc::kInf:
          return GResults{GValue::scalar(INFINITY)};
        case MathFunc::kInfN:
          return GResults{GValue::scalar(-INFINITY)};
        case MathFunc::kNull:
          return GResults{GValue::scalar(std::nullopt)};
        default:
          break;
      }
      auto a = eval_math(n.args[0], vars);
      if (!a) return a;
      return map_values(*a, [&](Nullable v) { return func_op(n.func, v); });
    }
  }
  return make_error("invalid math node");
}

Nullable reduce_points(rules::SseReducer r, rules::SseMode mode, double replace_with,
                       const std::vector<Nullable>& in) {
  using R = rules::SseReducer;
  std::vector<Nullable> pts;
  if (mode == rules::SseMode::kStrict) {
    pts = in;
  } else {
    pts.reserve(in.size());
    for (const auto& p : in) {
      if (has_number(p)) {
        pts.push_back(p);
      } else if (mode == rules::SseMode::kReplaceNN) {
        pts.emplace_back(replace_with);
      }
    }
  }
  auto any_bad = [&] {
    return std::any_of(pts.begin(), pts.end(), [](Nullable p) { return !p || std::isnan(*p); });
  };
  Nullable v;
  switch (r) {
    case R::kSum: {
      if (any_bad()) {
        v = NAN;
        break;
      }
      double s = 0;
      for (auto p : pts) s += *p;
      v = s;
      break;
    }
    case R::kMean: {
      if (any_bad()) {
        v = NAN;
        break;
      }
      double s = 0;
      for (auto p : pts) s += *p;
      v = s / static_cast<double>(pts.size());
      break;
    }
    case R::kMin:
    case R::kMax: {
      if (pts.empty() || any_bad()) {
        v = NAN;
        break;
      }
      double m = *pts[0];
      for (auto p : pts) m = r == R::kMin ? std::min(m, *p) : std::max(m, *p);
      v = m;
      break;
    }
    case R::kCount:
      v = static_cast<double>(pts.size());
      break;
    case R::kLast:
      v = pts.empty() ? Nullable(NAN) : pts.back();
      break;
    case R::kMedian: {
      if (pts.empty() || any_bad()) {
        v = NAN;
        break;
      }
      std::vector<double> xs;
      xs.reserve(pts.size());
      for (auto p : pts) xs.push_back(*p);
      std::sort(xs.begin(), xs.end());
      size_t k = xs.size();
      v = k % 2 ? xs[k / 2] : (xs[k / 2 - 1] + xs[k / 2]) / 2;
      break;
    }
  }
  if (mode == rules::SseMode::kDropNN && v && std::isnan(*v)) return std::nullopt;
  if (mode == rules::SseMode::kReplaceNN && v && std::isnan(*v)) return replace_with;
  return v;
}

Result<GResults> reduce(const GResults& in, rules::SseReducer r, rules::SseMode mode,
                        double replace_with) {
  GResults out;
  for (const auto& v : in) {
    switch (v.kind) {
      case Kind::kSeries: {
        std::vector<Nullable> pts;
        pts.reserve(v.points.size());
        for (const auto& p : v.points) pts.push_back(p.v);
        out.push_back(GValue::number(v.labels, reduce_points(r, mode, replace_with, pts)));
        break;
      }
      case Kind::kNumber: {
        GValue n = v;
        if (mode == rules::SseMode::kDropNN && !has_number(n.v)) continue;
        if (mode == rules::SseMode::kReplaceNN && !has_number(n.v)) n.v = replace_with;
        out.push_back(std::move(n));
        break;
      }
      case Kind::kNoData:
        out.push_back(v);
        break;
      case Kind::kScalar:
        return make_error("can only reduce type series, got type scalar");
    }
  }
  return out;
}

Result<GResults> resample(const GResults& in, Millis from, Millis to, Millis window,
                          rules::SseReducer down, rules::Upsampler up) {
  GResults out;
  if (window <= 0) return make_error("resample window must be positive");
  const Millis L = (to - from) / window;
  for (const auto& v : in) {
    if (v.kind == Kind::kNoData) return GResults{GValue::no_data()};
    if (v.kind != Kind::kSeries) return make_error("can only resample type series");
    if (L <= 0) {
      return make_error(
          "the series cannot be sampled further; the time range is shorter than the interval");
    }
    if (L > 1'000'000) return make_error("resample would produce more than 1000000 points");
    GValue s;
    s.kind = Kind::kSeries;
    s.labels = v.labels;
    size_t next = 0;
    Nullable last_seen;
    for (Millis k = 0; k <= L; ++k) {
      const Millis t = from + k * window;
      std::vector<Nullable> bucket;
      while (next < v.points.size() && v.points[next].t <= t) bucket.push_back(v.points[next++].v);
      Nullable val;
      if (bucket.empty()) {
        switch (up) {
          case rules::Upsampler::kPad:
            val = last_seen;
            break;
          case rules::Upsampler::kBackfilling:
            val = next < v.points.size() ? v.points[next].v : std::nullopt;
            break;
          case rules::Upsampler::kFillNA:
            val = std::nullopt;
            break;
        }
      } else if (bucket.size() == 1) {
        val = bucket[0];
        last_seen = bucket.back();
      } else {
        val = reduce_points(down, rules::SseMode::kStrict, 0, bucket);
        last_seen = bucket.back();
      }
      s.points.push_back(GPoint{t, val});
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<bool> threshold_matches(const rules::SseEvaluator& ev, double v) {
  const auto& p = ev.params;
  const size_t need = ev.type.find("range") != std::string::npos ? 2 : 1;
  if (p.size() < need) {
    return make_error(fmt::format("threshold {} needs {} parameter(s)", ev.type, need));
  }
  if (std::isnan(v)) return ev.type == "ne";
  const std::string& t = ev.type;
  if (t == "gt") return v > p[0];
  if (t == "lt") return v < p[0];
  if (t == "eq") return v == p[0];
  if (t == "ne") return v != p[0];
  if (t == "gte") return v >= p[0];
  if (t == "lte") return v <= p[0];
  if (t == "within_range") return p[0] < v && v < p[1];
  if (t == "outside_range") return v < p[0] || v > p[1];
  if (t == "within_range_included") return p[0] <= v && v <= p[1];
  if (t == "outside_range_included") return v <= p[0] || v >= p[1];
  return make_error(fmt::format("expected threshold function, got {}", t));
}

Result<GResults> threshold(const GResults& in, const rules::SseEvaluator& ev,
                           const rules::SseEvaluator* unload,
                           const std::function<bool(const Labels&)>& loaded) {
  if (is_no_data(in)) return GResults{GValue::no_data()};
  GResults normal;
  GResults recovering;
  for (const auto& v : in) {
    const bool is_loaded = unload && loaded && loaded(v.labels);
    const rules::SseEvaluator& e = is_loaded ? *unload : ev;
    std::optional<Error> err;
    auto pred = [&](Nullable x) -> Nullable {
      if (!x) return std::nullopt;
      auto m = threshold_matches(e, *x);
      if (!m) {
        err = m.error();
        return std::nullopt;
      }
      bool r = is_loaded ? !*m : *m;
      return r ? 1.0 : 0.0;
    };
    GValue o = v;
    if (o.kind == Kind::kSeries) {
      for (auto& p : o.points) p.v = pred(p.v);
    } else if (o.kind != Kind::kNoData) {
      o.v = pred(o.v);
    }
    if (err) return std::unexpected(*err);
    (is_loaded ? recovering : normal).push_back(std::move(o));
  }
  for (auto& v : recovering) normal.push_back(std::move(v));
  return normal;
}

namespace {
// pkg/expr/classic evaluator.go: thresholds, ranges in either order, no_value.
bool classic_matches(const rules::ClassicCond& c, std::optional<double> v) {
  if (c.evaluator_type.empty()) return classic::evaluate(c.evaluator, v);
  const std::string& t = c.evaluator_type;
  if (t == "no_value") return !v.has_value();
  if (!v) return false;
  const auto& p = c.evaluator.params;
  const double x = *v;
  if (t.find("range") != std::string::npos) {
    if (p.size() < 2) return false;
    const double lo = std::min(p[0], p[1]);
    const double hi = std::max(p[0], p[1]);
    if (t == "within_range") return lo < x && x < hi;
    if (t == "outside_range") return x < lo || x > hi;
    if (t == "within_range_included") return lo <= x && x <= hi;
    if (t == "outside_range_included") return x <= lo || x >= hi;
    return false;
  }
  if (p.empty()) return false;
  if (t == "gt") return x > p[0];
  if (t == "lt") return x < p[0];
  if (t == "eq") return x == p[0];
  if (t == "ne") return x != p[0];
  if (t == "gte") return x >= p[0];
  if (t == "lte") return x <= p[0];
  return false;
}
}  // namespace

// pkg/expr/classic ConditionsCmd.Execute: each condition reduces every value of its input and
// records the values that met its evaluator (and a "NoData" match when none had data); the
// conditions' firing and no-data outcomes fold left to right with and/or.
Result<GResults> classic_conditions(const std::vector<rules::ClassicCond>& conds,
                                    const Vars& vars) {
  bool firing = true;
  bool no_data = true;
  auto matches = std::make_shared<std::vector<ClassicMatch>>();
  for (size_t i = 0; i < conds.size(); ++i) {
    const auto& c = conds[i];
    auto it = vars.find(c.ref_id);
    if (it == vars.end()) return make_error(fmt::format("unable to find dependent node '{}'", c.ref_id));
    const bool no_value = c.evaluator_type.empty()
                              ? c.evaluator.type == classic::EvaluatorType::kNoValue
                              : c.evaluator_type == "no_value";
    bool cfire = false;
    bool cnodata = false;
    const GResults& data = it->second;
    if (data.empty() && no_value) {
      cfire = true;
      matches->push_back(ClassicMatch{"", std::nullopt, Labels{}});
    } else {
      size_t nodata_values = 0;
      for (const auto& v : data) {
        std::optional<double> reduced;
        std::string name;
        Labels labels;
        if (v.kind == Kind::kSeries) {
          std::vector<std::optional<double>> pts;
          pts.reserve(v.points.size());
          for (const auto& p : v.points) pts.push_back(p.v);
          reduced = classic::reduce(c.reducer, pts);
          name = v.name;
          labels = v.labels;
        } else if (v.kind == Kind::kNumber || v.kind == Kind::kScalar) {
          reduced = v.v;
          name = v.name;
          labels = v.labels;
        }  // NoData: a null number without name or labels
        if (classic_matches(c, reduced)) {
          cfire = true;
          matches->push_back(ClassicMatch{std::move(name), reduced, std::move(labels)});
        } else if (!reduced) {
          ++nodata_values;
        }
      }
      cnodata = nodata_values == data.size();
      if (cnodata) matches->push_back(ClassicMatch{"NoData", std::nullopt, Labels{}});
    }
    if (i == 0) {
      firing = cfire;
      no_data = cnodata;
    } else if (c.op_or) {
      firing = firing || cfire;
      no_data = no_data || cnodata;
    } else {
      firing = firing && cfire;
      no_data = no_data && cnodata;
    }
  }
  GValue out = GValue::number(Labels{}, no_data ? std::nullopt : Nullable(firing ? 1.0 : 0.0));
  out.matches = std::move(matches);
  return GResults{std::move(out)};
}

std::string series_display_name(const Labels& labels) {
  std::string name;
  std::string inner;
  for (const auto& l : labels) {
    if (l.name == "__name__") {
      name = l.value;
      continue;
    }
    if (!inner.empty()) inner += ", ";
    inner += fmt::format("{}=\"{}\"", l.name, l.value);
  }
  if (name.empty() && inner.empty()) return "Value";
  if (inner.empty()) return name;
  return name + "{" + inner + "}";
}

Millis round_interval(Millis ms) {
  // Grafana's gtime.RoundInterval table.
  static constexpr std::pair<Millis, Millis> kTable[] = {
      {10, 1},
      {15, 10},
      {35, 20},
      {75, 50},
      {150, 100},
      {350, 200},
      {750, 500},
      {1500, 1000},
      {3500, 2000},
      {7500, 5000},
      {12500, 10000},
      {17500, 15000},
      {25000, 20000},
      {45000, 30000},
      {90000, 60000},
      {210000, 120000},
      {450000, 300000},
      {750000, 600000},
      {1050000, 900000},
      {1500000, 1200000},
      {2700000, 1800000},
      {5400000, 3600000},
      {9000000, 7200000},
      {16200000, 10800000},
      {24300000, 21600000},
      {32400000, 28800000},
      {86400000, 43200000},
      {604800000, 86400000},
      {1814400000, 604800000},
      {3628800000, 2592000000},
  };
  for (const auto& [below, step] : kTable) {
    if (ms < below) return step;
  }
  return 31536000000;
}

Millis query_step(const rules::GrafanaNode& n, Millis range_ms) {
  const Millis min_step = n.min_step_ms > 0 ? n.min_step_ms : n.interval_ms;
  Millis calc = range_ms / std::max<int64_t>(n.max_data_points, 1);
  calc = calc < min_step ? min_step : round_interval(calc);
  if (n.min_step_ms > 0) calc = std::max(calc, n.min_step_ms);
  const Millis safe = round_interval(range_ms / 11000);
  return std::max<Millis>(std::max(calc, safe), 1);
}

namespace {

// A datasource query node at `now` (pkg/promlib): instant at now - to; range over
// [now - from, now - to] aligned down to the step.
struct QueryOutcome {
  GResults values;
  std::optional<std::string> error;
};

QueryOutcome run_query(const rules::GrafanaNode& n, RuleQuerier& q, Millis now) {
  QueryOutcome out;
  if (!n.ast) {
    out.error = fmt::format("[{}] query has no valid expression", n.ref_id);
    return out;
  }
  if (n.instant) {
    auto res = q.instant(*n.ast, n.expr, now - seconds_to_ms(n.to_s));
    if (!res) {
      out.error = res.error().message;
      return out;
    }
    if (auto* v = std::get_if<Vector>(&res->value)) {
      for (const auto& s : *v) {
        if (s.h) continue;
        out.values.push_back(GValue::number(s.metric, s.v));
        out.values.back().name = series_display_name(s.metric);
      }
    } else if (auto* sc = std::get_if<Scalar>(&res->value)) {
      out.values.push_back(GValue::number(Labels{}, sc->v));
      out.values.back().name = "Value";
    }
  }
  if (n.range) {
    const Millis start = now - seconds_to_ms(n.from_s);
    const Millis end = now - seconds_to_ms(n.to_s);
    const Millis step = query_step(n, end - start);
    const Millis astart = start - ((start % step) + step) % step;
    const Millis aend = end - ((end % step) + step) % step;
    auto res = q.range(*n.ast, n.expr, astart, aend, step);
    if (!res) {
      out.error = res.error().message;
      return out;
    }
    if (auto* m = std::get_if<Matrix>(&res->value)) {
      for (const auto& s : *m) {
        GValue g;
        g.kind = Kind::kSeries;
        g.labels = s.metric;
        g.name = series_display_name(s.metric);
        g.points.reserve(s.points.size());
        for (const auto& p : s.points) g.points.push_back(GPoint{p.t, p.v});
        out.values.push_back(std::move(g));
      }
    }
  }
  return out;
}

std::pair<Millis, Millis> expr_range(const rules::GrafanaDag& dag, const rules::GrafanaNode& n,
                                     Millis now) {
  int64_t from = n.from_s;
  int64_t to = n.to_s;
  if (from == 0 && to == 0) {
    // Expressions often carry no range of their own: use the span of the rule's queries.
    bool any = false;
    for (const auto& d : dag.nodes) {
      if (d.type != rules::GrafanaNodeType::kQuery) continue;
      from = any ? std::max(from, d.from_s) : d.from_s;
      to = any ? std::min(to, d.to_s) : d.to_s;
      any = true;
    }
  }
  return {now - seconds_to_ms(from), now - seconds_to_ms(to)};
}

}  // namespace

std::vector<EvalItem> evaluate_rule(const rules::GrafanaDag& dag, RuleQuerier& q, Millis now,
                                    const DagOptions& opts, Vars* node_values) {
  using State = EvalItem::State;
  auto error_item = [](std::string msg, std::string ref, std::string ds) {
    EvalItem e;
    e.state = State::kError;
    e.error = std::move(msg);
    e.ref_id = std::move(ref);
    e.datasource_uid = std::move(ds);
    return std::vector<EvalItem>{std::move(e)};
  };
  auto order = dag.order();
  if (order.empty()) return error_item("invalid refId graph (unknown refId or cycle)", "", "");
  const rules::GrafanaNode* cond = dag.find(dag.condition);
  if (!cond) return error_item(fmt::format("condition {} does not exist", dag.condition), "", "");

  Vars vars;
  std::map<std::string, std::string, std::less<>> errors;  // refId -> message
  std::map<std::string, std::vector<std::string>> no_data_by_ds;
  std::string first_error_ref;
  for (const rules::GrafanaNode* n : order) {
    // A failed input fails the node (a dependency error).
    std::string dep_error;
    for (const auto& in : n->inputs()) {
      if (auto it = errors.find(in); it != errors.end()) {
        dep_error = fmt::format("[{}] dependency error: {}", n->ref_id, it->second);
        break;
      }
    }
    if (!dep_error.empty()) {
      errors[n->ref_id] = dep_error;
      continue;
    }
    Result<GResults> r = GResults{};
    switch (n->type) {
      case rules::GrafanaNodeType::kQuery: {
        auto qo = run_query(*n, q, now);
        if (qo.error) {
          r = make_error(fmt::format("[{}] query failed: {}", n->ref_id, *qo.error));
          if (first_error_ref.empty()) first_error_ref = n->ref_id;
        } else {
          if (qo.values.empty()) no_data_by_ds[n->datasource_uid].push_back(n->ref_id);
          r = std::move(qo.values);
        }
        break;
      }
      case rules::GrafanaNodeType::kMath:
        r = eval_math(*n->math, vars);
        break;
      case rules::GrafanaNodeType::kReduce:
        r = reduce(vars[n->input], n->reducer, n->mode, n->replace_with);
        break;
      case rules::GrafanaNodeType::kResample: {
        auto [from, to] = expr_range(dag, *n, now);
        r = resample(vars[n->input], from, to, n->window_ms, n->reducer, n->upsampler);
        break;
      }
      case rules::GrafanaNodeType::kThreshold:
        r = threshold(vars[n->input], n->evaluator,
                      n->unload_evaluator ? &*n->unload_evaluator : nullptr, opts.loaded);
        break;
      case rules::GrafanaNodeType::kClassic:
        r = classic_conditions(n->conditions, vars);
        break;
    }
    if (!r) {
      std::string msg = r.error().message;
      if (msg.empty() || msg[0] != '[') msg = fmt::format("[{}] {}", n->ref_id, msg);
      errors[n->ref_id] = msg;
      continue;
    }
    vars[n->ref_id] = std::move(*r);
  }
  if (node_values) *node_values = vars;

  // 1. The condition (or a node it depends on) failed.
  if (auto it = errors.find(cond->ref_id); it != errors.end()) {
    std::string ds;
    const std::string& ref = first_error_ref;
    if (const auto* qn = dag.find(ref)) ds = qn->datasource_uid;
    return error_item(it->second, ref, ds);
  }
  // 2. A datasource query returned nothing: NoData per datasource.
  if (!no_data_by_ds.empty()) {
    std::vector<EvalItem> out;
    for (auto& [ds, refs] : no_data_by_ds) {
      std::sort(refs.begin(), refs.end());
      EvalItem e;
      e.state = State::kNoData;
      std::string joined;
      for (const auto& r : refs) joined += (joined.empty() ? "" : ",") + r;
      e.ref_id = joined;
      e.datasource_uid = ds;
      LabelsBuilder b;
      b.set("datasource_uid", ds);
      b.set("ref_id", joined);
      e.labels = b.build();
      out.push_back(std::move(e));
    }
    return out;
  }
  const GResults& res = vars[cond->ref_id];
  // 3. No values at all.
  if (is_no_data(res)) {
    EvalItem e;
    e.state = State::kNoData;
    return {e};
  }
  std::vector<EvalItem> out;
  std::set<Labels> seen;
  for (const auto& v : res) {
    if (v.kind == Kind::kSeries) {
      return error_item(fmt::format("invalid format of evaluation results for the alert "
                                    "definition {}: looks like time series data, only reduced "
                                    "data can be alerted on.",
                                    cond->ref_id),
                        "", "");
    }
    EvalItem e;
    e.labels = v.labels;
    e.value = v.v;
    if (v.kind == Kind::kNoData || !v.v) {
      e.state = State::kNoData;
    } else {
      e.state = *v.v == 0 ? State::kNormal : State::kAlerting;
    }
    if (!seen.insert(e.labels).second) {
      return error_item(fmt::format("invalid format of evaluation results for the alert "
                                    "definition {}: frame cannot uniquely be identified by its "
                                    "labels: has duplicate results with labels {}",
                                    cond->ref_id, e.labels.to_string()),
                        "", "");
    }
    out.push_back(std::move(e));
  }
  auto format_value = [](Nullable v) {
    return v ? tmpl::go_format_float(*v) : std::string("null");
  };
  auto format_labels = [](const Labels& l) {
    std::string s;
    for (const auto& kv : l) {
      if (!s.empty()) s += ", ";
      s += kv.name + "=" + kv.value;
    }
    return s;
  };
  // A classic condition: $values are its matches, keyed <refId><position> (eval
  // extractValues), and nothing else is captured.
  if (cond->type == rules::GrafanaNodeType::kClassic && !res.empty() && res.front().matches) {
    const auto& ms = *res.front().matches;
    for (auto& e : out) {
      for (size_t i = 0; i < ms.size(); ++i) {
        const std::string key = fmt::format("{}{}", cond->ref_id, i);
        e.values[key] = ms[i].value ? *ms[i].value : NAN;
        e.value_labels[key] = ms[i].labels;
        if (!e.value_string.empty()) e.value_string += ", ";
        e.value_string += fmt::format("[ var='{}' metric='{}' labels={{{}}} value={} ]", key,
                                      ms[i].metric, format_labels(ms[i].labels),
                                      format_value(ms[i].value));
      }
    }
    return out;
  }
  // $values: every single-value Number of every refId with equal labels, else with subset or
  // superset labels.
  for (auto& e : out) {
    for (const auto& [ref, vals] : vars) {
      const GValue* match = nullptr;
      for (const auto& v : vals) {
        if (v.kind != Kind::kNumber && v.kind != Kind::kScalar) continue;
        if (v.labels == e.labels) {
          match = &v;
          break;
        }
      }
      if (!match) {
        for (const auto& v : vals) {
          if (v.kind != Kind::kNumber && v.kind != Kind::kScalar) continue;
          if (contains_all(v.labels, e.labels) || contains_all(e.labels, v.labels)) {
            match = &v;
            break;
          }
        }
      }
      if (!match) continue;
      e.values[ref] = match->v ? *match->v : NAN;
      e.value_labels[ref] = match->labels;
      if (!e.value_string.empty()) e.value_string += ", ";
      e.value_string += fmt::format("[ var='{}' labels={{{}}} value={} ]", ref,
                                    format_labels(match->labels), format_value(match->v));
    }
  }
  return out;
}

}  // namespace ruleeval::engine::gexpr
