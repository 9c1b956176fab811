// How the HTTP API of `ruleeval run` serves connections so that idle, slow or too many clients
// cannot starve it (a liveness probe on /-/healthy must keep answering) nor grow memory or
// threads without bound:
//   - a fixed pool of worker threads with a bounded queue; a connection accepted while the queue
//     is full gets an immediate `503 Service Unavailable` (Retry-After: 1) and is closed;
//   - a connection holds a worker only while a request is being read, handled and written: one
//     that has sent nothing yet, or is idle between keep-alive requests, waits in a "waiting
//     room" (one epoll thread, bounded; no worker) until it sends bytes or its timeout passes;
//   - every request must arrive completely within a deadline (headers and body), whatever the
//     pace of the bytes (slowloris), and every read and write has a timeout.
// cpp-httplib 0.11 (Debian 12) has no bounded queue: this subclass replaces its per-connection
// loop (process_and_close_socket) and task queue, and reuses its request parsing and routing.
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace ruleeval::engine::detail {

struct ApiLimits {
  size_t threads = 64;        // requests handled at once
  size_t max_queued = 256;    // accepted connections waiting for a worker; more get a 503
  size_t max_parked = 4096;   // idle connections waiting without a worker; more get a 503/close
  int64_t first_byte_ms = 5000;      // a new connection must start its request within this
  int64_t request_deadline_ms = 10'000;  // a whole request (headers and body) must arrive in this
  int64_t keep_alive_ms = 5000;      // idle time allowed between requests of one connection
  time_t io_timeout_sec = 5;         // each read and write
};

class ApiPool;

class ApiHttpServer : public httplib::Server {
 public:
  explicit ApiHttpServer(const ApiLimits& limits);
  ~ApiHttpServer() override;
  const ApiLimits& limits() const { return limits_; }
  // Connections refused with a 503 because the queue or the waiting room was full.
  uint64_t rejected() const { return rejected_.load(); }
  // Connections currently parked in the waiting room / queued for a worker.
  size_t parked() const;
  size_t queued() const;

  // Serves requests on `sock` until it closes, parks or fails; `served` requests were already
  // answered on it. Called by the pool's workers.
  void serve(int sock, size_t served);
  // Answers 503 and closes, without reading the request.
  void reject(int sock);
  bool stopping() const { return svr_sock_ == INVALID_SOCKET; }

 private:
  bool process_and_close_socket(socket_t sock) override;
  ApiLimits limits_;
  std::atomic<uint64_t> rejected_{0};
  std::atomic<ApiPool*> pool_{nullptr};
  std::atomic<bool> stopping_{false};  // set when the pool shuts down: reads and writes give up
  friend class ApiPool;
};

}  // namespace ruleeval::engine::detail
