#include "ruleeval/engine/state_journal.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace ruleeval::engine {

namespace {

uint64_t mix(uint64_t x) {  // splitmix64 finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t transition_signature(const ActiveAlert& a) {
  uint64_t s = mix(static_cast<uint64_t>(a.state) + 1) ^ mix(static_cast<uint64_t>(a.active_at)) ^
               mix(static_cast<uint64_t>(a.fired_at) + 1) ^
               mix(static_cast<uint64_t>(a.resolved_at) + 2) ^
               mix(static_cast<uint64_t>(a.keep_firing_since) + 3);
  return s == 0 ? 1 : s;
}

uint64_t instances_signature(const GrafanaInstances& in) {
  uint64_t sig = 0;
  for (const auto& [lbs, i] : in) {
    sig ^= mix(lbs.hash() ^
               mix(static_cast<uint64_t>(i.state) ^ mix(static_cast<uint64_t>(i.starts_at)) ^
                   mix(static_cast<uint64_t>(i.recovering_since) + 7)));
  }
  return sig;
}

std::string frame_journal_record(std::string_view payload) { return frame_record(payload); }

StateJournal::StateJournal(std::string dir, Env* env)
    : log_(std::move(dir), "journal-", "state journal", env) {
  log_.set_recovery_note([](uint64_t seq, uint64_t failures, int64_t since, int64_t now) {
    JournalRecord note;
    note.kind = JournalRecord::Kind::kNote;
    note.at = now;
    note.lsn = seq;
    note.note = fmt::format(
        "the previous run failed to write its alert state {} time(s) from {} (Unix ms) until a "
        "later write succeeded; the transitions of that time were written then",
        failures, since);
    return encode_journal_payload(note);
  });
}

StateJournal::Replay StateJournal::read_all() const {
  Replay out;
  auto scan = log_.read_all([&](std::string_view payload) -> Result<void> {
    auto rec = decode_journal_payload(payload);
    if (!rec) return std::unexpected(rec.error());
    out.max_lsn = std::max(out.max_lsn, rec->lsn);
    if (rec->kind == JournalRecord::Kind::kNote) {
      out.notes.push_back(rec->note);
    } else {
      out.records.push_back(std::move(*rec));
    }
    return {};
  });
  out.max_lsn = std::max(out.max_lsn, scan.min_next_seq - 1);
  out.errors = std::move(scan.errors);
  out.notes.insert(out.notes.end(), scan.notes.begin(), scan.notes.end());
  std::stable_sort(out.records.begin(), out.records.end(),
                   [](const JournalRecord& a, const JournalRecord& b) { return a.lsn < b.lsn; });
  return out;
}

Result<void> StateJournal::commit(std::vector<JournalRecord>& records, Millis now) {
  return log_.append(
      records.size(),
      [&](size_t i, uint64_t seq) {
        JournalRecord& r = records[i];
        r.lsn = seq;
        if (r.at == 0) r.at = now;
        return encode_journal_payload(r);
      },
      now);
}

}  // namespace ruleeval::engine
