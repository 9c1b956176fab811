// File writes for the notifier's state. write_file_durably: write to a temporary file, fsync it,
// rename over the target and (unless told not to) fsync the directory, so even a power loss
// leaves either the old or the new content. write_file_atomic skips the fsyncs: a process crash
// still leaves the old or the new content, a power loss may lose the last writes. It is for
// state whose loss can only cause a duplicate notification, never a lost one.
// All of them go through Env::Default() (ruleeval/common/env.hpp).
#pragma once

#include <string>

#include "ruleeval/common/error.hpp"

namespace ruleeval::notifiers::detail {

Result<void> write_file_durably(const std::string& path, std::string_view content,
                                bool sync_dir = true);
Result<void> write_file_atomic(const std::string& path, std::string_view content);
Result<void> remove_durably(const std::string& path);
Result<void> fsync_dir(const std::string& dir);
Result<std::string> read_file(const std::string& path);

}  // namespace ruleeval::notifiers::detail
