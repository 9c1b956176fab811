// The HTTP API of `ruleeval run` (cpp-httplib, kept private to engine/src): Prometheus-shaped
// /api/v1/rules and /api/v1/alerts, /metrics, /-/healthy, /-/ready, POST /-/reload and a small
// HTML status page at /. Other layers (the notifiers' silences) add routes through add_route().
#pragma once

#include <ctime>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ruleeval/common/error.hpp"
#include "ruleeval/engine/manager.hpp"

namespace ruleeval::engine {

struct HttpRequest {
  std::string method;
  std::string path;
  std::string body;
  std::multimap<std::string, std::string> params;  // query string and form parameters
  std::multimap<std::string, std::string> headers;  // names in lower case
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Location for a 303
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class ApiServer {
 public:
  // `reload` re-reads the configuration; its Error's message says why it failed.
  ApiServer(RuleManager& manager, std::function<Result<void>()> reload);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Adds a route before start(): method "GET", "POST" or "DELETE"; `path` may end with `*` to
  // match a prefix.
  void add_route(std::string method, std::string path, HttpHandler handler);
  // More Prometheus text appended to /metrics (e.g. the notifiers' counters).
  void set_extra_metrics(std::function<std::string()> fn);
  // Renders GET / (the status page) instead of RuleManager::status_html(), e.g. with the
  // notifier's silences and deliveries and the request's filters.
  void set_status_page(HttpHandler fn);

  // Binds host:port (port 0 picks a free one) and serves in a background thread.
  Result<void> start(const std::string& host, int port);
  void stop();
  int port() const { return port_; }
  // The address start() binds for `host`: "" (from ":port") means every interface, as in Go.
  static std::string listen_host(const std::string& host);

  static constexpr size_t kApiThreads = 64;     // requests handled at once; more wait in a queue
  static constexpr size_t kApiMaxQueued = 256;  // connections waiting for a worker; more get 503
  static constexpr size_t kApiMaxIdle = 4096;   // idle connections held without a worker
  static constexpr int kApiBacklog = 1024;      // pending connections the kernel keeps
  static constexpr time_t kApiReadTimeoutSec = 5;  // each read/write, first byte, keep-alive idle
  static constexpr time_t kApiRequestDeadlineSec = 10;  // a whole request must arrive in this

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace ruleeval::engine
