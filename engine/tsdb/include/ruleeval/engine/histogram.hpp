// Native histograms (Prometheus's FloatHistogram), as far as the embedded store and the test
// runners need them: the value type, addition/subtraction (for the `{{a}}+{{b}}xN` expanding
// notation), counter-reset detection (for the read-back counter-reset hints of the store), and
// the canonical `{{...}}` text form promtool compares (promqltest.HistogramTestExpression).
//
// Buckets are kept as one dense span per side: `positive_offset` is the index of the first
// positive bucket, `positive_buckets[i]` the count of bucket positive_offset+i (likewise for the
// negative side). Gaps are explicit zeros. PromQL functions over histograms are not provided.
// Plain data; no thread-safety concerns.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ruleeval/common/error.hpp"

namespace ruleeval::engine {

enum class CounterResetHint : uint8_t { kUnknown, kReset, kNotReset, kGauge };

// Schema of histograms with custom bucket boundaries (NHCB).
inline constexpr int32_t kCustomBucketsSchema = -53;

struct FloatHistogram {
  CounterResetHint hint = CounterResetHint::kUnknown;
  int32_t schema = 0;
  double zero_threshold = 0;
  double zero_count = 0;
  double count = 0;
  double sum = 0;
  int32_t positive_offset = 0;
  std::vector<double> positive_buckets{};
  int32_t negative_offset = 0;
  std::vector<double> negative_buckets{};
  std::vector<double> custom_values{};  // upper bounds, custom-buckets schema only

  bool uses_custom_buckets() const { return schema == kCustomBucketsSchema; }
  // Bitwise equality of every field (like Prometheus's Equals, plus the hint).
  friend bool operator==(const FloatHistogram&, const FloatHistogram&) = default;
};

using HistogramPtr = std::shared_ptr<const FloatHistogram>;

// h += other (or h -= other), as Prometheus's FloatHistogram.Add / Sub: the lower schema wins
// (the other histogram's buckets are merged to it), the wider zero bucket wins, hints combine as
// adjustCounterReset does for Add and Sub alike (*collision set when a reset meets a not-reset).
// Custom-bucket histograms with different bounds are reconciled to the bounds both have
// (*reconciled set), as Prometheus 3 does. Errors: a mix of exponential and custom buckets, or a
// bucket range too wide to hold.
Result<void> histogram_add(FloatHistogram& h, const FloatHistogram& other, bool subtract = false,
                           bool* reconciled = nullptr, bool* collision = nullptr);

// One Kahan-Babuska (Neumaier) summation step, as Go's kahansum.Inc and Prometheus's
// kahanSumInc: sum += inc, the lost low-order bits kept in c (reset when the sum overflows).
inline void kahan_inc(double inc, double& sum, double& c) {
  double t = sum + inc;
  if (std::isinf(t)) {
    c = 0;
  } else if (std::fabs(sum) >= std::fabs(inc)) {
    c += (sum - t) + inc;
  } else {
    c += (inc - t) + sum;
  }
  sum = t;
}

// h += other as Prometheus's FloatHistogram.KahanAdd: count, sum, zero count and every bucket
// summed with Kahan compensation, the compensation terms kept in `c` (null at first: created
// with h's hint and layout). The compensated result is h + c (histogram_add) once every term is
// in. A zero bucket widened during the sum takes the buckets it covers and their compensations
// with Kahan steps (reconcileZeroBuckets); custom bounds that differ are reconciled with one
// Kahan sum per common bucket, h's compensations folded in (addCustomBucketsWithMismatches).
Result<void> histogram_kahan_add(FloatHistogram& h, const FloatHistogram& other,
                                 std::shared_ptr<FloatHistogram>& c, bool* reconciled = nullptr);
// Prometheus's HasOverflow: any count, sum, bucket or bound infinite.
bool histogram_has_overflow(const FloatHistogram& h);

// Prometheus's DetectReset: does `cur` (following `prev`) start with a counter reset?
bool histogram_detect_reset(const FloatHistogram& cur, const FloatHistogram& prev);

// One bucket of a histogram, as Prometheus's Bucket: bounds and count.
struct HistogramBucket {
  double lower = 0, upper = 0, count = 0;
};
// Every bucket in ascending order of value, as AllBucketIterator: negative buckets, the zero
// bucket (if its count is positive), positive buckets; bucket bounds inside the zero bucket are
// clamped to it. Custom buckets run from -Inf to the first bound, ..., last bound to +Inf.
std::vector<HistogramBucket> histogram_buckets(const FloatHistogram& h);

// Prometheus's FloatHistogram.String(), e.g. `{count:4, sum:6, [-2,-1):1, (0.5,1]:3}` (the
// value label count_values gives a histogram).
std::string histogram_string(const FloatHistogram& h);

// Lowers the resolution of an exponential histogram to `schema` (CopyToSchema); a no-op for
// custom buckets or a schema that is not lower.
void histogram_to_schema(FloatHistogram& h, int32_t schema);

// h * factor, or h / factor (Prometheus's Mul and Div): a negative factor makes the result a
// gauge; division by zero drops every bucket.
void histogram_scale(FloatHistogram& h, double factor, bool divide);

// Prometheus's Equals on compacted histograms: schema, custom bounds, zero bucket and every count
// bit for bit; the counter-reset hint is not compared.
bool histogram_equals(const FloatHistogram& a, const FloatHistogram& b);

// Drops empty buckets at both ends of each side (Compact(math.MaxInt) for a single span).
void histogram_compact(FloatHistogram& h);

// The canonical test expression, e.g. `{{schema:1 count:4 sum:5.6 counter_reset_hint:not_reset
// offset:-3 buckets:[4 1]}}`: fields in Prometheus's order, zero fields omitted, numbers as Go's
// %g, buckets compacted to one span per side.
std::string histogram_test_expression(const FloatHistogram& h);

// Go's fmt %g for a float64 (shortest representation, exponent form below 1e-4 and from 1e6).
std::string go_format_g(double v);

}  // namespace ruleeval::engine
