#include "ruleeval/common/time_format.hpp"

#include <chrono>
#include <cstdio>

namespace ruleeval {

std::string format_rfc3339_ms(int64_t unix_ms, Rfc3339Fraction fraction) {
  using namespace std::chrono;
  const sys_time<milliseconds> tp{milliseconds{unix_ms}};
  const auto day = floor<days>(tp);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> hms{tp - day};
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d",
                        static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                        static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                        static_cast<int>(hms.minutes().count()),
                        static_cast<int>(hms.seconds().count()));
  std::string out(buf, static_cast<size_t>(n));
  const auto ms = static_cast<int>(hms.subseconds().count());
  if (fraction == Rfc3339Fraction::kMillis || ms != 0) {
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03d", ms);
    std::string f = frac;
    if (fraction == Rfc3339Fraction::kTrimmed) {
      while (f.back() == '0') f.pop_back();
    }
    out += f;
  }
  return out + "Z";
}

}  // namespace ruleeval
