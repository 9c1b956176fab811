// The durable outbox: every rendered notification is appended to an outbox journal in <dir>
// (outbox-<16 hex>.log: a RecordLog, the same checksummed, group-committed segment log as the
// alert state journal) and fdatasync'd before it is sent; a "done" record follows once the
// receiver accepted it. After a crash, load_pending() returns what was not yet delivered.
// Entries that fail permanently move to <dir>/failed/ (one .json and one .reason file each).
// Group commit: put(e, false) only queues the entry; one sync() appends and fdatasyncs every
// queued entry at once (one write, one fdatasync per notifier flush, however many
// notifications). A "done" record is written at once but not fsync'd: a process crash cannot
// bring a delivered entry back; after a power loss it may come back and be delivered again (a
// duplicate, never a lost page).
// Compaction: at open() and whenever the journal holds mostly delivered entries, the pending
// entries are rewritten into a new segment and the older segments removed. A torn tail (a
// crash during a write) is ignored and logged; the entries before it are kept. Outboxes of
// earlier versions (pending/<id>.json files) are moved into the journal at open().
// Thread-safety: every method may be called from any thread (under one internal mutex).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ruleeval/common/env.hpp"
#include "ruleeval/common/record_log.hpp"
#include "ruleeval/notifiers/config.hpp"

namespace ruleeval::notifiers {

struct OutboxEntry {
  std::string id;           // unique, sortable by creation: <16 hex seq>-<8 hex random>
  std::string integration;  // "<receiver>/<kind>/<index>"
  std::string receiver;
  IntegrationKind kind = IntegrationKind::kWebhook;
  std::string group_key;
  std::string body;  // the request body (HTTP) or a JSON message description (email)
  Millis created_at = 0;
  uint32_t attempts = 0;
};

class Outbox {
 public:
  // Creates the directories and loads the pending entries. `dir` empty = memory only (nothing
  // survives a restart). The journal's and failed/'s files are written, fsynced, read and
  // removed through `env` (ruleeval/common/env.hpp), which must outlive the outbox; its clock
  // dates entries and failures.
  static Result<std::unique_ptr<Outbox>> open(std::string dir, Env* env = Env::Default());

  // Assigns e.id and makes the entry durable (unless `sync_now` is false, in which case call
  // sync() before relying on it). Returns the id.
  Result<std::string> put(OutboxEntry& e, bool sync_now = true);
  // Makes every entry put since the last sync() durable: one write and one fdatasync.
  Result<void> sync();
  Result<void> done(const std::string& id);
  Result<void> fail(const std::string& id, const std::string& reason);
  // Writes an entry that failed before it could be queued (e.g. its payload could not be
  // rendered) straight to failed/, with its reason. Assigns e.id.
  Result<std::string> put_failed(OutboxEntry& e, const std::string& reason);
  // Pending entries, oldest first.
  Result<std::vector<OutboxEntry>> load_pending() const;
  size_t pending_count() const;

  // What open() found wrong in the journal (torn tails, corrupt records), to be logged.
  const std::vector<std::string>& load_warnings() const { return warnings_; }
  // Bytes of the journal's current segment (tests, metrics).
  uint64_t journal_bytes() const;

  // failed/ keeps at most this many entries (the newest).
  static constexpr size_t kMaxFailed = 1000;
  // Compaction when the current segment is larger than this and mostly delivered entries.
  static constexpr uint64_t kCompactBytes = 4u << 20;

 private:
  void prune_failed_locked();
  Result<void> load_locked();
  Result<void> compact_locked();
  std::string next_id_locked();
  Outbox(std::string dir, Env* env) : dir_(std::move(dir)), env_(env) {}
  std::string dir_;
  Env* env_;
  mutable std::mutex mu_;
  std::unique_ptr<RecordLog> log_;  // null when memory only
  // Pending entries: id -> the journal payload of their put record (ids sort by creation).
  std::map<std::string, std::string> live_;
  uint64_t live_bytes_ = 0;
  std::vector<std::string> unsynced_;  // ids put since the last sync()
  std::vector<std::string> warnings_;
  uint64_t seq_ = 0;
  uint32_t boot_ = 0;
  size_t pending_ = 0;  // memory-only outbox
};

std::string serialize_entry(const OutboxEntry& e);
Result<OutboxEntry> parse_entry(std::string_view json);

}  // namespace ruleeval::notifiers
