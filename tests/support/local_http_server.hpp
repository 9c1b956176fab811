// A local HTTP server for tests (cpp-httplib): bound to a free port of 127.0.0.1 and listening
// once constructed, stopped and its thread joined by the destructor, also when a test fails.
// Routes given to the constructor are registered before the server listens; the tests that add
// routes later (server().Get(...)) do so before they send the first request.
#pragma once

#include <httplib.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

namespace ruleeval::testing {

class LocalHttpServer {
 public:
  using Routes = std::function<void(httplib::Server&)>;

  explicit LocalHttpServer(const Routes& routes = {}) {
    if (routes) routes(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 1000 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  ~LocalHttpServer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  LocalHttpServer(const LocalHttpServer&) = delete;
  LocalHttpServer& operator=(const LocalHttpServer&) = delete;

  httplib::Server& server() { return server_; }
  int port() const { return port_; }
  // http://127.0.0.1:<port><path>
  std::string url(const std::string& path = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace ruleeval::testing
