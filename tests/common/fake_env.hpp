// The test Env (ruleeval/common/env.hpp): a clock that moves only when the test says so, and
// file writes and fsyncs that fail on demand. Files themselves are real (it wraps
// Env::Default(), so tests still use temporary directories); what changes is that a test can make
// "the disk" refuse a write or an fsync without chmod tricks, which do not work as root.
//
// Thread-safe: components under test call it from their own threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
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

  // Every write (replace, append, an appendable file's open, append and sync, directory fsync,
  // create, remove, rename) whose path contains `path_part` fails with `message` until
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
};

}  // namespace ruleeval
