// Group scheduling math, as Prometheus does it (rules/group.go: Group.hash, EvalTimestamp, run).
// Pure functions: no clocks, no I/O. All times here are Unix NANOSECONDS (like Go's time.Time
// arithmetic in Prometheus), because the per-group offset is `hash % interval` in nanoseconds and
// rounding it to milliseconds would move the slots away from Prometheus's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ruleeval/common/error.hpp"

namespace ruleeval::engine {

using Nanos = int64_t;

// Prometheus's Group.hash(): xxhash64 of the label set {file=<file>, name=<group>} in the
// labels.Labels.Hash() byte layout ("file\xff<file>\xffname\xff<name>\xff").
uint64_t group_hash(std::string_view file, std::string_view group);

// The group's fixed offset inside its interval: hash % interval (interval > 0).
Nanos group_offset(uint64_t hash, Nanos interval);

// EvalTimestamp(now): the most recent slot at or before `now`, where slots are
// `k*interval + offset`. Works for any `now` (also before the epoch).
Nanos eval_timestamp(Nanos now, Nanos interval, Nanos offset);

// The first evaluation of a newly started group: the slot after EvalTimestamp(start).
Nanos first_eval_timestamp(Nanos start, Nanos interval, Nanos offset);

// What the run loop does after an evaluation of slot `last_slot` finished at wall time `now`:
// the number of slots skipped because the evaluation overran (Prometheus's
// `missed = (now - last_slot) / interval - 1`, never negative), and the next slot to evaluate
// (`last_slot + (missed + 1) * interval`). Time is a parameter, so this is testable.
struct NextSlot {
  int64_t missed = 0;
  Nanos next = 0;
};
NextSlot next_slot(Nanos last_slot, Nanos now, Nanos interval);

// `--shard i/N`: which of N evaluators owns the group. Based on group_hash(file, group) so it is
// stable across restarts and independent of the order of files.
struct Shard {
  uint32_t index = 0;  // 0-based
  uint32_t count = 1;
};
// Parses "i/N" with 0 <= i < N; the error message says what is wrong.
Result<Shard> parse_shard(std::string_view text);
bool shard_owns(const Shard& shard, std::string_view file, std::string_view group);

}  // namespace ruleeval::engine
