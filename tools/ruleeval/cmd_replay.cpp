// `ruleeval replay`: backtests the rules of ruleeval.yaml over a past time range against its
// datasources, evaluating each group at the slot times Prometheus would use, and prints every
// pending or firing alert per evaluation as JSON lines (stdout) plus a summary (stderr).
// With remote_write configured, recording results and ALERTS are written too. Nothing is sent
// to the receivers. The alert-fatigue report (pages, pending-only episodes, flaps, firing time,
// what-if variants, --summary-json, --report HTML) comes from engine/replay_report.hpp.
// Exit codes: 0 done, 2 bad config, time range or usage, 1 an output file cannot be written.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <iostream>
#include <regex>
#include <thread>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <unordered_map>

#include "commands.hpp"
#include "features.hpp"
#include "ruleeval/common/env.hpp"
#include "ruleeval/engine/manager.hpp"
#include "ruleeval/engine/replay_report.hpp"
#include "ruleeval/notifiers/config.hpp"
#include "ruleeval/notifiers/dispatch.hpp"
#include "ruleeval/parser/duration.hpp"
#include "ruleeval/rules/run_config.hpp"
#include "ruleeval/rules/unittest_file.hpp"

namespace ruleeval::cli {
namespace {

struct ReplayFlags {
  std::string config = "ruleeval.yaml";
  std::string from, to = "now";
  std::string rule;  // regex on rule names (searched, like `go test -run`)
  std::string summary_json, report;
  std::vector<std::string> what_if;
  size_t concurrency = 4;
  bool quiet = false;
  bool no_alert_lines = false;
  std::vector<std::string> features;
};

// Progress on stderr: a bar redrawn in place on a terminal, a plain line every 10 s otherwise.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(const engine::replay::Progress& p)
      : p_(p), tty_(::isatty(2) == 1), start_(Env::Default()->monotonic_now()) {
    thread_ = std::thread([this] { loop(); });
  }
  ~ProgressPrinter() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
    print(true);
  }

 private:
  void loop() {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(tty_ ? 250 : 10'000),
                         [this] { return stop_; })) {
      print(false);
    }
  }
  void print(bool last) {
    const uint64_t total = p_.total.load(), done = std::min(p_.done.load(), total);
    const double secs = Env::Default()->seconds_since(start_);
    const double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
    const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0;
    const double frac = total ? static_cast<double>(done) / static_cast<double>(total) : 1;
    std::string line = fmt::format("{}/{} rule-slots ({:.0f}%), {:.0f}/s, {} {:.0f}s", done, total,
                                   frac * 100, rate, last ? "took" : "ETA", last ? secs : eta);
    if (tty_) {
      const int width = 30;
      int filled = static_cast<int>(frac * width);
      std::cerr << fmt::format("\r[{}{}] {}\x1b[K", std::string(static_cast<size_t>(filled), '#'),
                               std::string(static_cast<size_t>(width - filled), ' '), line)
                << (last ? "\n" : "") << std::flush;
    } else {
      std::cerr << "replay progress: " << line << "\n";
    }
  }
  const engine::replay::Progress& p_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

bool write_file(const std::string& path, const std::string& body) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << body;
  out.close();
  if (!out) {
    std::cerr << fmt::format("ruleeval replay: cannot write {}\n", path);
    return false;
  }
  return true;
}

int64_t wall_ms() { return Env::Default()->now_ms(); }

// "now", "-1h" (before now), RFC3339 or Unix seconds.
std::optional<int64_t> parse_time(const std::string& s, int64_t now) {
  if (s == "now") return now;
  if (!s.empty() && s[0] == '-') {
    auto d = parse_duration(s.substr(1));
    if (d) return now - *d;
  }
  return rules::parse_timestamp(s);
}

std::string json_escape(std::string_view v) {
  std::string o;
  for (char c : v) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      o += fmt::format("\\u{:04x}", static_cast<int>(c));
    } else {
      o += c;
    }
  }
  return o;
}

int replay(const ReplayFlags& f) {
  int64_t now = wall_ms();
  auto from = parse_time(f.from, now);
  auto to = parse_time(f.to, now);
  if (!from || !to || *from > *to) {
    std::cerr << "ruleeval replay: --from/--to must be now, -<duration>, RFC3339 or Unix seconds, "
                 "with from <= to\n";
    return 2;
  }
  auto cfg = rules::load_run_config(f.config);
  if (!cfg) {
    for (const auto& e : cfg.error()) std::cerr << e.to_string() << "\n";
    return 2;
  }
  std::vector<engine::replay::WhatIf> what_if;
  for (const auto& w : f.what_if) {
    auto p = engine::replay::parse_what_if(w);
    if (!p) {
      std::cerr << "ruleeval replay: " << p.error().message << "\n";
      return 2;
    }
    what_if.push_back(std::move(*p));
  }
  std::optional<std::regex> rule_re;
  if (!f.rule.empty()) {
    try {
      rule_re.emplace(f.rule, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      std::cerr << fmt::format("ruleeval replay: --rule {:?}: {}\n", f.rule, e.what());
      return 2;
    }
  }
  if (f.concurrency == 0) {
    std::cerr << "ruleeval replay: --concurrency must be at least 1\n";
    return 2;
  }
  engine::ManagerOptions mopts;
  if (std::string unknown; !parse_features(f.features, mopts.experimental_promql, unknown)) {
    std::cerr << "ruleeval replay: unknown feature \"" << unknown << "\"\n";
    return 2;
  }
  engine::RuleManager manager(mopts, nullptr);
  if (auto r = manager.apply(*cfg); !r) {
    for (const auto& e : r.error()) std::cerr << e.to_string() << "\n";
    return 2;
  }
  // Flaps are counted against the group_interval of the route that would receive the alert.
  std::shared_ptr<const notifiers::RouteTree> routes;
  if (auto nc = cfg->has_notifications ? notifiers::load_notify_config(f.config)
                                        : Result<notifiers::NotifyConfig>(make_error(""));
      nc) {
    if (auto t = notifiers::RouteTree::build(*nc)) routes = *t;
  }
  std::mutex routes_mu;

  engine::replay::ReplayOptions opts;
  opts.from = *from;
  opts.to = *to;
  opts.what_if = what_if;
  opts.concurrency = f.concurrency;
  if (rule_re) {
    opts.rule_filter = [&](const rules::Rule& r) { return std::regex_search(r.name, *rule_re); };
  }
  if (routes) {
    opts.flap_windows = [&](const Labels& l) -> std::pair<Millis, Millis> {
      std::lock_guard lock(routes_mu);
      auto m = routes->match(l);
      if (m.empty()) return {5 * 60'000, 4 * 3600'000};
      return {m.front()->group_interval, m.front()->repeat_interval};
    };
  }
  size_t errors = 0;
  opts.after = [&](const engine::GroupRuntime& g, Millis ts) {
    for (const auto& rt : g.rules()) {
      if (rt.last_error) {
        ++errors;
        if (!f.quiet) {
          std::cerr << fmt::format("{}: group {:?}, rule {:?}: {}\n", ts, g.group().name,
                                   rt.rule->name, *rt.last_error);
        }
      }
      if (f.no_alert_lines) continue;
      std::string out;
      for (const auto& [h, a] : rt.alerts) {
        if (a.state == engine::AlertState::kInactive) continue;
        std::string labels;
        for (const auto& l : a.labels) {
          labels += fmt::format("{}\"{}\":\"{}\"", labels.empty() ? "" : ",", json_escape(l.name),
                                json_escape(l.value));
        }
        out += fmt::format(
            "{{\"t\":{:.3f},\"group\":\"{}\",\"alert\":\"{}\",\"labels\":{{{}}},\"state\":\"{}\","
            "\"activeAt\":{:.3f}}}\n",
            ms_to_seconds(ts), json_escape(g.group().name),
            json_escape(rt.rule->name), labels, engine::to_string(a.state),
            ms_to_seconds(a.active_at));
      }
      std::cout << out;
    }
  };
  auto sources = manager.replay_sources();
  engine::replay::Progress progress;
  std::optional<Result<engine::replay::ReplayReport>> result;
  {
    std::optional<ProgressPrinter> printer;
    if (!f.quiet) printer.emplace(progress);
    result.emplace(engine::replay::run_replay(sources, opts, &progress));
  }
  manager.flush_remote_write();
  std::cout << std::flush;
  if (!*result) {
    std::cerr << "ruleeval replay: " << result->error().message << "\n";
    return 2;
  }
  const auto& rep = **result;
  std::cerr << fmt::format(
      "replayed {} group evaluations from {} to {} ({} rule errors; {} range queries, {} other "
      "queries)\n",
      rep.evaluations, engine::replay::rfc3339(*from), engine::replay::rfc3339(*to), errors,
      rep.range_queries, rep.direct_queries);
  for (const auto* r : engine::replay::ranked(rep)) {
    std::cerr << fmt::format("  {}: started firing {} time(s), {} pending-only, {} flap(s)\n",
                             r->rule, r->firing_starts, r->pending_only, r->flaps);
  }
  std::cerr << engine::replay::what_if_table(rep);
  for (const auto& w : what_if) {
    bool used = std::any_of(rep.rules.begin(), rep.rules.end(), [&](const auto& r) {
      return std::any_of(r.what_if.begin(), r.what_if.end(),
                         [&](const auto& v) { return v.key == w.key; });
    });
    if (!used) {
      std::cerr << fmt::format("ruleeval replay: warning: --what-if {}=… applies to none of the "
                               "replayed rules ({})\n",
                               engine::replay::to_string(w.key),
                               w.key == engine::replay::WhatIfKey::kThreshold ||
                                       w.key == engine::replay::WhatIfKey::kRecover
                                   ? "only Grafana-like rules with a threshold"
                                   : "no alerting rules");
    }
  }
  int rc = 0;
  if (!f.summary_json.empty() && !write_file(f.summary_json, engine::replay::summary_json(rep))) {
    rc = 1;
  }
  if (!f.report.empty() && !write_file(f.report, engine::replay::html_report(rep))) rc = 1;
  return rc;
}

}  // namespace

void register_replay(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ReplayFlags>();
  auto* sub = app.add_subcommand("replay", "Backtest rules over a past time range");
  sub->add_option("-c,--config", flags->config, "Configuration file")->capture_default_str();
  sub->add_option("--from", flags->from, "Start: RFC3339, Unix seconds or -<duration>")->required();
  sub->add_option("--to", flags->to, "End (default now)");
  sub->add_option("--rule", flags->rule, "Only rules whose name matches this regex (searched)");
  sub->add_option("--summary-json", flags->summary_json, "Write the per-rule summary JSON here");
  sub->add_option("--report", flags->report, "Write a self-contained HTML report here");
  sub->add_option("--what-if", flags->what_if,
                  "Re-run the state machines with other values: for=0s,5m | keep_firing_for=… | "
                  "threshold=… | recover=… (Grafana-like rules); repeatable");
  sub->add_option("--concurrency", flags->concurrency, "Parallel queries across rules")
      ->capture_default_str();
  sub->add_flag("-q,--quiet", flags->quiet, "No progress and no per-evaluation error lines");
  sub->add_flag("--no-alert-lines", flags->no_alert_lines,
                "Do not print the pending/firing alerts of every evaluation");
  sub->add_option("--enable-feature", flags->features,
                  "Enable experimental PromQL (promql-experimental-functions, ...; also "
                  "enable_features: in ruleeval.yaml)")
      ->allow_extra_args(false);
  sub->callback([flags, &exit_code] { exit_code = replay(*flags); });
}

}  // namespace ruleeval::cli
