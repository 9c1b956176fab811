// Series files of the embedded datasource (private to the engine).
#pragma once

#include <string>

#include "ruleeval/common/env.hpp"
#include "ruleeval/common/error.hpp"
#include "ruleeval/engine/storage.hpp"

namespace ruleeval::engine {

// Loads a series file: `load <interval> [from -<duration>]` lines followed by series in the
// expanding notation (the PromQL test format). Timestamps start at `t0`, the moment ruleeval
// started, or the given duration before it.
Result<void> load_series_file(Storage& store, const std::string& path, Millis t0, Env& env);

}  // namespace ruleeval::engine
