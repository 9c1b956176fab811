#include "ruleeval/notifiers/outbox.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <system_error>

#include "fsutil.hpp"

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

Result<std::unique_ptr<Outbox>> Outbox::open(std::string dir, Env* env) {
  std::unique_ptr<Outbox> o(new Outbox(std::move(dir), env));
  std::random_device rd;
  o->boot_ = rd();
  if (o->dir_.empty()) return o;
  std::error_code ec;
  fs::create_directories(fs::path(o->dir_) / "pending", ec);
  if (!ec) fs::create_directories(fs::path(o->dir_) / "failed", ec);
  // Entries hold receiver secrets (routing keys, webhook URLs): only the service user reads them.
  if (!ec) fs::permissions(o->dir_, fs::perms::owner_all, ec);
  if (ec) return make_error("cannot create outbox \"" + o->dir_ + "\": " + ec.message());
  // Continue the sequence after the newest pending entry so ids keep sorting by age.
  for (const auto& de : fs::directory_iterator(fs::path(o->dir_) / "pending")) {
    auto name = de.path().filename().string();
    if (de.path().extension() != ".json") {
      fs::remove(de.path(), ec);  // leftover temporary file from a crash mid-write
      continue;
    }
    ++o->pending_;
    try {
      o->seq_ = std::max<uint64_t>(o->seq_, std::stoull(name.substr(0, 16), nullptr, 16));
    } catch (...) {
    }
  }
  return o;
}

Result<std::string> Outbox::put(OutboxEntry& e, bool sync_dir) {
  std::lock_guard lock(mu_);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx-%08x", static_cast<unsigned long long>(++seq_), boot_);
  e.id = buf;
  if (!dir_.empty()) {
    auto r = env_->replace_file((fs::path(dir_) / "pending" / (e.id + ".json")).string(),
                                serialize_entry(e),
                                sync_dir ? FileSync::kFileAndDir : FileSync::kFile, 0600);
    if (!r) return std::unexpected(r.error());
  }
  ++pending_;
  return e.id;
}

Result<void> Outbox::sync() {
  if (dir_.empty()) return {};
  return env_->sync_dir((fs::path(dir_) / "pending").string());
}

Result<void> Outbox::done(const std::string& id) {
  std::lock_guard lock(mu_);
  if (pending_ > 0) --pending_;
  if (dir_.empty()) return {};
  const std::string path = (fs::path(dir_) / "pending" / (id + ".json")).string();
  return env_->remove_file(path);
}

Result<void> Outbox::fail(const std::string& id, const std::string& reason) {
  std::lock_guard lock(mu_);
  if (pending_ > 0) --pending_;
  if (dir_.empty()) return {};
  auto from = fs::path(dir_) / "pending" / (id + ".json");
  auto to = fs::path(dir_) / "failed" / (id + ".json");
  if (auto moved = env_->rename_file(from.string(), to.string()); !moved) {
    return make_error("cannot move outbox entry " + id + " to failed/: " + moved.error().message);
  }
  auto r = env_->replace_file((fs::path(dir_) / "failed" / (id + ".reason")).string(),
                              reason + "\n", FileSync::kFileAndDir, 0600);
  if (!r) return r;
  prune_failed_locked();
  return env_->sync_dir((fs::path(dir_) / "pending").string());
}

Result<std::string> Outbox::put_failed(OutboxEntry& e, const std::string& reason) {
  std::lock_guard lock(mu_);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx-%08x", static_cast<unsigned long long>(++seq_), boot_);
  e.id = buf;
  if (dir_.empty()) return e.id;
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
  std::vector<std::pair<fs::file_time_type, fs::path>> entries;
  std::error_code ec;
  for (const auto& de : fs::directory_iterator(fs::path(dir_) / "failed", ec)) {
    if (de.path().extension() != ".json") continue;
    entries.emplace_back(de.last_write_time(ec), de.path());
  }
  if (entries.size() <= kMaxFailed) return;
  std::sort(entries.begin(), entries.end());
  for (size_t i = 0; i + kMaxFailed < entries.size(); ++i) {
    fs::remove(entries[i].second, ec);
    fs::path reason = entries[i].second;
    fs::remove(reason.replace_extension(".reason"), ec);
  }
}

Result<std::vector<OutboxEntry>> Outbox::load_pending() const {
  std::vector<OutboxEntry> out;
  if (dir_.empty()) return out;
  std::vector<fs::path> files;
  for (const auto& de : fs::directory_iterator(fs::path(dir_) / "pending")) {
    if (de.path().extension() == ".json") files.push_back(de.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto text = env_->read_file(f.string(), UINT64_MAX);  // a pending page is never refused
    if (!text) return make_error("cannot read \"" + f.string() + "\": " + text.error().message);
    auto e = parse_entry(*text);
    if (!e) return make_error(f.string() + ": " + e.error().message);
    out.push_back(std::move(*e));
  }
  return out;
}

size_t Outbox::pending_count() const {
  std::lock_guard lock(mu_);
  return pending_;
}

}  // namespace ruleeval::notifiers
