#include "ruleeval/common/file_io.hpp"

namespace ruleeval {

Result<void> fsync_dir(const std::string& dir) { return Env::Default()->sync_dir(dir); }

Result<void> replace_file(const std::string& path, std::string_view content, FileSync sync,
                          unsigned mode) {
  return Env::Default()->replace_file(path, content, sync, mode);
}

Result<void> check_input_file(const std::string& path, uint64_t max_bytes) {
  return Env::Default()->check_input_file(path, max_bytes);
}

}  // namespace ruleeval
