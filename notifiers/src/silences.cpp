#include "ruleeval/notifiers/silences.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "notifier_internal.hpp"

namespace ruleeval::notifiers {

using nlohmann::json;

std::string Silence::state(Millis now) const {
  if (now < starts_at) return "pending";
  if (now >= ends_at) return "expired";
  return "active";
}

namespace {

json matchers_json(const Matchers& ms) {
  json arr = json::array();
  for (const auto& m : ms) arr.push_back(m.to_string());
  return arr;
}

}  // namespace

namespace {

constexpr size_t kCompactEvery = 256;  // log entries before the file is rewritten

bool valid_label_name(std::string_view n) {  // Prometheus's model.LabelName.IsValid (legacy)
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

json silence_json(const Silence& s) {
  return {{"id", s.id},
          {"matchers", matchers_json(s.matchers)},
          {"startsAt", s.starts_at},
          {"endsAt", s.ends_at},
          {"updatedAt", s.updated_at},
          {"createdBy", s.created_by},
          {"comment", s.comment}};
}

Result<Silence> silence_from_json(const json& e) {
  Silence sil;
  sil.id = e.at("id").get<std::string>();
  for (const auto& m : e.at("matchers")) {
    auto ms = parse_matchers(m.get<std::string>());
    if (!ms) return make_error("silence " + sil.id + ": " + ms.error().message);
    for (auto& x : *ms) sil.matchers.push_back(std::move(x));
  }
  sil.starts_at = e.at("startsAt").get<Millis>();
  sil.ends_at = e.at("endsAt").get<Millis>();
  sil.updated_at = e.value("updatedAt", Millis{0});
  sil.created_by = e.value("createdBy", "");
  sil.comment = e.value("comment", "");
  return sil;
}

// Alertmanager's validateSilence/validateMatcher, plus the size limits.
Result<void> validate(const Silence& s, Millis now) {
  if (s.matchers.empty()) return make_error("at least one matcher required");
  if (s.matchers.size() > Silences::kMaxMatchers) {
    return make_error(fmt::format("too many matchers: {} (the limit is {})", s.matchers.size(),
                                  Silences::kMaxMatchers));
  }
  size_t bytes = s.comment.size() + s.created_by.size();
  for (size_t i = 0; i < s.matchers.size(); ++i) {
    const Matcher& m = s.matchers[i];
    bytes += m.name().size() + m.value().size();
    if (!valid_label_name(m.name())) {
      return make_error(fmt::format("invalid label matcher {}: invalid label name \"{}\"", i,
                                    m.name()));
    }
    if (!valid_utf8(m.value())) {
      return make_error(fmt::format("invalid label matcher {}: invalid label value", i));
    }
  }
  if (bytes > Silences::kMaxSilenceBytes) {
    return make_error(fmt::format("silence is too large: {} bytes (the limit is {})", bytes,
                                  Silences::kMaxSilenceBytes));
  }
  bool all_empty = true;
  for (const auto& m : s.matchers) all_empty &= m.matches_value("");
  if (all_empty) return make_error("at least one matcher must not match the empty string");
  if (s.ends_at <= s.starts_at) return make_error("start time must be before end time");
  if (s.ends_at <= now) return make_error("end time can't be in the past");
  return {};
}

}  // namespace

namespace {

// State files are never refused for their size (the limits above bound them).
Result<std::string> read_state(Env* env, const std::string& path) {
  auto text = env->read_file(path, UINT64_MAX);
  if (!text) return make_error("cannot read \"" + path + "\": " + text.error().message);
  return text;
}

}  // namespace

Result<std::unique_ptr<Silences>> Silences::open(std::string path, Millis now, Env* env) {
  std::unique_ptr<Silences> s(new Silences(std::move(path), env));
  if (s->path_.empty()) return s;
  auto set_aside = [&](const std::string& file, const std::string& why) {
    const std::string moved = fmt::format("{}.corrupt-{}", file, now);
    auto r = env->rename_file(file, moved);
    if (!s->load_warning_.empty()) s->load_warning_ += "; ";
    s->load_warning_ += !r ? fmt::format("{} is corrupt ({}); could not move it aside: {}", file,
                                         why, r.error().message)
                           : fmt::format("{} is corrupt ({}); moved to {}", file, why, moved);
  };
  if (env->file_exists(s->path_)) {
    auto text = read_state(env, s->path_);
    if (!text) return std::unexpected(text.error());
    std::vector<Silence> loaded;
    std::string why;
    try {
      auto j = json::parse(*text);
      s->seq_ = j.value("seq", uint64_t{0});
      for (const auto& e : j.at("silences")) {
        auto sil = silence_from_json(e);
        if (!sil) {
          why = sil.error().message;
          break;
        }
        loaded.push_back(std::move(*sil));
      }
    } catch (const json::exception& e) {
      why = e.what();
    }
    if (why.empty()) {
      s->silences_ = std::move(loaded);
    } else {
      set_aside(s->path_, why);
    }
  }
  // The change log: one JSON silence per line, each replacing the silence with its id. A torn
  // last line (a crash during the append) is ignored.
  const std::string log = s->path_ + ".log";
  if (env->file_exists(log)) {
    auto text = read_state(env, log);
    if (!text) return std::unexpected(text.error());
    size_t pos = 0, line = 0;
    while (pos < text->size()) {
      size_t nl = text->find('\n', pos);
      if (nl == std::string::npos) break;  // torn tail
      ++line;
      auto j = json::parse(std::string_view(*text).substr(pos, nl - pos), nullptr, false);
      pos = nl + 1;
      Result<Silence> sil = make_error("not a JSON object");
      if (j.is_object()) {
        try {
          sil = silence_from_json(j);
          s->seq_ = std::max(s->seq_, j.value("seq", uint64_t{0}));
        } catch (const json::exception& e) {
          sil = make_error(e.what());
        }
      }
      if (!sil) {
        set_aside(log, fmt::format("line {}: {}", line, sil.error().message));
        break;
      }
      auto it = std::find_if(s->silences_.begin(), s->silences_.end(),
                             [&](const Silence& x) { return x.id == sil->id; });
      if (it != s->silences_.end()) {
        *it = std::move(*sil);
      } else {
        s->silences_.push_back(std::move(*sil));
      }
      ++s->log_entries_;
    }
  }
  return s;
}

Result<std::string> Silences::create(Silence s, Millis now) {
  if (s.starts_at == 0) s.starts_at = now;
  if (auto v = validate(s, now); !v) return std::unexpected(v.error());
  std::lock_guard lock(mu_);
  if (!s.id.empty()) {
    auto it = std::find_if(silences_.begin(), silences_.end(),
                           [&](const Silence& x) { return x.id == s.id; });
    if (it == silences_.end()) return make_error("silence not found: " + s.id);
    Silence old = *it;
    s.updated_at = now;
    *it = s;
    auto r = persist_locked(*it);
    if (!r) {
      *it = std::move(old);
      return std::unexpected(r.error());
    }
    return s.id;
  }
  size_t live = 0;
  for (const auto& x : silences_) live += x.ends_at > now ? 1 : 0;
  if (live >= kMaxSilences) {
    return make_error(fmt::format("too many silences: the limit is {}", kMaxSilences));
  }
  std::random_device rd;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%06llx", rd(), static_cast<unsigned long long>(++seq_));
  s.id = buf;
  s.updated_at = now;
  silences_.push_back(s);
  auto r = persist_locked(silences_.back());
  if (!r) {
    silences_.pop_back();
    return std::unexpected(r.error());
  }
  return s.id;
}

std::string Silences::dir_of(const std::string& path) {
  return std::filesystem::path(path).parent_path().string();
}

Result<void> Silences::persist_locked(const Silence& changed) {
  if (path_.empty()) return {};
  json line = silence_json(changed);
  line["seq"] = seq_;
  const std::string text = line.dump() + "\n";
  const std::string log = log_path();
  const bool fresh = !env_->file_exists(log);
  auto file = env_->new_appendable_file(log, 0600);
  if (!file) return std::unexpected(file.error());
  // One write and one fdatasync per change (and a directory fsync for a new log). A failure cuts
  // the file back to where it was: the caller is told the change failed, so it must not come back
  // after a restart, and a torn line must not be followed by the next change (open() would see a
  // corrupt log and set it aside with every change after it).
  const uint64_t before = (*file)->size_at_open();
  auto written = (*file)->append(text);
  if (written) written = (*file)->sync();
  if (written && fresh) written = env_->sync_dir(dir_of(log));
  if (!written) {
    (void)(*file)->truncate(before);
    return written;
  }
  ++log_entries_;
  if (log_entries_ >= kCompactEvery) {
    // The change is durable in the log already, so a failed compaction does not fail it: it is
    // logged and tried again at the next change.
    if (auto r = compact_locked(changed.updated_at); !r) {
      detail::log_error("silences: cannot compact " + path_ + " (the changes stay in " + log +
                        "; tried again at the next change): " + r.error().message);
    }
  }
  return {};
}

Result<void> Silences::compact_locked(Millis now) {
  // The whole set, then the log removed. Expired silences older than Alertmanager's 5-day
  // retention are dropped here. A crash between the two leaves a log whose every line is at
  // most as new as the file (the change that triggered the compaction was logged first), so
  // replaying it over the file at open() changes nothing but bringing back a dropped expired
  // silence until the next compaction.
  const Millis cutoff = now - Millis{5} * 24 * 3600'000;
  std::erase_if(silences_, [&](const Silence& x) { return x.ends_at < cutoff; });
  if (auto r = save_locked(); !r) return r;
  if (auto r = env_->remove_file(log_path()); !r) return r;
  if (auto r = env_->sync_dir(dir_of(log_path())); !r) return r;
  log_entries_ = 0;
  return {};
}

Result<void> Silences::expire(const std::string& id, Millis now) {
  std::lock_guard lock(mu_);
  for (auto& s : silences_) {
    if (s.id != id) continue;
    if (s.ends_at <= now) return make_error("silence " + id + " is already expired");
    const Silence old = s;
    if (s.starts_at > now) s.starts_at = now;
    s.ends_at = now;
    s.updated_at = now;
    auto r = persist_locked(s);
    if (!r) s = old;  // not written: still active (or pending)
    return r;
  }
  return make_error("silence not found: " + id);
}

std::vector<Silence> Silences::list() const {
  std::lock_guard lock(mu_);
  return silences_;
}

std::vector<std::string> Silences::silenced_by(const Labels& labels, Millis now) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& s : silences_) {
    if (s.active(now) && matches_all(s.matchers, labels)) out.push_back(s.id);
  }
  return out;
}

Result<void> Silences::save_locked() const {
  if (path_.empty()) return {};
  json arr = json::array();
  for (const auto& s : silences_) arr.push_back(silence_json(s));
  json doc = {{"seq", seq_}, {"silences", arr}};
  return env_->replace_file(path_, doc.dump(1), FileSync::kFileAndDir, 0600);
}

}  // namespace ruleeval::notifiers
