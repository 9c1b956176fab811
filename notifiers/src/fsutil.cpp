#include "fsutil.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "ruleeval/common/file_io.hpp"

namespace ruleeval::notifiers::detail {

static std::unexpected<Error> sys_error(const std::string& what, const std::string& path) {
  return make_error(what + " \"" + path + "\": " + std::generic_category().message(errno));
}

Result<void> fsync_dir(const std::string& dir) { return ruleeval::fsync_dir(dir); }

Result<void> write_file_durably(const std::string& path, std::string_view content, bool sync_dir) {
  return replace_file(path, content, sync_dir ? FileSync::kFileAndDir : FileSync::kFile, 0600);
}

Result<void> write_file_atomic(const std::string& path, std::string_view content) {
  return replace_file(path, content, FileSync::kNone, 0600);
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
