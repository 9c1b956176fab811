// The alert state journal: every alert state transition is appended here, and made durable,
// before it becomes visible outside the process (notification, API, status page, ALERTS remote
// write). The per-group snapshots (state_store.hpp) are its compaction.
//
// Files in the state directory: journal-<16 hex digits: first LSN>.log, append-only segments.
// Record framing (little endian):
//   u32 magic 0x524A4E4C ("LNJR") | u32 payload length | u64 XXH64(payload, seed 0) | payload
// The payload is one JSON object (encode_journal_payload). Every record has a log sequence number
// (LSN), increasing across segments; a group snapshot stores the LSN it covers ("journalSeq"),
// so replay applies only the records of that group that are newer.
//
// The storage is a RecordLog (common/record_log.hpp), which the notification outbox uses too.
// Group commit: commit() appends the caller's records to a buffer; one caller at a time writes
// the whole buffer and calls fdatasync() while the others wait, so concurrent evaluation rounds
// share one fsync. A round without transitions calls nothing and writes nothing.
//
// Recovery: an incomplete record at the end of a segment (a crash during a write), or a final
// record with a bad checksum, is a torn tail: it is ignored and reported. A bad record in the
// middle (checksum or JSON) is reported as an error and skipped; a frame whose header is
// unusable ends the segment (reported). A new process always starts a new segment, so nothing is
// ever appended after garbage.
//
// Failures (read-only directory, full disk, I/O error): commit() returns the error and keeps the
// records; the next commit() or retry() writes them again (after truncating a partial write, or
// in a new segment). write_failures() counts them. After a failed write succeeds again, a note
// record says how many writes had failed since when, so a restart can report it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ruleeval/common/env.hpp"
#include "ruleeval/common/error.hpp"
#include "ruleeval/common/record_log.hpp"
#include "ruleeval/engine/alert_state.hpp"

namespace ruleeval::engine {

struct JournalRecord {
  enum class Kind {
    kAlert,         // upsert `alert` (by labels) into file/group/rule
    kAlertRemoved,  // remove the alert with `alert.labels`
    kInstances,     // the rule's Grafana-like instances, all of them
    kNote,          // `note`: something a restart should report (e.g. earlier write failures)
  };
  Kind kind = Kind::kAlert;
  uint64_t lsn = 0;  // assigned by commit()
  Millis at = 0;     // wall-clock time of the transition's evaluation round
  std::string file, group, rule;
  ActiveAlert alert;
  std::vector<GrafanaInstance> instances;
  std::string note;
};

// JSON payloads (implemented in state_store.cpp with the snapshot format).
std::string encode_journal_payload(const JournalRecord& r);
Result<JournalRecord> decode_journal_payload(std::string_view json);

// One framed record (header + payload), as written to a segment.
std::string frame_journal_record(std::string_view payload);

class StateJournal {
 public:
  // Every file operation (segment reads and appends, fdatasync, listing, removal, directory
  // fsync) goes through `env`, which must outlive the journal.
  explicit StateJournal(std::string dir, Env* env = Env::Default());
  StateJournal(const StateJournal&) = delete;
  StateJournal& operator=(const StateJournal&) = delete;

  struct Replay {
    std::vector<JournalRecord> records;  // in LSN order
    std::vector<std::string> errors;     // corrupt records, unreadable segments
    std::vector<std::string> notes;      // torn tails, note records
    uint64_t max_lsn = 0;
  };
  // Reads every segment in order. Never throws.
  Replay read_all() const;

  // Starts a new segment whose first LSN is `next_lsn` (after read_all(): max_lsn + 1).
  // A failure is not fatal: commit() tries again.
  Result<void> open(uint64_t next_lsn) { return log_.open(next_lsn); }

  // Assigns LSNs to `records`, appends them and returns once they are durable (fdatasync), or
  // with the error (the records stay queued for the next attempt). Thread-safe.
  Result<void> commit(std::vector<JournalRecord>& records, Millis now);
  // Writes queued records of a failed commit again; no-op when nothing is queued.
  Result<void> retry(Millis now) { return log_.retry(now); }

  // The last LSN assigned (a snapshot taken now covers the records up to it of its group).
  uint64_t last_lsn() const { return log_.last_seq(); }
  // Bytes in the current segment.
  uint64_t segment_bytes() const { return log_.segment_bytes(); }
  uint64_t write_failures() const { return log_.write_failures(); }
  bool has_queued() const { return log_.has_queued(); }

  // Starts a new segment; returns its first LSN: every record before it is in older segments.
  Result<uint64_t> rotate() { return log_.rotate(); }
  // Removes the segments that hold only records with LSN < `lsn` (after a successful snapshot
  // save that covers them).
  void drop_segments_before(uint64_t lsn) { log_.drop_segments_before(lsn); }

  const std::string& dir() const { return log_.dir(); }

 private:
  // Framing, group commit, torn-tail recovery and failure handling (common/record_log.hpp).
  RecordLog log_;
};

// The transition signature of an alert: state and the times that only change with a transition
// (activeAt, firedAt, resolvedAt, keepFiringSince). Never 0.
uint64_t transition_signature(const ActiveAlert& a);
// Of a rule's Grafana-like instances (labels, state, startsAt); 0 when there are none.
uint64_t instances_signature(const GrafanaInstances& in);

}  // namespace ruleeval::engine
