// RuleManager: self-metrics in the Prometheus text exposition format.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "ruleeval/common/build_info.hpp"
#include "manager_group.hpp"
#include "text_escape.hpp"

namespace ruleeval::engine {

std::string RuleManager::metrics_text() const {
  std::vector<std::shared_ptr<Group>> groups;
  std::vector<std::shared_ptr<Datasource>> dss;
  {
    std::lock_guard lock(mu_);
    groups = groups_;
    dss = datasources_;
  }
  std::string o;
  std::string dur, iters, missed, fails, last, inter;
  size_t firing = 0, pending = 0;
  for (const auto& g : groups) {
    std::lock_guard lock(g->mu);
    std::string lbl =
        fmt::format("rule_group=\"{};{}\"", metric_escape(g->file), metric_escape(g->name));
    uint64_t cum = 0;
    for (size_t i = 0; i < std::size(kDurationBuckets); ++i) {
      cum = g->buckets[i];
      dur += fmt::format("ruleeval_rule_group_duration_seconds_bucket{{{},le=\"{}\"}} {}\n", lbl,
                         kDurationBuckets[i], cum);
    }
    dur += fmt::format("ruleeval_rule_group_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n", lbl,
                       g->iterations);
    dur += fmt::format("ruleeval_rule_group_duration_seconds_sum{{{}}} {}\n", lbl, g->duration_sum);
    dur += fmt::format("ruleeval_rule_group_duration_seconds_count{{{}}} {}\n", lbl, g->iterations);
    iters += fmt::format("ruleeval_rule_group_iterations_total{{{}}} {}\n", lbl, g->iterations);
    missed += fmt::format("ruleeval_rule_group_iterations_missed_total{{{}}} {}\n", lbl, g->missed);
    fails += fmt::format("ruleeval_rule_evaluation_failures_total{{{}}} {}\n", lbl, g->failures);
    last +=
        fmt::format("ruleeval_rule_group_last_duration_seconds{{{}}} {}\n", lbl, g->last_duration);
    inter += fmt::format("ruleeval_rule_group_interval_seconds{{{}}} {}\n", lbl,
                         ms_to_seconds(g->interval));
    for (const auto& rt : g->rt->rules()) {
      for (const auto& [_, a] : rt.alerts) {
        if (a.state == AlertState::kFiring) ++firing;
        if (a.state == AlertState::kPending) ++pending;
      }
    }
  }
  o += "# HELP ruleeval_rule_group_duration_seconds Duration of rule group evaluations.\n"
       "# TYPE ruleeval_rule_group_duration_seconds histogram\n" +
       dur;
  o += "# HELP ruleeval_rule_group_iterations_total Rule group evaluations.\n"
       "# TYPE ruleeval_rule_group_iterations_total counter\n" +
       iters;
  o += "# HELP ruleeval_rule_group_iterations_missed_total Evaluations skipped because one "
       "overran.\n"
       "# TYPE ruleeval_rule_group_iterations_missed_total counter\n" +
       missed;
  o += "# HELP ruleeval_rule_evaluation_failures_total Rule evaluations that failed.\n"
       "# TYPE ruleeval_rule_evaluation_failures_total counter\n" +
       fails;
  o += "# HELP ruleeval_rule_group_last_duration_seconds Duration of the last evaluation.\n"
       "# TYPE ruleeval_rule_group_last_duration_seconds gauge\n" +
       last;
  o += "# HELP ruleeval_rule_group_interval_seconds The group's evaluation interval.\n"
       "# TYPE ruleeval_rule_group_interval_seconds gauge\n" +
       inter;
  o += "# HELP ruleeval_alerts Active alerts by state.\n# TYPE ruleeval_alerts gauge\n";
  o += fmt::format(
      "ruleeval_alerts{{state=\"firing\"}} {}\nruleeval_alerts{{state=\"pending\"}} {}\n", firing,
      pending);
  o += "# HELP ruleeval_datasource_requests_total Queries sent to a datasource.\n"
       "# TYPE ruleeval_datasource_requests_total counter\n";
  std::string lat, bytes, decode;
  for (const auto& d : dss) {
    std::lock_guard lock(d->stats_mu);
    std::string name = metric_escape(d->name);
    o += fmt::format("ruleeval_datasource_requests_total{{datasource=\"{}\"}} {}\n", name,
                     d->requests);
    lat += fmt::format("ruleeval_datasource_request_seconds_total{{datasource=\"{}\"}} {}\n", name,
                       d->request_seconds);
    bytes += fmt::format("ruleeval_datasource_response_bytes_total{{datasource=\"{}\"}} {}\n", name,
                         d->response_bytes);
    decode += fmt::format("ruleeval_datasource_decode_seconds_total{{datasource=\"{}\"}} {}\n",
                          name, d->decode_seconds);
  }
  o += "# HELP ruleeval_datasource_request_seconds_total Time spent waiting for a datasource.\n"
       "# TYPE ruleeval_datasource_request_seconds_total counter\n" +
       lat;
  o += "# HELP ruleeval_datasource_response_bytes_total Response body bytes from a "
       "datasource, after gzip decompression.\n"
       "# TYPE ruleeval_datasource_response_bytes_total counter\n" +
       bytes;
  o += "# HELP ruleeval_datasource_decode_seconds_total Time spent decoding datasource "
       "responses.\n"
       "# TYPE ruleeval_datasource_decode_seconds_total counter\n" +
       decode;
  o += "# HELP ruleeval_state_write_failures_total Alert state writes (journal commits, "
       "snapshot saves) that failed; each is retried.\n"
       "# TYPE ruleeval_state_write_failures_total counter\n";
  o += fmt::format("ruleeval_state_write_failures_total {}\n", state_write_failures_.load());
  const BuildInfo& bi = build_info();
  o += "# HELP ruleeval_build_info A metric with a constant '1' value labeled by the version, "
       "revision, branch, compiler and platform ruleeval was built from.\n"
       "# TYPE ruleeval_build_info gauge\n";
  o += fmt::format(
      "ruleeval_build_info{{branch=\"{}\",compiler=\"{}\",platform=\"{}\",revision=\"{}\","
      "version=\"{}\"}} 1\n",
      metric_escape(bi.branch), metric_escape(bi.compiler), metric_escape(bi.platform),
      metric_escape(bi.revision), metric_escape(bi.version));
  o += "# HELP ruleeval_config_last_reload_successful Whether the last reload succeeded.\n"
       "# TYPE ruleeval_config_last_reload_successful gauge\n";
  o += fmt::format("ruleeval_config_last_reload_successful {}\n", reload_ok_.load() ? 1 : 0);
  o +=
      "# HELP ruleeval_config_last_reload_success_timestamp_seconds Time of the last good reload.\n"
      "# TYPE ruleeval_config_last_reload_success_timestamp_seconds gauge\n";
  o += fmt::format("ruleeval_config_last_reload_success_timestamp_seconds {}\n",
                   ms_to_seconds(reload_at_.load()));
  o += fmt::format(
      "# TYPE ruleeval_config_reloads_total counter\nruleeval_config_reloads_total {}\n",
      reloads_total_.load());
  o += fmt::format(
      "# TYPE ruleeval_config_reload_failures_total counter\nruleeval_config_reload_failures_total "
      "{}\n",
      reload_failures_total_.load());
  return o;
}

}  // namespace ruleeval::engine
