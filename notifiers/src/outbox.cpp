#include "ruleeval/notifiers/outbox.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

namespace ruleeval::notifiers {

namespace fs = std::filesystem;
using nlohmann::json;

static std::optional<IntegrationKind> kind_from(std::string_view s) {
  for (int i = 0; i < 64; ++i) {  // every IntegrationKind (kind_name is "unknown" past the end)
    auto k = static_cast<IntegrationKind>(i);
    if (kind_name(k) == "unknown") break;
    if (kind_name(k) == s) return k;
  }
  return std::nullopt;
}

std::string serialize_entry(const OutboxEntry& e) {
  json j = {{"id", e.id},
            {"integration", e.integration},
            {"receiver", e.receiver},
            {"kind", kind_name(e.kind)},
            {"group_key", e.group_key},
            {"body", e.body},
            {"created_at", e.created_at},
            {"attempts", e.attempts}};
  return j.dump();
}

Result<OutboxEntry> parse_entry(std::string_view text) {
  try {
    auto j = json::parse(text);
    OutboxEntry e;
    e.id = j.at("id").get<std::string>();
    e.integration = j.at("integration").get<std::string>();
    e.receiver = j.at("receiver").get<std::string>();
    auto k = kind_from(j.at("kind").get<std::string>());
    if (!k) return make_error("unknown integration kind");
    e.kind = *k;
    e.group_key = j.at("group_key").get<std::string>();
    e.body = j.at("body").get<std::string>();
    e.created_at = j.at("created_at").get<Millis>();
    e.attempts = j.value("attempts", uint32_t{0});
    return e;
  } catch (const json::exception& ex) {
    return make_error(std::string("corrupt outbox entry: ") + ex.what());
  }
}

namespace {

std::string tombstone(std::string_view op, const std::string& id) {
  return json{{std::string(op), id}}.dump();
}

}  // namespace

std::string Outbox::next_id_locked() {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx-%08x", static_cast<unsigned long long>(++seq_), boot_);
  return buf;
}

Result<std::unique_ptr<Outbox>> Outbox::open(std::string dir, Env* env) {
  std::unique_ptr<Outbox> o(new Outbox(std::move(dir), env));
  std::random_device rd;
  o->boot_ = rd();
  if (o->dir_.empty()) return o;
  if (auto made = o->env_->create_dir((fs::path(o->dir_) / "failed").string()); !made) {
    return make_error("cannot create outbox \"" + o->dir_ + "\": " + made.error().message);
  }
  // Entries hold receiver secrets (routing keys, webhook URLs): only the service user reads them.
  if (auto r = o->env_->set_permissions(o->dir_, 0700); !r) {
    return make_error("cannot create outbox \"" + o->dir_ + "\": " + r.error().message);
  }
  o->log_ = std::make_unique<RecordLog>(o->dir_, "outbox-", "outbox journal", o->env_);
  std::lock_guard lock(o->mu_);
  if (auto r = o->load_locked(); !r) return std::unexpected(r.error());
  return o;
}

Result<void> Outbox::load_locked() {
  auto note_id = [&](const std::string& id) {
    try {
      seq_ = std::max<uint64_t>(seq_, std::stoull(id.substr(0, 16), nullptr, 16));
    } catch (...) {
    }
  };
  auto scan = log_->read_all([&](std::string_view payload) -> Result<void> {
    auto j = json::parse(payload, nullptr, false);
    if (!j.is_object()) return make_error("not a JSON object");
    for (const char* op : {"done", "failed"}) {
      if (auto it = j.find(op); it != j.end() && it->is_string()) {
        if (auto l = live_.find(it->get<std::string>()); l != live_.end()) {
          live_bytes_ -= l->second.size();
          live_.erase(l);
        }
        return {};
      }
    }
    auto e = parse_entry(payload);
    if (!e) return std::unexpected(e.error());
    note_id(e->id);
    live_bytes_ += payload.size();
    auto [it, created] = live_.insert_or_assign(e->id, std::string(payload));
    if (!created) live_bytes_ -= payload.size();  // rewritten by a compaction: counted once
    return {};
  });
  warnings_ = std::move(scan.errors);
  warnings_.insert(warnings_.end(), scan.notes.begin(), scan.notes.end());
  // Outboxes of earlier versions: one pending/<id>.json file per entry.
  const fs::path legacy = fs::path(dir_) / "pending";
  std::vector<fs::path> legacy_files;
  const bool has_legacy = env_->is_directory(legacy.string());
  if (has_legacy) {
    auto names = env_->list_dir(legacy.string());  // sorted
    if (!names) return std::unexpected(names.error());
    for (const auto& n : *names) legacy_files.push_back(legacy / n);
    for (const auto& f : legacy_files) {
      if (f.extension() != ".json") continue;  // a temporary file from a crash mid-write
      auto text = env_->read_file(f.string(), UINT64_MAX);  // a pending page is never refused
      if (!text) return std::unexpected(text.error());
      auto e = parse_entry(*text);
      if (!e) return make_error(f.string() + ": " + e.error().message);
      note_id(e->id);
      std::string payload = serialize_entry(*e);
      live_bytes_ += payload.size();
      live_.insert_or_assign(e->id, std::move(payload));
    }
  }
  // Compaction at start: the pending entries go into a new segment, the old segments go once
  // that is durable. A write failure is not fatal: the old segments stay and say the same.
  if (auto r = log_->open(0); !r) {
    warnings_.push_back(r.error().message);
    return {};
  }
  const uint64_t first = log_->last_seq() + 1;
  std::vector<const std::string*> payloads;
  payloads.reserve(live_.size());
  for (const auto& [id, p] : live_) payloads.push_back(&p);
  auto w = log_->append(payloads.size(), [&](size_t i, uint64_t) { return *payloads[i]; },
                        env_->now_ms());
  if (!w) {
    warnings_.push_back(w.error().message);
    return {};
  }
  log_->drop_segments_before(first);
  for (const auto& f : legacy_files) (void)env_->remove_file(f.string());
  if (has_legacy) (void)env_->remove_dir(legacy.string());
  return {};
}

Result<std::string> Outbox::put(OutboxEntry& e, bool sync_now) {
  {
    std::lock_guard lock(mu_);
    e.id = next_id_locked();
    if (!log_) {
      ++pending_;
      return e.id;
    }
    std::string payload = serialize_entry(e);
    live_bytes_ += payload.size();
    live_.insert_or_assign(e.id, std::move(payload));
    unsynced_.push_back(e.id);
  }
  if (sync_now) {
    if (auto r = sync(); !r) return std::unexpected(r.error());
  }
  return e.id;
}

Result<void> Outbox::sync() {
  std::lock_guard lock(mu_);
  if (!log_) return {};
  std::vector<const std::string*> payloads;
  payloads.reserve(unsynced_.size());
  for (const auto& id : unsynced_) {
    if (auto it = live_.find(id); it != live_.end()) payloads.push_back(&it->second);
  }
  unsynced_.clear();
  // A failed write stays queued in the log and is written by the next append.
  return log_->append(payloads.size(), [&](size_t i, uint64_t) { return *payloads[i]; },
                      env_->now_ms());
}

Result<void> Outbox::done(const std::string& id) {
  std::lock_guard lock(mu_);
  if (!log_) {
    if (pending_ > 0) --pending_;
    return {};
  }
  auto it = live_.find(id);
  if (it == live_.end()) return {};
  live_bytes_ -= it->second.size();
  live_.erase(it);
  auto r = log_->append(1, [&](size_t, uint64_t) { return tombstone("done", id); }, env_->now_ms(),
                        RecordLog::Sync::kWritten);
  if (!r) return r;
  if (log_->segment_bytes() > kCompactBytes && live_bytes_ * 2 < log_->segment_bytes()) {
    return compact_locked();
  }
  return {};
}

Result<void> Outbox::compact_locked() {
  auto first = log_->rotate();
  if (!first) return std::unexpected(first.error());
  std::vector<const std::string*> payloads;
  payloads.reserve(live_.size());
  for (const auto& [id, p] : live_) payloads.push_back(&p);
  auto r = log_->append(payloads.size(), [&](size_t i, uint64_t) { return *payloads[i]; },
                        env_->now_ms());
  if (!r) return r;
  log_->drop_segments_before(*first);
  return {};
}

Result<void> Outbox::fail(const std::string& id, const std::string& reason) {
  std::lock_guard lock(mu_);
  if (!log_) {
    if (pending_ > 0) --pending_;
    return {};
  }
  auto it = live_.find(id);
  if (it == live_.end()) return make_error("outbox entry " + id + " is not pending");
  // failed/ first (durably), then the journal's record: a crash in between leaves the entry
  // pending (tried again), never lost.
  const fs::path dir = fs::path(dir_) / "failed";
  auto r = env_->replace_file((dir / (id + ".json")).string(), it->second,
                              FileSync::kFileAndDir, 0600);
  if (!r) return r;
  r = env_->replace_file((dir / (id + ".reason")).string(), reason + "\n",
                         FileSync::kFileAndDir, 0600);
  if (!r) return r;
  live_bytes_ -= it->second.size();
  live_.erase(it);
  prune_failed_locked();
  return log_->append(1, [&](size_t, uint64_t) { return tombstone("failed", id); }, env_->now_ms(),
                      RecordLog::Sync::kWritten);
}

Result<std::string> Outbox::put_failed(OutboxEntry& e, const std::string& reason) {
  std::lock_guard lock(mu_);
  e.id = next_id_locked();
  if (!log_) return e.id;
  const fs::path dir = fs::path(dir_) / "failed";
  auto r = env_->replace_file((dir / (e.id + ".json")).string(), serialize_entry(e),
                              FileSync::kFileAndDir, 0600);
  if (!r) return std::unexpected(r.error());
  r = env_->replace_file((dir / (e.id + ".reason")).string(), reason + "\n",
                         FileSync::kFileAndDir, 0600);
  if (!r) return std::unexpected(r.error());
  prune_failed_locked();
  return e.id;
}

void Outbox::prune_failed_locked() {
  // failed/ keeps the newest kMaxFailed entries (a receiver that answers 4xx for ever must not
  // fill the disk); older ones are removed with their .reason.
  const fs::path dir = fs::path(dir_) / "failed";
  auto names = env_->list_dir(dir.string());
  if (!names) return;  // pruned at the next failure
  std::vector<std::pair<std::chrono::system_clock::time_point, fs::path>> entries;
  for (const auto& n : *names) {
    fs::path p = dir / n;
    if (p.extension() != ".json") continue;
    auto t = env_->last_modified(p.string());
    entries.emplace_back(t ? *t : std::chrono::system_clock::time_point{}, std::move(p));
  }
  if (entries.size() <= kMaxFailed) return;
  std::sort(entries.begin(), entries.end());
  for (size_t i = 0; i + kMaxFailed < entries.size(); ++i) {
    (void)env_->remove_file(entries[i].second.string());
    fs::path reason = entries[i].second;
    (void)env_->remove_file(reason.replace_extension(".reason").string());
  }
}

Result<std::vector<OutboxEntry>> Outbox::load_pending() const {
  std::lock_guard lock(mu_);
  std::vector<OutboxEntry> out;
  out.reserve(live_.size());
  for (const auto& [id, p] : live_) {
    auto e = parse_entry(p);
    if (!e) return make_error(dir_ + ": outbox entry " + id + ": " + e.error().message);
    out.push_back(std::move(*e));
  }
  return out;
}

size_t Outbox::pending_count() const {
  std::lock_guard lock(mu_);
  return log_ ? live_.size() : pending_;
}

uint64_t Outbox::journal_bytes() const { return log_ ? log_->segment_bytes() : 0; }

}  // namespace ruleeval::notifiers
