// The replay report: episodes, pages, pending-only, flaps and what-if variants computed by
// run_replay over the engine's own state machine, with the query_range prefetch (chunked) and
// without it giving the same numbers; plus the what-if parser and the HTML report's escaping.
#include <doctest/doctest.h>

#include <atomic>

#include "ruleeval/engine/load_notation.hpp"
#include "ruleeval/engine/replay_report.hpp"
#include "ruleeval/rules/loader.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;

namespace {

constexpr Millis kMin = 60'000;

// Counts the queries a replay sends, by kind.
class CountingQuerier final : public RuleQuerier {
 public:
  explicit CountingQuerier(LocalRuleQuerier& inner) : inner_(inner) {}
  Result<QueryResult> instant(const promql::Expr& e, std::string_view text, Millis t) override {
    ++instant_calls;
    return inner_.instant(e, text, t);
  }
  Result<QueryResult> range(const promql::Expr& e, std::string_view text, Millis a, Millis b,
                            Millis step) override {
    ++range_calls;
    max_points = std::max<Millis>(max_points, (b - a) / step + 1);
    return inner_.range(e, text, a, b, step);
  }
  std::atomic<int> instant_calls{0}, range_calls{0};
  std::atomic<Millis> max_points{0};

 private:
  LocalRuleQuerier& inner_;
};

struct Fixture {
  Storage store;
  rules::LoadResult loaded;
  std::unique_ptr<LocalRuleQuerier> local;
  std::unique_ptr<CountingQuerier> counting;
  std::mutex mu;

  Fixture(const std::string& yaml, std::initializer_list<const char*> series) {
    for (const char* s : series) {
      auto spec = parse_series_line(s);
      REQUIRE_MESSAGE(spec.has_value(), s);
      load_series(store, *spec, 0, kMin);
    }
    loaded = rules::load_rules_text(yaml, "rules.yaml");
    for (const auto& d : loaded.diagnostics) {
      INFO(d.to_string());
      REQUIRE(d.severity != rules::Severity::Error);
    }
    local = std::make_unique<LocalRuleQuerier>(store, EngineOptions{});
    counting = std::make_unique<CountingQuerier>(*local);
  }

  std::vector<RuleManager::ReplaySource> sources(bool as_backend) {
    std::vector<RuleManager::ReplaySource> out;
    for (const auto& g : loaded.file.groups) {
      RuleManager::ReplaySource s;
      s.group = &g;
      s.file = "rules.yaml";
      s.interval = kMin;
      s.offset = 0;
      s.env.interval = kMin;
      s.env.write_alert_series = false;
      s.local = !as_backend;
      s.with_querier = [this](const std::function<void(RuleQuerier&, const AppendFn&)>& fn) {
        std::lock_guard lock(mu);
        fn(*counting, [](const Labels&, Millis, double) {});
      };
      out.push_back(std::move(s));
    }
    return out;
  }
};

// x: 10 except 100 during [10m,11m) [20m,32m) [50m,70m) [72m,82m); y: [5m,7m) [55m,85m).
const char* kSeriesX = "v{i=\"x\"} 10x9 100 10x8 100x11 10x17 100x19 10 10 100x9 10x40";
const char* kSeriesY = "v{i=\"y\"} 10x4 100x1 10x47 100x29 10x40";

const char* kRules = R"(groups:
  - name: g
    interval: 1m
    rules:
      - alert: High
        expr: v > 50
        for: 2m
)";

}  // namespace

TEST_CASE("replay report: pages, pending-only, flaps, firing time and what-if") {
  for (bool backend : {false, true}) {
    CAPTURE(backend);
    Fixture fx(kRules, {kSeriesX, kSeriesY});
    replay::ReplayOptions opts;
    opts.from = 0;
    opts.to = 110 * kMin;
    opts.max_points = 7;  // forces many chunks
    opts.concurrency = 3;
    opts.what_if.push_back(*replay::parse_what_if("for=0s,5m,15m"));
    auto srcs = fx.sources(backend);
    replay::Progress prog;
    auto rep = replay::run_replay(srcs, opts, &prog);
    REQUIRE(rep.has_value());
    CHECK(prog.done.load() == prog.total.load());
    REQUIRE(rep->rules.size() == 1);
    const auto& r = rep->rules[0];
    CHECK(r.failed_evaluations == 0);
    CHECK(r.evaluations == 111);
    CHECK(r.firing_starts == 4);
    CHECK(r.pending_only == 2);
    CHECK(r.flaps == 1);  // refired 4m after a resolve, within the default 5m group_interval
    CHECK(r.refires == 2);  // x's 2nd and 3rd page: within the default 4h repeat_interval
    CHECK(r.firing_ms == (10 + 18 + 8 + 28) * kMin);
    CHECK(r.episode_firing.median == 10 * kMin);
    CHECK(r.episode_firing.p90 == 28 * kMin);
    CHECK(r.episode_firing.max == 28 * kMin);
    CHECK(r.detection_delay.max == 2 * kMin);
    CHECK(r.peak_firing == 2);
    CHECK(rep->peak_firing == 2);
    REQUIRE(r.instances.size() == 2);
    CHECK(r.instances[0].labels.get("i") == "x");
    CHECK(r.instances[0].firing_starts == 3);
    CHECK(r.instances[0].flaps == 1);
    REQUIRE(r.what_if.size() == 3);
    CHECK(r.what_if[0].value == "0s");
    CHECK(r.what_if[0].firing_starts == 6);
    CHECK(r.what_if[0].pending_only == 0);
    CHECK(r.what_if[0].firing_ms == 75 * kMin);
    CHECK(r.what_if[1].firing_starts == 4);
    CHECK(r.what_if[1].pending_only == 2);
    CHECK(r.what_if[1].detection_delay.median == 5 * kMin);
    CHECK(r.what_if[2].firing_starts == 2);
    CHECK(r.what_if[2].pending_only == 4);
    CHECK(r.what_if[2].firing_ms == 20 * kMin);
    if (backend) {
      // One query pass: 111 slots in chunks of 7 points, no instant query for base or variants.
      CHECK(fx.counting->range_calls.load() == 16);
      CHECK(fx.counting->max_points.load() == 7);
      CHECK(fx.counting->instant_calls.load() == 0);
      CHECK(rep->range_queries == 16);
      CHECK(rep->direct_queries == 0);
    }
  }
}

TEST_CASE("replay report: keep_firing_for what-if bridges a short gap") {
  Fixture fx(kRules, {kSeriesX, kSeriesY});
  replay::ReplayOptions opts;
  opts.from = 0;
  opts.to = 110 * kMin;
  opts.what_if.push_back(*replay::parse_what_if("keep_firing_for=0s,3m"));
  auto srcs = fx.sources(true);
  auto rep = replay::run_replay(srcs, opts);
  REQUIRE(rep.has_value());
  REQUIRE(rep->rules.size() == 1);
  const auto& w = rep->rules[0].what_if;
  REQUIRE(w.size() == 2);
  CHECK(w[0].key == replay::WhatIfKey::kKeepFiringFor);
  CHECK(w[0].firing_starts == 4);
  CHECK(w[0].firing_ms == 64 * kMin);
  // 3m: x's 2m gap between [50m,70m) and [72m,82m) no longer resolves: one page less, and every
  // firing episode lasts 3m longer.
  CHECK(w[1].firing_starts == 3);
  CHECK(w[1].pending_only == 2);
  CHECK(w[1].firing_ms == (13 + 33 + 31) * kMin);
}

TEST_CASE("replay report: flap window from the route, --rule filter") {
  Fixture fx(kRules, {kSeriesX, kSeriesY});
  replay::ReplayOptions opts;
  opts.from = 0;
  opts.to = 110 * kMin;
  opts.flap_windows = [](const Labels&) { return std::pair<Millis, Millis>{3 * kMin, kMin}; };
  auto srcs = fx.sources(true);
  auto rep = replay::run_replay(srcs, opts);
  REQUIRE(rep.has_value());
  REQUIRE(rep->rules.size() == 1);
  CHECK(rep->rules[0].flaps == 0);  // 4m after the resolve is outside a 3m group_interval
  CHECK(rep->rules[0].refires == 0);  // and outside a 1m repeat_interval
  CHECK(rep->rules[0].flap_window_ms == 3 * kMin);
  opts.rule_filter = [](const rules::Rule& r) { return r.name == "Other"; };
  rep = replay::run_replay(srcs, opts);
  REQUIRE(rep.has_value());
  CHECK(rep->rules.empty());
}

TEST_CASE("replay report: query errors become error periods, not pages") {
  Fixture fx(R"(groups:
  - name: g
    rules:
      - alert: Broken
        expr: v{i="x"} / on(nope) group_left v
)",
             {kSeriesX, kSeriesY, "v{i=\"x\", j=\"2\"} 1x200"});
  replay::ReplayOptions opts;
  opts.from = 0;
  opts.to = 10 * kMin;
  auto srcs = fx.sources(true);
  auto rep = replay::run_replay(srcs, opts);
  REQUIRE(rep.has_value());
  REQUIRE(rep->rules.size() == 1);
  CHECK(rep->rules[0].firing_starts == 0);
  CHECK(rep->rules[0].failed_evaluations == 11);
  REQUIRE(rep->rules[0].error_periods.size() == 1);
  CHECK(rep->rules[0].error_periods[0].end == 10 * kMin);
}

TEST_CASE("replay report: --what-if parsing keeps the spelling and refuses nonsense") {
  auto w = replay::parse_what_if("for=0s,5m,1h30m");
  REQUIRE(w.has_value());
  CHECK(w->key == replay::WhatIfKey::kFor);
  REQUIRE(w->values.size() == 3);
  CHECK(w->values[2].spelling == "1h30m");
  CHECK(w->values[2].ms == 90 * kMin);
  auto t = replay::parse_what_if("threshold=200,2.5e2");
  REQUIRE(t.has_value());
  CHECK(t->values[1].number == 250);
  CHECK_FALSE(replay::parse_what_if("for").has_value());
  CHECK_FALSE(replay::parse_what_if("fore=5m").has_value());
  CHECK_FALSE(replay::parse_what_if("for=5x").has_value());
  CHECK_FALSE(replay::parse_what_if("for=5m,").has_value());
  CHECK_FALSE(replay::parse_what_if("threshold=abc").has_value());
}

TEST_CASE("replay report: distribution uses nearest ranks") {
  auto d = replay::distribution({4, 1, 3, 2});
  CHECK(d.count == 4);
  CHECK(d.median == 2);
  CHECK(d.p90 == 4);
  CHECK(d.max == 4);
  CHECK(replay::distribution({}).count == 0);
}

TEST_CASE("replay report: HTML escapes user data and has one SVG per rule") {
  replay::ReplayReport rep;
  rep.from = 0;
  rep.to = 3600'000;
  replay::RuleReport r;
  r.rule = "<script>alert(1)</script>";
  r.group = "g&\"'";
  r.file = "f.yaml";
  r.interval = kMin;
  replay::InstanceReport in;
  in.labels = Labels{{"alertname", "x"}, {"path", "/a?b=<c>"}};
  replay::Episode e;
  e.pending_at = 60'000;
  e.fired_at = 120'000;
  e.end = 600'000;
  e.resolved_at = 600'000;
  in.episodes.push_back(e);
  r.instances.push_back(in);
  r.firing_starts = 1;
  rep.rules.push_back(r);
  rep.rules.push_back(replay::RuleReport{});
  rep.rules.back().rule = "Quiet";
  std::string h = replay::html_report(rep);
  CHECK(h.find("<script") == std::string::npos);
  CHECK(h.find("&lt;script&gt;") != std::string::npos);
  CHECK(h.find("/a?b=&lt;c&gt;") != std::string::npos);
  CHECK(h.find("g&amp;&quot;&#39;") != std::string::npos);
  size_t svgs = 0;
  for (size_t p = 0; (p = h.find("<svg", p)) != std::string::npos; ++p) ++svgs;
  CHECK(svgs == 2);
  CHECK(h.find("class=\"firing\"") != std::string::npos);
  CHECK(h.find("class=\"pending\"") != std::string::npos);
  std::string js = replay::summary_json(rep);
  CHECK(js.find("\"from\":\"1970-01-01T00:00:00Z\"") != std::string::npos);
  CHECK(js.find("\"rule\":\"<script>alert(1)</script>\"") != std::string::npos);
  CHECK(replay::rfc3339(1'500) == "1970-01-01T00:00:01.500Z");
}
