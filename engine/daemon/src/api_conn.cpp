#include "api_conn.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ruleeval/common/env.hpp"

namespace ruleeval::engine::detail {
namespace {

// Socket deadlines are real waits (poll), so they use the real monotonic clock.
int64_t steady_ms() { return Env::Default()->monotonic_ms(); }

// Set while the acceptor runs a connection's task itself because the queue is full: the task
// (httplib's lambda, which calls process_and_close_socket) then answers 503 instead of serving.
thread_local bool t_reject = false;

void close_socket(int sock) {
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
}

bool wait_fd(int fd, short events, int64_t timeout_ms) {
  pollfd p{fd, events, 0};
  int r;
  do {
    r = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(timeout_ms, 0)));
  } while (r < 0 && errno == EINTR);
  return r > 0;
}

void ip_and_port(const sockaddr_storage& addr, std::string& ip, int& port) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    port = ntohs(a->sin6_port);
  }
  ip = buf;
}

// A buffered socket stream with a per-read/write timeout and a deadline for the whole request.
class ConnStream final : public httplib::Stream {
 public:
  ConnStream(int sock, int64_t io_timeout_ms, const std::atomic<bool>& stop)
      : sock_(sock), io_ms_(io_timeout_ms), stop_(stop) {}
  void set_deadline(int64_t at) { deadline_ = at; }
  bool buffered() const { return pos_ < len_; }

  bool is_readable() const override {
    if (buffered()) return true;
    return wait(POLLIN, std::min(deadline_, steady_ms() + io_ms_));
  }
  bool is_writable() const override { return wait(POLLOUT, steady_ms() + io_ms_); }
  ssize_t read(char* ptr, size_t size) override {
    if (!buffered()) {
      if (!is_readable()) return -1;
      ssize_t n;
      do {
        n = ::recv(sock_, buf_, sizeof buf_, 0);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      pos_ = 0;
      len_ = static_cast<size_t>(n);
    }
    size_t n = std::min(size, len_ - pos_);
    std::memcpy(ptr, buf_ + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    ssize_t n;
    do {
      n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    if (::getpeername(sock_, reinterpret_cast<sockaddr*>(&a), &len) == 0) ip_and_port(a, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    if (::getsockname(sock_, reinterpret_cast<sockaddr*>(&a), &len) == 0) ip_and_port(a, ip, port);
  }
  socket_t socket() const override { return sock_; }

 private:
  // Waits in slices so that stopping the server does not wait for slow clients.
  bool wait(short events, int64_t until) const {
    for (;;) {
      if (stop_.load()) return false;
      int64_t left = until - steady_ms();
      if (left <= 0) return false;
      if (wait_fd(sock_, events, std::min<int64_t>(left, 100))) return true;
    }
  }
  int sock_;
  int64_t io_ms_;
  const std::atomic<bool>& stop_;
  int64_t deadline_ = 0;
  char buf_[4096]{};
  size_t pos_ = 0, len_ = 0;
};

}  // namespace

// The worker threads, their bounded queue and the waiting room (epoll) for idle connections.
// httplib creates it (new_task_queue) when listening starts and deletes it after shutdown().
class ApiPool final : public httplib::TaskQueue {
 public:
  explicit ApiPool(ApiHttpServer& srv) : srv_(srv), ep_(::epoll_create1(EPOLL_CLOEXEC)) {
    for (size_t i = 0; i < srv.limits().threads; ++i) workers_.emplace_back([this] { work(); });
    room_ = std::thread([this] { watch(); });
    srv_.pool_ = this;
  }
  ~ApiPool() override {
    if (ep_ >= 0) ::close(ep_);
  }

  // From httplib's acceptor: one task per accepted connection.
  void enqueue(std::function<void()> fn) override {
    if (try_enqueue(fn)) return;
    t_reject = true;  // fn() -> process_and_close_socket -> 503
    fn();
    t_reject = false;
  }

  bool try_enqueue(std::function<void()>& fn) {
    {
      std::lock_guard lock(mu_);
      if (stop_ || jobs_.size() >= srv_.limits().max_queued) return false;
      jobs_.push_back(std::move(fn));
    }
    cv_.notify_one();
    return true;
  }

  // Waits for `sock` to become readable without a worker; false when the room is full.
  bool park(int sock, int64_t deadline, size_t served) {
    std::lock_guard lock(room_mu_);
    if (room_stop_ || ep_ < 0 || parked_.size() >= srv_.limits().max_parked) return false;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
    ev.data.fd = sock;
    parked_[sock] = Parked{deadline, served};
    if (::epoll_ctl(ep_, EPOLL_CTL_ADD, sock, &ev) != 0) {
      parked_.erase(sock);
      return false;
    }
    return true;
  }

  void shutdown() override {
    srv_.stopping_ = true;
    {
      std::lock_guard lock(room_mu_);
      room_stop_ = true;
    }
    if (room_.joinable()) room_.join();
    {
      std::lock_guard lock(room_mu_);
      for (const auto& [fd, p] : parked_) close_socket(fd);
      parked_.clear();
    }
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();  // queued connections are closed (the server is stopping)
    srv_.pool_ = nullptr;
  }

  size_t parked() const {
    std::lock_guard lock(room_mu_);
    return parked_.size();
  }
  size_t queued() const {
    std::lock_guard lock(mu_);
    return jobs_.size();
  }

 private:
  struct Parked {
    int64_t deadline;
    size_t served;
  };

  void work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        fn = std::move(jobs_.front());
        jobs_.pop_front();
      }
      fn();
    }
  }

  void watch() {
    epoll_event evs[64];
    for (;;) {
      {
        std::lock_guard lock(room_mu_);
        if (room_stop_) return;
      }
      int n = ::epoll_wait(ep_, evs, 64, 100);
      std::vector<std::pair<int, size_t>> ready;
      std::vector<int> expired;
      {
        std::lock_guard lock(room_mu_);
        for (int i = 0; i < n; ++i) {
          int fd = evs[i].data.fd;
          auto it = parked_.find(fd);
          if (it == parked_.end()) continue;
          ::epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
          ready.emplace_back(fd, it->second.served);
          parked_.erase(it);
        }
        const int64_t now = steady_ms();
        for (auto it = parked_.begin(); it != parked_.end();) {
          if (it->second.deadline > now) {
            ++it;
            continue;
          }
          ::epoll_ctl(ep_, EPOLL_CTL_DEL, it->first, nullptr);
          expired.push_back(it->first);
          it = parked_.erase(it);
        }
      }
      for (int fd : expired) close_socket(fd);  // idle past its timeout
      for (auto [fd, served] : ready) {
        std::function<void()> fn = [this, fd = fd, served = served] { srv_.serve(fd, served); };
        if (!try_enqueue(fn)) srv_.reject(fd);
      }
    }
  }

  ApiHttpServer& srv_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false;
  std::vector<std::thread> workers_;

  int ep_;
  mutable std::mutex room_mu_;
  bool room_stop_ = false;
  std::unordered_map<int, Parked> parked_;
  std::thread room_;
};

ApiHttpServer::ApiHttpServer(const ApiLimits& limits) : limits_(limits) {
  new_task_queue = [this] { return new ApiPool(*this); };
}

ApiHttpServer::~ApiHttpServer() = default;

size_t ApiHttpServer::parked() const {
  ApiPool* p = pool_.load();
  return p ? p->parked() : 0;
}

size_t ApiHttpServer::queued() const {
  ApiPool* p = pool_.load();
  return p ? p->queued() : 0;
}

bool ApiHttpServer::process_and_close_socket(socket_t sock) {
  if (t_reject) {
    reject(sock);
    return false;
  }
  serve(sock, 0);
  return true;
}

void ApiHttpServer::reject(int sock) {
  ++rejected_;
  static constexpr char k503[] =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 37\r\n"
      "Retry-After: 1\r\nConnection: close\r\n\r\ntoo many connections, try again later\n";
  // Without blocking: the acceptor (or the waiting room) must not wait for this client.
  (void)::send(sock, k503, sizeof k503 - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(sock, SHUT_WR);
  char drain[1024];
  while (::recv(sock, drain, sizeof drain, MSG_DONTWAIT) > 0) {
  }
  ::close(sock);
}

void ApiHttpServer::serve(int sock, size_t served) {
  ConnStream strm(sock, static_cast<int64_t>(limits_.io_timeout_sec) * 1000, stopping_);
  for (;;) {
    if (stopping()) break;
    if (!strm.buffered() && !wait_fd(sock, POLLIN, 0)) {
      // Nothing to read yet: wait in the room, not on a worker.
      ApiPool* pool = pool_.load();
      int64_t wait = served == 0 ? limits_.first_byte_ms : limits_.keep_alive_ms;
      if (pool && pool->park(sock, steady_ms() + wait, served)) return;
      if (served == 0) {
        reject(sock);
        return;
      }
      break;
    }
    strm.set_deadline(steady_ms() + limits_.request_deadline_ms);
    const bool last = served + 1 >= keep_alive_max_count_;
    bool closed = false;
    const bool ok = process_request(strm, last, closed, nullptr);
    ++served;
    if (!ok || closed || last) break;
  }
  close_socket(sock);
}

}  // namespace ruleeval::engine::detail
