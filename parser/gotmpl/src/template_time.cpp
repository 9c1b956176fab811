// Go's time.Time and time.Duration as template values: Format with Go's reference-layout grammar
// (a port of the chunking rules of time.nextStdChunk and the printing of time.appendFormat), and
// the methods Alertmanager templates call on .StartsAt/.EndsAt (.Format, .Unix, .Add, .Sub,
// .IsZero, .Local, ...) and on durations (.Seconds, .Round, ...). Calendar math is
// std::chrono's (proleptic Gregorian, like Go's), local time is the C library's (TZ and the tz
// database), exactly as Go's Local is.
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "ruleeval/common/millis.hpp"
#include "template_internal.hpp"

namespace ruleeval::tmpl {
namespace {

constexpr int64_t kNs = 1'000'000'000;
// Seconds from 0001-01-01 (Go's zero time) to 1970-01-01: 719162 days.
constexpr int64_t kZeroUnixSec = -62'135'596'800;

struct Parts {
  int64_t sec;   // Unix seconds
  int64_t nsec;  // [0, 1e9)
};

Parts parts(const Time& t) {
  const bool near_zero = t.unix_nanos == Time::kGoZero;
  const int64_t ns = near_zero ? t.since_zero : t.unix_nanos;
  int64_t sec = (near_zero ? kZeroUnixSec : 0) + ns / kNs;
  int64_t nsec = ns % kNs;
  if (nsec < 0) {
    nsec += kNs;
    --sec;
  }
  return {sec, nsec};
}

__extension__ typedef __int128 I128;  // every Go time fits

// Nanoseconds since Go's zero time: every Time fits in 128 bits.
I128 abs_nanos(const Time& t) {
  const Parts p = parts(t);
  return (static_cast<I128>(p.sec) - kZeroUnixSec) * kNs + p.nsec;
}

// Back from nanoseconds since the zero time; an error when the instant is outside the range
// ruleeval represents (int64 nanoseconds after 0001-01-01, or around the Unix epoch: years 1 to
// 293 and 1677 to 2262).
Result<Time> from_abs(I128 abs, bool local) {
  const I128 unix = abs + static_cast<I128>(kZeroUnixSec) * kNs;
  if (unix > std::numeric_limits<int64_t>::min() && unix <= std::numeric_limits<int64_t>::max()) {
    return Time{static_cast<int64_t>(unix), local, 0};
  }
  if (abs >= 0 && abs <= std::numeric_limits<int64_t>::max()) {
    return Time{Time::kGoZero, local, static_cast<int64_t>(abs)};
  }
  return make_error("time out of the range ruleeval represents (years 1 to 293 and 1678 to 2262)");
}

struct Zone {
  int64_t offset = 0;  // seconds east of UTC
  std::string name = "UTC";
};

Zone zone_of(const Time& t) {
  if (!t.local) return {};
  const std::time_t secs = static_cast<std::time_t>(parts(t).sec);
  std::tm tm{};
  if (localtime_r(&secs, &tm) == nullptr) return {};
  return {static_cast<int64_t>(tm.tm_gmtoff), tm.tm_zone != nullptr ? tm.tm_zone : ""};
}

struct Broken {
  int64_t year;
  int month, day, hour, minute, second, yday, wday;
  int64_t nanos;
};

Broken broken_down(const Time& t, const Zone& z) {
  const Parts p = parts(t);
  const int64_t secs = p.sec + z.offset;
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  using namespace std::chrono;
  const sys_days sd{std::chrono::days{days}};
  const year_month_day ymd{sd};
  const sys_days jan1{ymd.year() / January / 1};
  Broken b{};
  b.year = static_cast<int>(ymd.year());
  b.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  b.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  b.yday = static_cast<int>((sd - jan1).count()) + 1;
  b.wday = static_cast<int>(weekday{sd}.c_encoding());
  b.hour = static_cast<int>(rem / 3600);
  b.minute = static_cast<int>((rem / 60) % 60);
  b.second = static_cast<int>(rem % 60);
  b.nanos = p.nsec;
  return b;
}

constexpr const char* kMonths[] = {"January", "February", "March",     "April",
                                   "May",     "June",     "July",      "August",
                                   "September", "October", "November", "December"};
constexpr const char* kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                 "Thursday", "Friday", "Saturday"};

enum class Std {
  kLongMonth, kMonth, kNumMonth, kZeroMonth, kLongWeekDay, kWeekDay, kDay, kUnderDay, kZeroDay,
  kUnderYearDay, kZeroYearDay, kHour, kHour12, kZeroHour12, kMinute, kZeroMinute, kSecond,
  kZeroSecond, kLongYear, kYear, kPM, kpm, kTZ, kISO8601TZ, kISO8601SecondsTZ, kISO8601ShortTZ,
  kISO8601ColonTZ, kISO8601ColonSecondsTZ, kNumTZ, kNumSecondsTz, kNumShortTZ, kNumColonTZ,
  kNumColonSecondsTZ, kFrac0, kFrac9
};

struct Chunk {
  Std std;
  size_t len;      // characters of the layout the element uses
  size_t digits = 0;  // fractional seconds
};

bool lower_at(std::string_view s, size_t i) {
  return i < s.size() && s[i] >= 'a' && s[i] <= 'z';
}

// time.nextStdChunk, for the element starting at layout[i] (nullopt: a literal character).
std::optional<Chunk> std_chunk(std::string_view l, size_t i) {
  auto at = [&](std::string_view tok) { return l.substr(i).starts_with(tok); };
  switch (l[i]) {
    case 'J':  // January, Jan (not followed by a lower-case letter: "Janet" is text)
      if (at("Jan")) {
        if (at("January")) return Chunk{Std::kLongMonth, 7};
        if (!lower_at(l, i + 3)) return Chunk{Std::kMonth, 3};
      }
      break;
    case 'M':  // Monday, Mon, MST
      if (at("Mon")) {
        if (at("Monday")) return Chunk{Std::kLongWeekDay, 6};
        if (!lower_at(l, i + 3)) return Chunk{Std::kWeekDay, 3};
      }
      if (at("MST")) return Chunk{Std::kTZ, 3};
      break;
    case '0':  // 01, 02, 03, 04, 05, 06, 002
      if (i + 1 < l.size() && l[i + 1] >= '1' && l[i + 1] <= '6') {
        static constexpr Std k0x[] = {Std::kZeroMonth,  Std::kZeroDay,    Std::kZeroHour12,
                                      Std::kZeroMinute, Std::kZeroSecond, Std::kYear};
        return Chunk{k0x[l[i + 1] - '1'], 2};
      }
      if (at("002")) return Chunk{Std::kZeroYearDay, 3};
      break;
    case '1':  // 15, 1
      if (at("15")) return Chunk{Std::kHour, 2};
      return Chunk{Std::kNumMonth, 1};
    case '2':  // 2006, 2
      if (at("2006")) return Chunk{Std::kLongYear, 4};
      return Chunk{Std::kDay, 1};
    case '_':  // _2, _2006 (a literal _ then the year), __2
      if (at("_2")) {
        if (at("_2006")) return std::nullopt;  // the '_' is text; "2006" follows
        return Chunk{Std::kUnderDay, 2};
      }
      if (at("__2")) return Chunk{Std::kUnderYearDay, 3};
      break;
    case '3':
      return Chunk{Std::kHour12, 1};
    case '4':
      return Chunk{Std::kMinute, 1};
    case '5':
      return Chunk{Std::kSecond, 1};
    case 'P':
      if (at("PM")) return Chunk{Std::kPM, 2};
      break;
    case 'p':
      if (at("pm")) return Chunk{Std::kpm, 2};
      break;
    case '-':  // -070000, -07:00:00, -0700, -07:00, -07
      if (at("-070000")) return Chunk{Std::kNumSecondsTz, 7};
      if (at("-07:00:00")) return Chunk{Std::kNumColonSecondsTZ, 9};
      if (at("-0700")) return Chunk{Std::kNumTZ, 5};
      if (at("-07:00")) return Chunk{Std::kNumColonTZ, 6};
      if (at("-07")) return Chunk{Std::kNumShortTZ, 3};
      break;
    case 'Z':  // Z070000, Z07:00:00, Z0700, Z07:00, Z07
      if (at("Z070000")) return Chunk{Std::kISO8601SecondsTZ, 7};
      if (at("Z07:00:00")) return Chunk{Std::kISO8601ColonSecondsTZ, 9};
      if (at("Z0700")) return Chunk{Std::kISO8601TZ, 5};
      if (at("Z07:00")) return Chunk{Std::kISO8601ColonTZ, 6};
      if (at("Z07")) return Chunk{Std::kISO8601ShortTZ, 3};
      break;
    case '.':
    case ',':  // ,000 or .000 or ,999 or .999: fractional seconds, if no digit follows the run
      if (i + 1 < l.size() && (l[i + 1] == '0' || l[i + 1] == '9')) {
        const char ch = l[i + 1];
        size_t j = i + 1;
        while (j < l.size() && l[j] == ch) ++j;
        if (!(j < l.size() && l[j] >= '0' && l[j] <= '9')) {
          return Chunk{ch == '0' ? Std::kFrac0 : Std::kFrac9, j - i, j - (i + 1)};
        }
      }
      break;
    default:
      break;
  }
  return std::nullopt;
}

// Go's appendInt(b, x, width): a '-' for negatives, then the digits zero-padded to width.
void append_int(std::string& out, int64_t x, int width) {
  if (x < 0) {
    out += '-';
    x = -x;
  }
  const std::string d = std::to_string(x);
  for (int k = static_cast<int>(d.size()); k < width; ++k) out += '0';
  out += d;
}

}  // namespace

std::string go_time_format(const Time& t, std::string_view layout) {
  const Zone z = zone_of(t);
  const Broken b = broken_down(t, z);
  std::string out;
  size_t i = 0;
  while (i < layout.size()) {
    const auto c = std_chunk(layout, i);
    if (!c) {
      out += layout[i++];
      continue;
    }
    i += c->len;
    switch (c->std) {
      case Std::kYear:
        append_int(out, (b.year < 0 ? -b.year : b.year) % 100, 2);
        break;
      case Std::kLongYear:
        append_int(out, b.year, 4);
        break;
      case Std::kMonth:
        out += std::string_view(kMonths[b.month - 1]).substr(0, 3);
        break;
      case Std::kLongMonth:
        out += kMonths[b.month - 1];
        break;
      case Std::kNumMonth:
        append_int(out, b.month, 0);
        break;
      case Std::kZeroMonth:
        append_int(out, b.month, 2);
        break;
      case Std::kWeekDay:
        out += std::string_view(kDays[b.wday]).substr(0, 3);
        break;
      case Std::kLongWeekDay:
        out += kDays[b.wday];
        break;
      case Std::kDay:
        append_int(out, b.day, 0);
        break;
      case Std::kUnderDay:
        if (b.day < 10) out += ' ';
        append_int(out, b.day, 0);
        break;
      case Std::kZeroDay:
        append_int(out, b.day, 2);
        break;
      case Std::kUnderYearDay:
        if (b.yday < 100) {
          out += ' ';
          if (b.yday < 10) out += ' ';
        }
        append_int(out, b.yday, 0);
        break;
      case Std::kZeroYearDay:
        append_int(out, b.yday, 3);
        break;
      case Std::kHour:
        append_int(out, b.hour, 2);
        break;
      case Std::kHour12:
        append_int(out, b.hour % 12 == 0 ? 12 : b.hour % 12, 0);
        break;
      case Std::kZeroHour12:
        append_int(out, b.hour % 12 == 0 ? 12 : b.hour % 12, 2);
        break;
      case Std::kMinute:
        append_int(out, b.minute, 0);
        break;
      case Std::kZeroMinute:
        append_int(out, b.minute, 2);
        break;
      case Std::kSecond:
        append_int(out, b.second, 0);
        break;
      case Std::kZeroSecond:
        append_int(out, b.second, 2);
        break;
      case Std::kPM:
        out += b.hour >= 12 ? "PM" : "AM";
        break;
      case Std::kpm:
        out += b.hour >= 12 ? "pm" : "am";
        break;
      case Std::kISO8601TZ:
      case Std::kISO8601ColonTZ:
      case Std::kISO8601SecondsTZ:
      case Std::kISO8601ShortTZ:
      case Std::kISO8601ColonSecondsTZ:
      case Std::kNumTZ:
      case Std::kNumColonTZ:
      case Std::kNumSecondsTz:
      case Std::kNumShortTZ:
      case Std::kNumColonSecondsTZ: {
        const Std s = c->std;
        const bool iso = s == Std::kISO8601TZ || s == Std::kISO8601ColonTZ ||
                         s == Std::kISO8601SecondsTZ || s == Std::kISO8601ShortTZ ||
                         s == Std::kISO8601ColonSecondsTZ;
        if (z.offset == 0 && iso) {
          out += 'Z';
          break;
        }
        int64_t zone = z.offset / 60;
        int64_t absoffset = z.offset;
        if (zone < 0) {
          out += '-';
          zone = -zone;
          absoffset = -absoffset;
        } else {
          out += '+';
        }
        append_int(out, zone / 60, 2);
        const bool colon = s == Std::kISO8601ColonTZ || s == Std::kNumColonTZ ||
                           s == Std::kISO8601ColonSecondsTZ || s == Std::kNumColonSecondsTZ;
        if (colon) out += ':';
        if (s != Std::kNumShortTZ && s != Std::kISO8601ShortTZ) append_int(out, zone % 60, 2);
        if (s == Std::kISO8601SecondsTZ || s == Std::kNumSecondsTz ||
            s == Std::kNumColonSecondsTZ || s == Std::kISO8601ColonSecondsTZ) {
          if (s == Std::kNumColonSecondsTZ || s == Std::kISO8601ColonSecondsTZ) out += ':';
          append_int(out, absoffset % 60, 2);
        }
        break;
      }
      case Std::kTZ:
        if (!z.name.empty()) {
          out += z.name;
        } else {  // no abbreviation known: Go prints -0700
          int64_t zone = z.offset / 60;
          out += zone < 0 ? '-' : '+';
          zone = zone < 0 ? -zone : zone;
          append_int(out, zone / 60, 2);
          append_int(out, zone % 60, 2);
        }
        break;
      case Std::kFrac0:
      case Std::kFrac9: {
        // time.appendNano: the separator, then n digits; .999 trims trailing zeros (and the
        // separator when nothing is left).
        const bool trim = c->std == Std::kFrac9;
        const size_t n = std::min<size_t>(c->digits, 9);
        if (trim && (n == 0 || b.nanos == 0)) break;
        std::string frac = fmt::format("{:09d}", b.nanos).substr(0, n);
        if (trim) {
          while (!frac.empty() && frac.back() == '0') frac.pop_back();
          if (frac.empty()) break;
        }
        out += layout[i - c->len];
        out += frac;
        break;
      }
    }
  }
  return out;
}

Duration time_sub(const Time& a, const Time& b) {
  // Go's Time.Sub saturates at the minimum and maximum Duration.
  const I128 d = abs_nanos(a) - abs_nanos(b);
  if (d > std::numeric_limits<int64_t>::max()) return Duration{std::numeric_limits<int64_t>::max()};
  if (d < std::numeric_limits<int64_t>::min()) return Duration{std::numeric_limits<int64_t>::min()};
  return Duration{static_cast<int64_t>(d)};
}

namespace {

Result<void> want_args(std::string_view name, std::span<const Value> a, size_t n) {
  if (a.size() != n) {
    return make_error(fmt::format("wrong number of args for {}: want {} got {}", name, n, a.size()));
  }
  return {};
}

// A time.Duration argument: a Duration, an int, or an integral number literal (28800e9, which
// Go's template parser marks as an integer constant).
Result<int64_t> arg_duration(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kDuration:
      return v.as_duration().nanos;
    case Value::Kind::kInt:
      return v.as_int();
    case Value::Kind::kFloat: {
      const double f = v.as_float();
      if (std::isfinite(f) && f == std::trunc(f) && f >= -9.2233720368547758e18 &&
          f < 9.2233720368547758e18) {
        return static_cast<int64_t>(f);
      }
      return make_error(fmt::format("expected integer; found {}", go_format_float(f)));
    }
    default:
      return std::unexpected(wrong_type("time.Duration", v));
  }
}

std::shared_ptr<const TypeInfo> named_int(const char* name, const char* const* names, int base) {
  auto ti = std::make_shared<TypeInfo>();
  ti->name = name;
  ti->stringer = [names, base](const Value& v) -> std::string {
    const int64_t i = v.as_int() - base;
    if (i >= 0 && i < (base == 1 ? 12 : 7)) return names[i];
    return fmt::format("%!{}({})", base == 1 ? "Month" : "Weekday", v.as_int());
  };
  auto str = ti->stringer;
  ti->methods["String"] = [str](const Value& self, std::span<const Value> a) -> Result<Value> {
    if (auto r = want_args("String", a, 0); !r) return std::unexpected(r.error());
    return Value(str(self));
  };
  return ti;
}

using Fn = std::function<Result<Value>(const Time&, std::span<const Value>)>;

}  // namespace

const TypeInfo& time_type() {
  static const TypeInfo kType = [] {
    TypeInfo ti;
    ti.name = "time.Time";
    static const auto month_type = named_int("time.Month", kMonths, 1);
    static const auto weekday_type = named_int("time.Weekday", kDays, 0);
    auto add = [&ti](const char* name, size_t nargs, const Fn& f) {
      ti.methods[name] = [name, nargs, f](const Value& self,
                                          std::span<const Value> a) -> Result<Value> {
        if (auto r = want_args(name, a, nargs); !r) return std::unexpected(r.error());
        return f(self.as_time(), a);
      };
    };
    auto field = [&](const char* name, int64_t (*get)(const Broken&)) {
      add(name, 0, [get](const Time& t, std::span<const Value>) -> Result<Value> {
        return Value(get(broken_down(t, zone_of(t))));
      });
    };
    add("Format", 1, [](const Time& t, std::span<const Value> a) -> Result<Value> {
      auto l = arg_string(a[0]);
      if (!l) return std::unexpected(l.error());
      return Value(go_time_format(t, *l));
    });
    add("String", 0, [](const Time& t, std::span<const Value>) -> Result<Value> {
      return Value(go_format_time(t));
    });
    add("Unix", 0, [](const Time& t, std::span<const Value>) -> Result<Value> {
      return Value(parts(t).sec);
    });
    add("UnixMilli", 0, [](const Time& t, std::span<const Value>) -> Result<Value> {
      const Parts p = parts(t);
      return Value(seconds_to_ms(p.sec) + ns_to_ms(p.nsec));
    });
    add("UnixMicro", 0, [](const Time& t, std::span<const Value>) -> Result<Value> {
      const Parts p = parts(t);
      return Value(p.sec * 1'000'000 + p.nsec / 1000);
    });
    add("UnixNano", 0, [](const Time& t, std::span<const Value>) -> Result<Value> {
      // Go: undefined (wraps) outside int64; the zero time gives -6795364578871345152 in Go.
      const Parts p = parts(t);
      const auto u = static_cast<uint64_t>(p.sec) * static_cast<uint64_t>(kNs) +
                     static_cast<uint64_t>(p.nsec);
      return Value(static_cast<int64_t>(u));
    });
    add("IsZero", 0, [](const Time& t, std::span<const Value>) -> Result<Value> {
      return Value(t.is_zero());
    });
    add("UTC", 0, [](const Time& t, std::span<const Value>) -> Result<Value> {
      Time out = t;
      out.local = false;
      return Value(out);
    });
    add("Local", 0, [](const Time& t, std::span<const Value>) -> Result<Value> {
      Time out = t;
      out.local = true;
      return Value(out);
    });
    add("Add", 1, [](const Time& t, std::span<const Value> a) -> Result<Value> {
      auto d = arg_duration(a[0]);
      if (!d) return std::unexpected(d.error());
      auto r = from_abs(abs_nanos(t) + *d, t.local);
      if (!r) return std::unexpected(r.error());
      return Value(*r);
    });
    add("Sub", 1, [](const Time& t, std::span<const Value> a) -> Result<Value> {
      auto u = arg_time(a[0]);
      if (!u) return std::unexpected(u.error());
      return Value(time_sub(t, *u));
    });
    add("Before", 1, [](const Time& t, std::span<const Value> a) -> Result<Value> {
      auto u = arg_time(a[0]);
      if (!u) return std::unexpected(u.error());
      return Value(abs_nanos(t) < abs_nanos(*u));
    });
    add("After", 1, [](const Time& t, std::span<const Value> a) -> Result<Value> {
      auto u = arg_time(a[0]);
      if (!u) return std::unexpected(u.error());
      return Value(abs_nanos(t) > abs_nanos(*u));
    });
    add("Equal", 1, [](const Time& t, std::span<const Value> a) -> Result<Value> {
      auto u = arg_time(a[0]);
      if (!u) return std::unexpected(u.error());
      return Value(abs_nanos(t) == abs_nanos(*u));
    });
    add("Compare", 1, [](const Time& t, std::span<const Value> a) -> Result<Value> {
      auto u = arg_time(a[0]);
      if (!u) return std::unexpected(u.error());
      const I128 x = abs_nanos(t), y = abs_nanos(*u);
      return Value(int64_t{x < y ? -1 : (x > y ? 1 : 0)});
    });
    // Truncate and Round work on the time since Go's zero time (year 1), not the Unix epoch:
    // the same for units that divide a day, different for e.g. 7 days.
    auto rounder = [](bool round) {
      return [round](const Time& t, std::span<const Value> a) -> Result<Value> {
        auto d = arg_duration(a[0]);
        if (!d) return std::unexpected(d.error());
        if (*d <= 0) return Value(t);
        const I128 abs = abs_nanos(t);
        const I128 r = abs % *d;
        I128 out = abs - r;
        if (round && !(r + r < static_cast<I128>(*d))) out = abs + (*d - r);
        auto x = from_abs(out, t.local);
        if (!x) return std::unexpected(x.error());
        return Value(*x);
      };
    };
    add("Truncate", 1, rounder(false));
    add("Round", 1, rounder(true));
    field("Year", [](const Broken& b) { return b.year; });
    field("Day", [](const Broken& b) -> int64_t { return b.day; });
    field("Hour", [](const Broken& b) -> int64_t { return b.hour; });
    field("Minute", [](const Broken& b) -> int64_t { return b.minute; });
    field("Second", [](const Broken& b) -> int64_t { return b.second; });
    field("Nanosecond", [](const Broken& b) { return b.nanos; });
    field("YearDay", [](const Broken& b) -> int64_t { return b.yday; });
    add("Month", 0, [](const Time& t, std::span<const Value>) -> Result<Value> {
      return Value(int64_t{broken_down(t, zone_of(t)).month}, month_type);
    });
    add("Weekday", 0, [](const Time& t, std::span<const Value>) -> Result<Value> {
      return Value(int64_t{broken_down(t, zone_of(t)).wday}, weekday_type);
    });
    return ti;
  }();
  return kType;
}

const TypeInfo& duration_type() {
  static const TypeInfo kType = [] {
    TypeInfo ti;
    ti.name = "time.Duration";
    using DFn = std::function<Result<Value>(int64_t, std::span<const Value>)>;
    auto add = [&ti](const char* name, size_t nargs, const DFn& f) {
      ti.methods[name] = [name, nargs, f](const Value& self,
                                          std::span<const Value> a) -> Result<Value> {
        if (auto r = want_args(name, a, nargs); !r) return std::unexpected(r.error());
        return f(self.as_duration().nanos, a);
      };
    };
    add("String", 0, [](int64_t d, std::span<const Value>) -> Result<Value> {
      return Value(go_format_duration(Duration{d}));
    });
    // Go splits whole units and the remainder so that large durations keep their precision: the
    // integer divisions are Go's (Duration.Hours/Minutes/Seconds), not a loss of precision.
    // NOLINTBEGIN(bugprone-integer-division)
    add("Hours", 0, [](int64_t d, std::span<const Value>) -> Result<Value> {
      constexpr int64_t h = 3600 * kNs;
      return Value(static_cast<double>(d / h) + static_cast<double>(d % h) / (3600e9));
    });
    add("Minutes", 0, [](int64_t d, std::span<const Value>) -> Result<Value> {
      constexpr int64_t m = 60 * kNs;
      return Value(static_cast<double>(d / m) + static_cast<double>(d % m) / (60e9));
    });
    add("Seconds", 0, [](int64_t d, std::span<const Value>) -> Result<Value> {
      return Value(static_cast<double>(d / kNs) + static_cast<double>(d % kNs) / 1e9);
    });
    // NOLINTEND(bugprone-integer-division)
    add("Milliseconds", 0, [](int64_t d, std::span<const Value>) -> Result<Value> {
      return Value(ns_to_ms(d));
    });
    add("Microseconds", 0, [](int64_t d, std::span<const Value>) -> Result<Value> {
      return Value(d / 1000);
    });
    add("Nanoseconds", 0, [](int64_t d, std::span<const Value>) -> Result<Value> {
      return Value(d);
    });
    add("Abs", 0, [](int64_t d, std::span<const Value>) -> Result<Value> {
      if (d >= 0) return Value(Duration{d});
      if (d == std::numeric_limits<int64_t>::min()) {
        return Value(Duration{std::numeric_limits<int64_t>::max()});
      }
      return Value(Duration{-d});
    });
    add("Truncate", 1, [](int64_t d, std::span<const Value> a) -> Result<Value> {
      auto m = arg_duration(a[0]);
      if (!m) return std::unexpected(m.error());
      if (*m <= 0) return Value(Duration{d});
      return Value(Duration{d - d % *m});
    });
    add("Round", 1, [](int64_t d, std::span<const Value> a) -> Result<Value> {
      // time.Duration.Round: halfway values round away from zero; saturates on overflow.
      auto mm = arg_duration(a[0]);
      if (!mm) return std::unexpected(mm.error());
      const int64_t m = *mm;
      if (m <= 0) return Value(Duration{d});
      const auto half = [m](int64_t r) {
        return static_cast<uint64_t>(r) + static_cast<uint64_t>(r) < static_cast<uint64_t>(m);
      };
      int64_t r = d % m;
      if (d < 0) {
        r = -r;
        if (half(r)) return Value(Duration{d + r});
        const I128 d1 = static_cast<I128>(d) - m + r;
        if (d1 >= std::numeric_limits<int64_t>::min()) {
          return Value(Duration{static_cast<int64_t>(d1)});
        }
        return Value(Duration{std::numeric_limits<int64_t>::min()});
      }
      if (half(r)) return Value(Duration{d - r});
      const I128 d1 = static_cast<I128>(d) + m - r;
      if (d1 <= std::numeric_limits<int64_t>::max()) {
        return Value(Duration{static_cast<int64_t>(d1)});
      }
      return Value(Duration{std::numeric_limits<int64_t>::max()});
    });
    return ti;
  }();
  return kType;
}

}  // namespace ruleeval::tmpl
