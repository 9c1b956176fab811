#include "ruleeval/notifiers/silences.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "fsutil.hpp"

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

Result<std::unique_ptr<Silences>> Silences::open(std::string path) {
  std::unique_ptr<Silences> s(new Silences(std::move(path)));
  if (s->path_.empty() || !std::filesystem::exists(s->path_)) return s;
  auto text = detail::read_file(s->path_);
  if (!text) return std::unexpected(text.error());
  try {
    auto j = json::parse(*text);
    s->seq_ = j.value("seq", uint64_t{0});
    for (const auto& e : j.at("silences")) {
      Silence sil;
      sil.id = e.at("id").get<std::string>();
      for (const auto& m : e.at("matchers")) {
        auto ms = parse_matchers(m.get<std::string>());
        if (!ms) return make_error(s->path_ + ": silence " + sil.id + ": " + ms.error().message);
        for (auto& x : *ms) sil.matchers.push_back(std::move(x));
      }
      sil.starts_at = e.at("startsAt").get<Millis>();
      sil.ends_at = e.at("endsAt").get<Millis>();
      sil.updated_at = e.value("updatedAt", Millis{0});
      sil.created_by = e.value("createdBy", "");
      sil.comment = e.value("comment", "");
      s->silences_.push_back(std::move(sil));
    }
  } catch (const json::exception& e) {
    return make_error(s->path_ + ": corrupt silences file: " + e.what());
  }
  return s;
}

Result<std::string> Silences::create(Silence s, Millis now) {
  if (s.matchers.empty()) return make_error("silence needs at least one matcher");
  bool all_empty = true;
  for (const auto& m : s.matchers) all_empty &= m.matches_value("");
  if (all_empty) return make_error("silence would match every alert: a matcher must not match \"\"");
  if (s.starts_at == 0) s.starts_at = now;
  if (s.ends_at <= s.starts_at) return make_error("silence must end after it starts");
  if (s.ends_at <= now) return make_error("silence would already be expired");
  std::lock_guard lock(mu_);
  std::random_device rd;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%06llx", rd(), static_cast<unsigned long long>(++seq_));
  s.id = buf;
  s.updated_at = now;
  silences_.push_back(s);
  auto r = save_locked();
  if (!r) {
    silences_.pop_back();
    return std::unexpected(r.error());
  }
  return s.id;
}

Result<void> Silences::expire(const std::string& id, Millis now) {
  std::lock_guard lock(mu_);
  for (auto& s : silences_) {
    if (s.id != id) continue;
    if (s.ends_at <= now) return make_error("silence " + id + " is already expired");
    if (s.starts_at > now) s.starts_at = now;
    s.ends_at = now;
    s.updated_at = now;
    return save_locked();
  }
  return make_error("no silence with id " + id);
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
  for (const auto& s : silences_) {
    arr.push_back({{"id", s.id},
                   {"matchers", matchers_json(s.matchers)},
                   {"startsAt", s.starts_at},
                   {"endsAt", s.ends_at},
                   {"updatedAt", s.updated_at},
                   {"createdBy", s.created_by},
                   {"comment", s.comment}});
  }
  json doc = {{"seq", seq_}, {"silences", arr}};
  return detail::write_file_durably(path_, doc.dump(1));
}

}  // namespace ruleeval::notifiers
