// Env::Default(): the system clocks, POSIX files and the HTTP implementation installed at startup
// (none: NoHttpClient). This file and file_io.cpp are the only
// places in the rooms that read the clocks or open files directly (tools/check_env.py).
#include "ruleeval/common/env.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

namespace ruleeval {

namespace {

std::string errno_text(int err) { return std::generic_category().message(err); }

std::unexpected<Error> sys_error(const std::string& what, const std::string& path, int err) {
  return make_error("cannot " + what + " \"" + path + "\": " + errno_text(err));
}

// What read_file and check_input_file refuse, for a stat of `path`.
Result<void> check_stat(const std::string& path, const struct stat& st, uint64_t max_bytes) {
  if (S_ISDIR(st.st_mode)) return make_error("is a directory, not a file", SourceLocation{path, 0, 0});
  if (!S_ISREG(st.st_mode)) {
    return make_error("not a regular file (a device, FIFO or socket cannot be read as one)",
                      SourceLocation{path, 0, 0});
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return make_error("file too large: " + std::to_string(st.st_size) + " bytes (the limit is " +
                          std::to_string(max_bytes) + ")",
                      SourceLocation{path, 0, 0});
  }
  return {};
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // close(2) reports delayed write errors (NFS); the caller sees them.
  int close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

Result<void> write_all(int fd, std::string_view content, const std::string& path) {
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("write", path, errno);
    }
    off += static_cast<size_t>(n);
  }
  return {};
}

// An O_APPEND descriptor: one write(2) per append (more only on a short write or EINTR), one
// fdatasync(2) per sync.
class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_at_open_(size) {}
  ~PosixWritableFile() override { ::close(fd_); }

  Result<void> append(std::string_view data) override { return write_all(fd_, data, path_); }
  Result<void> sync() override {
    if (::fdatasync(fd_) != 0) return sys_error("fsync", path_, errno);
    return {};
  }
  Result<void> truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return sys_error("truncate", path_, errno);
    return {};
  }
  uint64_t size_at_open() const override { return size_at_open_; }

 private:
  std::string path_;
  int fd_;
  uint64_t size_at_open_;
};

// The HTTP implementation installed into Env::Default() (Env::install_default_http).
std::atomic<HttpProvider*> g_http_provider{nullptr};

// The client of an Env without HTTP: remembers its options, refuses every request.
class NoHttpClient final : public HttpClient {
 public:
  explicit NoHttpClient(http::Options options = {}) : options_(std::move(options)) {}
  void configure(http::Options options) override { options_ = std::move(options); }
  const http::Options& options() const override { return options_; }
  http::SendResult send(const http::Request& request) override {
    return std::unexpected(http::transport_error(
        http::TransportKind::kLocal,
        "cannot send " + std::string(request.method) + " " + std::string(request.url) +
            ": no HTTP client is installed in this Env (a program must call "
            "ruleeval::http::install_default_env_http() at startup)"));
  }

 private:
  http::Options options_;
};

class PosixEnv final : public Env {
 public:
  HttpClient& http_client() override {
    HttpProvider* p = g_http_provider.load(std::memory_order_acquire);
    return p != nullptr ? p->this_thread_client() : Env::http_client();
  }
  std::unique_ptr<HttpClient> new_http_client(http::Options options) override {
    HttpProvider* p = g_http_provider.load(std::memory_order_acquire);
    return p != nullptr ? p->new_client(std::move(options))
                        : Env::new_http_client(std::move(options));
  }

  std::chrono::system_clock::time_point now() override {
    return std::chrono::system_clock::now();
  }
  std::chrono::steady_clock::time_point monotonic_now() override {
    return std::chrono::steady_clock::now();
  }

  Result<std::string> read_file(const std::string& path, uint64_t max_bytes,
                                Streams streams) override {
    if (path.empty()) return make_error("cannot read file: empty path");
    // O_NONBLOCK: opening a FIFO without a writer must not block; fstat then refuses it. A
    // caller that accepts streams waits for the writer, as reading a pipe does.
    const int nonblock = streams == Streams::kAllow ? 0 : O_NONBLOCK;
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | nonblock | O_NOCTTY));
    if (fd.get() < 0) {
      return make_error("cannot read file: " + errno_text(errno), SourceLocation{path, 0, 0});
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
      return make_error("cannot read file: " + errno_text(errno), SourceLocation{path, 0, 0});
    }
    const bool stream = S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISSOCK(st.st_mode);
    if (!(stream && streams == Streams::kAllow)) {
      if (auto ok = check_stat(path, st, max_bytes); !ok) return std::unexpected(ok.error());
    }
    std::string out;
    out.reserve(static_cast<size_t>(st.st_size));
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        return make_error("cannot read file: " + errno_text(errno), SourceLocation{path, 0, 0});
      }
      if (n == 0) break;
      out.append(buf, static_cast<size_t>(n));
      // A file that grows while it is read (or reports size 0, as /proc does) still obeys.
      if (out.size() > max_bytes) {
        return make_error("file too large: more than " + std::to_string(max_bytes) +
                              " bytes (the limit)",
                          SourceLocation{path, 0, 0});
      }
    }
    return out;
  }

  Result<void> check_input_file(const std::string& path, uint64_t max_bytes) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      return make_error("cannot read file: " + errno_text(errno), SourceLocation{path, 0, 0});
    }
    return check_stat(path, st, max_bytes);
  }

  bool file_exists(const std::string& path) override {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
  }

  Result<void> replace_file(const std::string& path, std::string_view content, FileSync sync,
                            unsigned mode) override {
    const std::string tmp = path + ".tmp";
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (fd.get() < 0) return sys_error("create", tmp, errno);
    // A leftover temp file keeps its old mode through O_TRUNC: the mode asked for holds anyway
    // (secrets such as routing keys are in the notifier's files).
    (void)::fchmod(fd.get(), static_cast<mode_t>(mode));
    auto fail = [&](Result<void> e) {
      ::unlink(tmp.c_str());
      return e;
    };
    if (auto w = write_all(fd.get(), content, tmp); !w) return fail(w);
    if (sync != FileSync::kNone && ::fsync(fd.get()) != 0) {
      return fail(sys_error("fsync", tmp, errno));
    }
    if (fd.close() != 0) return fail(sys_error("close", tmp, errno));
    if (::rename(tmp.c_str(), path.c_str()) != 0) return fail(sys_error("rename to", path, errno));
    if (sync != FileSync::kFileAndDir) return {};
    return sync_dir(std::filesystem::path(path).parent_path().string());
  }

  Result<void> append_file(const std::string& path, std::string_view content,
                           unsigned mode) override {
    Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, mode));
    if (fd.get() < 0) return sys_error("open", path, errno);
    if (auto w = write_all(fd.get(), content, path); !w) return w;
    if (fd.close() != 0) return sys_error("close", path, errno);
    return {};
  }

  Result<std::unique_ptr<WritableFile>> new_appendable_file(const std::string& path,
                                                            unsigned mode) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, mode);
    if (fd < 0) return sys_error("open", path, errno);
    struct stat st {};
    const uint64_t size = ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
    return std::make_unique<PosixWritableFile>(path, fd, size);
  }

  bool is_regular_file(const std::string& path) override {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  }

  bool is_directory(const std::string& path) override {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }

  bool is_symlink(const std::string& path) override {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
  }

  Result<std::chrono::system_clock::time_point> last_modified(const std::string& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return sys_error("stat", path, errno);
    const auto since_epoch = std::chrono::seconds(st.st_mtim.tv_sec) +
                             std::chrono::nanoseconds(st.st_mtim.tv_nsec);
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch));
  }

  Result<void> set_permissions(const std::string& path, unsigned mode) override {
    if (::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0) {
      return sys_error("set permissions of", path, errno);
    }
    return {};
  }

  Result<void> sync_dir(const std::string& dir) override {
    Fd fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) return sys_error("open directory", dir, errno);
    if (::fsync(fd.get()) != 0) return sys_error("fsync directory", dir, errno);
    return {};
  }

  Result<std::vector<std::string>> list_dir(const std::string& dir) override {
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.empty() ? "." : dir.c_str()), ::closedir);
    if (!d) return sys_error("list directory", dir, errno);
    std::vector<std::string> names;
    errno = 0;
    // NOLINTNEXTLINE(concurrency-mt-unsafe): glibc's readdir is safe on a stream of one thread
    while (const dirent* e = ::readdir(d.get())) {
      std::string_view n = e->d_name;
      if (n != "." && n != "..") names.emplace_back(n);
    }
    if (errno != 0) return sys_error("list directory", dir, errno);
    std::sort(names.begin(), names.end());
    return names;
  }

  Result<std::vector<std::string>> glob(const std::string& pattern) override {
    glob_t g{};
    // glob(3) is MT-unsafe only against concurrent changes of the environment, locale or
    // timers, which ruleeval makes only at start, before any thread.
    int rc = ::glob(pattern.c_str(), 0, nullptr, &g);  // NOLINT(concurrency-mt-unsafe)
    std::vector<std::string> out;
    if (rc == 0) {
      out.reserve(g.gl_pathc);
      for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
    }
    globfree(&g);
    if (rc == GLOB_NOSPACE) return make_error("cannot expand \"" + pattern + "\": out of memory");
    if (rc == GLOB_ABORTED) return make_error("cannot expand \"" + pattern + "\": read error");
    return out;  // glob(3) sorts
  }

  Result<void> create_dir(const std::string& dir) override {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return make_error("cannot create directory \"" + dir + "\": " + ec.message());
    return {};
  }

  Result<void> remove_file(const std::string& path) override {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return sys_error("remove", path, errno);
    return {};
  }

  Result<void> remove_dir(const std::string& dir) override {
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) {
      return sys_error("remove directory", dir, errno);
    }
    return {};
  }

  Result<void> rename_file(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return make_error("cannot rename \"" + from + "\" to \"" + to + "\": " + errno_text(errno));
    }
    return {};
  }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv env;  // stateless but for g_http_provider: usable from any thread
  return &env;
}

HttpClient& Env::http_client() {
  thread_local NoHttpClient client;
  return client;
}

std::unique_ptr<HttpClient> Env::new_http_client(http::Options options) {
  return std::make_unique<NoHttpClient>(std::move(options));
}

void Env::install_default_http(HttpProvider* provider) {
  g_http_provider.store(provider, std::memory_order_release);
}

}  // namespace ruleeval
