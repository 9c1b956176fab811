// Time functions: time(), start(), end(), range(), step(), timestamp() and the date functions
// (day_of_month, day_of_week, day_of_year, days_in_month, hour, minute, month, year), UTC.
#include <cmath>
#include <cstdint>

#include "functions.hpp"

namespace ruleeval::engine::detail {
namespace {

using promql::Call;

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


using DateField = double (*)(const Civil&);

template <DateField F>
Value date_function(Evaluator& ev, const Call& call, Millis t) {
  Vector v = call.args.empty()
                 ? Vector{Sample{Labels{}, ms_to_seconds(t), t, false}}
                 : ev.eval_vector(*call.args[0], t);
  for (auto& s : v) {
    s.t = t;
    drop_name(s, ev.options());
    // NaN, infinities and values beyond any representable date are passed through.
    if (!(std::fabs(s.v) < 1e17)) continue;
    s.v = F(civil_from_unix(static_cast<int64_t>(s.v)));
  }
  return v;
}

double d_day_of_month(const Civil& c) { return c.day; }
double d_day_of_week(const Civil& c) { return c.wday; }
double d_day_of_year(const Civil& c) { return c.yday; }
double d_days_in_month(const Civil& c) { return days_in_month(c.year, c.month); }
double d_hour(const Civil& c) { return c.hour; }
double d_minute(const Civil& c) { return c.minute; }
double d_month(const Civil& c) { return c.month; }
double d_year(const Civil& c) { return static_cast<double>(c.year); }

Value fn_time(Evaluator&, const Call&, Millis t) { return Scalar{ms_to_seconds(t), t}; }
Value fn_start(Evaluator& ev, const Call&, Millis t) {
  return Scalar{ms_to_seconds(ev.start()), t};
}
Value fn_end(Evaluator& ev, const Call&, Millis t) {
  return Scalar{ms_to_seconds(ev.end()), t};
}
Value fn_range(Evaluator& ev, const Call&, Millis t) {
  return Scalar{ms_to_seconds(ev.end() - ev.start()), t};
}
Value fn_step(Evaluator& ev, const Call&, Millis t) {
  return Scalar{ms_to_seconds(ev.interval()), t};
}

Value fn_timestamp(Evaluator& ev, const Call& call, Millis t) {
  const promql::Expr* a = call.args[0].get();
  while (const auto* p = a->as<promql::Paren>()) a = p->expr.get();
  Vector v;
  if (const auto* vs = a->as<promql::VectorSelector>()) {
    v = ev.eval_vector_selector(*vs, t, true, true);
  } else {
    v = ev.eval_vector(*a, t);
  }
  for (auto& s : v) {
    s.v = ms_to_seconds(s.t);
    s.h = nullptr;  // the timestamp of a histogram sample is a float
    s.t = t;
    drop_name(s, ev.options());
  }
  return v;
}

// start_timestamp(v): the start (created) timestamp of each sample. Prometheus fills it only with
// `--enable-feature=use-start-timestamps` and only for a bare selector; otherwise, as always here
// (ruleeval's store keeps no start timestamps), the result is empty. The argument is still
// evaluated, so its errors are reported as Prometheus reports them.
Value fn_start_timestamp(Evaluator& ev, const Call& call, Millis t) {
  (void)ev.eval_vector_keep_histograms(*call.args[0], t);
  return Vector{};
}

constexpr FunctionDef kDefs[] = {
    {"time", fn_time},
    {"start", fn_start},
    {"end", fn_end},
    {"range", fn_range},
    {"step", fn_step},
    {"timestamp", fn_timestamp},
    {"start_timestamp", fn_start_timestamp},
    {"day_of_month", date_function<d_day_of_month>},
    {"day_of_week", date_function<d_day_of_week>},
    {"day_of_year", date_function<d_day_of_year>},
    {"days_in_month", date_function<d_days_in_month>},
    {"hour", date_function<d_hour>},
    {"minute", date_function<d_minute>},
    {"month", date_function<d_month>},
    {"year", date_function<d_year>},
};

}  // namespace

std::span<const FunctionDef> time_function_defs() { return kDefs; }

}  // namespace ruleeval::engine::detail
