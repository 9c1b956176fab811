// Kahan-compensated histogram sums in the layouts Prometheus treats specially
// (model/histogram/float_histogram.go at v3.14.0): a zero bucket widened during the sum
// (reconcileZeroBuckets / zeroCountForLargerThreshold / trimBucketsInZeroBucket) and custom
// bucket bounds that differ (intersectCustomBucketBounds / addCustomBucketsWithMismatches).
// Every expected value is derived by hand from those functions; kahansum.Inc(x, s, c) is
//   t = s + x;  c = 0 if t is infinite, else c += (s - t) + x if |s| >= |x|, else (x - t) + s.
// 1e16 + 1 rounds to 1e16 (the tie goes to the even significand, 1e16 / 2 = 2^15 * 5^16), so
// Inc(1, 1e16, c) = (1e16, c + 1): the 1 survives only in the compensation.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>

#include "histogram_fixture.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;
using hist_fixture::HistogramDb;

namespace {

uint64_t bits(double v) { return std::bit_cast<uint64_t>(v); }

// Prometheus's aggregation: h = first; c = KahanAdd(...) for each next; result h.Add(c).
FloatHistogram kahan_sum(std::initializer_list<FloatHistogram> in) {
  auto it = in.begin();
  FloatHistogram h = *it++;
  std::shared_ptr<FloatHistogram> c;
  for (; it != in.end(); ++it) REQUIRE(histogram_kahan_add(h, *it, c).has_value());
  REQUIRE(c != nullptr);
  REQUIRE(histogram_add(h, *c).has_value());
  histogram_compact(h);
  return h;
}

FloatHistogram exp_hist(double zero_threshold, double zero_count, int32_t offset,
                        std::vector<double> buckets) {
  FloatHistogram h;
  h.count = 1;
  h.zero_threshold = zero_threshold;
  h.zero_count = zero_count;
  h.positive_offset = offset;
  h.positive_buckets = std::move(buckets);
  return h;
}

}  // namespace

TEST_CASE("a zero bucket widened during a Kahan sum takes in the compensation of the buckets it covers") {
  // Schema 0: bucket 0 is (0.5, 1].
  //   A: zero bucket [-0.5, 0.5] holding 1, bucket 0 = 1e16.
  //   B: same layout, bucket 0 = 1  -> h bucket 0 = 1e16, c bucket 0 = 1.
  //   C: zero bucket [-1, 1] holding -1e16.
  // Adding C widens h's zero bucket to 1 (zeroCountForLargerThreshold with c): the walk starts
  // at h's zero count 1 and c's zero count 0, and takes bucket 0 (lower 0.5 < 1, upper 1 not
  // above 1) with Inc(1e16) = (1e16, 1), then its compensation Inc(1) = (1e16, 2). Bucket 0 is
  // trimmed from h and c. Then Inc(-1e16, 1e16, 2) = (0, 2) and Inc(0) for C's own walk (none):
  // the zero count is 0 + 2 = 2, the exact 1 + 1e16 + 1 - 1e16. Folding c's buckets in without
  // compensation (1e16 + 1 + 1 naively, 1 in c) would give 1.
  auto a = exp_hist(0.5, 1, 0, {1e16});
  auto b = exp_hist(0.5, 0, 0, {1});
  auto cc = exp_hist(1, -1e16, 0, {});
  auto s = kahan_sum({a, b, cc});
  CHECK(bits(s.zero_count) == bits(2.0));
  CHECK(s.zero_threshold == 1);
  CHECK(s.positive_buckets.empty());
  CHECK(bits(s.count) == bits(3.0));

  // The same through sum(): the series are taken in label order.
  HistogramDb db("a{i=\"1\"} {{schema:0 count:1 z_bucket:1 z_bucket_w:0.5 buckets:[1e16]}}\n"
                 "a{i=\"2\"} {{schema:0 count:1 z_bucket_w:0.5 buckets:[1]}}\n"
                 "a{i=\"3\"} {{schema:0 count:1 z_bucket:-1e16 z_bucket_w:1}}\n");
  CHECK(db.text("sum(a)", 0) == "{} => {{count:3 z_bucket:2 z_bucket_w:1}}\n");
  // avg: no overflow, so the direct mean: h / 3 + c / 3 (engine.go's final Div and Add):
  // zero count 0 / 3 + 2 / 3 = 0.6666666666666666, count 3 / 3 + 0 / 3 = 1.
  CHECK(db.text("avg(a)", 0) == "{} => {{count:1 z_bucket:0.6666666666666666 z_bucket_w:1}}\n");

  // sum_over_time and avg_over_time run the same KahanAdd over the samples of one series.
  HistogramDb t("b {{schema:0 count:1 z_bucket:1 z_bucket_w:0.5 buckets:[1e16]}} "
                "{{schema:0 count:1 z_bucket_w:0.5 buckets:[1]}} "
                "{{schema:0 count:1 z_bucket:-1e16 z_bucket_w:1}}\n");
  CHECK(t.text("sum_over_time(b[3m])", 2 * hist_fixture::kMin) ==
        "{} => {{count:3 z_bucket:2 z_bucket_w:1}}\n");
  CHECK(t.text("avg_over_time(b[3m])", 2 * hist_fixture::kMin) ==
        "{} => {{count:1 z_bucket:0.6666666666666666 z_bucket_w:1}}\n");
}

TEST_CASE("an empty bucket straddling the widened zero threshold gives its compensation to the zero bucket") {
  // Schema 0, bucket 1 is (1, 2]. A: 1e16, B: 1, C: -1e16 in bucket 1 leave h's bucket 1 at
  // Inc(-1e16, 1e16, 1) = (0, 1): empty, compensation 1. D has the zero bucket [-1.5, 1.5].
  // Widening h to 1.5 walks bucket 1 (lower 1 < 1.5): Inc(0, 0, 0), then its compensation
  // Inc(1, 0, 0) = (1, 0); its upper bound 2 is above 1.5 but it is empty, so the threshold
  // stays 1.5. trimBucketsInZeroBucket clears every bucket whose lower bound is below 1.5, so
  // bucket 1 leaves h and c: the zero count is 1, and no bucket is left (clearing only buckets
  // that end at or below the threshold would count the 1 twice, in the zero bucket and in
  // bucket 1).
  auto a = exp_hist(0, 0, 1, {1e16});
  auto b = exp_hist(0, 0, 1, {1});
  auto c = exp_hist(0, 0, 1, {-1e16});
  auto d = exp_hist(1.5, 0, 0, {});
  auto s = kahan_sum({a, b, c, d});
  CHECK(bits(s.zero_count) == bits(1.0));
  CHECK(s.zero_threshold == 1.5);
  CHECK(s.positive_buckets.empty());
  CHECK(histogram_test_expression(s) == "{{count:4 z_bucket:1 z_bucket_w:1.5}}");
}

TEST_CASE("a widening walk restarted by a negative bucket keeps its first compensation, as Prometheus") {
  // B (zero bucket [-0.5, 0.5] holding 1e16, negative bucket 0 = [-1, -0.5) holding 1) is
  // widened to A's threshold 0.75: the positive walk finds nothing; the negative walk takes
  // bucket 0 with Inc(1, 1e16, 0) = (1e16, 1), finds it populated across -0.75 and restarts
  // with threshold 1. zeroCountForLargerThreshold resets the count to 1e16 but not the
  // compensation, so the second walk gives Inc(1, 1e16, 1) = (1e16, 2). A's zero bucket then
  // widens to 1 (no buckets). KahanAdd: Inc(1e16, 0, 0) = (1e16, 0), then B's compensation
  // Inc(2, 1e16, 0) = (1e16 + 2, 0). Prometheus's sum is 1.0000000000000002e16 where the exact
  // sum (1e16 + 1) rounds to 1e16.
  FloatHistogram a = exp_hist(0.75, 0, 0, {});
  FloatHistogram b = exp_hist(0.5, 1e16, 0, {});
  b.negative_offset = 0;
  b.negative_buckets = {1};
  auto s = kahan_sum({a, b});
  CHECK(bits(s.zero_count) == bits(10000000000000002.0));
  CHECK(s.zero_threshold == 1);
  CHECK(s.negative_buckets.empty());

  // The plain Add (binary +) discards the walk's compensation: 1e16.
  FloatHistogram plain = a;
  REQUIRE(histogram_add(plain, b).has_value());
  CHECK(bits(plain.zero_count) == bits(1e16));
  CHECK(plain.zero_threshold == 1);

  HistogramDb db("a{i=\"1\"} {{schema:0 count:1 z_bucket_w:0.75}}\n"
                 "a{i=\"2\"} {{schema:0 count:1 z_bucket:1e16 z_bucket_w:0.5 n_buckets:[1]}}\n");
  CHECK(db.text("sum(a)", 0) == "{} => {{count:2 z_bucket:1.0000000000000002e+16 z_bucket_w:1}}\n");
  CHECK(db.text("a{i=\"1\"} + ignoring(i) a{i=\"2\"}", 0) ==
        "{} => {{count:2 z_bucket:1e+16 z_bucket_w:1}}\n");
}

TEST_CASE("custom bounds that differ are reconciled with one Kahan sum per common bucket") {
  // A: bounds [1 2], buckets (-Inf,1] = 1e16, (1,2] = 1. C: bounds [2], bucket (-Inf,2] =
  // -1e16. The common bounds are [2]. addCustomBucketsWithMismatches sums into fresh targets,
  // A's buckets first, each followed by its compensation (0: c is new), then C's:
  //   target 0: Inc(1e16) = (1e16, 0), Inc(0), Inc(1) = (1e16, 1), Inc(0), Inc(-1e16) = (0, 1).
  // The target keeps value 0 with compensation 1 (dropped only when both are 0); the final
  // Add of c gives 1. Summing A's two buckets first and adding C afterwards loses the 1.
  HistogramDb db(
      "a{i=\"1\"} {{schema:-53 count:2 custom_values:[1 2] buckets:[1e16 1]}}\n"
      "a{i=\"2\"} {{schema:-53 count:3 custom_values:[2] buckets:[-1e16]}}\n");
  auto r = db.query("sum(a)", 0);
  REQUIRE(r);
  CHECK(to_string(r->value) == "{} => {{schema:-53 count:5 custom_values:[2] buckets:[1]}}\n");
  REQUIRE(r->infos.size() == 1);
  CHECK(r->infos[0] == "PromQL info: mismatched custom buckets were reconciled during aggregation");
  // avg: (0 + 1 compensation) / 2 each: bucket 0 / 2 + 1 / 2 = 0.5, count 5 / 2.
  r = db.query("avg(a)", 0);
  REQUIRE(r);
  CHECK(to_string(r->value) == "{} => {{schema:-53 count:2.5 custom_values:[2] buckets:[0.5]}}\n");
  CHECK(r->infos.at(0) == "PromQL info: mismatched custom buckets were reconciled during aggregation");

  // Add (binary +) sums the same sequence and discards the compensation: the bucket is 0
  // (and compacted away in the printed form).
  r = db.query("a{i=\"1\"} + ignoring(i) a{i=\"2\"}", 0);
  REQUIRE(r);
  CHECK(to_string(r->value) == "{} => {{schema:-53 count:5 custom_values:[2]}}\n");
  CHECK(r->infos.at(0) == "PromQL info: mismatched custom buckets were reconciled during addition");
}

TEST_CASE("reconciled custom buckets carry the running compensation of a sum") {
  // A and B share bounds [1 2]: h bucket (-Inf,1] = Inc(1, 1e16, 0) = (1e16, 1). C has bounds
  // [1]: common [1]. Target 0 (<= 1): Inc(1e16) = (1e16, 0), then h's compensation Inc(1) =
  // (1e16, 1); target 1 (+Inf) takes A's (1,2] bucket 2 and C's (1,+Inf] bucket 3: Inc(2) =
  // (2, 0), Inc(3) = (5, 0). C's (-Inf,1] = -1e16: Inc(-1e16, 1e16, 1) = (0, 1). The result:
  // bucket 0 = 0 + 1, bucket 1 = 5.
  auto nhcb = [](std::vector<double> bounds, std::vector<double> buckets) {
    FloatHistogram h;
    h.schema = kCustomBucketsSchema;
    h.count = 1;
    h.custom_values = std::move(bounds);
    h.positive_buckets = std::move(buckets);
    return h;
  };
  auto s = kahan_sum({nhcb({1, 2}, {1e16, 2}), nhcb({1, 2}, {1, 0}), nhcb({1}, {-1e16, 3})});
  CHECK(s.custom_values == std::vector<double>{1});
  CHECK(s.positive_offset == 0);
  REQUIRE(s.positive_buckets.size() == 2);
  CHECK(bits(s.positive_buckets[0]) == bits(1.0));
  CHECK(bits(s.positive_buckets[1]) == bits(5.0));
}

TEST_CASE("Kahan sums of random layouts conserve every observation") {
  // Small integer counts add exactly, so whatever the layouts (schemas 0 to 3, zero thresholds,
  // negative buckets, custom bounds), the compensated sum's count is the inputs' total. With
  // zero thresholds at powers of two (bounds in every schema from 0 up) no threshold moves and
  // every observation is held exactly once: the zero count plus all buckets equals the total.
  // (With a threshold inside a bucket of the lower schema, Prometheus counts the finer
  // histogram's buckets below the threshold twice: in the zero count by zeroCountForLargerThreshold
  // at their own schema, and again in the merged bucket, which ends above the threshold. The
  // sum follows it; that is why other thresholds are only checked for the count.)
  uint64_t state = 0x9e3779b97f4a7c15ULL;
  auto next = [&](uint64_t n) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % n;
  };
  auto total = [](const FloatHistogram& h) {
    double t = h.zero_count;
    for (double b : h.positive_buckets) t += b;
    for (double b : h.negative_buckets) t += b;
    return t;
  };
  const double thresholds[] = {0, 0.5, 0.75, 1, 1.5, 2, 3};
  int checked = 0;
  for (int round = 0; round < 300; ++round) {
    std::vector<FloatHistogram> in;
    bool custom = round % 4 == 3;
    size_t n = 2 + next(4);
    double want = 0;
    bool aligned = true;
    for (size_t k = 0; k < n; ++k) {
      FloatHistogram h;
      if (custom) {
        h.schema = kCustomBucketsSchema;
        for (double b : {0.5, 1.0, 2.0, 4.0}) {
          if (next(2) == 0) h.custom_values.push_back(b);
        }
        h.positive_buckets.resize(h.custom_values.size() + 1);
      } else {
        h.schema = static_cast<int32_t>(next(4));
        h.zero_threshold = thresholds[next(7)];
        aligned = aligned && std::exp2(std::round(std::log2(h.zero_threshold))) == h.zero_threshold;
        h.zero_count = static_cast<double>(next(5));
        h.positive_offset = static_cast<int32_t>(next(6)) - 3;
        h.positive_buckets.resize(next(6));
        h.negative_offset = static_cast<int32_t>(next(6)) - 3;
        h.negative_buckets.resize(next(4));
        for (double& b : h.negative_buckets) b = static_cast<double>(next(4));
      }
      for (double& b : h.positive_buckets) b = static_cast<double>(next(4));
      if (!custom) {
        // A valid histogram has no population in buckets that end inside its zero bucket
        // (Add ignores such buckets of the other histogram: they are in its zero count).
        auto clear_inside = [&](int32_t off, std::vector<double>& b) {
          for (size_t i = 0; i < b.size(); ++i) {
            double upper = std::exp2(static_cast<double>(off + static_cast<int32_t>(i)) /
                                     std::exp2(h.schema));
            if (upper <= h.zero_threshold) b[i] = 0;
          }
        };
        clear_inside(h.positive_offset, h.positive_buckets);
        clear_inside(h.negative_offset, h.negative_buckets);
      }
      h.count = total(h);
      want += h.count;
      in.push_back(std::move(h));
    }
    FloatHistogram s = in[0];
    std::shared_ptr<FloatHistogram> c;
    for (size_t k = 1; k < in.size(); ++k) REQUIRE(histogram_kahan_add(s, in[k], c).has_value());
    REQUIRE(histogram_add(s, *c).has_value());
    CAPTURE(round);
    CHECK(s.count == want);
    // The plain Add gives the same here (no rounding to compensate).
    FloatHistogram p = in[0];
    for (size_t k = 1; k < in.size(); ++k) REQUIRE(histogram_add(p, in[k]).has_value());
    histogram_compact(s);
    histogram_compact(p);
    CHECK(histogram_test_expression(s) == histogram_test_expression(p));
    if (aligned) {
      CHECK(total(s) == want);
      ++checked;
    }
  }
  CHECK(checked > 40);
}
