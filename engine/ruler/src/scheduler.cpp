#include "ruleeval/engine/scheduler.hpp"

#include <xxhash.h>

#include <charconv>
#include <string>

namespace ruleeval::engine {

uint64_t group_hash(std::string_view file, std::string_view group) {
  // Labels are sorted by name: "file" < "name".
  std::string buf;
  buf.reserve(file.size() + group.size() + 12);
  buf.append("file").push_back('\xff');
  buf.append(file).push_back('\xff');
  buf.append("name").push_back('\xff');
  buf.append(group).push_back('\xff');
  return XXH64(buf.data(), buf.size(), 0);
}

Nanos group_offset(uint64_t hash, Nanos interval) {
  if (interval <= 0) return 0;
  return static_cast<Nanos>(hash % static_cast<uint64_t>(interval));
}

namespace {
// Floor division/modulo: Go's `%` truncates, but for the times we see (after 1970) both agree;
// flooring keeps the slot at or before `now` for negative inputs too.
Nanos floor_mod(Nanos a, Nanos m) {
  Nanos r = a % m;
  return r < 0 ? r + m : r;
}
}  // namespace

Nanos eval_timestamp(Nanos now, Nanos interval, Nanos offset) {
  if (interval <= 0) return now;
  Nanos adj = now - offset;
  Nanos base = adj - floor_mod(adj, interval);
  return base + offset;
}

Nanos first_eval_timestamp(Nanos start, Nanos interval, Nanos offset) {
  return eval_timestamp(start, interval, offset) + interval;
}

NextSlot next_slot(Nanos last_slot, Nanos now, Nanos interval) {
  NextSlot out;
  if (interval <= 0) {
    out.next = now;
    return out;
  }
  int64_t missed = (now - last_slot) / interval - 1;
  if (missed < 0) missed = 0;
  out.missed = missed;
  out.next = last_slot + (missed + 1) * interval;
  return out;
}

Result<Shard> parse_shard(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return make_error("invalid shard \"" + std::string(text) + "\": " + std::string(why) +
                           " (want i/N with 0 <= i < N, e.g. 0/3)");
  };
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return bad("missing '/'");
  auto num = [](std::string_view s, uint32_t& out) {
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
  };
  Shard s;
  if (!num(text.substr(0, slash), s.index)) return bad("shard index is not a number");
  if (!num(text.substr(slash + 1), s.count)) return bad("shard count is not a number");
  if (s.count == 0) return bad("shard count must be at least 1");
  if (s.index >= s.count) return bad("shard index must be below the shard count");
  return s;
}

bool shard_owns(const Shard& shard, std::string_view file, std::string_view group) {
  if (shard.count <= 1) return true;
  return group_hash(file, group) % shard.count == shard.index;
}

}  // namespace ruleeval::engine
