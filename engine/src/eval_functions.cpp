// PromQL functions (Prometheus 3.x promql/functions.go semantics), float samples only: native
// histogram samples are dropped from their arguments, except in label_replace, label_join,
// sort_by_label(_desc), timestamp and absent, which do not look at values.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <numbers>
#include <optional>
#include <re2/re2.h>
#include <unordered_map>
#include <unordered_set>

#include "eval_internal.hpp"

namespace ruleeval::engine::detail {
namespace {

using promql::Expr;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

void drop_name(Sample& s, const EngineOptions& opts) {
  if (opts.delayed_name_removal) {
    s.drop_name = true;
  } else {
    s.metric = s.metric.without_metric_name();
  }
}

double sgn(double v) { return v < 0 ? -1 : v > 0 ? 1 : v; }

using MathFn = double (*)(double);
const std::unordered_map<std::string_view, MathFn>& math_functions() {
  static const std::unordered_map<std::string_view, MathFn> kFns = {
      {"abs", [](double v) { return std::fabs(v); }},
      {"ceil", [](double v) { return std::ceil(v); }},
      {"floor", [](double v) { return std::floor(v); }},
      {"exp", [](double v) { return std::exp(v); }},
      {"sqrt", [](double v) { return std::sqrt(v); }},
      {"ln", [](double v) { return std::log(v); }},
      {"log2", [](double v) { return std::log2(v); }},
      {"log10", [](double v) { return std::log10(v); }},
      {"sgn", sgn},
      {"sin", [](double v) { return std::sin(v); }},
      {"cos", [](double v) { return std::cos(v); }},
      {"tan", [](double v) { return std::tan(v); }},
      {"asin", [](double v) { return std::asin(v); }},
      {"acos", [](double v) { return std::acos(v); }},
      {"atan", [](double v) { return std::atan(v); }},
      {"sinh", [](double v) { return std::sinh(v); }},
      {"cosh", [](double v) { return std::cosh(v); }},
      {"tanh", [](double v) { return std::tanh(v); }},
      {"asinh", [](double v) { return std::asinh(v); }},
      {"acosh", [](double v) { return std::acosh(v); }},
      {"atanh", [](double v) { return std::atanh(v); }},
      {"deg", [](double v) { return v * 180 / std::numbers::pi; }},
      {"rad", [](double v) { return v * std::numbers::pi / 180; }},
  };
  return kFns;
}

// Civil date from Unix seconds (UTC), Howard Hinnant's algorithm.
struct Civil {
  int64_t year;
  int month, day, hour, minute, wday, yday;
};
Civil civil_from_unix(int64_t secs) {
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t rem = secs - days * 86400;
  Civil c{};
  c.hour = static_cast<int>(rem / 3600);
  c.minute = static_cast<int>((rem % 3600) / 60);
  c.wday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  auto doe = static_cast<uint64_t>(z - era * 146097);
  uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  uint64_t mp = (5 * doy + 2) / 153;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = y + (c.month <= 2 ? 1 : 0);
  static constexpr int kCum[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  bool leap = (c.year % 4 == 0 && c.year % 100 != 0) || c.year % 400 == 0;
  c.yday = kCum[c.month - 1] + c.day + (leap && c.month > 2 ? 1 : 0);
  return c;
}

int days_in_month(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// Slope and intercept of the least-squares line through points, x relative to intercept_t.
std::pair<double, double> linear_regression(std::span<const FPoint> pts, Millis intercept_t) {
  double n = 0, sum_x = 0, c_x = 0, sum_y = 0, c_y = 0, sum_xy = 0, c_xy = 0, sum_x2 = 0, c_x2 = 0;
  double init_y = pts[0].v;
  bool const_y = true;
  for (size_t i = 0; i < pts.size(); ++i) {
    if (const_y && i > 0 && pts[i].v != init_y) const_y = false;
    n += 1;
    double x = static_cast<double>(pts[i].t - intercept_t) / 1e3;
    kahan_inc(x, sum_x, c_x);
    kahan_inc(pts[i].v, sum_y, c_y);
    kahan_inc(x * pts[i].v, sum_xy, c_xy);
    kahan_inc(x * x, sum_x2, c_x2);
  }
  if (const_y) {
    if (std::isinf(init_y)) return {kNaN, kNaN};
    return {0, init_y};
  }
  sum_x += c_x;
  sum_y += c_y;
  sum_xy += c_xy;
  sum_x2 += c_x2;
  double cov_xy = sum_xy - sum_x * sum_y / n;
  double var_x = sum_x2 - sum_x * sum_x / n;
  double slope = cov_xy / var_x;
  double intercept = sum_y / n - slope * sum_x / n;
  return {slope, intercept};
}

std::optional<double> extrapolated_rate(std::span<const FPoint> pts, Millis range_start,
                                        Millis range_end, Millis range, bool is_counter,
                                        bool is_rate) {
  if (pts.size() < 2) return std::nullopt;
  const FPoint& first = pts.front();
  const FPoint& last = pts.back();
  double result = last.v - first.v;
  if (is_counter) {
    double prev = 0;
    for (const auto& p : pts) {
      if (p.v < prev) result += prev;
      prev = p.v;
    }
  }
  double sampled = static_cast<double>(last.t - first.t) / 1000;
  double avg_between = sampled / static_cast<double>(pts.size() - 1);
  double to_start = static_cast<double>(first.t - range_start) / 1000;
  double to_end = static_cast<double>(range_end - last.t) / 1000;
  double threshold = avg_between * 1.1;
  if (to_start >= threshold) to_start = avg_between / 2;
  if (is_counter && result > 0 && first.v >= 0) {
    double to_zero = sampled * (first.v / result);
    if (to_zero < to_start) to_start = to_zero;
  }
  if (to_end >= threshold) to_end = avg_between / 2;
  double factor = (sampled + to_start + to_end) / sampled;
  if (is_rate) factor /= static_cast<double>(range) / 1000;
  return result * factor;
}

double avg_of(std::span<const FPoint> pts) {
  double sum = 0, c = 0, mean = 0, count = 0;
  bool incremental = false;
  for (const auto& p : pts) {
    count += 1;
    if (count == 1) {
      sum = p.v;
      continue;
    }
    if (!incremental) {
      double s = sum, cc = c;
      kahan_inc(p.v, s, cc);
      if (!std::isinf(s)) {
        sum = s;
        c = cc;
        continue;
      }
      incremental = true;
      mean = sum / (count - 1);
      c /= count - 1;
    }
    if (std::isinf(mean)) {
      if (std::isinf(p.v) && (mean > 0) == (p.v > 0)) continue;
      if (!std::isinf(p.v) && !std::isnan(p.v)) continue;
    }
    double q = (count - 1) / count;
    double m = q * mean, cc = q * c;
    kahan_inc(p.v / count, m, cc);
    mean = m;
    c = cc;
  }
  return incremental ? mean + c : (sum + c) / count;
}

double variance_of(std::span<const FPoint> pts) {
  double count = 0, mean = 0, c_mean = 0, aux = 0, c_aux = 0;
  for (const auto& p : pts) {
    count += 1;
    double delta = p.v - (mean + c_mean);
    kahan_inc(delta / count, mean, c_mean);
    kahan_inc(delta * (p.v - (mean + c_mean)), aux, c_aux);
  }
  return (aux + c_aux) / count;
}

double des_trend(size_t i, double tf, double s0, double s1, double b) {
  if (i == 0) return b;
  return tf * (s1 - s0) + (1 - tf) * b;
}

// Go regexp.Expand-style template expansion ($1, ${1}, $name, ${name}, $$).
std::string expand_template(std::string_view tmpl, const RE2& re,
                            const std::vector<re2::StringPiece>& groups) {
  std::string out;
  const auto& names = re.NamedCapturingGroups();
  auto group_value = [&](std::string_view name) -> std::string_view {
    bool numeric = !name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
      return ch >= '0' && ch <= '9';
    });
    if (numeric) {
      size_t idx = 0;
      for (char ch : name) {
        idx = idx * 10 + static_cast<size_t>(ch - '0');
        if (idx > groups.size()) return {};
      }
      if (idx < groups.size() && groups[idx].data()) return {groups[idx].data(), groups[idx].size()};
      return {};
    }
    auto it = names.find(std::string(name));
    if (it == names.end()) return {};
    auto idx = static_cast<size_t>(it->second);
    if (idx < groups.size() && groups[idx].data()) return {groups[idx].data(), groups[idx].size()};
    return {};
  };
  auto is_name_char = [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
  };
  for (size_t i = 0; i < tmpl.size(); ++i) {
    char ch = tmpl[i];
    if (ch != '$' || i + 1 >= tmpl.size()) {
      out += ch;
      continue;
    }
    if (tmpl[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (tmpl[i + 1] == '{') {
      auto close = tmpl.find('}', i + 2);
      if (close == std::string_view::npos) {
        out += ch;
        continue;
      }
      std::string_view name = tmpl.substr(i + 2, close - i - 2);
      if (name.empty() || !std::all_of(name.begin(), name.end(), is_name_char)) {
        out += ch;
        continue;
      }
      out += group_value(name);
      i = close;
      continue;
    }
    size_t j = i + 1;
    while (j < tmpl.size() && is_name_char(tmpl[j])) ++j;
    if (j == i + 1) {
      out += ch;
      continue;
    }
    out += group_value(tmpl.substr(i + 1, j - i - 1));
    i = j - 1;
  }
  return out;
}

// Natural sort order for sort_by_label: digit runs compare numerically.
bool natural_less(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  auto digit = [](char ch) { return ch >= '0' && ch <= '9'; };
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      size_t si = i, sj = j;
      while (i < a.size() && digit(a[i])) ++i;
      while (j < b.size() && digit(b[j])) ++j;
      std::string_view na = a.substr(si, i - si), nb = b.substr(sj, j - sj);
      while (na.size() > 1 && na[0] == '0') na.remove_prefix(1);
      while (nb.size() > 1 && nb[0] == '0') nb.remove_prefix(1);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      continue;
    }
    if (a[i] != b[j]) return a[i] < b[j];
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
}

std::optional<double> parse_go_float(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string tmp(s);
  char* end = nullptr;
  double v = std::strtod(tmp.c_str(), &end);
  if (end != tmp.c_str() + tmp.size()) return std::nullopt;
  return v;
}

struct Bucket {
  double upper;
  double count;
};

// Sorts, merges equal bounds and fixes monotonicity; returns false when unusable.
bool prepare_buckets(std::vector<Bucket>& b, bool& forced_monotonic) {
  std::sort(b.begin(), b.end(), [](const Bucket& x, const Bucket& y) { return x.upper < y.upper; });
  if (b.empty() || !(std::isinf(b.back().upper) && b.back().upper > 0)) return false;
  std::vector<Bucket> merged;
  for (const auto& x : b) {
    if (!merged.empty() && merged.back().upper == x.upper) {
      merged.back().count += x.count;
    } else {
      merged.push_back(x);
    }
  }
  b = std::move(merged);
  double prev = b[0].count;
  for (size_t i = 1; i < b.size(); ++i) {
    double cur = b[i].count;
    if (cur == prev) continue;
    double diff = std::fabs(cur - prev), sum = std::fabs(cur) + std::fabs(prev);
    if (diff / sum < 1e-12) {
      b[i].count = prev;
      continue;
    }
    if (cur < prev) {
      b[i].count = prev;
      forced_monotonic = true;
      continue;
    }
    prev = cur;
  }
  return true;
}

double bucket_quantile(double q, std::vector<Bucket>& b, bool& forced) {
  if (std::isnan(q)) return kNaN;
  if (q < 0) return -kInf;
  if (q > 1) return kInf;
  if (!prepare_buckets(b, forced)) return kNaN;
  if (b.size() < 2) return kNaN;
  double observations = b.back().count;
  if (observations == 0 || std::isnan(observations)) return kNaN;
  double rank = q * observations;
  size_t idx = 0;
  while (idx < b.size() - 1 && !(b[idx].count >= rank)) ++idx;
  if (idx == b.size() - 1) return b[b.size() - 2].upper;
  if (idx == 0 && b[0].upper <= 0) return b[0].upper;
  double start = 0, end = b[idx].upper, count = b[idx].count;
  if (idx > 0) {
    start = b[idx - 1].upper;
    count -= b[idx - 1].count;
    rank -= b[idx - 1].count;
  }
  return start + (end - start) * (rank / count);
}

double bucket_fraction(double lower, double upper, std::vector<Bucket>& b, bool& forced) {
  if (!prepare_buckets(b, forced)) return kNaN;
  double total = b.back().count;
  if (total == 0 || std::isnan(lower) || std::isnan(upper)) return kNaN;
  auto rank = [&](double x) -> double {
    if (std::isinf(x)) return x < 0 ? 0 : total;
    size_t i = 0;
    while (i < b.size() && b[i].upper < x) ++i;
    if (i == b.size()) return total;
    double prev = i > 0 ? b[i - 1].count : 0;
    double start = i > 0 ? b[i - 1].upper : (b[0].upper > 0 ? 0 : -kInf);
    if (std::isinf(start)) return b[i].count;
    if (std::isinf(b[i].upper)) return prev;
    if (x <= start) return prev;
    return prev + (b[i].count - prev) * (x - start) / (b[i].upper - start);
  };
  if (lower >= upper) return 0;
  return (rank(upper) - rank(lower)) / total;
}

bool counter_like_name(std::string_view n) {
  for (std::string_view suffix : {"_total", "_sum", "_count", "_bucket"}) {
    if (n.size() >= suffix.size() && n.substr(n.size() - suffix.size()) == suffix) return true;
  }
  return false;
}

// Labels for absent()/absent_over_time(): the equality matchers of the selector argument.
Labels absent_labels(const Expr& arg) {
  const Expr* a = &arg;
  while (const auto* p = a->as<promql::Paren>()) a = p->expr.get();
  const promql::VectorSelector* vs = a->as<promql::VectorSelector>();
  if (const auto* ms = a->as<promql::MatrixSelector>()) vs = ms->vector->as<promql::VectorSelector>();
  if (!vs) return {};
  LabelsBuilder lb;
  std::unordered_set<std::string> has;
  for (const auto& m : vs->matchers) {
    if (m.name == kMetricName) continue;
    if (m.op == promql::MatchOp::Equal && !has.contains(m.name)) {
      lb.set(m.name, m.value);
      has.insert(m.name);
    } else {
      lb.del(m.name);
    }
  }
  return lb.build();
}

enum class RangeFn {
  Rate, Increase, Delta, Irate, Idelta, Deriv, PredictLinear, Changes, Resets, Avg, Sum, Count,
  Min, Max, Stddev, Stdvar, Last, First, Present, Quantile, Mad, TsFirst, TsLast, TsMin, TsMax,
  Des, Absent,
};

const std::unordered_map<std::string_view, RangeFn>& range_functions() {
  static const std::unordered_map<std::string_view, RangeFn> kFns = {
      {"rate", RangeFn::Rate},
      {"increase", RangeFn::Increase},
      {"delta", RangeFn::Delta},
      {"irate", RangeFn::Irate},
      {"idelta", RangeFn::Idelta},
      {"deriv", RangeFn::Deriv},
      {"predict_linear", RangeFn::PredictLinear},
      {"changes", RangeFn::Changes},
      {"resets", RangeFn::Resets},
      {"avg_over_time", RangeFn::Avg},
      {"sum_over_time", RangeFn::Sum},
      {"count_over_time", RangeFn::Count},
      {"min_over_time", RangeFn::Min},
      {"max_over_time", RangeFn::Max},
      {"stddev_over_time", RangeFn::Stddev},
      {"stdvar_over_time", RangeFn::Stdvar},
      {"last_over_time", RangeFn::Last},
      {"first_over_time", RangeFn::First},
      {"present_over_time", RangeFn::Present},
      {"quantile_over_time", RangeFn::Quantile},
      {"mad_over_time", RangeFn::Mad},
      {"ts_of_first_over_time", RangeFn::TsFirst},
      {"ts_of_last_over_time", RangeFn::TsLast},
      {"ts_of_min_over_time", RangeFn::TsMin},
      {"ts_of_max_over_time", RangeFn::TsMax},
      {"double_exponential_smoothing", RangeFn::Des},
      {"absent_over_time", RangeFn::Absent},
  };
  return kFns;
}

}  // namespace

Value Evaluator::eval_call(const promql::Call& call, const Expr& e, Millis t) {
  (void)e;
  const std::string_view name = call.func->name;
  const auto& args = call.args;

  if (auto it = math_functions().find(name); it != math_functions().end()) {
    Vector v = eval_vector(*args[0], t);
    for (auto& s : v) {
      s.v = it->second(s.v);
      s.t = t;
      drop_name(s, opts_);
    }
    return v;
  }

  if (auto it = range_functions().find(name); it != range_functions().end()) {
    const RangeFn fn = it->second;
    // Scalar arguments first (evaluated at t), then the range argument.
    double p0 = 0, p1 = 0;
    const Expr* range_arg = args[0].get();
    if (fn == RangeFn::Quantile) {
      p0 = eval_scalar(*args[0], t);
      range_arg = args[1].get();
      if (std::isnan(p0) || p0 < 0 || p0 > 1) {
        warn("PromQL warning: quantile value should be between 0 and 1, got " + format_g(p0));
      }
    } else if (fn == RangeFn::PredictLinear) {
      p0 = eval_scalar(*args[1], t);
    } else if (fn == RangeFn::Des) {
      p0 = eval_scalar(*args[1], t);
      p1 = eval_scalar(*args[2], t);
      if (!(p0 > 0 && p0 < 1)) {
        fail("invalid smoothing factor. Expected: 0 < sf < 1, got: " + format_f(p0));
      }
      if (!(p1 > 0 && p1 < 1)) {
        fail("invalid trend factor. Expected: 0 < tf < 1, got: " + format_f(p1));
      }
    }
    Vector out;
    bool any_points = false;
    Millis window_end = 0, range = 0;
    std::vector<double> scratch;
    bool keep_name = fn == RangeFn::Last || fn == RangeFn::First;
    auto per_series = [&](const RangeArg& a) {
      const auto pts = a.points;
      if (pts.empty() && a.histograms == 0) return;
      any_points = true;
      if (fn == RangeFn::Count || fn == RangeFn::Present) {
        Sample s{*a.metric, fn == RangeFn::Count ? static_cast<double>(pts.size() + a.histograms) : 1,
                 t, a.drop_name};
        drop_name(s, opts_);
        out.push_back(std::move(s));
        return;
      }
      if (pts.empty()) return;
      if (a.histograms > 0) {
        auto mn = go_quote(a.metric->metric_name());
        switch (fn) {
          case RangeFn::Avg:
          case RangeFn::Sum:
          case RangeFn::Rate:
          case RangeFn::Increase:
          case RangeFn::Delta:
            warn("PromQL warning: encountered a mix of histograms and floats for metric name " + mn);
            return;
          case RangeFn::Deriv:
          case RangeFn::PredictLinear:
          case RangeFn::Des:
          case RangeFn::Stddev:
          case RangeFn::Stdvar:
          case RangeFn::Mad:
          case RangeFn::Quantile:
          case RangeFn::Min:
          case RangeFn::Max:
          case RangeFn::TsMin:
          case RangeFn::TsMax:
            info("PromQL info: ignored histograms in a range containing both floats and "
                 "histograms for metric name " + mn);
            break;
          default:
            break;
        }
      }
      if ((fn == RangeFn::Last || fn == RangeFn::TsLast) && a.last_is_histogram) return;
      if ((fn == RangeFn::First || fn == RangeFn::TsFirst) && a.first_is_histogram) return;
      std::optional<double> r;
      switch (fn) {
        case RangeFn::Rate:
        case RangeFn::Increase:
        case RangeFn::Delta:
          r = extrapolated_rate(pts, window_end - range, window_end, range,
                                fn != RangeFn::Delta, fn == RangeFn::Rate);
          if (r && fn != RangeFn::Delta) {
            auto mn = a.metric->metric_name();
            if (!mn.empty() && !counter_like_name(mn)) {
              info("PromQL info: metric might not be a counter, name does not end in "
                   "_total/_sum/_count/_bucket: " + go_quote(mn));
            }
          }
          break;
        case RangeFn::Irate:
        case RangeFn::Idelta: {
          if (pts.size() < 2) break;
          const FPoint& last = pts[pts.size() - 1];
          const FPoint& prev = pts[pts.size() - 2];
          double v = (fn == RangeFn::Irate && last.v < prev.v) ? last.v : last.v - prev.v;
          if (fn == RangeFn::Irate) {
            Millis dt = last.t - prev.t;
            if (dt == 0) break;
            v /= static_cast<double>(dt) / 1000;
          }
          r = v;
          break;
        }
        case RangeFn::Deriv:
          if (pts.size() < 2) break;
          r = linear_regression(pts, pts[0].t).first;
          break;
        case RangeFn::PredictLinear: {
          if (pts.size() < 2) break;
          auto [slope, intercept] = linear_regression(pts, t);
          r = slope * p0 + intercept;
          break;
        }
        case RangeFn::Changes:
        case RangeFn::Resets: {
          double n = 0;
          for (size_t i = 1; i < pts.size(); ++i) {
            double prev = pts[i - 1].v, cur = pts[i].v;
            if (fn == RangeFn::Changes) {
              if (!(cur == prev || (std::isnan(cur) && std::isnan(prev)))) n += 1;
            } else if (cur < prev) {
              n += 1;
            }
          }
          r = n;
          break;
        }
        case RangeFn::Avg: r = avg_of(pts); break;
        case RangeFn::Sum: {
          double s = 0, c = 0;
          for (const auto& p : pts) kahan_inc(p.v, s, c);
          r = s + c;
          break;
        }
        case RangeFn::Count: r = static_cast<double>(pts.size()); break;
        case RangeFn::Min:
        case RangeFn::Max: {
          double m = pts[0].v;
          for (const auto& p : pts) {
            if (std::isnan(m) || (fn == RangeFn::Max ? p.v > m : p.v < m)) m = p.v;
          }
          r = m;
          break;
        }
        case RangeFn::Stddev: r = std::sqrt(variance_of(pts)); break;
        case RangeFn::Stdvar: r = variance_of(pts); break;
        case RangeFn::Last: r = pts.back().v; break;
        case RangeFn::First: r = pts.front().v; break;
        case RangeFn::Present: r = 1; break;
        case RangeFn::Quantile:
        case RangeFn::Mad: {
          scratch.clear();
          for (const auto& p : pts) scratch.push_back(p.v);
          if (fn == RangeFn::Quantile) {
            r = quantile_of(p0, scratch);
          } else {
            double median = quantile_of(0.5, scratch);
            for (auto& v : scratch) v = std::fabs(v - median);
            r = quantile_of(0.5, scratch);
          }
          break;
        }
        case RangeFn::TsFirst: r = static_cast<double>(pts.front().t) / 1000; break;
        case RangeFn::TsLast: r = static_cast<double>(pts.back().t) / 1000; break;
        case RangeFn::TsMin:
        case RangeFn::TsMax: {
          size_t best = 0;
          for (size_t i = 1; i < pts.size(); ++i) {
            double b = pts[best].v, v = pts[i].v;
            bool better = fn == RangeFn::TsMax ? (v >= b || std::isnan(b)) : (v <= b || std::isnan(b));
            if (better && !std::isnan(v)) best = i;
          }
          r = static_cast<double>(pts[best].t) / 1000;
          break;
        }
        case RangeFn::Des: {
          if (pts.size() < 2) break;
          double s0 = 0, s1 = pts[0].v, b = pts[1].v - pts[0].v;
          for (size_t i = 1; i < pts.size(); ++i) {
            double x = p0 * pts[i].v;
            b = des_trend(i - 1, p1, s0, s1, b);
            double y = (1 - p0) * (s1 + b);
            s0 = s1;
            s1 = x + y;
          }
          r = s1;
          break;
        }
        case RangeFn::Absent: break;
      }
      if (!r) return;
      Sample s{*a.metric, *r, t, a.drop_name};
      if (!keep_name) drop_name(s, opts_);
      out.push_back(std::move(s));
    };
    for_each_range_series(*range_arg, t, per_series, &window_end, &range);
    if (fn == RangeFn::Absent) {
      if (any_points) return Vector{};
      return Vector{Sample{absent_labels(*range_arg), 1, t, false}};
    }
    return out;
  }

  if (name == "time") return Scalar{static_cast<double>(t) / 1000, t};
  if (name == "pi") return Scalar{std::numbers::pi, t};
  if (name == "start") return Scalar{static_cast<double>(start_) / 1000, t};
  if (name == "end") return Scalar{static_cast<double>(end_) / 1000, t};
  if (name == "range") return Scalar{static_cast<double>(end_ - start_) / 1000, t};
  if (name == "step") return Scalar{static_cast<double>(interval_) / 1000, t};
  if (name == "min_of" || name == "max_of") {
    double a = eval_scalar(*args[0], t), b = eval_scalar(*args[1], t);
    return Scalar{name == "min_of" ? go_min(a, b) : go_max(a, b), t};
  }
  if (name == "vector") return Vector{Sample{Labels{}, eval_scalar(*args[0], t), t, false}};
  if (name == "scalar") {
    Vector v = eval_vector(*args[0], t);
    return Scalar{v.size() == 1 ? v[0].v : kNaN, t};
  }
  if (name == "absent") {
    const Expr* a = args[0].get();
    while (const auto* p = a->as<promql::Paren>()) a = p->expr.get();
    const auto* vs = a->as<promql::VectorSelector>();
    Vector v = vs ? eval_vector_selector(*vs, t, false, true) : eval_vector(*args[0], t);
    if (!v.empty()) return Vector{};
    return Vector{Sample{absent_labels(*args[0]), 1, t, false}};
  }
  if (name == "round") {
    Vector v = eval_vector(*args[0], t);
    double to = args.size() > 1 ? eval_scalar(*args[1], t) : 1;
    double inv = 1.0 / to;
    for (auto& s : v) {
      s.v = std::floor(s.v * inv + 0.5) / inv;
      s.t = t;
      drop_name(s, opts_);
    }
    return v;
  }
  if (name == "clamp" || name == "clamp_min" || name == "clamp_max") {
    Vector v = eval_vector(*args[0], t);
    double lo = -kInf, hi = kInf;
    if (name == "clamp") {
      lo = eval_scalar(*args[1], t);
      hi = eval_scalar(*args[2], t);
      if (hi < lo) return Vector{};
    } else if (name == "clamp_min") {
      lo = eval_scalar(*args[1], t);
    } else {
      hi = eval_scalar(*args[1], t);
    }
    for (auto& s : v) {
      if (name == "clamp") {
        s.v = go_max(lo, go_min(hi, s.v));
      } else if (name == "clamp_min") {
        s.v = go_max(s.v, lo);
      } else {
        s.v = go_min(s.v, hi);
      }
      s.t = t;
      drop_name(s, opts_);
    }
    return v;
  }
  if (name == "day_of_month" || name == "day_of_week" || name == "day_of_year" ||
      name == "days_in_month" || name == "hour" || name == "minute" || name == "month" ||
      name == "year") {
    Vector v = args.empty() ? Vector{Sample{Labels{}, static_cast<double>(t) / 1000, t, false}}
                            : eval_vector(*args[0], t);
    for (auto& s : v) {
      s.t = t;
      drop_name(s, opts_);
      // NaN, infinities and values beyond any representable date are passed through.
      if (!(std::fabs(s.v) < 1e17)) continue;
      Civil c = civil_from_unix(static_cast<int64_t>(s.v));
      double r = 0;
      if (name == "day_of_month") r = c.day;
      else if (name == "day_of_week") r = c.wday;
      else if (name == "day_of_year") r = c.yday;
      else if (name == "days_in_month") r = days_in_month(c.year, c.month);
      else if (name == "hour") r = c.hour;
      else if (name == "minute") r = c.minute;
      else if (name == "month") r = c.month;
      else r = static_cast<double>(c.year);
      s.v = r;
    }
    return v;
  }
  if (name == "timestamp") {
    const Expr* a = args[0].get();
    while (const auto* p = a->as<promql::Paren>()) a = p->expr.get();
    Vector v;
    if (const auto* vs = a->as<promql::VectorSelector>()) {
      v = eval_vector_selector(*vs, t, true, true);
    } else {
      v = eval_vector(*a, t);
    }
    for (auto& s : v) {
      s.v = static_cast<double>(s.t) / 1000;
      s.h = nullptr;  // the timestamp of a histogram sample is a float
      s.t = t;
      drop_name(s, opts_);
    }
    return v;
  }
  if ((name == "sort" || name == "sort_desc" || name == "sort_by_label" ||
       name == "sort_by_label_desc") && start_ != end_) {
    warn("PromQL warning: sort is ineffective for range queries since results are always "
         "ordered by labels");
  }
  if (name == "sort" || name == "sort_desc") {
    Vector v = eval_vector(*args[0], t);
    bool desc = name == "sort_desc";
    std::stable_sort(v.begin(), v.end(), [desc](const Sample& a, const Sample& b) {
      if (std::isnan(a.v)) return false;
      if (std::isnan(b.v)) return true;
      return desc ? a.v > b.v : a.v < b.v;
    });
    return v;
  }
  if (name == "sort_by_label" || name == "sort_by_label_desc") {
    Vector v = eval_vector_keep_histograms(*args[0], t);
    std::vector<std::string> names;
    for (size_t i = 1; i < args.size(); ++i) {
      Value sv = eval(*args[i], t);
      names.push_back(std::get<String>(sv).v);
    }
    bool desc = name == "sort_by_label_desc";
    std::stable_sort(v.begin(), v.end(), [&](const Sample& a, const Sample& b) {
      for (const auto& n : names) {
        auto av = a.metric.get(n), bv = b.metric.get(n);
        if (av == bv) continue;
        return desc ? natural_less(bv, av) : natural_less(av, bv);
      }
      return desc ? b.metric < a.metric : a.metric < b.metric;
    });
    return v;
  }
  if (name == "label_replace") {
    Vector v = eval_vector_keep_histograms(*args[0], t);
    auto str = [&](size_t i) { return std::get<String>(eval(*args[i], t)).v; };
    std::string dst = str(1), repl = str(2), src = str(3), regex = str(4);
    RE2::Options o;
    o.set_dot_nl(true);
    o.set_log_errors(false);
    RE2 re("^(?:" + regex + ")$", o);
    if (!re.ok()) fail("invalid regular expression in label_replace(): " + regex);
    if (!valid_label_name(dst)) fail("invalid destination label name in label_replace(): " + dst);
    std::vector<re2::StringPiece> groups(static_cast<size_t>(re.NumberOfCapturingGroups()) + 1);
    for (auto& s : v) {
      auto sv = s.metric.get(src);
      re2::StringPiece input(sv.data(), sv.size());
      if (!re.Match(input, 0, input.size(), RE2::ANCHOR_BOTH, groups.data(),
                    static_cast<int>(groups.size()))) {
        continue;
      }
      std::string res = expand_template(repl, re, groups);
      LabelsBuilder lb(s.metric);
      lb.set(dst, res);
      s.metric = lb.build();
      if (dst == kMetricName) s.drop_name = false;
    }
    return v;
  }
  if (name == "label_join") {
    Vector v = eval_vector_keep_histograms(*args[0], t);
    auto str = [&](size_t i) { return std::get<String>(eval(*args[i], t)).v; };
    std::string dst = str(1), sep = str(2);
    std::vector<std::string> srcs;
    for (size_t i = 3; i < args.size(); ++i) {
      srcs.push_back(str(i));
      if (!valid_label_name(srcs.back())) {
        fail("invalid source label name in label_join(): " + srcs.back());
      }
    }
    if (!valid_label_name(dst)) fail("invalid destination label name in label_join(): " + dst);
    for (auto& s : v) {
      std::string joined;
      for (size_t i = 0; i < srcs.size(); ++i) {
        if (i) joined += sep;
        joined += s.metric.get(srcs[i]);
      }
      LabelsBuilder lb(s.metric);
      lb.set(dst, joined);
      s.metric = lb.build();
      if (dst == kMetricName) s.drop_name = false;
    }
    return v;
  }
  if (name == "histogram_quantile" || name == "histogram_fraction" ||
      name == "histogram_quantiles") {
    bool quantile = name != "histogram_fraction";
    bool multi = name == "histogram_quantiles";
    std::vector<double> qs;
    double lower = 0, upper = 0;
    std::string q_label;
    Vector in;
    if (multi) {
      in = eval_vector(*args[0], t);
      q_label = std::get<String>(eval(*args[1], t)).v;
      if (!valid_label_name(q_label)) fail("invalid label name " + go_quote(q_label));
      for (size_t i = 2; i < args.size(); ++i) qs.push_back(eval_scalar(*args[i], t));
    } else if (quantile) {
      qs.push_back(eval_scalar(*args[0], t));
      in = eval_vector(*args[1], t);
    } else {
      lower = eval_scalar(*args[0], t);
      upper = eval_scalar(*args[1], t);
      in = eval_vector(*args[2], t);
    }
    for (double q : qs) {
      if (std::isnan(q) || q < 0 || q > 1) {
        warn("PromQL warning: quantile value should be between 0 and 1, got " + format_g(q));
      }
    }
    struct Group {
      Labels labels;
      std::vector<Bucket> buckets;
    };
    std::vector<Group> groups;
    std::unordered_map<uint64_t, size_t> index;
    static const std::vector<std::string> kLe = {"le"};
    for (auto& s : in) {
      auto le = parse_go_float(s.metric.get("le"));
      if (!le) {
        warn("PromQL warning: bucket label \"le\" is missing or has a malformed value of " +
             go_quote(s.metric.get("le")) + " for metric name " + go_quote(s.metric.metric_name()));
        continue;
      }
      Labels l = s.metric.drop(kLe);
      auto [it, inserted] = index.emplace(l.hash(), groups.size());
      if (inserted) groups.push_back(Group{std::move(l), {}});
      groups[it->second].buckets.push_back({*le, s.v});
    }
    Vector out;
    for (auto& g : groups) {
      bool forced = false;
      if (!quantile) {
        double r = bucket_fraction(lower, upper, g.buckets, forced);
        Sample s{std::move(g.labels), r, t, false};
        drop_name(s, opts_);
        out.push_back(std::move(s));
        continue;
      }
      for (double q : qs) {
        std::vector<Bucket> buckets = g.buckets;
        double r = bucket_quantile(q, buckets, forced);
        Labels l = g.labels;
        if (multi) {
          LabelsBuilder lb(l);
          lb.set(q_label, format_f(q));
          l = lb.build();
        }
        Sample s{std::move(l), r, t, false};
        drop_name(s, opts_);
        out.push_back(std::move(s));
      }
      if (forced) {
        info("PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see "
             "https://prometheus.io/docs/prometheus/latest/querying/functions/"
             "#histogram_quantile) for metric name " + go_quote(g.labels.metric_name()));
      }
    }
    return out;
  }
  if (name == "histogram_count" || name == "histogram_sum" || name == "histogram_avg" ||
      name == "histogram_stddev" || name == "histogram_stdvar") {
    // Native histograms are not stored; float samples are ignored, as in Prometheus.
    (void)eval_vector(*args[0], t);
    return Vector{};
  }
  fail("function \"" + std::string(name) + "\" is not supported by this evaluator");
}

}  // namespace ruleeval::engine::detail
