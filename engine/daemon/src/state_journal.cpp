#include "ruleeval/engine/state_journal.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <system_error>

#include "ruleeval/common/file_io.hpp"

namespace ruleeval::engine {

namespace {

constexpr uint32_t kMagic = 0x524A4E4C;
constexpr size_t kHeader = 16;
constexpr uint32_t kMaxPayload = 64u << 20;  // a record holds one alert or one rule's instances

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

uint64_t mix(uint64_t x) {  // splitmix64 finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string segment_name(uint64_t first_lsn) {
  return fmt::format("journal-{:016x}.log", first_lsn);
}

// Segments of `dir` sorted by first LSN: (first LSN, path).
std::vector<std::pair<uint64_t, std::string>> list_segments(Env& env, const std::string& dir) {
  std::vector<std::pair<uint64_t, std::string>> out;
  for (const auto& name : env.list_dir(dir).value_or(std::vector<std::string>{})) {
    if (name.size() != 8 + 16 + 4 || !name.starts_with("journal-") || !name.ends_with(".log")) {
      continue;
    }
    uint64_t lsn = 0;
    try {
      lsn = std::stoull(name.substr(8, 16), nullptr, 16);
    } catch (...) {
      continue;
    }
    out.emplace_back(lsn, dir + "/" + name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
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

std::string frame_journal_record(std::string_view payload) {
  std::string out;
  out.reserve(kHeader + payload.size());
  put_u32(out, kMagic);
  put_u32(out, static_cast<uint32_t>(payload.size()));
  put_u64(out, XXH64(payload.data(), payload.size(), 0));
  out.append(payload);
  return out;
}

StateJournal::StateJournal(std::string dir, Env* env) : dir_(std::move(dir)), env_(env) {}

StateJournal::~StateJournal() {
  if (fd_ >= 0) ::close(fd_);
}

StateJournal::Replay StateJournal::read_all() const {
  Replay out;
  for (const auto& [first, path] : list_segments(*env_, dir_)) {
    // No size limit below the process's: a segment that cannot be read loses alert state.
    auto read = env_->read_file(path, UINT64_MAX);
    if (!read) {
      out.errors.push_back(fmt::format("cannot read state journal {}: {}", path,
                                       read.error().message));
      continue;
    }
    const std::string data = std::move(*read);
    size_t off = 0;
    while (off < data.size()) {
      const size_t left = data.size() - off;
      if (left < kHeader) {
        out.notes.push_back(
            fmt::format("state journal {}: torn tail of {} bytes at offset {} "
                        "ignored (a write interrupted by a crash)",
                        path, left, off));
        break;
      }
      const char* p = data.data() + off;
      const auto magic = static_cast<uint32_t>(get_le(p, 4));
      const auto len = static_cast<uint32_t>(get_le(p + 4, 4));
      const uint64_t sum = get_le(p + 8, 8);
      if (magic != kMagic || len > kMaxPayload) {
        if (std::all_of(p, data.data() + data.size(), [](char c) { return c == 0; })) {
          out.notes.push_back(
              fmt::format("state journal {}: torn tail of {} zero bytes at offset "
                          "{} ignored",
                          path, left, off));
        } else {
          out.errors.push_back(
              fmt::format("state journal {}: bad record header at offset {}; the "
                          "{} bytes after it are ignored",
                          path, off, left));
        }
        break;
      }
      if (left < kHeader + len) {
        out.notes.push_back(
            fmt::format("state journal {}: torn tail of {} bytes at offset {} "
                        "ignored (a write interrupted by a crash)",
                        path, left, off));
        break;
      }
      std::string_view payload(p + kHeader, len);
      const bool last = off + kHeader + len == data.size();
      off += kHeader + len;
      if (XXH64(payload.data(), payload.size(), 0) != sum) {
        if (last) {
          out.notes.push_back(
              fmt::format("state journal {}: torn tail (last record, bad "
                          "checksum) at offset {} ignored",
                          path, off - kHeader - len));
        } else {
          out.errors.push_back(
              fmt::format("state journal {}: checksum error in the record at "
                          "offset {}; record skipped",
                          path, off - kHeader - len));
        }
        continue;
      }
      auto rec = decode_journal_payload(payload);
      if (!rec) {
        out.errors.push_back(
            fmt::format("state journal {}: record at offset {}: {}; record "
                        "skipped",
                        path, off - kHeader - len, rec.error().message));
        continue;
      }
      out.max_lsn = std::max(out.max_lsn, rec->lsn);
      if (rec->kind == JournalRecord::Kind::kNote) {
        out.notes.push_back(rec->note);
        continue;
      }
      out.records.push_back(std::move(*rec));
    }
    out.max_lsn = std::max(out.max_lsn, first > 0 ? first - 1 : 0);
  }
  std::stable_sort(out.records.begin(), out.records.end(),
                   [](const JournalRecord& a, const JournalRecord& b) { return a.lsn < b.lsn; });
  return out;
}

Result<void> StateJournal::open_locked(uint64_t first_lsn) {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  (void)env_->create_dir(dir_);  // an error shows in the open below
  const std::string path = dir_ + "/" + segment_name(first_lsn);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_error(fmt::format("cannot open state journal {}: {}", path,
                                  std::generic_category().message(errno)));
  }
  struct stat st {};
  const uint64_t size = ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  if (auto r = env_->sync_dir(dir_); !r) {
    ::close(fd);
    return r;
  }
  fd_ = fd;
  segment_first_ = first_lsn;
  good_size_ = size;
  segment_bytes_ = size;
  need_new_segment_ = false;
  return {};
}

Result<void> StateJournal::open(uint64_t next_lsn) {
  std::lock_guard lock(mu_);
  last_lsn_ = std::max<uint64_t>(last_lsn_.load(), next_lsn > 0 ? next_lsn - 1 : 0);
  return open_locked(last_lsn_.load() + 1);
}

bool StateJournal::has_queued() const {
  std::lock_guard lock(mu_);
  return !queued_.empty();
}

Result<void> StateJournal::flush_locked(std::unique_lock<std::mutex>& lock, Millis now) {
  flushing_ = true;
  std::string buf = std::move(queued_);
  queued_.clear();
  const uint64_t buf_first = queued_first_;
  queued_first_ = 0;
  const uint64_t upto = queued_ticket_;
  std::string err;
  if (fd_ < 0 || need_new_segment_) {
    // A segment is named after the first LSN it holds.
    const uint64_t first = buf_first > 0 ? buf_first : last_lsn_.load() + 1;
    if (auto r = open_locked(first); !r) err = r.error().message;
  }
  // The note about earlier failures goes first, so that it is durable with the records.
  if (err.empty() && failures_since_ok_ > 0) {
    JournalRecord note;
    note.kind = JournalRecord::Kind::kNote;
    note.at = now;
    note.lsn = ++last_lsn_;
    note.note = fmt::format(
        "the previous run failed to write its alert state {} time(s) from {} (Unix ms) until a "
        "later write succeeded; the transitions of that time were written then",
        failures_since_ok_, first_failure_at_);
    buf.insert(0, frame_journal_record(encode_journal_payload(note)));
  }
  const int fd = fd_;
  lock.unlock();
  if (err.empty()) {
    if (!write_all(fd, buf.data(), buf.size())) {
      err = fmt::format("cannot write the state journal in {}: {}", dir_,
                        std::generic_category().message(errno));
    } else if (::fdatasync(fd) != 0) {
      err = fmt::format("cannot fsync the state journal in {}: {}", dir_,
                        std::generic_category().message(errno));
    }
  }
  lock.lock();
  flushing_ = false;
  if (err.empty()) {
    good_size_ += buf.size();
    segment_bytes_ = good_size_;
    durable_ticket_ = upto;
    failures_since_ok_ = 0;
    cv_.notify_all();
    return {};
  }
  ++failures_;
  if (failures_since_ok_++ == 0) first_failure_at_ = now;
  last_error_ = err;
  failed_ticket_ = upto;
  // Keep the records for the next attempt; cut a partial write off, or use a new segment.
  if (fd_ >= 0 && ::ftruncate(fd_, static_cast<off_t>(good_size_)) != 0) need_new_segment_ = true;
  queued_.insert(0, buf);
  if (buf_first > 0) queued_first_ = buf_first;
  cv_.notify_all();
  return make_error(err);
}

Result<void> StateJournal::commit(std::vector<JournalRecord>& records, Millis now) {
  std::unique_lock lock(mu_);
  if (records.empty() && queued_.empty()) return {};
  for (auto& r : records) {
    r.lsn = ++last_lsn_;
    if (queued_.empty()) queued_first_ = r.lsn;
    if (r.at == 0) r.at = now;
    queued_ += frame_journal_record(encode_journal_payload(r));
  }
  const uint64_t ticket = ++queued_ticket_;
  while (durable_ticket_ < ticket) {
    if (failed_ticket_ >= ticket) {
      failed_ticket_ = 0;
      return make_error(last_error_);
    }
    if (!flushing_) {
      auto r = flush_locked(lock, now);
      if (!r && durable_ticket_ < ticket) return r;
      continue;
    }
    cv_.wait(lock);
  }
  return {};
}

Result<void> StateJournal::retry(Millis now) {
  std::vector<JournalRecord> none;
  {
    std::lock_guard lock(mu_);
    if (queued_.empty()) return {};
  }
  return commit(none, now);
}

Result<uint64_t> StateJournal::rotate() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !flushing_; });
  const uint64_t first = last_lsn_.load() + 1;
  if (fd_ >= 0 && segment_first_ == first && good_size_ == 0) return first;  // already fresh
  if (!queued_.empty()) {
    // Queued records of a failed write belong to the old segment's LSNs: keep them for it.
    return make_error("state journal has unwritten records; not rotated");
  }
  if (auto r = open_locked(first); !r) {
    need_new_segment_ = true;
    return std::unexpected(r.error());
  }
  return first;
}

void StateJournal::drop_segments_before(uint64_t lsn) {
  std::vector<std::pair<uint64_t, std::string>> segs = list_segments(*env_, dir_);
  uint64_t current;
  {
    std::lock_guard lock(mu_);
    current = fd_ >= 0 ? segment_first_ : UINT64_MAX;
  }
  for (size_t i = 0; i < segs.size(); ++i) {
    // Segment i holds LSNs [first_i, first_{i+1}); it can go when first_{i+1} <= lsn.
    const uint64_t next_first = i + 1 < segs.size() ? segs[i + 1].first : UINT64_MAX;
    if (segs[i].first == current || next_first > lsn) continue;
    (void)env_->remove_file(segs[i].second);
  }
  (void)env_->sync_dir(dir_);
}

}  // namespace ruleeval::engine
