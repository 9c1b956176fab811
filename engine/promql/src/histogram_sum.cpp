// Prometheus's histogram sum and mean (engine.go aggregation, functions.go sum/avg_over_time).
#include "histogram_sum.hpp"

namespace ruleeval::engine::detail {

bool HistogramSum::add(const FloatHistogram& h, bool& reconciled) {
  count_ += 1;
  if (!value_) {
    value_ = std::make_shared<FloatHistogram>(h);
    return true;
  }
  if (!mean_) return histogram_kahan_add(*value_, h, c_, &reconciled).has_value();
  if (!incremental_) {
    auto v = std::make_shared<FloatHistogram>(*value_);
    auto c = c_ ? std::make_shared<FloatHistogram>(*c_) : nullptr;
    if (!histogram_kahan_add(*v, h, c, &reconciled)) return false;
    if (!histogram_has_overflow(*v)) {
      value_ = std::move(v);
      c_ = std::move(c);
      return true;
    }
    // The sum would overflow: from here on, an incremental mean.
    incremental_ = true;
    histogram_scale(*value_, count_ - 1, true);
    if (c_) histogram_scale(*c_, count_ - 1, true);
  }
  double q = (count_ - 1) / count_;
  if (c_) histogram_scale(*c_, q, false);
  FloatHistogram to_add = h;
  histogram_scale(to_add, count_, true);
  histogram_scale(*value_, q, false);
  return histogram_kahan_add(*value_, to_add, c_, &reconciled).has_value();
}

std::shared_ptr<FloatHistogram> HistogramSum::result() const {
  if (!value_) return nullptr;
  auto out = std::make_shared<FloatHistogram>(*value_);
  if (mean_ && !incremental_) {
    histogram_scale(*out, count_, true);
    if (c_) {
      FloatHistogram c = *c_;
      histogram_scale(c, count_, true);
      (void)histogram_add(*out, c);
    }
  } else if (c_) {
    (void)histogram_add(*out, *c_);
  }
  histogram_compact(*out);
  return out;
}

}  // namespace ruleeval::engine::detail
