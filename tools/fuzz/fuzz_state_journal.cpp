// libFuzzer target: arbitrary bytes as a state journal segment (framing, checksums, JSON payloads)
// and as a JSON record payload and snapshot document. Replay must never crash; a payload that
// decodes must encode and decode to the same record.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "ruleeval/common/json_limits.hpp"
#include "ruleeval/engine/state_journal.hpp"
#include "ruleeval/engine/state_store.hpp"

namespace {
const std::string& dir() {
  static const std::string d = [] {
    std::string t = (std::filesystem::temp_directory_path() / "fuzz_journal_XXXXXX").string();
    if (mkdtemp(t.data()) == nullptr) std::abort();
    return t;
  }();
  return d;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ruleeval::engine;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // As a payload: round trip.
  if (ruleeval::json_nesting_depth(bytes) <= ruleeval::kMaxJsonNesting) {
    if (auto r = decode_journal_payload(bytes)) {
      auto again = decode_journal_payload(encode_journal_payload(*r));
      if (!again || again->lsn != r->lsn || again->kind != r->kind) std::abort();
    }
    (void)parse_state(bytes);
  }
  // As a segment (raw), and as the payload of one well-framed record.
  const std::string seg = dir() + "/journal-0000000000000001.log";
  {
    std::ofstream out(seg, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (ruleeval::json_nesting_depth(bytes) <= ruleeval::kMaxJsonNesting) {
      out << frame_journal_record(bytes);
    }
  }
  StateStore store(dir());
  (void)store.load(0);
  return 0;
}
