// Durable file writes: write to a temporary file, fsync it, rename over the target and fsync the
// directory, so a crash leaves either the old or the new content.
#pragma once

#include <string>

#include "ruleeval/common/error.hpp"

namespace ruleeval::notifiers::detail {

Result<void> write_file_durably(const std::string& path, std::string_view content);
Result<void> remove_durably(const std::string& path);
Result<void> fsync_dir(const std::string& dir);
Result<std::string> read_file(const std::string& path);

}  // namespace ruleeval::notifiers::detail
