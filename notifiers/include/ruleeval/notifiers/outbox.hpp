// The durable outbox: every rendered notification is written to <dir>/pending/<id>.json and
// fsync'd (file and directory) before it is sent, and removed only after the receiver accepted
// it. After a crash, load_pending() returns what was not yet delivered; delivered entries are
// gone. Entries that fail permanently move to <dir>/failed/.
// Group commit: put(e, false) leaves the directory fsync to one sync() for a batch of entries.
// The removal of a delivered entry is not fsync'd: after a power loss it may come back and be
// delivered again (a duplicate, never a lost page); a process crash cannot bring it back.
// Thread-safety: every method may be called from any thread (put/done/fail/pending_count under
// one internal mutex; sync() and load_pending() touch only the file system).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "ruleeval/common/env.hpp"
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
  // Creates the directories. `dir` empty = memory only (nothing survives a restart). Entries are
  // written, fsynced, moved and removed through `env` (ruleeval/common/env.hpp), which must
  // outlive the outbox.
  static Result<std::unique_ptr<Outbox>> open(std::string dir, Env* env = Env::Default());

  // Assigns e.id, writes and fsyncs (the directory too unless `sync_dir` is false, in which case
  // call sync() before relying on the entry). Returns the id.
  Result<std::string> put(OutboxEntry& e, bool sync_dir = true);
  Result<void> sync();
  Result<void> done(const std::string& id);
  Result<void> fail(const std::string& id, const std::string& reason);
  // Writes an entry that failed before it could be queued (e.g. its payload could not be
  // rendered) straight to failed/, with its reason. Assigns e.id.
  Result<std::string> put_failed(OutboxEntry& e, const std::string& reason);
  // Pending entries, oldest first.
  Result<std::vector<OutboxEntry>> load_pending() const;
  size_t pending_count() const;

  // failed/ keeps at most this many entries (the newest).
  static constexpr size_t kMaxFailed = 1000;

 private:
  void prune_failed_locked();
  Outbox(std::string dir, Env* env) : dir_(std::move(dir)), env_(env) {}
  std::string dir_;
  Env* env_;
  mutable std::mutex mu_;
  uint64_t seq_ = 0;
  uint32_t boot_ = 0;
  size_t pending_ = 0;
};

std::string serialize_entry(const OutboxEntry& e);
Result<OutboxEntry> parse_entry(std::string_view json);

}  // namespace ruleeval::notifiers
