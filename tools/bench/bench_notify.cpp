// bench_notify: 10,000 alerts firing at once across 200 groups. Measures the time from the flush
// to the last delivery at a local webhook receiver, and memory, for ruleeval's notifier (memory
// outbox and durable outbox) and, when installed, a real Alertmanager fed the same alerts.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "notify_servers.hpp"
#include "ruleeval/http/client.hpp"
#include "ruleeval/notifiers/notifier.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;
using namespace ruleeval::notifiers::testing;
namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

namespace {

constexpr int kAlerts = 10'000;
constexpr int kGroups = 200;

long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

std::vector<rules::Alert> make_alerts(Millis now) {
  std::vector<rules::Alert> out;
  out.reserve(kAlerts);
  for (int i = 0; i < kAlerts; ++i) {
    rules::Alert a;
    a.labels = Labels{{"alertname", "BenchAlert"},
                      {"group", "g" + std::to_string(i % kGroups)},
                      {"instance", "host-" + std::to_string(i)},
                      {"severity", "warning"}};
    a.annotations = Labels{{"summary", "instance host-" + std::to_string(i) + " is slow"}};
    a.starts_at = now - 60'000;
    a.ends_at = now + 600'000;
    a.generator_url = "http://prometheus.bench/graph";
    out.push_back(std::move(a));
  }
  return out;
}

double run_ruleeval(const std::string& state_dir, long* rss_delta) {
  HttpSink sink;
  auto yaml = "route: {receiver: hook, group_by: [group], group_wait: 0s}\n"
              "receivers:\n  - name: hook\n    webhook_configs: [{url: '" +
              sink.url("/hook") + "'}]\n";
  auto c = parse_notify_config(yaml);
  if (!c) {
    std::fprintf(stderr, "%s\n", c.error().to_string().c_str());
    // NOLINTNEXTLINE(concurrency-mt-unsafe): setup, before any thread starts
    std::exit(1);
  }
  NotifierOptions o;
  o.state_dir = state_dir;
  o.start_threads = false;
  auto n = Notifier::create(std::move(*c), o);
  if (!n) {
    std::fprintf(stderr, "%s\n", n.error().to_string().c_str());
    // NOLINTNEXTLINE(concurrency-mt-unsafe): setup, before any thread starts
    std::exit(1);
  }
  long before = rss_kb();
  Millis now = Env::Default()->now_ms();
  auto alerts = make_alerts(now);
  (*n)->send(alerts, now);
  auto t0 = Steady::now();
  (*n)->tick(now);
  bool ok = sink.wait_accepted(kGroups, 120'000);
  double secs = std::chrono::duration<double>(Steady::now() - t0).count();
  *rss_delta = rss_kb() - before;
  if (!ok) std::fprintf(stderr, "ruleeval: only %zu deliveries\n", sink.accepted().size());
  (*n)->stop();
  return secs;
}

double run_alertmanager(const std::string& dir) {
  const char* bin = "/usr/bin/prometheus-alertmanager";
  if (!fs::exists(bin)) return -1;
  HttpSink sink;
  int port = free_port();
  std::ofstream(fs::path(dir) / "am.yml")
      << "route: {receiver: hook, group_by: [group], group_wait: 0s, group_interval: 1m}\n"
         "receivers:\n  - name: hook\n    webhook_configs: [{url: '"
      << sink.url("/hook") << "'}]\n";
  ChildProcess am({bin, "--config.file=" + (fs::path(dir) / "am.yml").string(),
                   "--storage.path=" + (fs::path(dir) / "data").string(),
                   "--web.listen-address=127.0.0.1:" + std::to_string(port),
                   "--cluster.listen-address="},
                  (fs::path(dir) / "am.log").string());
  if (!wait_port(port, 15'000)) return -1;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  Millis now = Env::Default()->now_ms();
  std::string body = "[";
  auto alerts = make_alerts(now);
  for (size_t i = 0; i < alerts.size(); ++i) {
    if (i) body += ',';
    body += "{\"labels\":{";
    bool first = true;
    for (const auto& l : alerts[i].labels) {
      body += (first ? "" : ",") + go_quote(l.name) + ":" + go_quote(l.value);
      first = false;
    }
    body += "},\"annotations\":{\"summary\":" + go_quote(alerts[i].annotations.get("summary")) +
            "},\"startsAt\":\"" + format_time(alerts[i].starts_at) + "\",\"endsAt\":\"" +
            format_time(alerts[i].ends_at) + "\"}";
  }
  body += "]";
  httplib::Client cli("127.0.0.1", port);
  auto t0 = Steady::now();
  auto res = cli.Post("/api/v2/alerts", body, "application/json");
  if (!res || res->status != 200) return -1;
  bool ok = sink.wait_accepted(kGroups, 120'000);
  double secs = std::chrono::duration<double>(Steady::now() - t0).count();
  if (!ok) std::fprintf(stderr, "alertmanager: only %zu deliveries\n", sink.accepted().size());
  return secs;
}

}  // namespace

int main() {
  ruleeval::http::install_default_env_http();
  auto base = fs::temp_directory_path() / ("ruleeval_bench_notify_" + std::to_string(getpid()));
  fs::create_directories(base);
  long rss_mem = 0, rss_durable = 0;
  double mem = run_ruleeval("", &rss_mem);
  double durable = run_ruleeval((base / "state").string(), &rss_durable);
  fs::create_directories(base / "am");
  double am = run_alertmanager((base / "am").string());
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("bench_notify: %d alerts in %d groups, one webhook receiver on 127.0.0.1\n", kAlerts,
              kGroups);
  std::printf("  ruleeval (memory outbox):   flush -> last delivery %.3f s, RSS +%ld KiB\n", mem,
              rss_mem);
  std::printf("  ruleeval (durable outbox):  flush -> last delivery %.3f s, RSS +%ld KiB\n",
              durable, rss_durable);
  if (am >= 0) {
    std::printf("  alertmanager 0.25:          POST -> last delivery %.3f s (ratio %.2fx)\n", am,
                am / durable);
  } else {
    std::printf("  alertmanager: not run\n");
  }
  std::printf("  peak RSS of this process: %ld KiB\n", ru.ru_maxrss);
  fs::remove_all(base);
  return 0;
}
