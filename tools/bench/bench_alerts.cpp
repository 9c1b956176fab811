// bench_alerts: memory and time of the alert state machine with many active alert instances.
// Builds N samples (default 1,000,000) for one alerting rule, evaluates the rule twice (pending,
// then firing) and prints the RSS growth, the time per evaluation and bytes per alert.
//   bench_alerts [N]
#include <fmt/format.h>

#include <malloc.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "ruleeval/engine/alert_state.hpp"

namespace {

long status_kb(const char* key) {  // "VmRSS:" (now) or "VmHWM:" (peak)
  std::ifstream in("/proc/self/status");
  std::string line;
  const size_t n = std::char_traits<char>::length(key);
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::strtol(line.c_str() + n, nullptr, 10);
  }
  return 0;
}
long rss_kb() { return status_kb("VmRSS:"); }

}  // namespace

int main(int argc, char** argv) {
  using namespace ruleeval;
  using namespace ruleeval::engine;
  const size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  long base = rss_kb();
  std::vector<RuleSample> samples;
  samples.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    samples.push_back(RuleSample{
        Labels{
            {"__name__", "up"},
            {"instance", fmt::format("10.{}.{}.{}:9100", i / 65536 % 256, i / 256 % 256, i % 256)},
            {"job", fmt::format("job-{}", i % 1000)},
            {"namespace", fmt::format("ns-{}", i % 97)}},
        0});
  }
  long after_samples = rss_kb();
  AlertingRuleParams rule;
  rule.name = "InstanceDown";
  rule.for_ms = 60'000;
  rule.labels = Labels{{"severity", "page"}, {"team", "infra"}};
  rule.annotations = Labels{{"summary", "instance down"}};
  AlertMap alerts;
  auto t0 = std::chrono::steady_clock::now();
  auto r1 = eval_alerting_rule(alerts, rule, samples, 0);
  auto t1 = std::chrono::steady_clock::now();
  auto r2 = eval_alerting_rule(alerts, rule, samples, 60'000);
  auto t2 = std::chrono::steady_clock::now();
  if (!r1 || !r2) {
    fmt::print(stderr, "evaluation failed\n");
    return 1;
  }
  size_t firing = 0;
  for (const auto& [_, a] : alerts) firing += a.state == AlertState::kFiring;
  long after_alerts = rss_kb();
  samples.clear();
  samples.shrink_to_fit();
  malloc_trim(0);  // give freed temporaries back, so RSS shows what the alert state keeps
  long alerts_only = rss_kb();
  double first = std::chrono::duration<double>(t1 - t0).count();
  double second = std::chrono::duration<double>(t2 - t1).count();
  fmt::print("bench_alerts: {} active alert instances ({} firing)\n", alerts.size(), firing);
  fmt::print("  query result ({} samples):     {:8.1f} MB\n", n, static_cast<double>(after_samples - base) / 1024.0);
  fmt::print("  alert state (after eval):       {:8.1f} MB RSS total {:.1f} MB\n",
             static_cast<double>(after_alerts - after_samples) / 1024.0,
             static_cast<double>(after_alerts) / 1024.0);
  fmt::print("  alert state alone:              {:8.1f} MB ({:.0f} bytes per alert)\n",
             static_cast<double>(alerts_only - base) / 1024.0,
             static_cast<double>(alerts_only - base) * 1024.0 / static_cast<double>(n));
  fmt::print("  first evaluation (all new):     {:8.3f} s\n", first);
  fmt::print("  second evaluation (all firing): {:8.3f} s\n", second);
  const long peak = status_kb("VmHWM:");
  fmt::print("  peak RSS (query result + state + evaluation): {:.1f} MB\n", static_cast<double>(peak) / 1024.0);
  if (n >= 1'000'000) {
    // Issue 18: the process holding 1,000,000 active alerts (and the query result that made
    // them) under 600 MB RSS.
    fmt::print("  target: RSS under 600 MB with 1,000,000 alerts: {} ({:.1f} MB; peak {:.1f} MB)\n",
               after_alerts < 600L * 1024 ? "met" : "NOT met", static_cast<double>(after_alerts) / 1024.0,
               static_cast<double>(peak) / 1024.0);
  }
  return 0;
}
