// Alertmanager's time intervals (timeinterval/timeinterval.go): named sets of
// {times, weekdays, days_of_month, months, years, location} used by routes'
// mute_time_intervals / active_time_intervals. Time zones come from the system tz database
// (Debian's tzdata, /usr/share/zoneinfo), read when the config loads.
// Thread-safety: every type here is immutable after construction; contains() may be called from
// any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ruleeval/common/error.hpp"

namespace ruleeval::notifiers {

// A zone's UTC offsets from a TZif file (version 1 data or the 64-bit version 2+ block).
class TimeZone {
 public:
  static Result<std::shared_ptr<const TimeZone>> load(const std::string& name);
  // Seconds east of UTC at the Unix time `t` (seconds).
  int64_t offset_at(int64_t t) const;

 private:
  std::vector<int64_t> transitions_;  // ascending Unix times
  std::vector<int32_t> offsets_;      // offset in effect from transitions_[i]
  int32_t initial_offset_ = 0;        // before the first transition
};

struct TimeInterval {
  struct Range {
    int begin = 0, end = 0;  // inclusive (times: start minute, end minute exclusive)
  };
  // nullopt = not constrained (Go's nil slice); an empty list matches nothing, as in Go.
  std::optional<std::vector<Range>> times, weekdays, days_of_month, months, years;
  std::shared_ptr<const TimeZone> location;  // null = UTC

  // ContainsTime(t.UTC()) converted to `location`.
  bool contains(int64_t unix_ms) const;
};

using TimeIntervals = std::map<std::string, std::vector<TimeInterval>>;

// True when unix_ms lies in any interval of any of `names` (unknown names are skipped; the
// config loader rejects them).
bool in_time_intervals(const TimeIntervals& defs, const std::vector<std::string>& names,
                       int64_t unix_ms);

}  // namespace ruleeval::notifiers
