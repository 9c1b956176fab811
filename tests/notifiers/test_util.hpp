// Helpers for the notifier tests: a recording Transport and alert builders.
#pragma once

#include <atomic>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ruleeval/notifiers/notifier.hpp"

namespace ruleeval::notifiers::testing {

struct Sent {
  OutboxEntry entry;
  std::string receiver;
};

class RecordingTransport : public Transport {
 public:
  // Scripted results, consumed in order; when empty every send succeeds.
  void script(std::vector<SendResult> results) {
    std::lock_guard lock(mu_);
    for (auto& r : results) script_.push_back(std::move(r));
  }
  // Called first (without the lock); a returned result replaces the scripted one.
  std::function<std::optional<SendResult>(const OutboxEntry&)> hook;

  SendResult send(const OutboxEntry& e, const ReceiverConfig& rc, size_t) override {
    if (hook) {
      if (auto r = hook(e)) {
        std::lock_guard lock(mu_);
        ++attempts_;
        if (r->ok) sent_.push_back({e, rc.name});
        return *r;
      }
    }
    std::lock_guard lock(mu_);
    ++attempts_;
    SendResult r;
    r.ok = true;
    if (!script_.empty()) {
      r = script_.front();
      script_.pop_front();
    }
    if (r.ok) sent_.push_back({e, rc.name});
    return r;
  }
  std::vector<Sent> sent() const {
    std::lock_guard lock(mu_);
    return sent_;
  }
  std::vector<Sent> sent_to(const std::string& integration) const {
    std::vector<Sent> out;
    for (auto& s : sent()) {
      if (s.entry.integration == integration) out.push_back(s);
    }
    return out;
  }
  int attempts() const {
    std::lock_guard lock(mu_);
    return attempts_;
  }
  void clear() {
    std::lock_guard lock(mu_);
    sent_.clear();
  }

 private:
  mutable std::mutex mu_;
  std::deque<SendResult> script_;
  std::vector<Sent> sent_;
  int attempts_ = 0;
};

inline SendResult fail_with(long status, bool retryable, Millis retry_after = -1) {
  SendResult r;
  r.status = status;
  r.retryable = retryable;
  r.retry_after_ms = retry_after;
  r.error = "unexpected status code " + std::to_string(status);
  return r;
}

inline SendResult ok_result() {
  SendResult r;
  r.ok = true;
  return r;
}

inline rules::Alert alert(Labels labels, Millis starts, Millis ends = 0, Labels annotations = {}) {
  rules::Alert a;
  a.labels = std::move(labels);
  a.annotations = std::move(annotations);
  a.starts_at = starts;
  a.ends_at = ends;
  a.generator_url = "http://prom/graph";
  return a;
}

inline std::string temp_dir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() /
           ("ruleeval_notif_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

}  // namespace ruleeval::notifiers::testing
