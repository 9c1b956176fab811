// RecordLog (common/record_log.hpp), the segment log under the state journal and the outbox:
// kWritten and kDurable appends, and a restart never appends to an existing segment (a segment
// whose only record is torn gives its owner no sequence number).
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ruleeval/common/record_log.hpp"

namespace fs = std::filesystem;

namespace {
std::vector<std::string> read(const std::string& dir) {
  ruleeval::RecordLog log(dir, "t-", "test log");
  std::vector<std::string> out;
  (void)log.read_all([&](std::string_view p) -> ruleeval::Result<void> {
    out.emplace_back(p);
    return {};
  });
  return out;
}
}  // namespace

TEST_CASE("record log: written and durable appends replay in order; open never reuses a segment") {
  const std::string dir =
      (fs::temp_directory_path() / ("ruleeval_record_log_" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  {
    ruleeval::RecordLog log(dir, "t-", "test log");
    REQUIRE(log.open(1));
    auto one = [](std::string s) {
      return [s = std::move(s)](size_t, uint64_t) { return s; };
    };
    REQUIRE(log.append(1, one("a"), 0));
    REQUIRE(log.append(1, one("b"), 0, ruleeval::RecordLog::Sync::kWritten));
    REQUIRE(log.append(1, one("c"), 0));
    CHECK(log.last_seq() == 3);
  }
  CHECK(read(dir) == std::vector<std::string>{"a", "b", "c"});
  {
    // A crash during the first write of a new segment: a header with half a payload.
    ruleeval::RecordLog log(dir, "t-", "test log");
    REQUIRE(log.open(4));
    std::string torn = ruleeval::frame_record("torn record").substr(0, 20);
    std::ofstream(dir + "/t-0000000000000004.log", std::ios::binary | std::ios::app) << torn;
  }
  {
    // The owner found nothing newer than 3 and asks for 4: it must get a new segment.
    ruleeval::RecordLog log(dir, "t-", "test log");
    REQUIRE(log.open(4));
    REQUIRE(log.append(1, [](size_t, uint64_t) { return std::string("d"); }, 0));
  }
  CHECK(read(dir) == std::vector<std::string>{"a", "b", "c", "d"});
  fs::remove_all(dir);
}
