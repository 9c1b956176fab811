#include "ruleeval/common/file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace ruleeval {

namespace {
std::unexpected<Error> sys_error(const std::string& what, const std::string& path) {
  return make_error("cannot " + what + " \"" + path +
                    "\": " + std::generic_category().message(errno));
}
}  // namespace

Result<void> fsync_dir(const std::string& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sys_error("open directory", dir);
  int rc = ::fsync(fd);
  if (rc != 0) {
    auto e = sys_error("fsync directory", dir);
    ::close(fd);
    return e;
  }
  ::close(fd);
  return {};
}

Result<void> replace_file(const std::string& path, std::string_view content, FileSync sync,
                          unsigned mode) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return sys_error("create", tmp);
  // A leftover temp file keeps its old mode through O_TRUNC: the mode asked for holds anyway
  // (secrets such as routing keys are in the notifier's files).
  (void)::fchmod(fd, static_cast<mode_t>(mode));
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      auto e = sys_error("write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return e;
    }
    off += static_cast<size_t>(n);
  }
  if (sync != FileSync::kNone && ::fsync(fd) != 0) {
    auto e = sys_error("fsync", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto e = sys_error("rename to", path);
    ::unlink(tmp.c_str());
    return e;
  }
  if (sync != FileSync::kFileAndDir) return {};
  return fsync_dir(std::filesystem::path(path).parent_path().string());
}

Result<void> check_input_file(const std::string& path, uint64_t max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return make_error(std::string("cannot read file: ") + std::generic_category().message(errno),
                      SourceLocation{path, 0, 0});
  }
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

}  // namespace ruleeval
