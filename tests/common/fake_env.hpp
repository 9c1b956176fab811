// The test Env (ruleeval/common/env.hpp): a clock that moves only when the test says so, and
// file writes that fail on demand. Files themselves are real (it wraps Env::Default(), so tests
// still use temporary directories); what changes is that a test can make "the disk" refuse a
// write without chmod tricks, which do not work as root.
//
// Thread-safe: components under test call it from their own threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "ruleeval/common/env.hpp"

namespace ruleeval {

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

  // Every write (replace, append, directory fsync, create, remove, rename) whose path contains
  // `path_part` fails with `message` until clear_failures(); "" matches every path.
  void fail_writes(std::string path_part, std::string message = "injected write failure") {
    std::lock_guard lk(mu_);
    failing_.push_back({std::move(path_part), std::move(message)});
  }
  void clear_failures() {
    std::lock_guard lk(mu_);
    failing_.clear();
  }
  size_t failed_writes() const { return failed_.load(); }
  size_t writes() const { return writes_.load(); }

  Result<void> replace_file(const std::string& path, std::string_view content, FileSync sync,
                            unsigned mode) override {
    if (auto f = injected(path); !f) return f;
    return EnvWrapper::replace_file(path, content, sync, mode);
  }
  Result<void> append_file(const std::string& path, std::string_view content,
                           unsigned mode) override {
    if (auto f = injected(path); !f) return f;
    return EnvWrapper::append_file(path, content, mode);
  }
  Result<void> sync_dir(const std::string& dir) override {
    if (auto f = injected(dir); !f) return f;
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
  Result<void> rename_file(const std::string& from, const std::string& to) override {
    if (auto f = injected(to); !f) return f;
    return EnvWrapper::rename_file(from, to);
  }

 private:
  Result<void> injected(const std::string& path) {
    ++writes_;
    std::lock_guard lk(mu_);
    for (const auto& [part, message] : failing_) {
      if (path.find(part) != std::string::npos) {
        ++failed_;
        return make_error("cannot write \"" + path + "\": " + message);
      }
    }
    return {};
  }

  std::atomic<int64_t> wall_ms_;
  std::atomic<int64_t> mono_ms_{0};
  std::mutex mu_;
  std::vector<std::pair<std::string, std::string>> failing_;
  std::atomic<size_t> failed_{0}, writes_{0};
};

}  // namespace ruleeval
