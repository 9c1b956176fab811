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

namespace ruleeval::notifiers::testing {

struct Request {
  std::string path;
  std::string body;
  std::multimap<std::string, std::string> headers;
  std::string header(const std::string& name) const {
    for (const auto& [k, v] : headers) {
      if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
    }
    return {};
  }
};

// Records every POST; `respond` decides the answer (default 200 "ok").
class HttpSink {
 public:
  using Responder = std::function<void(const Request&, httplib::Response&, int nth)>;

  explicit HttpSink(Responder respond = {}) : respond_(std::move(respond)) {
    server_.Post(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
      Request r{req.path, req.body, {}};
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
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 200 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  ~HttpSink() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  HttpSink(const HttpSink&) = delete;
  HttpSink& operator=(const HttpSink&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<Request> accepted() const {
    std::lock_guard lock(mu_);
    return accepted_;
  }
  std::vector<Request> all() const {
    std::lock_guard lock(mu_);
    return all_;
  }
  // Waits until `n` requests were accepted (2xx) or the timeout passes.
  bool wait_accepted(size_t n, int timeout_ms) const {
    for (int waited = 0; waited < timeout_ms; waited += 10) {
      if (accepted().size() >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return accepted().size() >= n;
  }

 private:
  httplib::Server server_;
  Responder respond_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  int count_ = 0;
  std::vector<Request> all_, accepted_;
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

inline bool wait_port(int port, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 20) {
    if (port_open(port)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace ruleeval::notifiers::testing
