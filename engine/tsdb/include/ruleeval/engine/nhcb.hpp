// Classic histograms to native histograms with custom buckets (NHCB), as Prometheus's convertnhcb
// and promqltest's `load_with_nhcb` do: the float series `x_bucket{le=...}`, `x_count` and `x_sum`
// with the same other labels become one histogram series `x` (without `le`), one histogram per
// timestamp. Not synchronised.
#pragma once

#include <map>
#include <unordered_map>
#include <vector>

#include "ruleeval/common/error.hpp"
#include "ruleeval/common/labels.hpp"
#include "ruleeval/engine/storage.hpp"

namespace ruleeval::engine {

class NhcbConverter {
 public:
  // Feeds one float sample; samples of series not named *_bucket, *_count or *_sum are ignored,
  // as are buckets whose `le` is not a number.
  void add(const Labels& metric, Millis t, double v);
  // Appends the converted histograms. An error (naming the series) for counts that are negative,
  // not cumulative, or do not match the +Inf bucket.
  Result<void> append_to(Storage& storage) const;

 private:
  struct Bucket {
    double le;
    double count;
  };
  struct Temp {
    std::vector<Bucket> buckets;
    double count = 0, sum = 0;
    bool has_count = false;
    std::string err;
  };
  struct Series {
    Labels metric;
    std::map<Millis, Temp> by_t;
  };
  std::unordered_map<uint64_t, Series> series_;
};

}  // namespace ruleeval::engine
