// Integration test (ctest label `integration`): the HTTP querier and the remote-write client
// against Debian's real `prometheus` and `victoria-metrics` on 127.0.0.1. Exits 77 (skipped)
// when the binaries are missing.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "backend_servers.hpp"
#include "ruleeval/engine/querier.hpp"
#include "ruleeval/engine/remote_write.hpp"
#include "ruleeval/engine/scheduler.hpp"
#include "ruleeval/engine/state_store.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;
using namespace ruleeval::testing;

namespace {

constexpr Millis kStep = 15'000;
constexpr const char* kProbeGroup = "ruleeval-offset-probe";

Millis wall_now() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count() / 1000 * 1000;
}

struct Backends {
  TempDir prom_dir;
  TempDir vm_dir;
  std::unique_ptr<ServerProcess> prom;
  std::unique_ptr<ServerProcess> vm;
  std::string prom_url;
  std::string vm_url;
  std::string rules_file;
  Millis now = 0;  // the query time; data lies in [now - 5m, now - 15s]
  std::string error;

  Backends() {
    int pp = free_port();
    int vp = free_port();
    prom_url = fmt::format("http://127.0.0.1:{}", pp);
    vm_url = fmt::format("http://127.0.0.1:{}", vp);
    rules_file = prom_dir.path + "/offset_rules.yml";
    {
      std::ofstream(rules_file) << "groups:\n  - name: " << kProbeGroup
                                << "\n    interval: 2s\n    rules:\n"
                                   "      - record: ruleeval_offset_probe\n"
                                   "        expr: vector(1)\n";
      std::ofstream(prom_dir.path + "/prometheus.yml")
          << "global:\n  scrape_interval: 1h\nrule_files:\n  - " << rules_file << "\n";
    }
    prom = std::make_unique<ServerProcess>(
        std::vector<std::string>{find_binary("prometheus"),
                                 "--config.file=" + prom_dir.path + "/prometheus.yml",
                                 "--storage.tsdb.path=" + prom_dir.path + "/data",
                                 fmt::format("--web.listen-address=127.0.0.1:{}", pp),
                                 "--web.enable-remote-write-receiver"},
        prom_dir.path);
    vm = std::make_unique<ServerProcess>(
        std::vector<std::string>{
            find_binary("victoria-metrics"), "-storageDataPath=" + vm_dir.path + "/data",
            fmt::format("-httpListenAddr=127.0.0.1:{}", vp), "-retentionPeriod=100y",
            "-search.latencyOffset=1s", "-dedup.minScrapeInterval=1ms", "-search.disableCache"},
        vm_dir.path);
    if (!wait_ready(prom_url + "/-/ready", 20'000)) {
      error = "prometheus did not become ready:\n" + prom->log_tail();
      return;
    }
    if (!wait_ready(vm_url + "/health", 20'000)) {
      error = "victoria-metrics did not become ready:\n" + vm->log_tail();
      return;
    }
    now = wall_now();
    load();
  }

  // demo_up{job="api",instance="a"} = 1 and {instance="b"} = 0, every 15s for the last 5m;
  // demo_requests{instance="a"} counts up by 10 per step.
  std::vector<WriteSample> data() const {
    std::vector<WriteSample> out;
    for (Millis t = now - 300'000; t <= now - kStep; t += kStep) {
      const Millis step = (t - (now - 300'000)) / kStep;  // t is on the step grid
      const auto i = static_cast<double>(step);
      out.push_back({Labels{{"__name__", "demo_up"}, {"job", "api"}, {"instance", "a"}}, t, 1});
      out.push_back({Labels{{"__name__", "demo_up"}, {"job", "api"}, {"instance", "b"}}, t, 0});
      out.push_back(
          {Labels{{"__name__", "demo_requests"}, {"job", "api"}, {"instance", "a"}}, t, 10 * i});
    }
    return out;
  }

  void load() {
    auto samples = data();
    // Prometheus: through our remote-write client.
    RemoteWriteConfig cfg;
    cfg.http.url = prom_url + "/api/v1/write";
    RemoteWriteQueue q(cfg);
    q.push(samples);
    if (auto r = q.flush(); !r) {
      error = "remote write to prometheus: " + r.error().to_string();
      return;
    }
    // VictoriaMetrics: JSON lines through /api/v1/import.
    std::string lines;
    std::unordered_map<Labels, std::pair<std::vector<double>, std::vector<Millis>>> by_series;
    std::vector<Labels> order;
    for (const auto& s : samples) {
      auto [it, inserted] = by_series.try_emplace(s.labels);
      if (inserted) order.push_back(s.labels);
      it->second.first.push_back(s.v);
      it->second.second.push_back(s.t);
    }
    for (const auto& l : order) {
      std::string metric;
      for (const auto& x : l) {
        metric += fmt::format("{}\"{}\":\"{}\"", metric.empty() ? "" : ",", x.name, x.value);
      }
      const auto& [vals, ts] = by_series[l];
      lines += fmt::format("{{\"metric\":{{{}}},\"values\":[{}],\"timestamps\":[{}]}}\n", metric,
                           fmt::join(vals, ","), fmt::join(ts, ","));
    }
    auto r = http_post(vm_url + "/api/v1/import", lines, "application/json");
    if (r.status != 204 && r.status != 200) {
      error = fmt::format("vm import: HTTP {} {} {}", r.status, r.error, r.body);
      return;
    }
    http_get(vm_url + "/internal/force_flush");
  }
};

Backends* g_backends = nullptr;

HttpQuerier querier(const std::string& url) {
  HttpClientConfig cfg;
  cfg.url = url;
  cfg.timeout_ms = 10'000;
  return HttpQuerier(cfg);
}

const Sample* find(const Vector& v, std::string_view instance) {
  for (const auto& s : v) {
    if (s.metric.get("instance") == instance) return &s;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("both backends are up and loaded") {
  REQUIRE(g_backends != nullptr);
  REQUIRE_MESSAGE(g_backends->error.empty(), g_backends->error);
}

TEST_CASE("instant vector, scalar and range queries decode the same on both backends") {
  REQUIRE(g_backends->error.empty());
  const Millis now = g_backends->now;
  for (const std::string& url : {g_backends->prom_url, g_backends->vm_url}) {
    CAPTURE(url);
    HttpQuerier q = querier(url);

    auto vec = q.query("demo_up", now);
    REQUIRE_MESSAGE(vec.has_value(), vec.error().to_string());
    REQUIRE(std::holds_alternative<Vector>(vec->value));
    const auto& v = std::get<Vector>(vec->value);
    REQUIRE(v.size() == 2);
    const Sample* a = find(v, "a");
    const Sample* b = find(v, "b");
    REQUIRE(a != nullptr);
    REQUIRE(b != nullptr);
    CHECK(a->metric == Labels{{"__name__", "demo_up"}, {"instance", "a"}, {"job", "api"}});
    CHECK(a->v == 1);
    CHECK(b->v == 0);
    CHECK(a->t == now);

    auto sum = q.query("sum(demo_up) + 41", now);
    REQUIRE(sum.has_value());
    REQUIRE(std::get<Vector>(sum->value).size() == 1);
    CHECK(std::get<Vector>(sum->value)[0].v == 42);
    CHECK(std::get<Vector>(sum->value)[0].metric.empty());

    auto sc = q.query("scalar(sum(demo_up))", now);
    REQUIRE(sc.has_value());
    if (url == g_backends->prom_url) {
      REQUIRE(std::holds_alternative<Scalar>(sc->value));
      CHECK(std::get<Scalar>(sc->value).v == 1);
      CHECK(std::get<Scalar>(sc->value).t == now);
    } else {
      // VictoriaMetrics answers scalar() with a one-element vector without labels.
      CAPTURE(result_type_name(sc->value));
      REQUIRE(std::holds_alternative<Vector>(sc->value));
      REQUIRE(std::get<Vector>(sc->value).size() == 1);
      CHECK(std::get<Vector>(sc->value)[0].metric.empty());
      CHECK(std::get<Vector>(sc->value)[0].v == 1);
    }

    auto inf = q.query("demo_up{instance=\"a\"} / 0", now);
    REQUIRE(inf.has_value());
    REQUIRE(std::get<Vector>(inf->value).size() == 1);
    CHECK(std::get<Vector>(inf->value)[0].v == INFINITY);
    auto nan = q.query("demo_up{instance=\"b\"} / 0", now);  // 0/0 = NaN
    REQUIRE(nan.has_value());
    if (url == g_backends->prom_url) {
      REQUIRE(std::get<Vector>(nan->value).size() == 1);
      CHECK(std::isnan(std::get<Vector>(nan->value)[0].v));
    } else {
      CHECK(std::get<Vector>(nan->value).empty());  // VictoriaMetrics drops NaN samples
    }

    auto range = q.query_range("demo_requests", now - 120'000, now - 30'000, 30'000);
    REQUIRE_MESSAGE(range.has_value(), range.error().to_string());
    REQUIRE(std::holds_alternative<Matrix>(range->value));
    const auto& m = std::get<Matrix>(range->value);
    REQUIRE(m.size() == 1);
    REQUIRE(m[0].points.size() == 4);
    CHECK(m[0].points[0].t == now - 120'000);
    // At now - 120s the counter had 12 steps (180s / 15s) of 10.
    CHECK(m[0].points[0].v == 120);
    CHECK(m[0].points[3].v == 180);
  }
}

TEST_CASE("a string literal decodes from Prometheus") {
  REQUIRE(g_backends->error.empty());
  HttpQuerier q = querier(g_backends->prom_url);
  auto s = q.query("\"hello\"", g_backends->now);
  REQUIRE(s.has_value());
  REQUIRE(std::holds_alternative<String>(s->value));
  CHECK(std::get<String>(s->value).v == "hello");
}

TEST_CASE("backend errors keep the HTTP status, errorType and message") {
  REQUIRE(g_backends->error.empty());
  for (const std::string& url : {g_backends->prom_url, g_backends->vm_url}) {
    CAPTURE(url);
    HttpQuerier q = querier(url);
    auto r = q.query("sum(", g_backends->now);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == ErrorKind::kApi);
    CHECK(r.error().http_status >= 400);
    CHECK_FALSE(r.error().message.empty());
    if (url == g_backends->prom_url) {
      CHECK(r.error().http_status == 400);
      CHECK(r.error().code == "bad_data");
    }
  }
  HttpQuerier dead = querier("http://127.0.0.1:1");
  auto r = dead.query("up", 0);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().kind == ErrorKind::kTransport);
}

TEST_CASE("remote-written samples can be read back from VictoriaMetrics") {
  REQUIRE(g_backends->error.empty());
  const Millis now = g_backends->now;
  RemoteWriteConfig cfg;
  cfg.http.url = g_backends->vm_url + "/api/v1/write";
  cfg.max_samples_per_send = 7;  // several requests
  RemoteWriteQueue q(cfg);
  for (int i = 0; i < 20; ++i) {
    q.push(WriteSample{Labels{{"__name__", "rw_test"}, {"shard", std::to_string(i % 2)}},
                       now - 200'000 + Millis{i} * 10'000, static_cast<double>(i)});
  }
  REQUIRE(q.flush().has_value());
  CHECK(q.stats().samples_sent == 20);
  http_get(g_backends->vm_url + "/internal/force_flush");

  HttpQuerier hq = querier(g_backends->vm_url);
  auto r = hq.query("count_over_time(rw_test[1h])", now);
  REQUIRE_MESSAGE(r.has_value(), r.error().to_string());
  const auto& v = std::get<Vector>(r->value);
  REQUIRE(v.size() == 2);
  CHECK(v[0].v == 10);
  CHECK(v[1].v == 10);
  auto last = hq.query("rw_test{shard=\"1\"}", now);
  REQUIRE(last.has_value());
  REQUIRE(std::get<Vector>(last->value).size() == 1);
  CHECK(std::get<Vector>(last->value)[0].v == 19);
}

TEST_CASE("alert for-state is restored from ALERTS_FOR_STATE on a real backend") {
  REQUIRE(g_backends->error.empty());
  const Millis now = g_backends->now;
  // An earlier run wrote ALERTS_FOR_STATE until 2 minutes ago; the alert was active since 10m.
  const Millis old_active = now - Millis{10} * 60'000;
  std::vector<WriteSample> history;
  const Millis old_active_s = old_active / 1000;  // ALERTS_FOR_STATE holds whole seconds
  for (Millis t = now - 300'000; t <= now - 120'000; t += kStep) {  // from 5m to 2m ago
    history.push_back({Labels{{"__name__", "ALERTS_FOR_STATE"},
                              {"alertname", "DemoDown"},
                              {"instance", "b"},
                              {"job", "api"},
                              {"severity", "page"}},
                       t, static_cast<double>(old_active_s)});
  }
  RemoteWriteConfig cfg;
  cfg.http.url = g_backends->prom_url + "/api/v1/write";
  RemoteWriteQueue rw(cfg);
  rw.push(history);
  REQUIRE(rw.flush().has_value());

  AlertingRuleParams rule;
  rule.name = "DemoDown";
  rule.for_ms = Millis{30} * 60'000;
  rule.labels = Labels{{"severity", "page"}};
  HttpQuerier q = querier(g_backends->prom_url);
  auto res = q.query("demo_up == 0", now);
  REQUIRE(res.has_value());
  std::vector<RuleSample> samples;
  for (const auto& s : std::get<Vector>(res->value)) samples.push_back({s.metric, s.v});
  AlertMap alerts;
  REQUIRE(eval_alerting_rule(alerts, rule, samples, now));
  REQUIRE(alerts.size() == 1);

  auto sum = restore_from_alerts_for_state(q, alerts, rule, now);
  REQUIRE_MESSAGE(sum.has_value(), sum.error().to_string());
  CHECK(sum->pending == 1);
  // 8 of 30 minutes were spent before going down 2 minutes ago: the 2 minutes do not count.
  CHECK(alerts.begin()->second.active_at == old_active + Millis{2} * 60'000);
}

TEST_CASE("Prometheus evaluates a group at the slots our scheduling math predicts") {
  REQUIRE(g_backends->error.empty());
  HttpQuerier q = querier(g_backends->prom_url);
  // The recording rule's samples carry the slot timestamp (EvalTimestamp), in ms.
  std::vector<Millis> stamps;
  for (int i = 0; i < 100 && stamps.size() < 2; ++i) {
    auto now = wall_now() + 1000;
    auto r = q.query_range("timestamp(ruleeval_offset_probe)", now - 20'000, now, 1'000);
    REQUIRE_MESSAGE(r.has_value(), r.error().to_string());
    stamps.clear();
    for (const auto& s : std::get<Matrix>(r->value)) {
      for (const auto& p : s.points) {
        auto t = static_cast<Millis>(std::llround(p.v * 1000));
        if (stamps.empty() || stamps.back() != t) stamps.push_back(t);
      }
    }
    if (stamps.size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  REQUIRE(stamps.size() >= 2);
  const Nanos interval = 2'000'000'000;
  const Nanos offset = group_offset(group_hash(g_backends->rules_file, kProbeGroup), interval);
  for (Millis t : stamps) {
    CAPTURE(t);
    CHECK(t % 2000 == offset / 1'000'000);
  }
  CHECK(stamps[1] - stamps[0] == 2000);
}

int main(int argc, char** argv) {
  if (find_binary("prometheus").empty() || find_binary("victoria-metrics").empty()) {
    std::cerr << "prometheus or victoria-metrics not installed: skipping\n";
    return 77;
  }
  auto started = std::chrono::steady_clock::now();
  int rc = 0;
  {
    Backends backends;  // killed when this scope ends, whatever the tests did
    g_backends = &backends;
    doctest::Context ctx(argc, argv);
    rc = ctx.run();
    g_backends = nullptr;
  }
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cerr << fmt::format("backend integration tests took {:.1f}s\n", secs);
  return rc;
}
