#include "ruleeval/notifiers/timeinterval.hpp"

#include <algorithm>

#include "ruleeval/common/env.hpp"

#include "ruleeval/common/millis.hpp"

namespace ruleeval::notifiers {

namespace {

int64_t be(const unsigned char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  if (n == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
void civil(int64_t z, int& y, int& m, int& d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t yy = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(yy + (m <= 2));
}

int days_in_month(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

bool in_ranges(const std::optional<std::vector<TimeInterval::Range>>& rs, int v) {
  if (!rs) return true;
  for (const auto& r : *rs) {
    if (v >= r.begin && v <= r.end) return true;
  }
  return false;
}

}  // namespace

Result<std::shared_ptr<const TimeZone>> TimeZone::load(const std::string& name) {
  auto tz = std::make_shared<TimeZone>();
  if (name.empty() || name == "UTC") return std::shared_ptr<const TimeZone>(tz);
  if (name.find("..") != std::string::npos || name[0] == '/') {
    return make_error("unknown time zone " + name);
  }
  std::string path = "/usr/share/zoneinfo/" + name;
  if (name == "Local") path = "/etc/localtime";
  auto text = Env::Default()->read_file(path, 16u << 20);
  if (!text) return make_error("unknown time zone " + name);
  std::vector<unsigned char> d(text->begin(), text->end());
  auto bad = [&] { return make_error("time zone " + name + ": not a TZif file (" + path + ")"); };
  if (d.size() < 44 || d[0] != 'T' || d[1] != 'Z' || d[2] != 'i' || d[3] != 'f') return bad();
  auto parse = [&](size_t off, int tsize, size_t& end) -> bool {
    if (off + 44 > d.size()) return false;
    const unsigned char* h = d.data() + off + 20;
    int64_t isutcnt = be(h, 4), isstdcnt = be(h + 4, 4), leapcnt = be(h + 8, 4),
            timecnt = be(h + 12, 4), typecnt = be(h + 16, 4), charcnt = be(h + 20, 4);
    if (timecnt < 0 || typecnt <= 0 || typecnt > 256 || charcnt < 0 || leapcnt < 0 ||
        isutcnt < 0 || isstdcnt < 0 || timecnt > 100000) {
      return false;
    }
    size_t p = off + 44;
    size_t need = static_cast<size_t>(timecnt * tsize + timecnt + typecnt * 6 + charcnt +
                                      leapcnt * (tsize + 4) + isstdcnt + isutcnt);
    if (p + need > d.size()) return false;
    std::vector<int64_t> times(static_cast<size_t>(timecnt));
    for (auto& t : times) {
      t = be(d.data() + p, tsize);
      p += static_cast<size_t>(tsize);
    }
    std::vector<int> idx(static_cast<size_t>(timecnt));
    for (auto& i : idx) i = d[p++];
    std::vector<int32_t> type_off(static_cast<size_t>(typecnt));
    std::vector<bool> type_dst(static_cast<size_t>(typecnt));
    for (int64_t i = 0; i < typecnt; ++i) {
      type_off[static_cast<size_t>(i)] = static_cast<int32_t>(be(d.data() + p, 4));
      type_dst[static_cast<size_t>(i)] = d[p + 4] != 0;
      p += 6;
    }
    end = p + static_cast<size_t>(charcnt + leapcnt * (tsize + 4) + isstdcnt + isutcnt);
    tz->transitions_.clear();
    tz->offsets_.clear();
    for (size_t i = 0; i < times.size(); ++i) {
      if (idx[i] >= typecnt) return false;
      tz->transitions_.push_back(times[i]);
      tz->offsets_.push_back(type_off[static_cast<size_t>(idx[i])]);
    }
    // Go's rule for times before the first transition: the first standard-time type.
    tz->initial_offset_ = type_off[0];
    for (int64_t i = 0; i < typecnt; ++i) {
      if (!type_dst[static_cast<size_t>(i)]) {
        tz->initial_offset_ = type_off[static_cast<size_t>(i)];
        break;
      }
    }
    return true;
  };
  size_t end = 0;
  if (!parse(0, 4, end)) return bad();
  if (d[4] >= '2') {
    size_t end2 = 0;
    if (!parse(end, 8, end2)) return bad();
  }
  return std::shared_ptr<const TimeZone>(tz);
}

int64_t TimeZone::offset_at(int64_t t) const {
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  if (it == transitions_.begin()) return initial_offset_;
  return offsets_[static_cast<size_t>(it - transitions_.begin() - 1)];
}

bool TimeInterval::contains(int64_t unix_ms) const {
  int64_t secs = floor_seconds(unix_ms);
  if (location) secs += location->offset_at(secs);
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t sod = secs - days * 86400;
  int minute = static_cast<int>(sod / 60);
  int y = 0, m = 0, dd = 0;
  civil(days, y, m, dd);
  int weekday = static_cast<int>(((days % 7) + 7 + 4) % 7);  // 1970-01-01 was a Thursday
  if (times) {
    bool in = false;
    for (const auto& r : *times) in = in || (minute >= r.begin && minute < r.end);
    if (!in) return false;
  }
  if (days_of_month) {
    bool in = false;
    int dim = days_in_month(y, m);
    for (const auto& r : *days_of_month) {
      int begin = r.begin < 0 ? dim + r.begin + 1 : r.begin;
      int end = r.end < 0 ? dim + r.end + 1 : r.end;
      if (begin > dim) continue;  // the range starts after this month's end
      begin = std::clamp(begin, -dim, dim);
      end = std::clamp(end, -dim, dim);
      if (dd >= begin && dd <= end) {
        in = true;
        break;
      }
    }
    if (!in) return false;
  }
  if (!in_ranges(months, m)) return false;
  if (!in_ranges(weekdays, weekday)) return false;
  if (!in_ranges(years, y)) return false;
  return true;
}

bool in_time_intervals(const TimeIntervals& defs, const std::vector<std::string>& names,
                       int64_t unix_ms) {
  for (const auto& n : names) {
    auto it = defs.find(n);
    if (it == defs.end()) continue;
    for (const auto& ti : it->second) {
      if (ti.contains(unix_ms)) return true;
    }
  }
  return false;
}

}  // namespace ruleeval::notifiers
