#include "ruleeval/engine/histogram.hpp"

#include "ruleeval/common/go_format.hpp"
#include "exponential_bounds.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <array>
#include <climits>
#include <cmath>
#include <limits>
#include <iterator>
#include <map>
#include <tuple>
#include <vector>

namespace ruleeval::engine {
namespace {

// Largest dense bucket range a sum may produce (guards against offsets far apart).
constexpr int64_t kMaxBuckets = 1 << 20;

// Upper bound of exponential bucket `idx` at `schema`: 2^(idx * 2^-schema), as Prometheus's
// getBoundExponential computes it (table fraction times a power of two; the last finite bucket
// ends at MaxFloat64).
double bucket_upper(int64_t idx, int32_t schema) {
  schema = std::clamp(schema, -4, 8);  // exponential schemas only (the parser enforces this)
  if (schema <= 0) {
    int64_t exp = idx << -schema;
    if (exp == 1024) return std::numeric_limits<double>::max();
    return std::ldexp(1.0, static_cast<int>(std::clamp<int64_t>(exp, -2000, 2000)));
  }
  int64_t frac_idx = idx & ((int64_t{1} << schema) - 1);
  // Prometheus's own table, not 2^x rounded here: 341 of its 511 fractions differ from the
  // correctly rounded value in the last bit, and the bounds must match Prometheus's.
  double frac = detail::kExponentialBounds[static_cast<size_t>(schema)][static_cast<size_t>(frac_idx)];
  int64_t exp = (idx >> schema) + 1;
  if (frac == 0.5 && exp == 1025) return std::numeric_limits<double>::max();
  return std::ldexp(frac, static_cast<int>(std::clamp<int64_t>(exp, -2000, 2000)));
}

using BucketMap = std::map<int64_t, double>;

BucketMap to_map(int32_t offset, const std::vector<double>& buckets) {
  BucketMap m;
  for (size_t i = 0; i < buckets.size(); ++i) m[offset + static_cast<int64_t>(i)] += buckets[i];
  return m;
}

// Merges bucket indexes from `from` to the lower-resolution `to` schema.
BucketMap reduce_resolution(const BucketMap& in, int32_t from, int32_t to) {
  if (from <= to) return in;
  BucketMap out;
  int shift = from - to;
  for (const auto& [idx, c] : in) out[((idx - 1) >> shift) + 1] += c;
  return out;
}

Result<void> from_map(const BucketMap& m, int32_t& offset, std::vector<double>& buckets) {
  buckets.clear();
  offset = 0;
  if (m.empty()) return {};
  int64_t lo = m.begin()->first, hi = m.rbegin()->first;
  if (hi - lo + 1 > kMaxBuckets) return make_error("histogram buckets span too wide");
  if (lo < INT32_MIN || lo > INT32_MAX) return make_error("histogram bucket index out of range");
  offset = static_cast<int32_t>(lo);
  buckets.assign(static_cast<size_t>(hi - lo + 1), 0.0);
  for (const auto& [idx, c] : m) buckets[static_cast<size_t>(idx - lo)] = c;
  return {};
}

// Count of bucket `idx` in a dense side (0 outside it): a compensation histogram's buckets
// share the layout of the histogram they compensate.
double bucket_at(int32_t offset, const std::vector<double>& b, int64_t idx) {
  int64_t i = idx - offset;
  return i >= 0 && i < static_cast<int64_t>(b.size()) ? b[static_cast<size_t>(i)] : 0.0;
}

struct ZeroWidening {
  double count;      // the zero count with the buckets below the threshold folded in
  double threshold;  // the threshold actually needed
  double c_count;    // its Kahan compensation
};

// Prometheus's zeroCountForLargerThreshold: the zero count of `h` if its zero bucket were widened
// to `threshold`, and the threshold actually needed (widened to the upper bound of a populated
// bucket the requested threshold falls into). Each bucket taken in, and then its compensation
// from `c` (nullable, h's layout), is added with a Kahan step; the compensation starts at c's
// zero-bucket compensation and, as in Prometheus, is not reset when a populated negative bucket
// restarts the walk. Positive buckets first, then negative ones, in ascending absolute value.
ZeroWidening zero_count_for(const FloatHistogram& h, double threshold,
                            const FloatHistogram* c = nullptr) {
  double c_zero = c ? c->zero_count : 0.0;
  // Custom-bucket histograms have no zero bucket to widen.
  if (threshold == h.zero_threshold || h.uses_custom_buckets()) {
    return {h.zero_count, threshold, c_zero};
  }
  while (true) {
    double count = h.zero_count;
    for (size_t i = 0; i < h.positive_buckets.size(); ++i) {
      int64_t idx = h.positive_offset + static_cast<int64_t>(i);
      double lower = bucket_upper(idx - 1, h.schema), upper = bucket_upper(idx, h.schema);
      if (lower >= threshold) break;
      double n = h.positive_buckets[i];
      kahan_inc(n, count, c_zero);
      if (c) kahan_inc(bucket_at(c->positive_offset, c->positive_buckets, idx), count, c_zero);
      if (upper > threshold) {
        if (n != 0) threshold = upper;  // no restart: the negative side sees the new threshold
        break;
      }
    }
    bool restart = false;
    for (size_t i = 0; i < h.negative_buckets.size(); ++i) {
      int64_t idx = h.negative_offset + static_cast<int64_t>(i);
      double lower = bucket_upper(idx - 1, h.schema), upper = bucket_upper(idx, h.schema);
      if (lower >= threshold) break;  // b.Upper <= -threshold
      double n = h.negative_buckets[i];
      kahan_inc(n, count, c_zero);
      if (c) kahan_inc(bucket_at(c->negative_offset, c->negative_buckets, idx), count, c_zero);
      if (upper > threshold) {  // b.Lower < -threshold
        if (n != 0) {
          threshold = upper;
          restart = true;
        }
        break;
      }
    }
    if (!restart) return {count, threshold, c_zero};
  }
}

// Prometheus's trimBucketsInZeroBucket: zeroes every bucket whose lower bound lies inside the
// zero bucket (in h and in its compensation c, if any); their counts are in the zero count.
void trim_zero_range(FloatHistogram& h, FloatHistogram* c = nullptr) {
  for (int side = 0; side < 2; ++side) {
    int32_t off = side == 0 ? h.positive_offset : h.negative_offset;
    auto& b = side == 0 ? h.positive_buckets : h.negative_buckets;
    for (size_t i = 0; i < b.size(); ++i) {
      int64_t idx = off + static_cast<int64_t>(i);
      if (bucket_upper(idx - 1, h.schema) >= h.zero_threshold) break;
      b[i] = 0;
      if (c) {
        int32_t coff = side == 0 ? c->positive_offset : c->negative_offset;
        auto& cb = side == 0 ? c->positive_buckets : c->negative_buckets;
        int64_t ci = idx - coff;
        if (ci >= 0 && ci < static_cast<int64_t>(cb.size())) cb[static_cast<size_t>(ci)] = 0;
      }
    }
  }
}

// Prometheus's reconcileZeroBuckets: widens the narrower zero bucket (h's, or other's as seen
// by h) until both thresholds agree. Returns other's zero count at that threshold and its
// compensation; h's zero count and, if c is given, c's zero count follow the widening.
std::pair<double, double> reconcile_zero_buckets(FloatHistogram& h, const FloatHistogram& other,
                                                 FloatHistogram* c) {
  double other_zero = other.zero_count, other_thr = other.zero_threshold, other_c_zero = 0;
  while (other_thr != h.zero_threshold) {
    if (h.zero_threshold > other_thr) {
      auto w = zero_count_for(other, h.zero_threshold);
      other_zero = w.count;
      other_thr = w.threshold;
      other_c_zero = w.c_count;
    }
    if (other_thr > h.zero_threshold) {
      auto w = zero_count_for(h, other_thr, c);
      h.zero_count = w.count;
      h.zero_threshold = w.threshold;
      if (c) {
        c->zero_count = w.c_count;
        c->zero_threshold = w.threshold;
      }
      trim_zero_range(h, c);
    }
  }
  return {other_zero, other_c_zero};
}

void trim_side(int32_t& offset, std::vector<double>& b) {
  size_t first = 0;
  while (first < b.size() && b[first] == 0) ++first;
  if (first == b.size()) {
    b.clear();
    offset = 0;
    return;
  }
  size_t last = b.size();
  while (b[last - 1] == 0) --last;
  b.erase(b.begin() + static_cast<std::ptrdiff_t>(last), b.end());
  b.erase(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(first));
  offset += static_cast<int32_t>(first);
}

bool buckets_match(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

}  // namespace

namespace {

// Prometheus's intersectCustomBucketBounds: the bounds both histograms have.
std::vector<double> intersect_bounds(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> out;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] == b[j]) {
      out.push_back(a[i]);
      ++i;
      ++j;
    } else if (a[i] < b[j]) {
      ++i;
    } else {
      ++j;
    }
  }
  return out;
}

// Prometheus's addCustomBucketsWithMismatches: h (+ or -) other for custom-bucket histograms
// with different bounds. Every bucket of h, then every bucket of other, goes to the bucket of
// the smallest common bound at or above its own upper bound (+Inf last) with a Kahan step into
// fresh targets; h's compensation buckets (if c) follow each of h's buckets into the same
// target. The target compensations become c's buckets. Targets with a zero value and a zero
// compensation are dropped.
void add_mismatched_custom(FloatHistogram& h, const FloatHistogram& other, bool negative,
                           FloatHistogram* c) {
  std::vector<double> common = intersect_bounds(h.custom_values, other.custom_values);
  std::vector<double> t(common.size() + 1, 0.0), ct(common.size() + 1, 0.0);
  auto map = [&](const FloatHistogram& src, bool neg, const FloatHistogram* comp) {
    size_t inter = 0;
    for (size_t i = 0; i < src.positive_buckets.size(); ++i) {
      int64_t idx = std::max<int64_t>(0, src.positive_offset) + static_cast<int64_t>(i);
      size_t target = t.size() - 1;
      if (idx < static_cast<int64_t>(src.custom_values.size())) {
        double bound = src.custom_values[static_cast<size_t>(idx)];
        for (; inter < common.size(); ++inter) {
          if (common[inter] >= bound) {
            target = inter;
            break;
          }
        }
      }
      double v = src.positive_buckets[i];
      kahan_inc(neg ? -v : v, t[target], ct[target]);
      if (!neg && comp) {
        kahan_inc(bucket_at(comp->positive_offset, comp->positive_buckets, idx), t[target],
                   ct[target]);
      }
    }
  };
  map(h, false, c);
  map(other, negative, nullptr);
  size_t first = 0, last = t.size();
  while (first < last && t[first] == 0 && ct[first] == 0) ++first;
  while (last > first && t[last - 1] == 0 && ct[last - 1] == 0) --last;
  auto begin = static_cast<std::ptrdiff_t>(first), end = static_cast<std::ptrdiff_t>(last);
  h.positive_offset = first < last ? static_cast<int32_t>(first) : 0;
  h.positive_buckets.assign(t.begin() + begin, t.begin() + end);
  h.custom_values = common;
  if (c) {
    c->positive_offset = h.positive_offset;
    c->positive_buckets.assign(ct.begin() + begin, ct.begin() + end);
    c->custom_values = common;
  }
}

}  // namespace

Result<void> histogram_add(FloatHistogram& h, const FloatHistogram& other_in, bool subtract,
                           bool* reconciled, bool* collision) {
  if (h.uses_custom_buckets() != other_in.uses_custom_buckets()) {
    return make_error(
        "cannot apply this operation on histograms with a mix of exponential and custom bucket "
        "schemas");
  }
  const FloatHistogram& other = other_in;
  // adjustCounterReset, for Sub as for Add.
  using H = CounterResetHint;
  if (other.hint != h.hint) {
    if (h.hint == H::kGauge) {
      // stays a gauge
    } else if (other.hint == H::kGauge) {
      h.hint = H::kGauge;
    } else {
      // Reset against not-reset is a collision; with an unknown hint, the result is unknown.
      if (collision && h.hint != H::kUnknown && other.hint != H::kUnknown) *collision = true;
      h.hint = H::kUnknown;
    }
  }
  double sign = subtract ? -1 : 1;
  double threshold = 0;
  if (!h.uses_custom_buckets()) {
    double other_zero = reconcile_zero_buckets(h, other, nullptr).first;
    h.zero_count += sign * other_zero;
    threshold = h.zero_threshold;
  }
  h.count += sign * other.count;
  h.sum += sign * other.sum;
  if (h.uses_custom_buckets() && !buckets_match(h.custom_values, other.custom_values)) {
    // Prometheus 3 reconciles different custom bounds to the bounds both have.
    add_mismatched_custom(h, other, subtract, nullptr);
    if (reconciled) *reconciled = true;
    return {};
  }

  int32_t schema = h.uses_custom_buckets() ? h.schema : std::min(h.schema, other.schema);
  auto merge = [&](int32_t& off, std::vector<double>& mine, int32_t ooff,
                   const std::vector<double>& theirs) -> Result<void> {
    BucketMap a = reduce_resolution(to_map(off, mine), h.schema, schema);
    BucketMap b = reduce_resolution(to_map(ooff, theirs), other.schema, schema);
    for (const auto& [idx, c] : b) {
      if (threshold > 0 && bucket_upper(idx, schema) <= threshold) continue;
      a[idx] += sign * c;
    }
    return from_map(a, off, mine);
  };
  if (auto r = merge(h.positive_offset, h.positive_buckets, other.positive_offset,
                     other.positive_buckets);
      !r) {
    return r;
  }
  if (!h.uses_custom_buckets()) {
    if (auto r = merge(h.negative_offset, h.negative_buckets, other.negative_offset,
                       other.negative_buckets);
        !r) {
      return r;
    }
  }
  h.schema = schema;
  return {};
}

namespace {

// kahanReduceResolution: buckets (and their compensations) merged to a lower schema, merging
// with Kahan steps of the value and then of its compensation.
void kahan_reduce(BucketMap& values, BucketMap& comps, int32_t from, int32_t to) {
  if (from <= to) return;
  BucketMap out, out_c;
  int shift = from - to;
  bool first = true;
  int64_t last = 0;
  for (const auto& [idx, v] : values) {
    int64_t target = ((idx - 1) >> shift) + 1;
    double cv = comps.contains(idx) ? comps[idx] : 0.0;
    if (first || target != last) {
      out[target] = v;
      out_c[target] = cv;
    } else {
      kahan_inc(v, out[target], out_c[target]);
      kahan_inc(cv, out[target], out_c[target]);
    }
    first = false;
    last = target;
  }
  values = std::move(out);
  comps = std::move(out_c);
}

}  // namespace

Result<void> histogram_kahan_add(FloatHistogram& h, const FloatHistogram& other_in,
                                 std::shared_ptr<FloatHistogram>& c_ptr, bool* reconciled) {
  if (h.uses_custom_buckets() != other_in.uses_custom_buckets()) {
    return make_error(
        "cannot apply this operation on histograms with a mix of exponential and custom bucket "
        "schemas");
  }
  using H = CounterResetHint;
  if (other_in.hint != h.hint) {  // adjustCounterReset
    if (h.hint == H::kGauge) {
    } else if (other_in.hint == H::kGauge) {
      h.hint = H::kGauge;
    } else {
      h.hint = H::kUnknown;
    }
  }
  if (!c_ptr) {
    // newCompensationHistogram: h's hint (kept from now on), schema, zero threshold, bounds
    // and bucket layout, every count zero.
    c_ptr = std::make_shared<FloatHistogram>();
    c_ptr->hint = h.hint;
    c_ptr->schema = h.schema;
    c_ptr->zero_threshold = h.zero_threshold;
    c_ptr->custom_values = h.custom_values;
    c_ptr->positive_offset = h.positive_offset;
    c_ptr->positive_buckets.assign(h.positive_buckets.size(), 0.0);
    c_ptr->negative_offset = h.negative_offset;
    c_ptr->negative_buckets.assign(h.negative_buckets.size(), 0.0);
  }
  FloatHistogram& c = *c_ptr;
  const FloatHistogram& other = other_in;
  double threshold = 0;
  if (!h.uses_custom_buckets()) {
    // reconcileZeroBuckets: a zero bucket widened in h takes in the buckets (and their
    // compensations) it covers, Kahan-summed; other's widened zero count comes with the
    // compensation of its own walk.
    auto [other_zero, other_c_zero] = reconcile_zero_buckets(h, other, &c);
    kahan_inc(other_zero, h.zero_count, c.zero_count);
    kahan_inc(other_c_zero, h.zero_count, c.zero_count);
    threshold = h.zero_threshold;
  }
  kahan_inc(other.count, h.count, c.count);
  kahan_inc(other.sum, h.sum, c.sum);
  if (h.uses_custom_buckets() && !buckets_match(h.custom_values, other.custom_values)) {
    add_mismatched_custom(h, other, false, &c);
    if (reconciled) *reconciled = true;
    return {};
  }
  c.schema = h.schema;
  c.zero_threshold = h.zero_threshold;
  c.custom_values = h.custom_values;

  int32_t schema = h.uses_custom_buckets() ? h.schema : std::min(h.schema, other.schema);
  auto merge = [&](int32_t& off, std::vector<double>& mine, int32_t& coff,
                   std::vector<double>& cmine, int32_t ooff,
                   const std::vector<double>& theirs) -> Result<void> {
    BucketMap a = to_map(off, mine);
    BucketMap ca = to_map(coff, cmine);
    for (const auto& [idx, v] : a) ca.try_emplace(idx, 0.0);
    kahan_reduce(a, ca, h.schema, schema);
    BucketMap b = to_map(ooff, theirs);
    BucketMap cb;
    kahan_reduce(b, cb, other.schema, schema);
    for (const auto& [idx, v] : b) {
      if (threshold > 0 && bucket_upper(idx, schema) <= threshold) continue;
      double cv = cb.contains(idx) ? cb[idx] : 0.0;
      auto it = a.find(idx);
      if (it == a.end()) {
        a[idx] = v;
        ca[idx] = cv;
        continue;
      }
      kahan_inc(v, it->second, ca[idx]);
      if (cv != 0) kahan_inc(cv, it->second, ca[idx]);
    }
    // Compensations only where h has a bucket.
    for (auto it = ca.begin(); it != ca.end();) {
      it = a.contains(it->first) ? std::next(it) : ca.erase(it);
    }
    if (auto r = from_map(a, off, mine); !r) return r;
    return from_map(ca, coff, cmine);
  };
  if (auto r = merge(h.positive_offset, h.positive_buckets, c.positive_offset, c.positive_buckets,
                     other.positive_offset, other.positive_buckets);
      !r) {
    return r;
  }
  if (!h.uses_custom_buckets()) {
    if (auto r = merge(h.negative_offset, h.negative_buckets, c.negative_offset,
                       c.negative_buckets, other.negative_offset, other.negative_buckets);
        !r) {
      return r;
    }
  }
  h.schema = schema;
  c.schema = schema;
  return {};
}

bool histogram_has_overflow(const FloatHistogram& h) {
  auto inf = [](double v) { return std::isinf(v); };
  return inf(h.zero_count) || inf(h.count) || inf(h.sum) ||
         std::any_of(h.positive_buckets.begin(), h.positive_buckets.end(), inf) ||
         std::any_of(h.negative_buckets.begin(), h.negative_buckets.end(), inf) ||
         std::any_of(h.custom_values.begin(), h.custom_values.end(), inf);
}

bool histogram_detect_reset(const FloatHistogram& cur, const FloatHistogram& prev) {
  if (cur.hint == CounterResetHint::kReset) return true;
  if (cur.hint == CounterResetHint::kNotReset) return false;
  if (cur.count < prev.count) return true;
  if (cur.uses_custom_buckets() != prev.uses_custom_buckets() ||
      (cur.uses_custom_buckets() && !buckets_match(cur.custom_values, prev.custom_values))) {
    return true;
  }
  if (cur.schema > prev.schema) return true;
  if (cur.zero_threshold < prev.zero_threshold) return true;
  auto widened = zero_count_for(prev, cur.zero_threshold);
  if (widened.threshold != cur.zero_threshold) return true;
  if (cur.zero_count < widened.count) return true;
  // Every populated bucket of prev (merged to cur's schema, outside cur's zero bucket) must exist
  // in cur with at least the same count.
  auto side_reset = [&](int32_t poff, const std::vector<double>& pb, int32_t coff,
                        const std::vector<double>& cb) {
    BucketMap p = reduce_resolution(to_map(poff, pb), prev.schema, cur.schema);
    BucketMap c = to_map(coff, cb);
    for (const auto& [idx, n] : p) {
      if (n == 0) continue;
      if (cur.zero_threshold > 0 && !cur.uses_custom_buckets() &&
          bucket_upper(idx, cur.schema) <= cur.zero_threshold) {
        continue;
      }
      auto it = c.find(idx);
      if (it == c.end() || it->second < n) return true;
    }
    return false;
  };
  return side_reset(prev.positive_offset, prev.positive_buckets, cur.positive_offset,
                    cur.positive_buckets) ||
         side_reset(prev.negative_offset, prev.negative_buckets, cur.negative_offset,
                    cur.negative_buckets);
}

std::vector<HistogramBucket> histogram_buckets(const FloatHistogram& h) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<HistogramBucket> out;
  if (h.uses_custom_buckets()) {
    for (size_t i = 0; i < h.positive_buckets.size(); ++i) {
      auto idx = static_cast<size_t>(h.positive_offset) + i;
      // NOLINTNEXTLINE(bugprone-narrowing-conversions): false positive, clang-tidy 16 takes the infinity constant for out of double's range
      double lower = idx == 0 ? -kInf : idx - 1 < h.custom_values.size() ? h.custom_values[idx - 1] : kInf;
      // NOLINTNEXTLINE(bugprone-narrowing-conversions): false positive, clang-tidy 16 takes the infinity constant for out of double's range
      double upper = idx < h.custom_values.size() ? h.custom_values[idx] : kInf;
      out.push_back({lower, upper, h.positive_buckets[i]});
    }
    return out;
  }
  double zt = h.zero_threshold;
  for (size_t i = h.negative_buckets.size(); i-- > 0;) {
    int64_t idx = h.negative_offset + static_cast<int64_t>(i);
    HistogramBucket b{-bucket_upper(idx, h.schema), -bucket_upper(idx - 1, h.schema),
                      h.negative_buckets[i]};
    if (b.upper < 0 && b.upper > -zt) b.upper = -zt;
    out.push_back(b);
  }
  if (h.zero_count > 0) out.push_back({-zt, zt, h.zero_count});
  for (size_t i = 0; i < h.positive_buckets.size(); ++i) {
    int64_t idx = h.positive_offset + static_cast<int64_t>(i);
    HistogramBucket b{bucket_upper(idx - 1, h.schema), bucket_upper(idx, h.schema),
                      h.positive_buckets[i]};
    if (b.lower > 0 && b.lower < zt) b.lower = zt;
    out.push_back(b);
  }
  return out;
}

std::string histogram_string(const FloatHistogram& h) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::string out = "{count:" + go_format_g(h.count) + ", sum:" + go_format_g(h.sum);
  auto bucket = [&](double lower, double upper, bool lower_incl, bool upper_incl, double count) {
    out += fmt::format(", {}{},{}{}:{}", lower_incl ? '[' : '(', go_format_g(lower),
                       go_format_g(upper), upper_incl ? ']' : ')', go_format_g(count));
  };
  if (h.uses_custom_buckets()) {
    for (size_t i = 0; i < h.positive_buckets.size(); ++i) {
      if (h.positive_buckets[i] == 0) continue;
      auto idx = static_cast<int64_t>(h.positive_offset) + static_cast<int64_t>(i);
      auto bound = [&](int64_t k) {
        if (k < 0) return -kInf;
        // NOLINTNEXTLINE(bugprone-narrowing-conversions): false positive, clang-tidy 16 takes the infinity constant for out of double's range
        return static_cast<size_t>(k) < h.custom_values.size() ? h.custom_values[static_cast<size_t>(k)] : kInf;
      };
      bucket(bound(idx - 1), bound(idx), idx == 0, true, h.positive_buckets[i]);
    }
  } else {
    for (size_t i = h.negative_buckets.size(); i-- > 0;) {
      if (h.negative_buckets[i] == 0) continue;
      int64_t idx = h.negative_offset + static_cast<int64_t>(i);
      double lower = -bucket_upper(idx, h.schema), upper = -bucket_upper(idx - 1, h.schema);
      bucket(lower, upper, lower < 0, upper > 0, h.negative_buckets[i]);
    }
    if (h.zero_count != 0) bucket(-h.zero_threshold, h.zero_threshold, true, true, h.zero_count);
    for (size_t i = 0; i < h.positive_buckets.size(); ++i) {
      if (h.positive_buckets[i] == 0) continue;
      int64_t idx = h.positive_offset + static_cast<int64_t>(i);
      double lower = bucket_upper(idx - 1, h.schema), upper = bucket_upper(idx, h.schema);
      bucket(lower, upper, lower < 0, upper > 0, h.positive_buckets[i]);
    }
  }
  return out + "}";
}

void histogram_to_schema(FloatHistogram& h, int32_t schema) {
  if (h.uses_custom_buckets() || schema >= h.schema) return;
  for (int side = 0; side < 2; ++side) {
    int32_t& off = side == 0 ? h.positive_offset : h.negative_offset;
    auto& b = side == 0 ? h.positive_buckets : h.negative_buckets;
    BucketMap m = reduce_resolution(to_map(off, b), h.schema, schema);
    (void)from_map(m, off, b);  // fewer buckets than before: cannot exceed the limit
  }
  h.schema = schema;
}

void histogram_scale(FloatHistogram& h, double factor, bool divide) {
  auto apply = [&](double& x) { x = divide ? x / factor : x * factor; };
  apply(h.zero_count);
  apply(h.count);
  apply(h.sum);
  if (divide && factor == 0) {
    h.positive_buckets.clear();
    h.negative_buckets.clear();
    h.positive_offset = h.negative_offset = 0;
    return;
  }
  for (auto& b : h.positive_buckets) apply(b);
  for (auto& b : h.negative_buckets) apply(b);
  if (factor < 0) h.hint = CounterResetHint::kGauge;
}

bool histogram_equals(const FloatHistogram& x, const FloatHistogram& y) {
  FloatHistogram a = x, b = y;
  histogram_compact(a);
  histogram_compact(b);
  auto same = [](double p, double q) { return std::bit_cast<uint64_t>(p) == std::bit_cast<uint64_t>(q); };
  auto same_list = [&](const std::vector<double>& p, const std::vector<double>& q) {
    if (p.size() != q.size()) return false;
    for (size_t i = 0; i < p.size(); ++i) {
      if (!same(p[i], q[i])) return false;
    }
    return true;
  };
  return a.schema == b.schema && same(a.count, b.count) && same(a.sum, b.sum) &&
         (!a.uses_custom_buckets() || a.custom_values == b.custom_values) &&
         a.zero_threshold == b.zero_threshold && same(a.zero_count, b.zero_count) &&
         a.positive_offset == b.positive_offset && same_list(a.positive_buckets, b.positive_buckets) &&
         a.negative_offset == b.negative_offset && same_list(a.negative_buckets, b.negative_buckets);
}

void histogram_compact(FloatHistogram& h) {
  trim_side(h.positive_offset, h.positive_buckets);
  trim_side(h.negative_offset, h.negative_buckets);
}

std::string go_format_g(double v) { return format_go_float(v, 6); }

std::string histogram_test_expression(const FloatHistogram& in) {
  FloatHistogram m = in;
  histogram_compact(m);
  std::vector<std::string> res;
  if (m.schema != 0) res.push_back(fmt::format("schema:{}", m.schema));
  if (m.count != 0) res.push_back("count:" + go_format_g(m.count));
  if (m.sum != 0) res.push_back("sum:" + go_format_g(m.sum));
  if (m.zero_count != 0) res.push_back("z_bucket:" + go_format_g(m.zero_count));
  if (m.zero_threshold != 0) res.push_back("z_bucket_w:" + go_format_g(m.zero_threshold));
  auto list = [](const std::vector<double>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) s += ' ';
      s += go_format_g(v[i]);
    }
    return s + "]";
  };
  if (m.uses_custom_buckets()) res.push_back("custom_values:" + list(m.custom_values));
  switch (m.hint) {
    case CounterResetHint::kUnknown:
      break;
    case CounterResetHint::kReset:
      res.emplace_back("counter_reset_hint:reset");
      break;
    case CounterResetHint::kNotReset:
      res.emplace_back("counter_reset_hint:not_reset");
      break;
    case CounterResetHint::kGauge:
      res.emplace_back("counter_reset_hint:gauge");
      break;
  }
  if (!m.positive_buckets.empty()) {
    if (m.positive_offset != 0) res.push_back(fmt::format("offset:{}", m.positive_offset));
    res.push_back("buckets:" + list(m.positive_buckets));
  }
  if (!m.negative_buckets.empty()) {
    if (m.negative_offset != 0) res.push_back(fmt::format("n_offset:{}", m.negative_offset));
    res.push_back("n_buckets:" + list(m.negative_buckets));
  }
  std::string out = "{{";
  for (size_t i = 0; i < res.size(); ++i) {
    if (i) out += ' ';
    out += res[i];
  }
  return out + "}}";
}

}  // namespace ruleeval::engine
