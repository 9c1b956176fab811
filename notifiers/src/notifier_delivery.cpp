// Delivery workers, one per integration: each sends its queue of outbox entries in order, at most
// one every min_interval, retrying with exponential backoff and jitter (or the receiver's
// Retry-After) until the receiver accepts, the error is permanent, or give_up_after passes.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>

#include "notifier_internal.hpp"
#include "ruleeval/common/excerpt.hpp"

namespace ruleeval::notifiers {

using detail::log_error;

namespace {

// Real waits (rate limits, wait_idle's timeout, log throttling) sleep on condition variables,
// so they measure the real monotonic clock, not the options' Env (a FakeEnv's clock stands still).
Millis steady_ms() { return Env::Default()->monotonic_ms(); }

size_t index_of(const std::string& integration_id) {
  auto slash = integration_id.rfind('/');
  try {
    return std::stoul(integration_id.substr(slash + 1));
  } catch (...) {
    return SIZE_MAX;
  }
}

}  // namespace

Notifier::Worker& Notifier::worker_for(const OutboxEntry& e) {
  std::lock_guard lock(workers_mu_);
  auto& slot = workers_[e.integration];
  if (!slot) {
    slot = std::make_unique<Worker>();
    Worker& w = *slot;
    w.id = e.integration;
    w.receiver = e.receiver;
    w.kind = e.kind;
    w.index = index_of(e.integration);
    w.min_interval =
        e.kind == IntegrationKind::kSlack ? opts_.slack_min_interval_ms : opts_.min_interval_ms;
    w.m.receiver = e.receiver;
    w.m.integration = std::string(kind_name(e.kind));
    w.thread = std::thread([this, &w] { worker_loop(w); });
  }
  return *slot;
}

void Notifier::enqueue(OutboxEntry e, bool persist) {
  if (persist) {
    auto r = outbox_->put(e);
    if (!r) log_error("outbox: " + r.error().to_string() + " (delivering without durability)");
  }
  Worker& w = worker_for(e);
  {
    std::lock_guard lock(w.mu);
    w.queue.push_back(std::move(e));
    w.m.queued = w.queue.size();
  }
  w.cv.notify_all();
}

bool Notifier::sleep_unless_stopping(Worker& w, Millis ms) {
  std::unique_lock lock(w.mu);
  return !w.cv.wait_for(lock, std::chrono::milliseconds(std::max<Millis>(ms, 0)),
                        [this] { return stopping_.load(); });
}

void Notifier::worker_loop(Worker& w) {
  while (true) {
    OutboxEntry e;
    {
      std::unique_lock lock(w.mu);
      w.cv.wait(lock, [&] { return stopping_.load() || !w.queue.empty(); });
      if (stopping_) return;
      e = w.queue.front();
      w.busy = true;
    }
    uint32_t attempt = 0;
    while (true) {
      Millis gap = w.last_send + w.min_interval - steady_ms();
      if (gap > 0 && !sleep_unless_stopping(w, gap)) return;
      const ReceiverConfig* rc = config_.find_receiver(e.receiver);
      SendResult res;
      if (!rc) {
        res.error = "receiver \"" + e.receiver + "\" is no longer configured";
      } else {
        res = opts_.transport->send(e, *rc, w.index);
      }
      w.last_send = steady_ms();
      ++attempt;
      bool finished = false;
      bool raise = false, clear = false;
      {
        std::lock_guard lock(w.mu);
        if (res.ok) {
          ++w.m.sent;
          w.m.consecutive_failures = 0;
          clear = w.failing_raised;
          w.failing_raised = false;
          finished = true;
        } else {
          ++w.m.failed;
          ++w.m.consecutive_failures;
          w.m.last_error = res.error;
          // Logged at most every 10 s per integration (retries of a down receiver would flood).
          const Millis t = steady_ms();
          if (t - w.failure_logged_at >= 10'000) {
            w.failure_logged_at = t;
            log_error(fmt::format("delivery failed: receiver={} integration={} attempt={} "
                                  "notification={}: {}",
                                  w.receiver, w.id, attempt, e.id, excerpt(res.error, 300)));
          }
          if (opts_.failing_threshold > 0 && w.m.consecutive_failures >= opts_.failing_threshold &&
              !w.failing_raised) {
            w.failing_raised = true;
            raise = true;
          }
        }
      }
      if (raise) on_failure_threshold(w, true);
      if (clear) on_failure_threshold(w, false);
      if (finished) {
        set_outcome(e.group_key, w.id, "sent", "", "", e.created_at);
        auto r = outbox_->done(e.id);
        if (!r) log_error("outbox: " + r.error().to_string());
        break;
      }
      Millis age = opts_.env->now_ms() - e.created_at;
      if (!res.retryable || age > opts_.give_up_after_ms) {
        log_error(w.id + ": giving up on notification " + e.id + ": " + res.error);
        auto r = outbox_->fail(e.id, res.error);
        if (!r) log_error("outbox: " + r.error().to_string());
        set_outcome(e.group_key, w.id, "failed", res.error, fail_to_fallback(w), e.created_at);
        // Forget that we notified, so the next group flush tries again (Alertmanager does not
        // log failed notifications either).
        std::lock_guard lock(nflog_mu_);
        nflog_.erase(e.group_key + '\x1f' + w.id);
        break;
      }
      Millis delay;
      if (res.retry_after_ms >= 0 && (res.status == 429 || res.status == 503)) {
        delay = std::min(res.retry_after_ms, opts_.retry_after_max_ms);
      } else {
        double base = static_cast<double>(opts_.backoff_initial_ms) *
                      std::pow(opts_.backoff_multiplier, static_cast<double>(attempt - 1));
        base = std::min(base, static_cast<double>(opts_.backoff_max_ms));
        std::uniform_real_distribution<double> jitter(1.0 - opts_.backoff_jitter,
                                                      1.0 + opts_.backoff_jitter);
        delay = static_cast<Millis>(base * jitter(w.rng));
      }
      {
        std::lock_guard lock(w.mu);
        ++w.m.retried;
      }
      set_outcome(e.group_key, w.id, "retrying", res.error, "", e.created_at);
      if (!sleep_unless_stopping(w, delay)) return;
    }
    {
      std::lock_guard lock(w.mu);
      w.queue.pop_front();
      w.m.queued = w.queue.size();
      w.busy = false;
    }
  }
}

bool Notifier::wait_idle(Millis timeout_ms) {
  Millis deadline = steady_ms() + timeout_ms;
  while (true) {
    bool idle = true;
    {
      std::lock_guard lock(workers_mu_);
      for (auto& [k, w] : workers_) {
        std::lock_guard wl(w->mu);
        if (!w->queue.empty() || w->busy) idle = false;
      }
    }
    if (idle) return true;
    if (steady_ms() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace ruleeval::notifiers
