// Silences: matchers over a time window [starts_at, ends_at), created, listed and expired
// through this API and persisted to <state_dir>/silences.json: every change is appended to the
// change log silences.json.log and fdatasync'd before create()/expire() return; every
// kCompactEvery changes the whole set is written atomically (fsync'd, directory fsync'd) and the
// log removed. All file access goes through an Env (ruleeval/common/env.hpp).
// Thread-safety: every method may be called from any thread (the HTTP API creates and expires
// silences while the notifier's loop asks silenced_by()); one internal mutex, held while a change
// is written to disk.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ruleeval/common/env.hpp"
#include "ruleeval/notifiers/matcher.hpp"
#include "ruleeval/rules/alert.hpp"

namespace ruleeval::notifiers {

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
  // `path` empty = in memory only. Loads the file (and the change log <path>.log after it) when
  // it exists. A corrupt file does not fail: it is moved aside to <path>.corrupt-<unix ms> and
  // load_warning() says so (the service starts with the silences it could read). Files are
  // read, appended, fsynced, renamed and removed through `env`, which must outlive the object.
  static Result<std::unique_ptr<Silences>> open(std::string path, Millis now = 0,
                                                Env* env = Env::Default());
  const std::string& load_warning() const { return load_warning_; }

  // Limits (Alertmanager's --silences.max-silences / --silences.max-per-silence-bytes, with
  // defaults instead of "unlimited").
  static constexpr size_t kMaxSilences = 10'000;        // not yet expired
  static constexpr size_t kMaxSilenceBytes = 64 << 10;  // matchers + comment + createdBy
  static constexpr size_t kMaxMatchers = 64;

  // Validates as Alertmanager does (at least one matcher, valid label names, valid regexes,
  // not all matching the empty string, ends after starts, limits) and persists. Returns the new
  // id. With s.id set, updates that silence instead (an error for which is_not_found() holds
  // when there is none).
  Result<std::string> create(Silence s, Millis now);
  static bool is_not_found(const Error& e) { return e.message.starts_with("silence not found"); }
  // Ends an active or pending silence at `now`.
  Result<void> expire(const std::string& id, Millis now);
  std::vector<Silence> list() const;
  // Ids of the silences active at `now` that match the labels.
  std::vector<std::string> silenced_by(const Labels& labels, Millis now) const;

 private:
  Silences(std::string path, Env* env) : path_(std::move(path)), env_(env) {}
  // Writes one changed silence: appended to <path>.log and fsync'd (on an error nothing of the
  // change stays in the log). After kCompactEvery changes the whole file is rewritten and the
  // log removed (compact_locked).
  Result<void> persist_locked(const Silence& changed);
  Result<void> compact_locked(Millis now);
  Result<void> save_locked() const;
  std::string log_path() const { return path_ + ".log"; }
  static std::string dir_of(const std::string& path);
  std::string path_;
  Env* env_;
  std::string load_warning_;
  size_t log_entries_ = 0;
  mutable std::mutex mu_;
  std::vector<Silence> silences_;
  uint64_t seq_ = 0;
};

}  // namespace ruleeval::notifiers
