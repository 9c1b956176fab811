// Millis, the project's one time unit (Unix milliseconds, or a duration in milliseconds, as
// Prometheus's int64 timestamps), and the named conversions to and from nanoseconds, seconds and
// std::chrono clocks. Each helper is exactly the arithmetic it names (C++ integer division truncates
// toward zero unless the name says floor), so a call site behaves as the expression it replaces.
// Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>

namespace ruleeval {

using Millis = int64_t;

inline constexpr int64_t kNanosPerMilli = 1'000'000;
inline constexpr int64_t kMillisPerSecond = 1000;

// Milliseconds <-> nanoseconds (Go's time.Duration and time.Time are nanoseconds).
constexpr int64_t ms_to_ns(Millis ms) { return ms * kNanosPerMilli; }
constexpr Millis ns_to_ms(int64_t ns) { return ns / kNanosPerMilli; }  // truncates toward zero

// Milliseconds <-> seconds. ms_to_seconds is Prometheus's float64(t) / 1000 (time(), timestamp(),
// rate's extrapolation); seconds_to_ms_rounded is its float seconds to milliseconds (the `@`
// modifier, API times): math.Round(s * 1000).
constexpr double ms_to_seconds(Millis ms) { return static_cast<double>(ms) / 1000.0; }
constexpr Millis seconds_to_ms(int64_t s) { return s * kMillisPerSecond; }
inline Millis seconds_to_ms_rounded(double s) { return std::llround(s * 1000.0); }
// Whole seconds, rounded toward minus infinity (Go's Time.Unix() of a time before 1970).
constexpr int64_t floor_seconds(Millis ms) {
  return ms / kMillisPerSecond - (ms % kMillisPerSecond < 0 ? 1 : 0);
}
// Whole seconds, truncated toward zero (C++'s ms / 1000).
constexpr int64_t trunc_seconds(Millis ms) { return ms / kMillisPerSecond; }

// A std::chrono time point (any clock) in milliseconds since the clock's epoch.
template <class Clock, class Duration>
constexpr Millis to_millis(std::chrono::time_point<Clock, Duration> t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace ruleeval
