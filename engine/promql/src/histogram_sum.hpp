// Prometheus's sum and mean of native histograms (aggregations sum/avg, sum_over_time,
// avg_over_time): FloatHistogram.KahanAdd with a compensation histogram; the mean is the
// direct sum divided by the count until the sum overflows, then an incremental mean.
#pragma once

#include <memory>

#include "ruleeval/engine/histogram.hpp"

namespace ruleeval::engine::detail {

class HistogramSum {
 public:
  explicit HistogramSum(bool mean) : mean_(mean) {}
  // Adds h; false when h cannot be added (a mix of exponential and custom buckets).
  // `reconciled` is set when custom bucket bounds had to be reconciled.
  bool add(const FloatHistogram& h, bool& reconciled);
  bool empty() const { return !value_; }
  bool custom() const { return value_ && value_->uses_custom_buckets(); }
  // The compensated sum (or mean), compacted.
  std::shared_ptr<FloatHistogram> result() const;

 private:
  bool mean_;
  bool incremental_ = false;
  double count_ = 0;
  std::shared_ptr<FloatHistogram> value_;  // the running sum, or the mean once incremental
  std::shared_ptr<FloatHistogram> c_;      // Kahan compensation, null until the first add
};

}  // namespace ruleeval::engine::detail
