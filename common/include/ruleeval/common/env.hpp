// ruleeval's one seam to the outside world, in the sense of LevelDB's leveldb::Env: the wall
// clock, a monotonic clock and the file system (whole-file reads with a size limit, atomic
// replacement with a chosen durability, appendable files with fdatasync for the journals,
// directory fsync, listing, globbing, file types and times, permissions, removal, renames).
// Code that reads the time or touches files does it through an Env; Env::Default() is the real
// one, tests pass their own (tests/common/fake_env.hpp: a settable clock and injected write and
// fsync failures) or wrap the default with EnvWrapper and override what they need.
// tools/check_env.py (ctest "env seam") refuses std::chrono::system_clock/steady_clock::now(),
// std::ifstream, std::ofstream, fopen, a raw ::open and std::filesystem's I/O functions (exists,
// rename, directory_iterator, ...) anywhere else in the rooms; path arithmetic with
// std::filesystem::path stays allowed.
//
// HTTP is behind it too: http_client() is this thread's client and new_http_client() a client an
// owner keeps (ruleeval/common/http.hpp: the request, response and option types and the abstract
// HttpClient, no libcurl). `common` is below `common/http` (the libcurl client), so Env::Default()
// cannot create that client itself: a program installs it at startup with
// http::install_default_env_http() (ruleeval/http/client.hpp; the CLI's main, the test mains, the
// benchmarks), an explicit call rather than a static initialiser that a static-library link could
// drop. Until then, and on any Env that does not override these (a test's own Env), HTTP fails
// with a kTransport Error (TransportKind kLocal) that says so, never a crash. Tests replace HTTP
// with FakeHttp (tests/common/fake_env.hpp): canned responses and transport errors, every request
// recorded. tools/check_env.py also refuses the libcurl client (`http::Client`,
// `thread_client()`) outside common/http.
//
// Thread-safety: Env::Default() is stateless (but for the HTTP implementation installed once at
// startup) and may be used from any thread; http_client() is per thread. An Env passed into a
// component must outlive it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ruleeval/common/error.hpp"
#include "ruleeval/common/http.hpp"

namespace ruleeval {

enum class FileSync {
  kNone,        // survives a process crash, not a power cut
  kFile,        // the content is on disk; the rename is not until the directory is synced
  kFileAndDir,  // content and rename are on disk
};

// Whole-file reads of input (rule files, configs, series files, secrets) refuse larger files.
inline constexpr uint64_t kMaxInputFileBytes = 256ull << 20;

// A file open for appending (LevelDB's WritableFile): the segments of the journals
// (common/record_log.hpp). Each call is one system call on the real Env (append may loop on a
// short write or EINTR), so a journal's group commit costs what it did on a raw descriptor: one
// write(2) and one fdatasync(2) per commit. Errors read `cannot <what> "<path>": <strerror>`.
// The destructor closes the file without reporting an error: sync() is how a caller learns that
// its data is on disk. Not thread-safe; its owner serialises the calls.
class WritableFile {
 public:
  WritableFile() = default;
  WritableFile(const WritableFile&) = delete;
  WritableFile& operator=(const WritableFile&) = delete;
  virtual ~WritableFile() = default;

  // Writes all of `data` at the end of the file. On an error part of it may have been written;
  // truncate() cuts it off.
  virtual Result<void> append(std::string_view data) = 0;
  // fdatasync(2): what was appended is on disk (with the size, not other metadata).
  virtual Result<void> sync() = 0;
  // Cuts the file to `size` bytes (a partial append); later appends still go to the end.
  virtual Result<void> truncate(uint64_t size) = 0;
  // The file's size when it was opened (0 for a new file).
  virtual uint64_t size_at_open() const = 0;
};

class Env {
 public:
  Env() = default;
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;
  virtual ~Env() = default;

  // The real environment: the system clocks and POSIX files. Never null, never destroyed.
  static Env* Default();

  // ---- clocks
  // Wall clock (Unix time): timestamps, evaluation times, deadlines written to disk.
  virtual std::chrono::system_clock::time_point now() = 0;
  // Monotonic clock: durations and expiries that must not jump with the wall clock.
  virtual std::chrono::steady_clock::time_point monotonic_now() = 0;

  int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now().time_since_epoch()).count();
  }
  int64_t now_nanos() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(now().time_since_epoch()).count();
  }
  // Milliseconds on the monotonic clock (an arbitrary origin; only differences mean anything).
  int64_t monotonic_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               monotonic_now().time_since_epoch())
        .count();
  }
  // Seconds elapsed on the monotonic clock since `start` (a value of monotonic_now()).
  double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(monotonic_now() - start).count();
  }

  // ---- files. Errors name the path; where a position makes sense it is SourceLocation{path}.
  // Reads a whole file. Refuses what is not a regular file (a directory, /dev/zero, a FIFO that
  // would block for ever, a socket) and files larger than `max_bytes`, with an error that names
  // the file. An empty `path` is an error, never stdin. With `streams`, a pipe or character
  // device (`lint /dev/stdin`, `<(...)`) is read to its end too, still refused beyond
  // `max_bytes` (so /dev/zero ends in an error, not in unbounded memory).
  enum class Streams { kRefuse, kAllow };
  virtual Result<std::string> read_file(const std::string& path,
                                        uint64_t max_bytes = kMaxInputFileBytes,
                                        Streams streams = Streams::kRefuse) = 0;
  // The same checks as read_file without reading (for lists of inputs checked up front).
  virtual Result<void> check_input_file(const std::string& path,
                                        uint64_t max_bytes = kMaxInputFileBytes) = 0;
  // True for anything that exists at `path` (file, directory, ...).
  virtual bool file_exists(const std::string& path) = 0;
  // Atomic replacement: a temporary file next to `path`, fsynced as `sync` says, renamed over
  // `path`; with kFileAndDir the directory is fsynced too. A crash leaves the old or the new
  // content. `mode` applies to the new file (the old file's mode does not carry over). Errors
  // read `cannot <what> "<path>": <strerror>`.
  virtual Result<void> replace_file(const std::string& path, std::string_view content,
                                    FileSync sync, unsigned mode = 0644) = 0;
  // Appends to `path` (created with `mode` when missing); no fsync.
  virtual Result<void> append_file(const std::string& path, std::string_view content,
                                   unsigned mode = 0644) = 0;
  // Opens `path` for appends (O_APPEND, created with `mode` when missing, LevelDB's
  // NewAppendableFile); the caller fsyncs the directory if the file is new and must survive.
  virtual Result<std::unique_ptr<WritableFile>> new_appendable_file(const std::string& path,
                                                                    unsigned mode = 0644) = 0;
  // True when `path` is a regular file (not a directory, device, FIFO or socket); false when it
  // is anything else or does not exist.
  virtual bool is_regular_file(const std::string& path) = 0;
  // True when `path` is a directory (a symlink to one counts); false when it is anything else or
  // does not exist.
  virtual bool is_directory(const std::string& path) = 0;
  // True when `path` itself is a symbolic link (lstat(2)), whatever it points to; a walk of a
  // directory tree does not descend into one, as std::filesystem's and Go's walks do not.
  virtual bool is_symlink(const std::string& path) = 0;
  // When the content of `path` last changed (stat(2)'s st_mtim), e.g. to keep the newest files of
  // a directory.
  virtual Result<std::chrono::system_clock::time_point> last_modified(const std::string& path) = 0;
  // chmod(2): the permission bits of `path` become `mode` (0700 on a directory of secrets).
  virtual Result<void> set_permissions(const std::string& path, unsigned mode) = 0;
  // fsync of a directory, so that renames and removals inside it survive a power cut. An empty
  // `dir` is the current directory.
  virtual Result<void> sync_dir(const std::string& dir) = 0;
  // The names (not paths) of the entries of `dir`, sorted, without "." and "..".
  virtual Result<std::vector<std::string>> list_dir(const std::string& dir) = 0;
  // POSIX glob(3) without flags: the matching paths, sorted; no match is an empty list.
  virtual Result<std::vector<std::string>> glob(const std::string& pattern) = 0;
  // Creates `dir` and its missing parents; an existing directory is fine.
  virtual Result<void> create_dir(const std::string& dir) = 0;
  // Removes a file; a missing file is not an error.
  virtual Result<void> remove_file(const std::string& path) = 0;
  // Removes an empty directory (rmdir(2)); a missing one is not an error, a non-empty one is.
  virtual Result<void> remove_dir(const std::string& dir) = 0;
  virtual Result<void> rename_file(const std::string& from, const std::string& to) = 0;

  // ---- HTTP (ruleeval/common/http.hpp). Without an implementation (see the top of this file)
  // both hand out a client whose send() fails with a kTransport Error (TransportKind kLocal).
  // The calling thread's client, kept for the thread's lifetime (keep-alive across callers).
  // Configure it before each send; do not hold its response across another use on this thread.
  virtual HttpClient& http_client();
  // A new client with `options` applied once, for an owner that keeps it (a querier sends with
  // the same options every time and pays per request only for URL, body and headers).
  virtual std::unique_ptr<HttpClient> new_http_client(http::Options options);
  // The HTTP implementation of Env::Default() (http::install_default_env_http() installs
  // libcurl's). Call at startup; `provider` must live until the process ends. Thread-safe.
  static void install_default_http(HttpProvider* provider);
};

// Forwards everything to another Env; override what a test needs to change (LevelDB's
// EnvWrapper).
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* target) : target_(target) {}
  Env* target() const { return target_; }

  std::chrono::system_clock::time_point now() override { return target_->now(); }
  std::chrono::steady_clock::time_point monotonic_now() override {
    return target_->monotonic_now();
  }
  Result<std::string> read_file(const std::string& path, uint64_t max_bytes,
                                Streams streams) override {
    return target_->read_file(path, max_bytes, streams);
  }
  Result<void> check_input_file(const std::string& path, uint64_t max_bytes) override {
    return target_->check_input_file(path, max_bytes);
  }
  bool file_exists(const std::string& path) override { return target_->file_exists(path); }
  Result<void> replace_file(const std::string& path, std::string_view content, FileSync sync,
                            unsigned mode) override {
    return target_->replace_file(path, content, sync, mode);
  }
  Result<void> append_file(const std::string& path, std::string_view content,
                           unsigned mode) override {
    return target_->append_file(path, content, mode);
  }
  Result<std::unique_ptr<WritableFile>> new_appendable_file(const std::string& path,
                                                            unsigned mode) override {
    return target_->new_appendable_file(path, mode);
  }
  bool is_regular_file(const std::string& path) override {
    return target_->is_regular_file(path);
  }
  bool is_directory(const std::string& path) override { return target_->is_directory(path); }
  bool is_symlink(const std::string& path) override { return target_->is_symlink(path); }
  Result<std::chrono::system_clock::time_point> last_modified(const std::string& path) override {
    return target_->last_modified(path);
  }
  Result<void> set_permissions(const std::string& path, unsigned mode) override {
    return target_->set_permissions(path, mode);
  }
  Result<void> sync_dir(const std::string& dir) override { return target_->sync_dir(dir); }
  Result<std::vector<std::string>> list_dir(const std::string& dir) override {
    return target_->list_dir(dir);
  }
  Result<std::vector<std::string>> glob(const std::string& pattern) override {
    return target_->glob(pattern);
  }
  Result<void> create_dir(const std::string& dir) override { return target_->create_dir(dir); }
  Result<void> remove_file(const std::string& path) override {
    return target_->remove_file(path);
  }
  Result<void> remove_dir(const std::string& dir) override { return target_->remove_dir(dir); }
  Result<void> rename_file(const std::string& from, const std::string& to) override {
    return target_->rename_file(from, to);
  }
  HttpClient& http_client() override { return target_->http_client(); }
  std::unique_ptr<HttpClient> new_http_client(http::Options options) override {
    return target_->new_http_client(std::move(options));
  }

 private:
  Env* target_;
};

}  // namespace ruleeval
