// RecordLog: a segmented, append-only log of checksummed records with group commit. It is the
// storage under the alert state journal (engine/daemon's StateJournal) and the notification
// outbox (notifiers' Outbox); each of them owns the meaning of its payloads.
//
// Files: <dir>/<prefix><16 hex digits: first sequence number>.log, append-only segments.
// Record framing (little endian):
//   u32 magic 0x524A4E4C ("LNJR") | u32 payload length | u64 XXH64(payload, seed 0) | payload
// Every record gets a sequence number, increasing across segments (the owner stores it in its
// payload if it needs it); a segment is named after the first one it holds.
//
// Group commit: append() queues the caller's records; one caller at a time writes the whole
// queue and calls fdatasync() while the others wait, so concurrent callers share one fsync.
// Sync::kWritten appends are written (they survive a process crash) but not fsync'd; the next
// durable append's fdatasync covers them.
//
// Recovery: an incomplete record at the end of a segment (a crash during a write), or a final
// record with a bad checksum, is a torn tail: ignored and reported as a note. A bad record in the
// middle is reported as an error and skipped; a frame whose header is unusable ends the segment
// (reported). open() always starts a new segment, so nothing is ever appended after garbage.
//
// Failures (read-only directory, full disk, I/O error): append() returns the error and keeps the
// records; the next append() or retry() writes them again (after truncating a partial write, or
// in a new segment). write_failures() counts them; an optional recovery note is written first
// once a write succeeds again.
//
// Files: every file operation (segment appends, fdatasync, truncation, reads, listing, removal,
// directory fsync) goes through the Env given at construction (ruleeval/common/env.hpp), so a
// test's FakeEnv can make a write or an fsync fail. The open segment is one Env WritableFile:
// a commit is still one write and one fdatasync, with no copy of the queued bytes.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ruleeval/common/env.hpp"
#include "ruleeval/common/error.hpp"

namespace ruleeval {

// One framed record (header + payload), as written to a segment.
std::string frame_record(std::string_view payload);

class RecordLog {
 public:
  // `what` names the log in messages ("state journal", "outbox journal"). `env` must outlive
  // the log.
  RecordLog(std::string dir, std::string prefix, std::string what, Env* env = Env::Default());
  ~RecordLog();
  RecordLog(const RecordLog&) = delete;
  RecordLog& operator=(const RecordLog&) = delete;

  struct Scan {
    std::vector<std::string> errors;  // corrupt records, unreadable segments
    std::vector<std::string> notes;   // torn tails
    uint64_t min_next_seq = 1;        // the highest first sequence number of a segment (1: none)
  };
  // Calls `fn` with every intact record's payload, segments in order. An error returned by `fn`
  // is reported in Scan::errors with the record's place ("record skipped"). Never throws.
  Scan read_all(const std::function<Result<void>(std::string_view payload)>& fn) const;

  // Starts a new segment whose first sequence number is `next_seq` (after read_all(): one more
  // than the highest the owner found), or above every existing segment's first if that is more:
  // an existing segment is never appended to. A failure is not fatal: append() tries again.
  Result<void> open(uint64_t next_seq);

  enum class Sync {
    kDurable,  // returns once the records are on disk (fdatasync)
    kWritten,  // returns once they are written (a process crash keeps them, a power cut may not)
  };
  // Appends `n` records: encode(i, seq) returns the payload of the i-th, whose sequence number
  // is `seq` (called under the log's lock, in order). Returns once they are written or durable,
  // or with the error (the records stay queued for the next attempt). `now_ms` dates failures.
  Result<void> append(size_t n, const std::function<std::string(size_t i, uint64_t seq)>& encode,
                      int64_t now_ms, Sync sync = Sync::kDurable);
  // Writes (durably) the queued records of a failed or kWritten-deferred append; no-op when
  // nothing is queued.
  Result<void> retry(int64_t now_ms);
  bool has_queued() const;

  // After failed writes, the next successful write starts with the record this returns
  // (failures since the first failed write, its time, now), given its sequence number.
  using RecoveryNote =
      std::function<std::string(uint64_t seq, uint64_t failures, int64_t since_ms, int64_t now_ms)>;
  void set_recovery_note(RecoveryNote fn);

  // The last sequence number assigned.
  uint64_t last_seq() const { return last_seq_.load(); }
  // Bytes in the current segment.
  uint64_t segment_bytes() const { return segment_bytes_.load(); }
  uint64_t write_failures() const { return failures_.load(); }

  // Starts a new segment; returns its first sequence number: every record before it is in older
  // segments. Fails while records of a failed write are queued (they belong to the old segment).
  Result<uint64_t> rotate();
  // Removes the segments that hold only records with a sequence number < `seq`.
  void drop_segments_before(uint64_t seq);
  // Segments on disk, sorted: (first sequence number, path).
  std::vector<std::pair<uint64_t, std::string>> segments() const;

  const std::string& dir() const { return dir_; }

 private:
  Result<void> open_locked(uint64_t first_seq);
  Result<void> flush_locked(std::unique_lock<std::mutex>& lock, int64_t now_ms, bool sync);

  std::string dir_, prefix_, what_;
  Env* env_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  RecoveryNote recovery_note_;
  std::unique_ptr<WritableFile> file_;  // the open segment; null before open()
  uint64_t segment_first_ = 0;  // first sequence number of the open segment
  uint64_t good_size_ = 0;      // bytes of the open segment known to be complete records
  bool need_new_segment_ = false;
  std::string queued_;           // framed records not yet written
  uint64_t queued_first_ = 0;    // sequence number of the first record in queued_
  uint64_t queued_ticket_ = 0;   // ticket of the last append in queued_
  uint64_t written_ticket_ = 0;  // every ticket <= this is written
  uint64_t durable_ticket_ = 0;  // every ticket <= this is durable
  uint64_t failed_ticket_ = 0;   // tickets <= this failed in the last attempt
  bool unsynced_ = false;        // written bytes not yet covered by an fdatasync
  bool flushing_ = false;
  std::string last_error_;
  uint64_t failures_since_ok_ = 0;
  int64_t first_failure_at_ = 0;
  std::atomic<uint64_t> last_seq_{0};
  std::atomic<uint64_t> segment_bytes_{0};
  std::atomic<uint64_t> failures_{0};
};

}  // namespace ruleeval
