// The rule_files of a run config: glob patterns expanded to files that can be read (private).
#pragma once

#include <string>
#include <vector>

#include "ruleeval/common/env.hpp"
#include "ruleeval/common/error.hpp"

namespace ruleeval::engine {

// Expands each pattern (glob(3)); a pattern without matches, a directory, anything that is not a
// regular file (/dev/zero, a FIFO) or a file over the size limit is an error naming it.
std::vector<std::string> expand_rule_files(const std::vector<std::string>& patterns,
                                           const std::string& config_path,
                                           std::vector<Error>& errs, Env& env);

}  // namespace ruleeval::engine
