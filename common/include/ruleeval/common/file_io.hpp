// Atomic file replacement for the state ruleeval keeps on disk (alert state, outbox, silences,
// notification log): write a temporary file next to the target, optionally fsync it, rename it
// over the target, optionally fsync the directory. A process crash always leaves the old or the
// new content; the fsyncs extend that to power loss.
//
// These free functions are Env::Default()'s file operations (ruleeval/common/env.hpp), kept for
// callers that are not handed an Env; code that tests should be able to fail takes an Env.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ruleeval/common/env.hpp"
#include "ruleeval/common/error.hpp"

namespace ruleeval {

// Errors read `cannot <what> "<path>": <strerror>`. `mode` applies to a newly created file.
Result<void> replace_file(const std::string& path, std::string_view content, FileSync sync,
                          unsigned mode = 0644);
Result<void> fsync_dir(const std::string& dir);

// For files read whole (rule files, series files): refuses what is not a regular file (a
// directory, /dev/zero, a FIFO that would block for ever) and files larger than `max_bytes`,
// with an error that names the file.
Result<void> check_input_file(const std::string& path, uint64_t max_bytes = kMaxInputFileBytes);

}  // namespace ruleeval
