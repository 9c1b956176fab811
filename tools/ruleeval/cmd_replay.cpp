// `ruleeval replay`: backtests the rules of ruleeval.yaml over a past time range against its
// datasources, evaluating each group at the slot times Prometheus would use, and prints every
// pending or firing alert per evaluation as JSON lines (stdout) plus a summary (stderr).
// With remote_write configured, recording results and ALERTS are written too. Nothing is sent
// to the receivers.
// Exit codes: 0 done, 2 bad config, time range or usage.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "commands.hpp"
#include "features.hpp"
#include "ruleeval/engine/manager.hpp"
#include "ruleeval/parser/duration.hpp"
#include "ruleeval/rules/run_config.hpp"
#include "ruleeval/rules/unittest_file.hpp"

namespace ruleeval::cli {
namespace {

struct ReplayFlags {
  std::string config = "ruleeval.yaml";
  std::string from, to = "now";
  std::vector<std::string> features;
};

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

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
  std::map<std::string, size_t> fired;  // alertname -> times an alert started firing
  // alertname -> alert identity hash -> state at the previous evaluation
  std::unordered_map<std::string, std::unordered_map<uint64_t, engine::AlertState>> last;
  size_t errors = 0;
  size_t n = manager.replay(*from, *to, [&](const engine::GroupRuntime& g, engine::Millis ts) {
    for (const auto& rt : g.rules()) {
      if (rt.last_error) {
        ++errors;
        std::cerr << fmt::format("{}: group {:?}, rule {:?}: {}\n", ts, g.group().name,
                                 rt.rule->name, *rt.last_error);
      }
      auto& last_of_rule = last[rt.rule->name];
      for (const auto& [h, a] : rt.alerts) {
        if (a.state == engine::AlertState::kInactive) continue;
        auto& prev = last_of_rule[h];
        if (a.state == engine::AlertState::kFiring && prev != engine::AlertState::kFiring) {
          ++fired[rt.rule->name];
        }
        prev = a.state;
        std::string labels;
        for (const auto& l : a.labels) {
          labels += fmt::format("{}\"{}\":\"{}\"", labels.empty() ? "" : ",", json_escape(l.name),
                                json_escape(l.value));
        }
        std::cout << fmt::format(
            "{{\"t\":{:.3f},\"group\":\"{}\",\"alert\":\"{}\",\"labels\":{{{}}},\"state\":\"{}\","
            "\"activeAt\":{:.3f}}}\n",
            static_cast<double>(ts) / 1000.0, json_escape(g.group().name),
            json_escape(rt.rule->name), labels, engine::to_string(a.state),
            static_cast<double>(a.active_at) / 1000.0);
      }
      for (auto& [h, st] : last_of_rule) {
        auto it = rt.alerts.find(h);
        if (it == rt.alerts.end() || it->second.state == engine::AlertState::kInactive) {
          st = engine::AlertState::kInactive;
        }
      }
    }
  });
  std::cerr << fmt::format("replayed {} group evaluations from {} to {} ({} rule errors)\n", n,
                           static_cast<double>(*from) / 1000.0, static_cast<double>(*to) / 1000.0,
                           errors);
  for (const auto& [name, count] : fired) {
    std::cerr << fmt::format("  {}: started firing {} time(s)\n", name, count);
  }
  return 0;
}

}  // namespace

void register_replay(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ReplayFlags>();
  auto* sub = app.add_subcommand("replay", "Backtest rules over a past time range");
  sub->add_option("-c,--config", flags->config, "Configuration file")->capture_default_str();
  sub->add_option("--from", flags->from, "Start: RFC3339, Unix seconds or -<duration>")->required();
  sub->add_option("--to", flags->to, "End (default now)");
  sub->add_option("--enable-feature", flags->features,
                  "Enable experimental PromQL (promql-experimental-functions, ...; also "
                  "enable_features: in ruleeval.yaml)")
      ->allow_extra_args(false);
  sub->callback([flags, &exit_code] { exit_code = replay(*flags); });
}

}  // namespace ruleeval::cli
