#include "ruleeval/common/record_log.hpp"

#include <xxhash.h>

#include <algorithm>
#include <cstdio>

namespace {

// Joins the parts of a scan message into one string (one allocation as it grows, no temporaries).
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::string s;
  (s += ... += parts);
  return s;
}

}  // namespace

namespace ruleeval {

namespace {

constexpr uint32_t kMagic = 0x524A4E4C;
constexpr size_t kHeader = 16;
constexpr uint32_t kMaxPayload = 64u << 20;

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}
void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}
uint64_t get_le(const char* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace

std::string frame_record(std::string_view payload) {
  std::string out;
  out.reserve(kHeader + payload.size());
  put_u32(out, kMagic);
  put_u32(out, static_cast<uint32_t>(payload.size()));
  put_u64(out, XXH64(payload.data(), payload.size(), 0));
  out.append(payload);
  return out;
}

RecordLog::RecordLog(std::string dir, std::string prefix, std::string what, Env* env)
    : dir_(std::move(dir)), prefix_(std::move(prefix)), what_(std::move(what)), env_(env) {}

RecordLog::~RecordLog() = default;

void RecordLog::set_recovery_note(RecoveryNote fn) {
  std::lock_guard lock(mu_);
  recovery_note_ = std::move(fn);
}

std::vector<std::pair<uint64_t, std::string>> RecordLog::segments() const {
  std::vector<std::pair<uint64_t, std::string>> out;
  // A missing directory has no segments (open() creates it).
  for (const auto& name : env_->list_dir(dir_).value_or(std::vector<std::string>{})) {
    if (name.size() != prefix_.size() + 16 + 4 || !name.starts_with(prefix_) ||
        !name.ends_with(".log")) {
      continue;
    }
    uint64_t seq = 0;
    try {
      seq = std::stoull(name.substr(prefix_.size(), 16), nullptr, 16);
    } catch (...) {
      continue;
    }
    std::string path = dir_ + "/" + name;
    if (!env_->is_regular_file(path)) continue;  // not a segment, whatever its name
    out.emplace_back(seq, std::move(path));
  }
  std::sort(out.begin(), out.end());
  return out;
}

RecordLog::Scan RecordLog::read_all(
    const std::function<Result<void>(std::string_view payload)>& fn) const {
  Scan out;
  for (const auto& [first, path] : segments()) {
    out.min_next_seq = std::max(out.min_next_seq, first);
    // No size limit below the process's: a segment that cannot be read loses state.
    auto read = env_->read_file(path, UINT64_MAX);
    if (!read) {
      out.errors.push_back(cat("cannot read ", what_, " ", path, ": ", read.error().message));
      continue;
    }
    const std::string data = std::move(*read);
    const std::string where = what_ + " " + path + ": ";
    size_t off = 0;
    while (off < data.size()) {
      const size_t left = data.size() - off;
      const std::string at = std::to_string(off);
      if (left < kHeader) {
        out.notes.push_back(cat(where, "torn tail of ", std::to_string(left), " bytes at offset ",
                                at, " ignored (a write interrupted by a crash)"));
        break;
      }
      const char* p = data.data() + off;
      const auto magic = static_cast<uint32_t>(get_le(p, 4));
      const auto len = static_cast<uint32_t>(get_le(p + 4, 4));
      const uint64_t sum = get_le(p + 8, 8);
      if (magic != kMagic || len > kMaxPayload) {
        if (std::all_of(p, data.data() + data.size(), [](char c) { return c == 0; })) {
          out.notes.push_back(cat(where, "torn tail of ", std::to_string(left),
                                  " zero bytes at offset ", at, " ignored"));
        } else {
          out.errors.push_back(cat(where, "bad record header at offset ", at, "; the ",
                                   std::to_string(left), " bytes after it are ignored"));
        }
        break;
      }
      if (left < kHeader + len) {
        out.notes.push_back(cat(where, "torn tail of ", std::to_string(left), " bytes at offset ",
                                at, " ignored (a write interrupted by a crash)"));
        break;
      }
      std::string_view payload(p + kHeader, len);
      const bool last = off + kHeader + len == data.size();
      off += kHeader + len;
      if (XXH64(payload.data(), payload.size(), 0) != sum) {
        if (last) {
          out.notes.push_back(
              cat(where, "torn tail (last record, bad checksum) at offset ", at, " ignored"));
        } else {
          out.errors.push_back(
              cat(where, "checksum error in the record at offset ", at, "; record skipped"));
        }
        continue;
      }
      if (auto r = fn(payload); !r) {
        out.errors.push_back(
            cat(where, "record at offset ", at, ": ", r.error().message, "; record skipped"));
      }
    }
    out.min_next_seq = std::max(out.min_next_seq, first);
  }
  return out;
}

Result<void> RecordLog::open_locked(uint64_t first_seq) {
  file_.reset();
  (void)env_->create_dir(dir_);  // an error shows in the open below
  char name[24];
  std::snprintf(name, sizeof name, "%016llx", static_cast<unsigned long long>(first_seq));
  const std::string path = dir_ + "/" + prefix_ + name + ".log";
  auto file = env_->new_appendable_file(path, 0600);
  if (!file) return make_error(what_ + ": " + file.error().message);
  const uint64_t size = (*file)->size_at_open();
  if (auto r = env_->sync_dir(dir_); !r) return make_error(what_ + ": " + r.error().message);
  file_ = std::move(*file);
  segment_first_ = first_seq;
  good_size_ = size;
  segment_bytes_ = size;
  need_new_segment_ = false;
  unsynced_ = false;
  return {};
}

Result<void> RecordLog::open(uint64_t next_seq) {
  // Never reopen an existing segment: one whose records are all unreadable (a crash during its
  // first write) gives no sequence number to its owner, and appending after its torn bytes would
  // hide the new records from the next replay.
  for (const auto& [first, path] : segments()) next_seq = std::max(next_seq, first + 1);
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !flushing_; });  // a flush uses the open segment's file
  last_seq_ = std::max<uint64_t>(last_seq_.load(), next_seq > 0 ? next_seq - 1 : 0);
  return open_locked(last_seq_.load() + 1);
}

bool RecordLog::has_queued() const {
  std::lock_guard lock(mu_);
  return !queued_.empty();
}

Result<void> RecordLog::flush_locked(std::unique_lock<std::mutex>& lock, int64_t now_ms,
                                     bool sync) {
  flushing_ = true;
  std::string buf = std::move(queued_);
  queued_.clear();
  const uint64_t buf_first = queued_first_;
  queued_first_ = 0;
  const uint64_t upto = queued_ticket_;
  const bool needs_sync = sync && (unsynced_ || !buf.empty());
  std::string err;
  if (!file_ || need_new_segment_) {
    // A segment is named after the first sequence number it holds.
    const uint64_t first = buf_first > 0 ? buf_first : last_seq_.load() + 1;
    if (auto r = open_locked(first); !r) err = r.error().message;
  }
  // The note about earlier failures goes first, so that it is on disk with the records.
  size_t note_bytes = 0;
  if (err.empty() && failures_since_ok_ > 0 && recovery_note_ && !buf.empty()) {
    std::string note = frame_record(
        recovery_note_(++last_seq_, failures_since_ok_, first_failure_at_, now_ms));
    note_bytes = note.size();
    buf.insert(0, note);
  }
  // Only a flush (flushing_, so one at a time) replaces file_; rotate() and open() wait for it.
  WritableFile* file = file_.get();
  lock.unlock();
  if (err.empty()) {
    if (auto w = file->append(buf); !w) {
      err = what_ + ": " + w.error().message;
    } else if (needs_sync) {
      if (auto f = file->sync(); !f) err = what_ + ": " + f.error().message;
    }
  }
  lock.lock();
  flushing_ = false;
  if (err.empty()) {
    good_size_ += buf.size();
    segment_bytes_ = good_size_;
    written_ticket_ = std::max(written_ticket_, upto);
    if (sync) {
      durable_ticket_ = written_ticket_;
      unsynced_ = false;
    } else if (!buf.empty()) {
      unsynced_ = true;
    }
    failures_since_ok_ = 0;
    cv_.notify_all();
    return {};
  }
  ++failures_;
  if (failures_since_ok_++ == 0) first_failure_at_ = now_ms;
  last_error_ = err;
  failed_ticket_ = upto;
  // Keep the records (not the note) for the next attempt; cut a partial write off, or use a new
  // segment.
  if (file_ && !file_->truncate(good_size_)) need_new_segment_ = true;
  queued_.insert(0, buf, note_bytes, std::string::npos);
  if (buf_first > 0) queued_first_ = buf_first;
  cv_.notify_all();
  return make_error(err);
}

Result<void> RecordLog::append(size_t n,
                               const std::function<std::string(size_t i, uint64_t seq)>& encode,
                               int64_t now_ms, Sync sync) {
  std::unique_lock lock(mu_);
  const bool durable = sync == Sync::kDurable;
  if (n == 0 && queued_.empty() && !(durable && unsynced_)) return {};
  for (size_t i = 0; i < n; ++i) {
    const uint64_t seq = ++last_seq_;
    if (queued_.empty()) queued_first_ = seq;
    queued_ += frame_record(encode(i, seq));
  }
  const uint64_t ticket = ++queued_ticket_;
  while ((durable ? durable_ticket_ : written_ticket_) < ticket) {
    if (failed_ticket_ >= ticket) {
      failed_ticket_ = 0;
      return make_error(last_error_);
    }
    if (!flushing_) {
      auto r = flush_locked(lock, now_ms, durable);
      if (!r && (durable ? durable_ticket_ : written_ticket_) < ticket) return r;
      continue;
    }
    cv_.wait(lock);
  }
  return {};
}

Result<void> RecordLog::retry(int64_t now_ms) {
  {
    std::lock_guard lock(mu_);
    if (queued_.empty() && !unsynced_) return {};
  }
  return append(0, [](size_t, uint64_t) { return std::string(); }, now_ms, Sync::kDurable);
}

Result<uint64_t> RecordLog::rotate() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !flushing_; });
  const uint64_t first = last_seq_.load() + 1;
  if (file_ && segment_first_ == first && good_size_ == 0) return first;  // already fresh
  if (!queued_.empty()) {
    // Queued records of a failed write belong to the old segment's sequence numbers.
    return make_error(what_ + " has unwritten records; not rotated");
  }
  if (file_ && unsynced_) {
    if (auto f = file_->sync(); !f) {
      need_new_segment_ = true;
      return make_error(what_ + ": " + f.error().message);
    }
  }
  if (auto r = open_locked(first); !r) {
    need_new_segment_ = true;
    return std::unexpected(r.error());
  }
  return first;
}

void RecordLog::drop_segments_before(uint64_t seq) {
  std::vector<std::pair<uint64_t, std::string>> segs = segments();
  uint64_t current;
  {
    std::lock_guard lock(mu_);
    current = file_ ? segment_first_ : UINT64_MAX;
  }
  for (size_t i = 0; i < segs.size(); ++i) {
    // Segment i holds [first_i, first_{i+1}); it can go when first_{i+1} <= seq.
    const uint64_t next_first = i + 1 < segs.size() ? segs[i + 1].first : UINT64_MAX;
    if (segs[i].first == current || next_first > seq) continue;
    (void)env_->remove_file(segs[i].second);
  }
  (void)env_->sync_dir(dir_);
}

}  // namespace ruleeval
