// Local servers for the notifier integration tests: an HTTP sink (cpp-httplib) on a free port of
// 127.0.0.1 and child processes (aiosmtpd, Alertmanager) that are always stopped, even when a
// test fails.
#pragma once

#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../support/local_http_server.hpp"

namespace ruleeval::notifiers::testing {

struct Request {
  std::string method;
  std::string path;
  std::string body;
  std::multimap<std::string, std::string> headers;
  std::string query;   // after '?', still escaped
  std::string target;  // path and query as the client sent them
  std::string header(const std::string& name) const {
    for (const auto& [k, v] : headers) {
      if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
    }
    return {};
  }
};

// A local HTTP receiver (a webhook, Slack, PagerDuty, ... stand-in) that records every request
// of `methods` (POST unless told); `respond` decides the answer (default 200 "ok").
class HttpSink {
 public:
  using Responder = std::function<void(const Request&, httplib::Response&, int nth)>;

  explicit HttpSink(Responder respond = {}, const std::vector<std::string>& methods = {"POST"})
      : respond_(std::move(respond)), server_([&](httplib::Server& s) {
          auto handler = [this](const httplib::Request& req, httplib::Response& res) {
            record(req, res);
          };
          for (const auto& m : methods) {
            if (m == "GET") s.Get(R"(/.*)", handler);
            if (m == "POST") s.Post(R"(/.*)", handler);
            if (m == "PUT") s.Put(R"(/.*)", handler);
          }
        }) {}

  int port() const { return server_.port(); }
  // http://127.0.0.1:<port><path>
  std::string url(const std::string& path = "") const { return server_.url(path); }
  // The requests answered 2xx, in arrival order.
  std::vector<Request> accepted() const {
    std::lock_guard lock(mu_);
    return accepted_;
  }
  // Every request, whatever the answer, in arrival order.
  std::vector<Request> all() const {
    std::lock_guard lock(mu_);
    return all_;
  }
  // Every request to `path`.
  std::vector<Request> with_path(const std::string& path) const {
    std::vector<Request> out;
    for (auto& r : all()) {
      if (r.path == path) out.push_back(r);
    }
    return out;
  }
  // Wait until `n` requests were accepted (2xx) / received / received at `path`, or the
  // timeout passes; true when they were.
  bool wait_accepted(size_t n, int timeout_ms) const {
    return wait_until([&] { return accepted().size() >= n; }, timeout_ms);
  }
  bool wait_all(size_t n, int timeout_ms) const {
    return wait_until([&] { return all().size() >= n; }, timeout_ms);
  }
  bool wait_path(const std::string& path, size_t n, int timeout_ms) const {
    return wait_until([&] { return with_path(path).size() >= n; }, timeout_ms);
  }

 private:
  void record(const httplib::Request& req, httplib::Response& res) {
    Request r{req.method, req.path, req.body, {}, {}, req.target};
    if (auto q = req.target.find('?'); q != std::string::npos) r.query = req.target.substr(q + 1);
    for (const auto& [k, v] : req.headers) r.headers.emplace(k, v);
    int nth;
    {
      std::lock_guard lock(mu_);
      nth = ++count_;
    }
    res.status = 200;
    res.set_content("ok", "text/plain");
    if (respond_) respond_(r, res, nth);
    std::lock_guard lock(mu_);
    all_.push_back(r);
    if (res.status >= 200 && res.status < 300) accepted_.push_back(r);
  }
  template <class Done>
  static bool wait_until(Done done, int timeout_ms) {
    for (int waited = 0; waited < timeout_ms; waited += 10) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
  }

  Responder respond_;
  mutable std::mutex mu_;
  int count_ = 0;
  std::vector<Request> all_, accepted_;
  // Last: it stops (and no handler runs) before the members above are destroyed.
  ruleeval::testing::LocalHttpServer server_;
};

inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return 0;  // what getsockname reports for an unbound socket
  }
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

inline bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// A child process, killed (SIGTERM, then SIGKILL) and reaped by the destructor.
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, const std::string& log_path) : pid_(::fork()) {
    if (pid_ == 0) {
      FILE* f = std::fopen(log_path.c_str(), "w");
      if (f) {
        ::dup2(fileno(f), 1);
        ::dup2(fileno(f), 2);
      }
      std::vector<char*> args;
      args.reserve(argv.size() + 1);
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~ChildProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  bool running() const { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }

 private:
  pid_t pid_ = -1;
};

// An empty directory /tmp/<name><pid> for one test's files (removed first if a run left one).
inline std::filesystem::path fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / (name + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline bool wait_port(int port, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 20) {
    if (port_open(port)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace ruleeval::notifiers::testing
