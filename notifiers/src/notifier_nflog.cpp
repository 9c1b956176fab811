// The notification log (Alertmanager's nflog): what was sent per group and integration, to decide
// whether a flush sends again (needs_update), saved to nflog.json at most once a second and read
// back at start; and the outcomes of the last notifications, for the status page.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iterator>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "notifier_internal.hpp"

namespace ruleeval::notifiers {

namespace fs = std::filesystem;
using detail::log_error;
using nlohmann::json;

namespace {

bool is_subset(const std::vector<uint64_t>& sub, const std::vector<uint64_t>& sup) {
  return std::includes(sup.begin(), sup.end(), sub.begin(), sub.end());
}

}  // namespace

namespace detail {

bool needs_update(const void* entry_ptr, const std::vector<uint64_t>& firing,
                  const std::vector<uint64_t>& resolved, bool send_resolved, Millis repeat,
                  Millis now, const std::vector<uint64_t>* log_firing,
                  const std::vector<uint64_t>* log_resolved, Millis log_at) {
  if (!entry_ptr) return !firing.empty();
  if (!is_subset(firing, *log_firing)) return true;
  if (firing.empty()) return !log_firing->empty();
  if (send_resolved && !is_subset(resolved, *log_resolved)) return true;
  return log_at < now - repeat;
}

}  // namespace detail

// The notification log survives restarts, like Alertmanager's nflog.
Result<void> Notifier::load_nflog() {
  const std::string& dir = opts_.state_dir;
  if (!dir.empty() && opts_.env->file_exists((fs::path(dir) / "nflog.json").string())) {
    auto text = opts_.env->read_file((fs::path(dir) / "nflog.json").string(), UINT64_MAX);
    if (!text) return std::unexpected(text.error());
    auto j = json::parse(*text, nullptr, false);
    if (j.is_object()) {
      Millis cutoff = opts_.env->now_ms() - Millis{5} * 24 * 3600'000;
      for (const auto& [k, v] : j.items()) {
        LogEntry e;
        e.at = v.value("at", Millis{0});
        if (e.at < cutoff) continue;
        e.firing = v.value("firing", std::vector<uint64_t>{});
        e.resolved = v.value("resolved", std::vector<uint64_t>{});
        nflog_[k] = std::move(e);
      }
    } else {
      log_error("ignoring corrupt " + (fs::path(dir) / "nflog.json").string());
    }
  }
  return {};
}

void Notifier::save_nflog_locked() {
  nflog_dirty_ = false;
  if (opts_.state_dir.empty()) return;
  // The same JSON as json{{k, {{"at", ..}, {"firing", [..]}, {"resolved", [..]}}}}.dump(),
  // written without building a DOM of every entry first (the log is rewritten every second while
  // groups flush; with thousands of groups the DOM dominated the notifier thread's CPU).
  std::string out = "{";
  auto numbers = [&out](const std::vector<uint64_t>& v) {
    out += '[';
    for (size_t i = 0; i < v.size(); ++i) {
      if (i > 0) out += ',';
      fmt::format_to(std::back_inserter(out), "{}", v[i]);
    }
    out += ']';
  };
  bool first = true;
  for (const auto& [k, e] : nflog_) {
    if (!first) out += ',';
    first = false;
    out += json(k).dump();
    fmt::format_to(std::back_inserter(out), ":{{\"at\":{},\"firing\":", e.at);
    numbers(e.firing);
    out += ",\"resolved\":";
    numbers(e.resolved);
    out += '}';
  }
  out += '}';
  // Not fsync'd: losing the latest log to a power cut can only repeat a notification.
  auto r = opts_.env->replace_file((fs::path(opts_.state_dir) / "nflog.json").string(), out,
                                   FileSync::kNone, 0600);
  if (!r) log_error(r.error().to_string());
}


void Notifier::set_outcome(const std::string& group_key, const std::string& integration,
                           std::string outcome, std::string error, std::string fallback,
                           Millis at) {
  std::lock_guard lock(nflog_mu_);
  auto& o = outcomes_[group_key + '\x1f' + integration];
  o.outcome = std::move(outcome);
  o.error = std::move(error);
  o.fallback = std::move(fallback);
  if (o.at == 0) o.at = at;
}

std::vector<NotificationLogEntry> Notifier::notification_log() {
  std::lock_guard lock(nflog_mu_);
  std::vector<NotificationLogEntry> out;
  out.reserve(nflog_.size());
  auto split = [](const std::string& k, NotificationLogEntry& e) {
    size_t sep = k.rfind('\x1f');
    if (sep == std::string::npos) return false;
    e.group_key = k.substr(0, sep);
    e.integration = k.substr(sep + 1);
    return true;
  };
  for (const auto& [k, e] : nflog_) {
    NotificationLogEntry x;
    if (!split(k, x)) continue;
    x.at = e.at;
    x.firing = e.firing.size();
    x.resolved = e.resolved.size();
    if (auto it = outcomes_.find(k); it != outcomes_.end()) {
      x.outcome = it->second.outcome;
      x.error = it->second.error;
      x.fallback = it->second.fallback;
    }
    out.push_back(std::move(x));
  }
  // Failed deliveries are not in the log (the next flush tries again) but are shown.
  for (const auto& [k, o] : outcomes_) {
    if (nflog_.count(k)) continue;
    NotificationLogEntry x;
    if (!split(k, x)) continue;
    x.at = o.at;
    x.firing = o.firing;
    x.resolved = o.resolved;
    x.outcome = o.outcome;
    x.error = o.error;
    x.fallback = o.fallback;
    out.push_back(std::move(x));
  }
  return out;
}

}  // namespace ruleeval::notifiers
