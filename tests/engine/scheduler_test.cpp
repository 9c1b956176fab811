#include <doctest/doctest.h>

#include <set>

#include "ruleeval/engine/scheduler.hpp"

using namespace ruleeval::engine;

namespace {
constexpr Nanos kSec = 1'000'000'000;
constexpr Nanos kMin = 60 * kSec;
}  // namespace

TEST_CASE("the group hash depends on both the file and the group name") {
  CHECK(group_hash("a.yml", "g") == group_hash("a.yml", "g"));
  CHECK(group_hash("a.yml", "g") != group_hash("b.yml", "g"));
  CHECK(group_hash("a.yml", "g") != group_hash("a.yml", "h"));
  // The separator keeps "ab"+"c" and "a"+"bc" apart.
  CHECK(group_hash("ab", "c") != group_hash("a", "bc"));
}

TEST_CASE("the group offset lies inside the interval") {
  for (const char* name : {"a", "b", "cpu", "memory", "slo-burn"}) {
    Nanos off = group_offset(group_hash("rules.yml", name), kMin);
    CHECK(off >= 0);
    CHECK(off < kMin);
  }
  CHECK(group_offset(12345, 0) == 0);
  CHECK(group_offset(130 * kSec, kMin) == 10 * kSec);
}

TEST_CASE("eval timestamps are the slots k*interval + offset at or before now") {
  const Nanos offset = 17 * kSec;
  const Nanos base = 1'700'000'000LL * kSec - (1'700'000'000LL * kSec) % kMin;  // minute aligned

  SUBCASE("now just after a slot gives that slot") {
    CHECK(eval_timestamp(base + offset + 5 * kSec, kMin, offset) == base + offset);
  }
  SUBCASE("now exactly on a slot gives that slot") {
    CHECK(eval_timestamp(base + offset, kMin, offset) == base + offset);
  }
  SUBCASE("now before this minute's offset gives the previous minute's slot") {
    CHECK(eval_timestamp(base + 3 * kSec, kMin, offset) == base - kMin + offset);
  }
  SUBCASE("the first evaluation is the slot after the start") {
    CHECK(first_eval_timestamp(base + 3 * kSec, kMin, offset) == base + offset);
    CHECK(first_eval_timestamp(base + offset, kMin, offset) == base + offset + kMin);
  }
  SUBCASE("every slot is congruent to the offset") {
    for (Nanos now = base; now < base + 5 * kMin; now += 7 * kSec) {
      Nanos ts = eval_timestamp(now, kMin, offset);
      CHECK(ts <= now);
      CHECK(now - ts < kMin);
      CHECK((ts - offset) % kMin == 0);
    }
  }
}

TEST_CASE("overrunning evaluations skip and count the missed slots") {
  const Nanos slot = 1'000 * kMin;
  SUBCASE("an evaluation that finishes within its interval misses nothing") {
    NextSlot n = next_slot(slot, slot + 2 * kSec, kMin);
    CHECK(n.missed == 0);
    CHECK(n.next == slot + kMin);
  }
  SUBCASE("finishing late but before the second slot misses nothing") {
    NextSlot n = next_slot(slot, slot + kMin + 30 * kSec, kMin);
    CHECK(n.missed == 0);
    CHECK(n.next == slot + kMin);
  }
  SUBCASE("an evaluation that takes 3.5 intervals misses two slots") {
    NextSlot n = next_slot(slot, slot + 3 * kMin + 30 * kSec, kMin);
    CHECK(n.missed == 2);
    CHECK(n.next == slot + 3 * kMin);
  }
}

TEST_CASE("shards parse as i/N and split groups between evaluators") {
  auto s = parse_shard("1/3");
  REQUIRE(s.has_value());
  CHECK(s->index == 1);
  CHECK(s->count == 3);

  CHECK_FALSE(parse_shard("3/3").has_value());
  CHECK_FALSE(parse_shard("0/0").has_value());
  CHECK_FALSE(parse_shard("x/2").has_value());
  CHECK_FALSE(parse_shard("1").has_value());
  CHECK_FALSE(parse_shard("-1/2").has_value());
  CHECK(parse_shard("1").error().message.find("missing '/'") != std::string::npos);

  // Every group is owned by exactly one shard, and the split is not degenerate.
  std::set<uint32_t> used;
  for (int g = 0; g < 60; ++g) {
    std::string name = "group" + std::to_string(g);
    int owners = 0;
    for (uint32_t i = 0; i < 3; ++i) {
      if (shard_owns(Shard{i, 3}, "rules.yml", name)) {
        ++owners;
        used.insert(i);
      }
    }
    CHECK(owners == 1);
  }
  CHECK(used.size() == 3);
  CHECK(shard_owns(Shard{0, 1}, "any", "thing"));
}
