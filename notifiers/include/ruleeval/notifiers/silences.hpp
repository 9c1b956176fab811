// Silences: matchers over a time window [starts_at, ends_at), created, listed and expired
// through this API and persisted (atomically, fsync'd) to <state_dir>/silences.json.
// Thread-safety: every method locks an internal mutex; the API server and the flushing thread
// use one store concurrently.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "ruleeval/notifiers/matcher.hpp"
#include "ruleeval/rules/alert.hpp"

namespace ruleeval::notifiers {

using rules::Millis;

struct Silence {
  std::string id;  // assigned by create()
  Matchers matchers;
  Millis starts_at = 0, ends_at = 0;
  std::string created_by, comment;
  Millis updated_at = 0;

  // "active" in [starts_at, ends_at), "pending" before, "expired" after.
  std::string state(Millis now) const;
  bool active(Millis now) const { return starts_at <= now && now < ends_at; }
};

class Silences {
 public:
  // `path` empty = in memory only. Loads the file when it exists.
  static Result<std::unique_ptr<Silences>> open(std::string path);

  // Validates (at least one matcher, not all matching the empty string, ends after starts) and
  // persists. Returns the new id.
  Result<std::string> create(Silence s, Millis now);
  // Ends an active or pending silence at `now`.
  Result<void> expire(const std::string& id, Millis now);
  std::vector<Silence> list() const;
  // Ids of the silences active at `now` that match the labels.
  std::vector<std::string> silenced_by(const Labels& labels, Millis now) const;

 private:
  explicit Silences(std::string path) : path_(std::move(path)) {}
  Result<void> save_locked() const;
  std::string path_;
  mutable std::mutex mu_;
  std::vector<Silence> silences_;
  uint64_t seq_ = 0;
};

}  // namespace ruleeval::notifiers
