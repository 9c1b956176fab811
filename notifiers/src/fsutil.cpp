#include "fsutil.hpp"

#include <filesystem>

#include "ruleeval/common/env.hpp"
#include "ruleeval/common/file_io.hpp"

namespace ruleeval::notifiers::detail {

Result<void> fsync_dir(const std::string& dir) { return Env::Default()->sync_dir(dir); }

Result<void> write_file_durably(const std::string& path, std::string_view content, bool sync_dir) {
  return replace_file(path, content, sync_dir ? FileSync::kFileAndDir : FileSync::kFile, 0600);
}

Result<void> write_file_atomic(const std::string& path, std::string_view content) {
  return replace_file(path, content, FileSync::kNone, 0600);
}

Result<void> remove_durably(const std::string& path) {
  if (auto r = Env::Default()->remove_file(path); !r) return r;
  return fsync_dir(std::filesystem::path(path).parent_path().string());
}

Result<std::string> read_file(const std::string& path) {
  auto text = Env::Default()->read_file(path, UINT64_MAX);  // state: never refused for size
  if (!text) return make_error("cannot read \"" + path + "\": " + text.error().message);
  return text;
}

}  // namespace ruleeval::notifiers::detail
