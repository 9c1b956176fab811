// Prometheus remote-write v1: a protobuf WriteRequest, snappy block compressed, POSTed with
// Content-Encoding: snappy and X-Prometheus-Remote-Write-Version: 0.1.0. The protobuf messages
// are small and fixed, so they are hand-encoded (no protoc).
//
// RemoteWriteQueue is a bounded in-memory queue (drops the oldest samples when full) drained by
// flush() or by a background thread; push() is thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ruleeval/common/env.hpp"
#include "ruleeval/common/error.hpp"
#include "ruleeval/common/labels.hpp"
#include "ruleeval/engine/histogram.hpp"
#include "ruleeval/engine/querier.hpp"

namespace ruleeval::engine {

struct WriteSample {
  Labels labels;  // including __name__
  Millis t = 0;
  double v = 0;
  // A native-histogram sample (v unused): sent in TimeSeries.histograms as a float histogram
  // (count_float, zero_count_float, one span per side, custom_values for NHCB).
  HistogramPtr h = nullptr;
};

// prometheus.WriteRequest bytes (not compressed). Samples with the same label set become one
// TimeSeries, in first-seen order; samples keep their order inside a series.
std::string encode_write_request(std::span<const WriteSample> samples);
// The inverse (for tests and receivers): errors name the byte offset of bad input.
Result<std::vector<WriteSample>> decode_write_request(std::string_view proto);

std::string snappy_compress(std::string_view raw);
Result<std::string> snappy_uncompress(std::string_view compressed);

struct RemoteWriteConfig {
  HttpClientConfig http;  // http.url is the full endpoint, e.g. http://vm:8428/api/v1/write
  size_t queue_capacity = 100'000;      // samples; the oldest are dropped beyond this
  size_t max_samples_per_send = 2'000;  // Prometheus's default batch size
  int max_attempts = 5;                 // per batch, for 5xx, 429 and transport errors
  Millis min_backoff_ms = 30;           // doubled after each failure ...
  Millis max_backoff_ms = 5'000;        // ... up to this
  Millis flush_interval_ms = 1'000;     // background thread: how often to drain
};

struct RemoteWriteStats {
  uint64_t samples_sent = 0;
  uint64_t samples_dropped_queue_full = 0;
  uint64_t samples_failed = 0;  // batches given up on (4xx, or retries exhausted)
  uint64_t retries = 0;
  std::string last_error;
};

class BackendSession;  // engine/remote/src: the backend's HTTP client (common/http)

class RemoteWriteQueue {
 public:
  // HTTP (one client, kept) and bearer_token_file come from `env`, which must outlive the queue.
  explicit RemoteWriteQueue(RemoteWriteConfig config, Env* env = Env::Default());
  ~RemoteWriteQueue();  // stops the background thread (after one last flush)
  RemoteWriteQueue(const RemoteWriteQueue&) = delete;
  RemoteWriteQueue& operator=(const RemoteWriteQueue&) = delete;

  // Thread-safe. Returns false when an older sample had to be dropped to make room.
  bool push(WriteSample s);
  bool push(std::span<const WriteSample> samples);
  size_t queued() const;

  // Sends everything queued now, in batches, retrying as configured. Returns the first error
  // that made a batch be given up (the other batches are still attempted). Not to be called
  // concurrently with itself (the background thread calls it too).
  Result<void> flush();

  void start();  // background thread: flush every flush_interval_ms and when a batch is full
  // Stops the thread after one last flush that ends within `budget_ms` (SIGTERM must finish
  // within Kubernetes' 30 s grace period even when the endpoint is down): past the deadline no
  // batch is retried and what is left is dropped (counted in samples_failed).
  void stop(Millis budget_ms = kStopBudgetMs);
  static constexpr Millis kStopBudgetMs = 10'000;

  RemoteWriteStats stats() const;
  // For tests: replaces the sleep between retries.
  void set_sleep_for_tests(std::function<void(Millis)> sleep) { sleep_ = std::move(sleep); }

 private:
  Result<void> send_batch(std::span<const WriteSample> batch);

  RemoteWriteConfig config_;
  std::unique_ptr<BackendSession> session_;
  std::function<void(Millis)> sleep_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WriteSample> queue_;
  RemoteWriteStats stats_;
  std::mutex flush_mu_;
  std::thread worker_;
  bool stopping_ = false;
  // Set by stop(): steady-clock ms after which nothing is retried or sent (0: none).
  std::atomic<int64_t> deadline_{0};
  bool past_deadline() const;
};

}  // namespace ruleeval::engine
