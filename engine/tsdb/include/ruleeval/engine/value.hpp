// Query values: scalars, instant vectors, range vectors (matrices) and strings, plus the
// annotations (warnings and infos) a query may carry. Plain data; no thread-safety concerns.
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "ruleeval/common/labels.hpp"
#include "ruleeval/common/millis.hpp"
#include "ruleeval/engine/histogram.hpp"

namespace ruleeval::engine {

// Prometheus's staleness marker: a NaN with a distinctive bit pattern.
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;
inline double stale_nan() { return std::bit_cast<double>(kStaleNaNBits); }
inline bool is_stale_nan(double v) { return std::bit_cast<uint64_t>(v) == kStaleNaNBits; }

// The float value stored (and carried in Sample::v) where a sample is a native histogram; the
// histogram itself lives beside it (Storage's side array, Sample::h). Float functions and
// operators never see it: histogram samples are dropped before them.
inline constexpr uint64_t kHistogramMarkerBits = 0x7ff0000000000003ULL;
inline double histogram_marker() { return std::bit_cast<double>(kHistogramMarkerBits); }
inline bool is_histogram_marker(double v) {
  return std::bit_cast<uint64_t>(v) == kHistogramMarkerBits;
}

struct FPoint {
  Millis t = 0;
  double v = 0;
};

// A native-histogram point of a range vector or range-query result.
struct HPoint {
  Millis t = 0;
  HistogramPtr h;
};

// One element of an instant vector.
struct Sample {
  Labels metric;
  double v = 0;  // histogram_marker() when h is set
  Millis t = 0;
  // Prometheus 3 delayed __name__ removal: the name is dropped when the query finishes.
  bool drop_name = false;
  HistogramPtr h = nullptr;  // set for a native-histogram sample
};
using Vector = std::vector<Sample>;

// One series of a range vector (or of a range query's result).
// Like Prometheus's Series, floats and histograms are kept apart, each sorted by time; a
// timestamp appears in at most one of them.
struct Series {
  Labels metric;
  std::vector<FPoint> points;
  bool drop_name = false;
  std::vector<HPoint> histograms{};
};
using Matrix = std::vector<Series>;

struct Scalar {
  double v = 0;
  Millis t = 0;
};

struct String {
  std::string v;
  Millis t = 0;
};

using Value = std::variant<Scalar, Vector, Matrix, String>;

struct QueryResult {
  Value value;
  std::vector<std::string> warnings;  // "PromQL warning: ..."
  std::vector<std::string> infos;     // "PromQL info: ..."
};

// Prometheus's text form of a value, one series per line (for CLIs and test failure output).
std::string to_string(const Value& v);

}  // namespace ruleeval::engine
