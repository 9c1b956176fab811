// bench_eval: throughput of the embedded TSDB + PromQL evaluator on synthetic data.
// Loads N series (default 2,000 series x 2h at 15s = 960,000 samples), then times typical
// alerting-rule queries as instant queries (one per 15s over the last hour, like a rule
// evaluated every 15s) and one range query. Prints per query: evaluations/s and input samples/s,
// and the latency of native-histogram queries beside the float (classic-bucket) ones.
//   bench_eval [series] [hours]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <memory>

#include "ruleeval/engine/engine.hpp"
#include "ruleeval/engine/histogram.hpp"
#include "ruleeval/engine/storage.hpp"
#include "ruleeval/parser/promql.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;

int main(int argc, char** argv) {
  const int series = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int hours = argc > 2 ? std::atoi(argv[2]) : 2;
  constexpr Millis kStep = 15'000;
  const Millis end = static_cast<Millis>(hours) * 3'600'000;

  Storage db;
  auto t0 = std::chrono::steady_clock::now();
  size_t samples = 0;
  const char* kLe[] = {"0.1", "0.5", "1", "5", "+Inf"};
  for (int i = 0; i < series; ++i) {
    std::string job = "job" + std::to_string(i % 10);
    std::string inst = "i" + std::to_string(i);
    Labels req{{"__name__", "http_requests_total"}, {"job", job}, {"instance", inst}};
    Labels up{{"__name__", "up"}, {"job", job}, {"instance", inst}};
    Labels bucket{{"__name__", "latency_seconds_bucket"}, {"job", job},
                  {"le", kLe[i % 5]}, {"instance", "i" + std::to_string(i / 5)}};
    double c = 0;
    for (Millis t = 0; t <= end; t += kStep) {
      c += (i % 7) + 1;
      if (i % 3 == 0) db.append(req, t, c);
      else if (i % 3 == 1) db.append(up, t, (t / kStep + i) % 50 == 0 ? 0 : 1);
      else db.append(bucket, t, c * (1 + i % 5));
      ++samples;
    }
  }
  // Native histograms beside the classic buckets: one per five bucket series (schema 0, five
  // buckets), so that the classic and native latency queries cover the same observations.
  size_t histograms = 0;
  for (int i = 0; i < series / 15; ++i) {
    Labels native{{"__name__", "latency_seconds"}, {"job", "job" + std::to_string(i % 10)},
                  {"instance", "i" + std::to_string(i)}};
    double c = 0;
    for (Millis t = 0; t <= end; t += kStep) {
      c += (i % 7) + 1;
      auto h = std::make_shared<FloatHistogram>();
      h->positive_offset = -3;
      h->positive_buckets = {c, 2 * c, 3 * c, 2 * c, c};
      h->count = 9 * c;
      h->sum = 4.5 * c;
      db.append_histogram(native, t, std::move(h));
      ++histograms;
    }
  }
  auto t1 = std::chrono::steady_clock::now();
  std::printf("loaded %zu native histogram samples\n", histograms);
  std::printf("loaded %zu series, %zu samples in %.3fs (%.1f M samples/s)\n", db.num_series(),
              samples, std::chrono::duration<double>(t1 - t0).count(),
              static_cast<double>(samples) / std::chrono::duration<double>(t1 - t0).count() / 1e6);

  const std::vector<std::string> queries = {
      "up == 0",
      "sum by (job) (rate(http_requests_total[5m]))",
      "rate(http_requests_total[5m]) > 0.3",
      "histogram_quantile(0.99, sum by (job, le) (rate(latency_seconds_bucket[5m])))",
      "avg_over_time(up[10m]) < 0.9",
      "sum by (job) (rate(http_requests_total[5m])) / on(job) group_left count by (job) (up)",
      "max_over_time(sum by (job) (rate(http_requests_total[1m]))[30m : 1m])",
      "topk(5, rate(http_requests_total[5m]))",
      "absent(nonexistent{job=\"x\"})",
      // Native histograms: the same questions as the classic-bucket and float queries above.
      "histogram_quantile(0.99, sum by (job) (rate(latency_seconds[5m])))",
      "histogram_count(rate(latency_seconds[5m]))",
      "histogram_fraction(0, 0.5, sum by (job) (rate(latency_seconds[5m])))",
  };
  double total_s = 0;
  std::vector<double> ms_per_eval;
  for (const auto& q : queries) {
    auto e = promql::parse(q);
    if (!e) {
      std::printf("parse error in %s: %s\n", q.c_str(), promql::format_parse_error(e.error()).c_str());
      return 1;
    }
    size_t evals = 0, out = 0;
    auto s0 = std::chrono::steady_clock::now();
    for (Millis t = end - 3'600'000; t <= end; t += kStep) {
      auto r = instant_query(db, **e, t);
      if (!r) {
        std::printf("error in %s: %s\n", q.c_str(), r.error().message.c_str());
        return 1;
      }
      if (auto* v = std::get_if<Vector>(&r->value)) out += v->size();
      ++evals;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
    total_s += secs;
    ms_per_eval.push_back(secs * 1e3 / static_cast<double>(evals));
    std::printf("%-90s %6zu evals %8.1f evals/s %8.3f ms/eval (%zu output samples)\n", q.c_str(),
                evals, static_cast<double>(evals) / secs, secs * 1e3 / static_cast<double>(evals),
                out);
  }
  {
    auto e = promql::parse("sum by (job) (rate(http_requests_total[5m]))");
    auto s0 = std::chrono::steady_clock::now();
    auto r = range_query(db, **e, end - 3'600'000, end, kStep);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
    if (!r) return 1;
    std::printf("range query 1h step 15s (241 steps) of sum by (job)(rate[5m]): %.3f ms\n",
                secs * 1e3);
  }
  // Histogram query latency beside float query latency: the p99 over native histograms vs
  // the same p99 over classic le buckets (floats), and histogram_count(rate) vs a float rate.
  std::printf("histogram vs float query latency: native p99 %.3f ms vs classic-bucket p99 %.3f "
              "ms per eval (ratio %.2f); histogram_count(rate) %.3f ms vs float rate %.3f ms "
              "(ratio %.2f)\n",
              ms_per_eval[9], ms_per_eval[3], ms_per_eval[9] / ms_per_eval[3], ms_per_eval[10],
              ms_per_eval[2], ms_per_eval[10] / ms_per_eval[2]);
  std::printf("total instant-query time: %.3fs\n", total_s);
  return 0;
}
