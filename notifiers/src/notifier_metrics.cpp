// Per-integration delivery counters and their Prometheus text exposition.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "notifier_internal.hpp"
#include "ruleeval/common/url.hpp"

namespace ruleeval::notifiers {

namespace {

std::string metric_labels(const IntegrationMetrics& m) {
  return "{receiver=" + go_quote(m.receiver) + ",integration=" + go_quote(m.integration) + "}";
}

}  // namespace

std::vector<IntegrationMetrics> Notifier::metrics() const {
  std::vector<IntegrationMetrics> out;
  std::lock_guard lock(workers_mu_);
  for (const auto& [k, w] : workers_) {
    std::lock_guard wl(w->mu);
    out.push_back(w->m);
  }
  return out;
}

std::string Notifier::metrics_text() const {
  // Several integrations of one kind in a receiver (two email_configs) share their labels: they
  // are summed into one series, as Alertmanager counts per integration type.
  std::vector<std::pair<std::string, IntegrationMetrics>> agg;
  for (const auto& m : metrics()) {
    std::string labels = metric_labels(m);
    auto it = std::find_if(agg.begin(), agg.end(), [&](const auto& p) { return p.first == labels; });
    if (it == agg.end()) {
      agg.emplace_back(std::move(labels), m);
      continue;
    }
    it->second.sent += m.sent;
    it->second.failed += m.failed;
    it->second.retried += m.retried;
    it->second.queued += m.queued;
  }
  std::string out;
  auto family = [&](const char* name, const char* type, const char* help, auto get) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    for (const auto& [labels, m] : agg) out += name + labels + " " + std::to_string(get(m)) + "\n";
  };
  family("ruleeval_notifications_sent_total", "counter", "Notifications delivered.",
         [](const IntegrationMetrics& m) { return m.sent; });
  family("ruleeval_notifications_failed_total", "counter", "Failed delivery attempts.",
         [](const IntegrationMetrics& m) { return m.failed; });
  family("ruleeval_notifications_retried_total", "counter", "Delivery attempts retried.",
         [](const IntegrationMetrics& m) { return m.retried; });
  family("ruleeval_notifications_queued", "gauge", "Notifications waiting for delivery.",
         [](const IntegrationMetrics& m) { return m.queued; });
  return out;
}

}  // namespace ruleeval::notifiers
