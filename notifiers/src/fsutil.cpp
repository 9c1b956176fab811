#include "fsutil.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ruleeval::notifiers::detail {

static std::unexpected<Error> sys_error(const std::string& what, const std::string& path) {
  return make_error(what + " \"" + path + "\": " + std::strerror(errno));
}

Result<void> fsync_dir(const std::string& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sys_error("cannot open directory", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return sys_error("cannot fsync directory", dir);
  return {};
}

namespace {
Result<void> write_file(const std::string& path, std::string_view content, bool sync,
                        bool sync_dir) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return sys_error("cannot create", tmp);
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      auto e = sys_error("cannot write", tmp);
      ::close(fd);
      return e;
    }
    off += static_cast<size_t>(n);
  }
  if (sync && ::fsync(fd) != 0) {
    auto e = sys_error("cannot fsync", tmp);
    ::close(fd);
    return e;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return sys_error("cannot rename to", path);
  if (!sync_dir) return {};
  return fsync_dir(std::filesystem::path(path).parent_path().string());
}
}  // namespace

Result<void> write_file_durably(const std::string& path, std::string_view content, bool sync_dir) {
  return write_file(path, content, true, sync_dir);
}

Result<void> write_file_atomic(const std::string& path, std::string_view content) {
  return write_file(path, content, false, false);
}

Result<void> remove_durably(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return sys_error("cannot remove", path);
  return fsync_dir(std::filesystem::path(path).parent_path().string());
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot read \"" + path + "\"");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace ruleeval::notifiers::detail
