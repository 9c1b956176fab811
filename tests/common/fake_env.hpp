// The test Env (ruleeval/common/env.hpp): a clock that moves only when the test says so, file
// writes and fsyncs that fail on demand, and (once fake_http() is called) HTTP answered by a
// FakeHttp: canned responses or transport errors, every request recorded, no socket. Files themselves are real (it wraps
// Env::Default(), so tests still use temporary directories); what changes is that a test can make
// "the disk" refuse a write or an fsync without chmod tricks, which do not work as root.
//
// Thread-safe: components under test call it from their own threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ruleeval/common/env.hpp"
#include "ruleeval/common/http.hpp"

namespace ruleeval {

// HTTP without a network (an HttpProvider): each request is recorded with the options of the
// client that sent it, and answered with the next canned answer (respond(), fail()), or with the
// default answer when none is queued (200 and an empty body unless set_default()). A transport
// error is made as the libcurl client makes it (http::transport_error), so callers classify it
// with http::transport_kind() exactly as a real one. Thread-safe; clients are per thread (or
// owned, new_client()), as with the real provider.
class FakeHttp final : public HttpProvider {
 public:
  struct Recorded {
    std::string method, url, body;
    std::vector<std::string> headers;
    http::Options options;  // the sending client's
  };
  struct Answer {
    long status = 200;
    std::string body;
    std::string content_type;
    int64_t retry_after_ms = -1;
    std::optional<Error> error;  // a transport error instead of a response
  };

  void respond(long status, std::string body = "", std::string content_type = "",
               int64_t retry_after_ms = -1) {
    std::lock_guard lk(mu_);
    queue_.push_back(Answer{status, std::move(body), std::move(content_type), retry_after_ms, {}});
  }
  // The next request fails like libcurl's client would: kind, message, CURLcode (0: none).
  void fail(http::TransportKind kind, std::string message, int curl = 0) {
    std::lock_guard lk(mu_);
    Answer a;
    a.error = http::transport_error(kind, std::move(message), curl);
    queue_.push_back(std::move(a));
  }
  void set_default(long status, std::string body = "", std::string content_type = "") {
    std::lock_guard lk(mu_);
    default_ = Answer{status, std::move(body), std::move(content_type), -1, {}};
  }
  std::vector<Recorded> requests() const {
    std::lock_guard lk(mu_);
    return recorded_;
  }
  size_t request_count() const {
    std::lock_guard lk(mu_);
    return recorded_.size();
  }
  // Clients handed out by new_client() (owners that keep one) and configure() calls on any client.
  size_t clients_made() const { return made_.load(); }
  size_t configure_calls() const { return configured_.load(); }

  HttpClient& this_thread_client() override {
    std::lock_guard lk(mu_);
    auto& c = per_thread_[std::this_thread::get_id()];
    if (!c) c = std::make_unique<Client>(this, http::Options{});
    return *c;
  }
  std::unique_ptr<HttpClient> new_client(http::Options options) override {
    ++made_;
    return std::make_unique<Client>(this, std::move(options));
  }

 private:
  class Client final : public HttpClient {
   public:
    Client(FakeHttp* http, http::Options options) : http_(http), options_(std::move(options)) {}
    void configure(http::Options options) override {
      ++http_->configured_;
      options_ = std::move(options);
    }
    const http::Options& options() const override { return options_; }
    http::SendResult send(const http::Request& request) override {
      Answer a = http_->take(Recorded{std::string(request.method), std::string(request.url),
                                      std::string(request.body),
                                      {request.headers.begin(), request.headers.end()},
                                      options_});
      if (a.error) return std::unexpected(*a.error);
      response_.status = a.status;
      response_.body = std::move(a.body);
      response_.content_type = std::move(a.content_type);
      response_.retry_after_ms = a.retry_after_ms;
      response_.truncated = false;
      if (options_.max_body_bytes != 0 && response_.body.size() > options_.max_body_bytes) {
        if (!options_.truncate_body) {
          return std::unexpected(http::transport_error(
              http::TransportKind::kTooLarge, "response larger than the limit of " +
                                                  std::to_string(options_.max_body_bytes) +
                                                  " bytes"));
        }
        response_.body.resize(options_.max_body_bytes);
        response_.truncated = true;
      }
      return &response_;
    }

   private:
    FakeHttp* http_;
    http::Options options_;
    http::Response response_;
  };

  Answer take(Recorded r) {
    std::lock_guard lk(mu_);
    recorded_.push_back(std::move(r));
    if (queue_.empty()) return default_;
    Answer a = std::move(queue_.front());
    queue_.pop_front();
    return a;
  }

  mutable std::mutex mu_;
  std::deque<Answer> queue_;
  Answer default_;
  std::vector<Recorded> recorded_;
  std::map<std::thread::id, std::unique_ptr<Client>> per_thread_;
  std::atomic<size_t> made_{0}, configured_{0};
};

class FakeEnv : public EnvWrapper {
 public:
  explicit FakeEnv(int64_t now_ms = 0) : EnvWrapper(Env::Default()), wall_ms_(now_ms) {}

  std::chrono::system_clock::time_point now() override {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(wall_ms_.load()));
  }
  std::chrono::steady_clock::time_point monotonic_now() override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(mono_ms_.load()));
  }
  // Sets the wall clock (the monotonic clock never goes back).
  void set(int64_t now_ms) { wall_ms_ = now_ms; }
  // Moves both clocks forward.
  void advance(int64_t ms) {
    wall_ms_ += ms;
    mono_ms_ += ms;
  }
  // Wall-clock step without monotonic progress (an NTP jump).
  void jump_wall(int64_t ms) { wall_ms_ += ms; }

  // From the first call on, this Env's HTTP is the returned fake (before, it is Env::Default()'s).
  FakeHttp& fake_http() {
    fake_http_on_ = true;
    return http_;
  }
  HttpClient& http_client() override {
    return fake_http_on_ ? http_.this_thread_client() : EnvWrapper::http_client();
  }
  std::unique_ptr<HttpClient> new_http_client(http::Options options) override {
    return fake_http_on_ ? http_.new_client(std::move(options))
                         : EnvWrapper::new_http_client(std::move(options));
  }

  // Every write (replace, append, an appendable file's open, append and sync, directory fsync,
  // create, remove (files and directories), rename, set_permissions) whose path contains `path_part` fails with `message` until
  // clear_failures(); "" matches every path. An appendable file's failing append writes the
  // first half of its data before it fails, as a disk that fills up mid-write does, so the
  // caller's clean-up of a partial write is exercised.
  void fail_writes(std::string path_part, std::string message = "injected write failure") {
    std::lock_guard lk(mu_);
    failing_.emplace_back(std::move(path_part), std::move(message));
  }
  // Only fsyncs fail (an appendable file's sync(), sync_dir, the fsync of replace_file with a
  // FileSync other than kNone); the writes themselves succeed. An I/O error that the kernel
  // reports at fsync time.
  void fail_syncs(std::string path_part, std::string message = "injected fsync failure") {
    std::lock_guard lk(mu_);
    failing_syncs_.emplace_back(std::move(path_part), std::move(message));
  }
  void clear_failures() {
    std::lock_guard lk(mu_);
    failing_.clear();
    failing_syncs_.clear();
  }
  size_t failed_writes() const { return failed_.load(); }
  size_t writes() const { return writes_.load(); }

  Result<void> replace_file(const std::string& path, std::string_view content, FileSync sync,
                            unsigned mode) override {
    if (auto f = injected(path); !f) return f;
    if (sync != FileSync::kNone) {
      if (auto f = injected_sync(path); !f) return f;
    }
    return EnvWrapper::replace_file(path, content, sync, mode);
  }
  Result<std::unique_ptr<WritableFile>> new_appendable_file(const std::string& path,
                                                            unsigned mode) override {
    if (auto f = injected(path); !f) return std::unexpected(f.error());
    auto file = EnvWrapper::new_appendable_file(path, mode);
    if (!file) return file;
    return std::make_unique<File>(this, path, std::move(*file));
  }
  Result<void> append_file(const std::string& path, std::string_view content,
                           unsigned mode) override {
    if (auto f = injected(path); !f) return f;
    return EnvWrapper::append_file(path, content, mode);
  }
  Result<void> sync_dir(const std::string& dir) override {
    if (auto f = injected(dir); !f) return f;
    if (auto f = injected_sync(dir); !f) return f;
    return EnvWrapper::sync_dir(dir);
  }
  Result<void> create_dir(const std::string& dir) override {
    if (auto f = injected(dir); !f) return f;
    return EnvWrapper::create_dir(dir);
  }
  Result<void> remove_file(const std::string& path) override {
    if (auto f = injected(path); !f) return f;
    return EnvWrapper::remove_file(path);
  }
  Result<void> remove_dir(const std::string& dir) override {
    if (auto f = injected(dir); !f) return f;
    return EnvWrapper::remove_dir(dir);
  }
  Result<void> set_permissions(const std::string& path, unsigned mode) override {
    if (auto f = injected(path); !f) return f;
    return EnvWrapper::set_permissions(path, mode);
  }
  Result<void> rename_file(const std::string& from, const std::string& to) override {
    if (auto f = injected(to); !f) return f;
    return EnvWrapper::rename_file(from, to);
  }

 private:
  // An appendable file whose calls obey the injected failures.
  class File final : public WritableFile {
   public:
    File(FakeEnv* env, std::string path, std::unique_ptr<WritableFile> real)
        : env_(env), path_(std::move(path)), real_(std::move(real)) {}
    Result<void> append(std::string_view data) override {
      if (auto f = env_->injected(path_); !f) {
        (void)real_->append(data.substr(0, data.size() / 2));  // a torn write
        return f;
      }
      return real_->append(data);
    }
    Result<void> sync() override {
      if (auto f = env_->injected(path_); !f) return f;
      if (auto f = env_->injected_sync(path_); !f) return f;
      return real_->sync();
    }
    // Not failed: cutting a file shorter needs no space (a full disk still allows it).
    Result<void> truncate(uint64_t size) override { return real_->truncate(size); }
    uint64_t size_at_open() const override { return real_->size_at_open(); }

   private:
    FakeEnv* env_;
    std::string path_;
    std::unique_ptr<WritableFile> real_;
  };

  Result<void> injected(const std::string& path) {
    ++writes_;
    return matching(failing_, path, "write");
  }
  Result<void> injected_sync(const std::string& path) {
    return matching(failing_syncs_, path, "fsync");
  }
  Result<void> matching(const std::vector<std::pair<std::string, std::string>>& rules,
                        const std::string& path, const char* what) {
    std::lock_guard lk(mu_);
    for (const auto& [part, message] : rules) {
      if (path.find(part) != std::string::npos) {
        ++failed_;
        std::string m = "cannot ";
        m.append(what).append(" \"").append(path).append("\": ").append(message);
        return make_error(m);
      }
    }
    return {};
  }

  std::atomic<int64_t> wall_ms_;
  std::atomic<int64_t> mono_ms_{0};
  std::mutex mu_;
  std::vector<std::pair<std::string, std::string>> failing_, failing_syncs_;
  std::atomic<size_t> failed_{0}, writes_{0};
  FakeHttp http_;
  std::atomic<bool> fake_http_on_{false};
};

}  // namespace ruleeval
