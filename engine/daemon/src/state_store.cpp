#include "ruleeval/engine/state_store.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <system_error>
#include <unordered_set>

#include "ruleeval/common/file_io.hpp"
#include "ruleeval/common/json_limits.hpp"
#include "ruleeval/engine/scheduler.hpp"
#include "ruleeval/engine/state_journal.hpp"

namespace ruleeval::engine {

namespace {

constexpr int kFormatVersion = 1;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
using rapidjson::Value;

template <class LabelSet>
void write_labels(Writer& w, const LabelSet& l) {
  w.StartObject();
  for (const auto& x : l) {
    w.Key(x.name.data(), static_cast<rapidjson::SizeType>(x.name.size()));
    w.String(x.value.data(), static_cast<rapidjson::SizeType>(x.value.size()));
  }
  w.EndObject();
}

void write_time(Writer& w, const char* key, Millis t) {
  w.Key(key);
  if (is_set(t)) {
    w.Int64(t);
  } else {
    w.Null();
  }
}

// Values may be NaN/Inf, which JSON numbers cannot hold: written as API-style strings.
std::string value_text(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

void write_alert(Writer& w, const ActiveAlert& a) {
  w.StartObject();
  w.Key("labels");
  write_labels(w, a.labels);
  w.Key("annotations");
  write_labels(w, a.annotations);
  w.Key("state");
  w.String(std::string(to_string(a.state)));
  w.Key("value");
  w.String(value_text(a.value));
  write_time(w, "activeAt", a.active_at);
  write_time(w, "firedAt", a.fired_at);
  write_time(w, "resolvedAt", a.resolved_at);
  write_time(w, "lastSentAt", a.last_sent_at);
  write_time(w, "validUntil", a.valid_until);
  write_time(w, "keepFiringSince", a.keep_firing_since);
  w.EndObject();
}

void write_instance(Writer& w, const GrafanaInstance& in) {
  w.StartObject();
  w.Key("labels");
  write_labels(w, in.labels);
  w.Key("state");
  w.String(std::string(to_string(in.state)));
  w.Key("reason");
  w.String(in.state_reason);
  w.Key("value");
  w.String(value_text(in.value));
  write_time(w, "startsAt", in.starts_at);
  write_time(w, "firedAt", in.fired_at);
  write_time(w, "resolvedAt", in.resolved_at);
  write_time(w, "recoveringSince", in.recovering_since);
  write_time(w, "lastEval", in.last_eval);
  w.Key("missedEvals");
  w.Int(in.missed_evals);
  w.EndObject();
}

std::optional<GrafanaState> grafana_state_from_string(std::string_view s) {
  for (auto st : {GrafanaState::kNormal, GrafanaState::kPending, GrafanaState::kAlerting,
                  GrafanaState::kRecovering, GrafanaState::kNoData, GrafanaState::kError}) {
    if (to_string(st) == s) return st;
  }
  return std::nullopt;
}

// Strict field access with JSON paths in the errors.
class Obj {
 public:
  Obj(const Value& v, std::string path) : v_(v), path_(std::move(path)) {}
  const std::string& path() const { return path_; }

  Result<const Value*> get(const char* key) const {
    auto it = v_.FindMember(key);
    if (it == v_.MemberEnd()) return make_error(fmt::format("{}.{}: missing", path_, key));
    return &it->value;
  }
  Result<std::string> str(const char* key) const {
    auto v = get(key);
    if (!v) return std::unexpected(v.error());
    if (!(*v)->IsString()) return make_error(fmt::format("{}.{}: not a string", path_, key));
    return std::string((*v)->GetString(), (*v)->GetStringLength());
  }
  Result<Millis> time(const char* key) const {
    auto v = get(key);
    if (!v) return std::unexpected(v.error());
    if ((*v)->IsNull()) return kNoTime;
    if (!(*v)->IsInt64()) {
      return make_error(fmt::format("{}.{}: not an integer (Unix ms) or null", path_, key));
    }
    return (*v)->GetInt64();
  }
  Result<double> value(const char* key) const {
    auto s = str(key);
    if (!s) return std::unexpected(s.error());
    auto d = parse_prom_value(*s);
    if (!d) return make_error(fmt::format("{}.{}: {}", path_, key, d.error().message));
    return *d;
  }
  Result<Labels> labels(const char* key) const {
    auto v = get(key);
    if (!v) return std::unexpected(v.error());
    if (!(*v)->IsObject()) return make_error(fmt::format("{}.{}: not an object", path_, key));
    std::vector<Label> out;
    for (const auto& m : (*v)->GetObject()) {
      if (!m.value.IsString()) {
        return make_error(fmt::format("{}.{}.{}: not a string", path_, key, m.name.GetString()));
      }
      out.push_back({std::string(m.name.GetString(), m.name.GetStringLength()),
                     std::string(m.value.GetString(), m.value.GetStringLength())});
    }
    return Labels::from_vector(std::move(out));
  }
  Result<rapidjson::Value::ConstArray> array(const char* key) const {
    auto v = get(key);
    if (!v) return std::unexpected(v.error());
    if (!(*v)->IsArray()) return make_error(fmt::format("{}.{}: not an array", path_, key));
    return (*v)->GetArray();
  }

 private:
  const Value& v_;
  std::string path_;
};

// NOLINTBEGIN(bugprone-macro-parentheses): `var` is pasted into and declares identifiers
#define RE_TRY(var, expr)                                \
  auto var##_r = (expr);                                 \
  if (!var##_r) return std::unexpected(var##_r.error()); \
  auto var = std::move(*var##_r)
// NOLINTEND(bugprone-macro-parentheses)

Result<ActiveAlert> parse_alert(const Value& v, const std::string& path) {
  if (!v.IsObject()) return make_error(path + ": not an object");
  Obj o(v, path);
  ActiveAlert a;
  RE_TRY(labels, o.labels("labels"));
  RE_TRY(annotations, o.labels("annotations"));
  RE_TRY(state, o.str("state"));
  auto st = alert_state_from_string(state);
  if (!st) return make_error(fmt::format("{}.state: unknown state \"{}\"", path, state));
  RE_TRY(value, o.value("value"));
  RE_TRY(active_at, o.time("activeAt"));
  RE_TRY(fired_at, o.time("firedAt"));
  RE_TRY(resolved_at, o.time("resolvedAt"));
  RE_TRY(last_sent_at, o.time("lastSentAt"));
  RE_TRY(valid_until, o.time("validUntil"));
  RE_TRY(keep_firing_since, o.time("keepFiringSince"));
  if (!is_set(active_at)) return make_error(path + ".activeAt: must be set");
  a.labels = labels;  // CompactLabels copies from a const Labels&
  a.annotations = annotations;
  a.state = *st;
  a.value = value;
  a.active_at = active_at;
  a.fired_at = fired_at;
  a.resolved_at = resolved_at;
  a.last_sent_at = last_sent_at;
  a.valid_until = valid_until;
  a.keep_firing_since = keep_firing_since;
  return a;
}

Result<GrafanaInstance> parse_instance(const Value& v, const std::string& path) {
  if (!v.IsObject()) return make_error(path + ": not an object");
  Obj o(v, path);
  GrafanaInstance in;
  RE_TRY(labels, o.labels("labels"));
  RE_TRY(state, o.str("state"));
  auto st = grafana_state_from_string(state);
  if (!st) return make_error(fmt::format("{}.state: unknown state \"{}\"", path, state));
  RE_TRY(reason, o.str("reason"));
  RE_TRY(value, o.value("value"));
  RE_TRY(starts_at, o.time("startsAt"));
  RE_TRY(fired_at, o.time("firedAt"));
  RE_TRY(resolved_at, o.time("resolvedAt"));
  RE_TRY(recovering_since, o.time("recoveringSince"));
  RE_TRY(last_eval, o.time("lastEval"));
  RE_TRY(missed, o.get("missedEvals"));
  if (!missed->IsInt()) return make_error(path + ".missedEvals: not an integer");
  in.labels = std::move(labels);
  in.state = *st;
  in.state_reason = std::move(reason);
  in.value = value;
  in.starts_at = starts_at;
  in.fired_at = fired_at;
  in.resolved_at = resolved_at;
  in.recovering_since = recovering_since;
  in.last_eval = last_eval;
  in.missed_evals = missed->GetInt();
  return in;
}


std::string_view kind_name(JournalRecord::Kind k) {
  switch (k) {
    case JournalRecord::Kind::kAlert:
      return "alert";
    case JournalRecord::Kind::kAlertRemoved:
      return "removed";
    case JournalRecord::Kind::kInstances:
      return "instances";
    case JournalRecord::Kind::kNote:
      return "note";
  }
  return "?";
}

}  // namespace

std::string encode_journal_payload(const JournalRecord& r) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("lsn");
  w.Uint64(r.lsn);
  w.Key("at");
  w.Int64(r.at);
  w.Key("kind");
  w.String(std::string(kind_name(r.kind)));
  if (r.kind == JournalRecord::Kind::kNote) {
    w.Key("note");
    w.String(r.note);
  } else {
    w.Key("file");
    w.String(r.file);
    w.Key("group");
    w.String(r.group);
    w.Key("rule");
    w.String(r.rule);
    if (r.kind == JournalRecord::Kind::kInstances) {
      w.Key("instances");
      w.StartArray();
      for (const auto& in : r.instances) write_instance(w, in);
      w.EndArray();
    } else if (r.kind == JournalRecord::Kind::kAlertRemoved) {
      w.Key("labels");
      write_labels(w, r.alert.labels);
    } else {
      w.Key("alert");
      write_alert(w, r.alert);
    }
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<JournalRecord> decode_journal_payload(std::string_view json) {
  if (json_nesting_depth(json) > kMaxJsonNesting) {
    return make_error(fmt::format("nested more than {} levels deep", kMaxJsonNesting));
  }
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) {
    return make_error(fmt::format("invalid JSON at offset {}: {}", doc.GetErrorOffset(),
                                  rapidjson::GetParseError_En(doc.GetParseError())));
  }
  if (!doc.IsObject()) return make_error("$: not an object");
  Obj o(doc, "$");
  JournalRecord r;
  RE_TRY(lsn, o.get("lsn"));
  if (!lsn->IsUint64()) return make_error("$.lsn: not an unsigned integer");
  r.lsn = lsn->GetUint64();
  RE_TRY(at, o.time("at"));
  r.at = at;
  RE_TRY(kind, o.str("kind"));
  if (kind == "note") {
    r.kind = JournalRecord::Kind::kNote;
    RE_TRY(note, o.str("note"));
    r.note = std::move(note);
    return r;
  }
  RE_TRY(file, o.str("file"));
  RE_TRY(group, o.str("group"));
  RE_TRY(rule, o.str("rule"));
  r.file = std::move(file);
  r.group = std::move(group);
  r.rule = std::move(rule);
  if (kind == "alert") {
    r.kind = JournalRecord::Kind::kAlert;
    RE_TRY(av, o.get("alert"));
    RE_TRY(a, parse_alert(*av, "$.alert"));
    r.alert = std::move(a);
  } else if (kind == "removed") {
    r.kind = JournalRecord::Kind::kAlertRemoved;
    RE_TRY(labels, o.labels("labels"));
    r.alert.labels = labels;
  } else if (kind == "instances") {
    r.kind = JournalRecord::Kind::kInstances;
    RE_TRY(arr, o.array("instances"));
    size_t j = 0;
    for (const auto& iv : arr) {
      RE_TRY(in, parse_instance(iv, fmt::format("$.instances[{}]", j++)));
      r.instances.push_back(std::move(in));
    }
  } else {
    return make_error(fmt::format("$.kind: unknown record kind \"{}\"", kind));
  }
  return r;
}

const RuleStateSnapshot* StateSnapshot::find(std::string_view file, std::string_view group,
                                             std::string_view rule) const {
  for (const auto& r : rules) {
    if (r.file == file && r.group == group && r.rule == rule) return &r;
  }
  return nullptr;
}

std::string serialize_rule_state(const RuleStateSnapshot& r) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("file");
  w.String(r.file);
  w.Key("group");
  w.String(r.group);
  w.Key("rule");
  w.String(r.rule);
  w.Key("alerts");
  w.StartArray();
  for (const auto& a : r.alerts) write_alert(w, a);
  w.EndArray();
  w.Key("instances");
  w.StartArray();
  for (const auto& in : r.instances) write_instance(w, in);
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string assemble_state(Millis saved_at, std::span<const std::string* const> rule_objects,
                           uint64_t journal_seq) {
  size_t size = 96;
  for (const auto* o : rule_objects) size += o->size() + 1;
  std::string out;
  out.reserve(size);
  out += fmt::format(R"({{"version":{},"savedAt":{},"journalSeq":{},"rules":[)", kFormatVersion,
                     saved_at, journal_seq);
  for (size_t i = 0; i < rule_objects.size(); ++i) {
    if (i) out += ',';
    out += *rule_objects[i];
  }
  out += "]}";
  return out;
}

std::string serialize_state(const StateSnapshot& s) {
  std::vector<std::string> objects;
  objects.reserve(s.rules.size());
  for (const auto& r : s.rules) objects.push_back(serialize_rule_state(r));
  std::vector<const std::string*> ptrs;
  ptrs.reserve(objects.size());
  for (const auto& o : objects) ptrs.push_back(&o);
  return assemble_state(s.saved_at, ptrs, s.journal_seq);
}

Result<StateSnapshot> parse_state(std::string_view json) {
  // RapidJSON's parser recurses: a hostile file must not exhaust the stack.
  if (json_nesting_depth(json) > kMaxJsonNesting) {
    return make_error(fmt::format("nested more than {} levels deep", kMaxJsonNesting));
  }
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) {
    return make_error(fmt::format("invalid JSON at offset {}: {}", doc.GetErrorOffset(),
                                  rapidjson::GetParseError_En(doc.GetParseError())));
  }
  if (!doc.IsObject()) return make_error("$: not an object");
  Obj root(doc, "$");
  RE_TRY(version, root.get("version"));
  if (!version->IsInt() || version->GetInt() != kFormatVersion) {
    return make_error(fmt::format("$.version: unsupported (want {})", kFormatVersion));
  }
  RE_TRY(saved_at, root.time("savedAt"));
  if (!is_set(saved_at)) return make_error("$.savedAt: must be set");
  RE_TRY(rules, root.array("rules"));
  StateSnapshot out;
  out.saved_at = saved_at;
  if (auto js = doc.FindMember("journalSeq"); js != doc.MemberEnd()) {
    if (!js->value.IsUint64()) return make_error("$.journalSeq: not an unsigned integer");
    out.journal_seq = js->value.GetUint64();
  }
  size_t i = 0;
  for (const auto& rv : rules) {
    std::string path = fmt::format("$.rules[{}]", i++);
    if (!rv.IsObject()) return make_error(path + ": not an object");
    Obj ro(rv, path);
    RuleStateSnapshot r;
    RE_TRY(file, ro.str("file"));
    RE_TRY(group, ro.str("group"));
    RE_TRY(rule, ro.str("rule"));
    r.file = std::move(file);
    r.group = std::move(group);
    r.rule = std::move(rule);
    RE_TRY(alerts, ro.array("alerts"));
    size_t j = 0;
    for (const auto& av : alerts) {
      RE_TRY(a, parse_alert(av, fmt::format("{}.alerts[{}]", path, j++)));
      r.alerts.push_back(std::move(a));
    }
    RE_TRY(instances, ro.array("instances"));
    j = 0;
    for (const auto& iv : instances) {
      RE_TRY(in, parse_instance(iv, fmt::format("{}.instances[{}]", path, j++)));
      r.instances.push_back(std::move(in));
    }
    out.rules.push_back(std::move(r));
  }
  return out;
}

StateStore::StateStore(std::string dir, Env* env) : dir_(std::move(dir)), env_(env) {}

std::string StateStore::group_path(std::string_view file, std::string_view group) const {
  return fmt::format("{}/group-{:016x}.json", dir_, group_hash(file, group));
}

Result<void> StateStore::save_groups(Millis saved_at, std::span<const GroupData> groups,
                                     bool complete) {
  if (auto made = env_->create_dir(dir_); !made) return made;  // names the directory
  Result<void> first_error;
  auto note = [&](Result<void> r) {
    if (!r && first_error) first_error = std::move(r);
  };
  std::unordered_set<std::string> written;
  for (const auto& g : groups) {
    std::string path = group_path(g.file, g.group);
    if (g.data.empty()) {
      note(env_->remove_file(path));
    } else {
      note(env_->replace_file(path, g.data, FileSync::kFile));
    }
    if (complete) written.insert(std::move(path));
  }
  if (complete) {
    for (const auto& name : env_->list_dir(dir_).value_or(std::vector<std::string>{})) {
      const std::string path = dir_ + "/" + name;
      const bool group_file = name.starts_with("group-") && name.ends_with(".json");
      if ((group_file && !written.contains(path)) || name == "alert_state.json") {
        (void)env_->remove_file(path);
      }
    }
  }
  // The renames above must be durable before saved_at claims they happened.
  note(env_->sync_dir(dir_));
  note(env_->replace_file(dir_ + "/saved_at", fmt::format("{{\"savedAt\":{}}}\n", saved_at),
                          FileSync::kFile));
  note(env_->sync_dir(dir_));
  return first_error;
}

Result<void> StateStore::save(const StateSnapshot& s) {
  std::vector<GroupData> groups;
  std::vector<std::vector<const RuleStateSnapshot*>> members;
  for (const auto& r : s.rules) {
    size_t i = 0;
    while (i < groups.size() && (groups[i].file != r.file || groups[i].group != r.group)) ++i;
    if (i == groups.size()) {
      groups.push_back({r.file, r.group, {}});
      members.emplace_back();
    }
    members[i].push_back(&r);
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    std::vector<std::string> pieces;
    pieces.reserve(members[i].size());
    for (const auto* r : members[i]) pieces.push_back(serialize_rule_state(*r));
    std::vector<const std::string*> ptrs;
    ptrs.reserve(pieces.size());
    for (const auto& p : pieces) ptrs.push_back(&p);
    groups[i].data = assemble_state(s.saved_at, ptrs, s.journal_seq);
  }
  return save_groups(s.saved_at, groups, true);
}

namespace {

// Reads and parses one state document; a corrupt one is moved aside and reported.
std::optional<StateSnapshot> load_file(Env& env, const std::string& path, Millis now,
                                       StateStore::Loaded& out) {
  // No size limit: a state file that cannot be read loses alert state.
  auto text = env.read_file(path, UINT64_MAX);
  if (!text) {
    out.errors.push_back(fmt::format("cannot read state file {}: {}", path, text.error().message));
    return std::nullopt;
  }
  auto parsed = parse_state(*text);
  if (parsed) return std::move(*parsed);
  std::string moved = fmt::format("{}.corrupt-{}", path, now);
  if (auto renamed = env.rename_file(path, moved); !renamed) {
    out.errors.push_back(fmt::format("state file {} is corrupt ({}); could not move it aside: {}",
                                     path, parsed.error().message, renamed.error().message));
  } else {
    out.errors.push_back(fmt::format("state file {} is corrupt ({}); moved to {}", path,
                                     parsed.error().message, moved));
    out.moved_to.push_back(std::move(moved));
  }
  return std::nullopt;
}

// saved_at's {"savedAt": <ms>}; 0 when missing or unreadable (the group files' own times hold).
Millis read_saved_at(Env& env, const std::string& path) {
  auto read = env.read_file(path, 1u << 20);
  if (!read) return 0;
  rapidjson::Document doc;
  const std::string& text = *read;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) return 0;
  auto it = doc.FindMember("savedAt");
  if (it == doc.MemberEnd() || !it->value.IsInt64()) return 0;
  return it->value.GetInt64();
}

}  // namespace

StateJournal& StateStore::journal() {
  if (!journal_) journal_ = std::make_shared<StateJournal>(dir_, env_);
  return *journal_;
}

namespace {

// Applies journal records over a merged snapshot. `seq_by_path` is the journalSeq of each group
// file that was loaded; groups without a file take every record.
size_t apply_journal(StateSnapshot& merged, std::span<const JournalRecord> records,
                     const std::unordered_map<std::string, uint64_t>& seq_by_path,
                     const StateStore& store) {
  std::unordered_map<std::string, size_t> rule_index;  // file \0 group \0 rule -> merged.rules
  for (size_t i = 0; i < merged.rules.size(); ++i) {
    const auto& r = merged.rules[i];
    rule_index.emplace(r.file + '\0' + r.group + '\0' + r.rule, i);
  }
  std::unordered_map<size_t, std::unordered_map<uint64_t, size_t>> alert_index;
  auto alerts_of = [&](size_t ri) -> std::unordered_map<uint64_t, size_t>& {
    auto [it, fresh] = alert_index.try_emplace(ri);
    if (fresh) {
      const auto& v = merged.rules[ri].alerts;
      for (size_t j = 0; j < v.size(); ++j) it->second.emplace(v[j].labels.hash(), j);
    }
    return it->second;
  };
  size_t applied = 0;
  for (const auto& rec : records) {
    auto sq = seq_by_path.find(store.group_path(rec.file, rec.group));
    if (sq != seq_by_path.end() && rec.lsn <= sq->second) continue;  // in the snapshot
    const std::string key = rec.file + '\0' + rec.group + '\0' + rec.rule;
    auto it = rule_index.find(key);
    if (it == rule_index.end()) {
      if (rec.kind == JournalRecord::Kind::kAlertRemoved) continue;
      RuleStateSnapshot r;
      r.file = rec.file;
      r.group = rec.group;
      r.rule = rec.rule;
      merged.rules.push_back(std::move(r));
      it = rule_index.emplace(key, merged.rules.size() - 1).first;
    }
    RuleStateSnapshot& r = merged.rules[it->second];
    r.saved_at = std::max(r.saved_at, rec.at);
    merged.saved_at = std::max(merged.saved_at, rec.at);
    ++applied;
    switch (rec.kind) {
      case JournalRecord::Kind::kAlert: {
        auto& idx = alerts_of(it->second);
        const uint64_t h = rec.alert.labels.hash();
        if (auto a = idx.find(h); a != idx.end()) {
          r.alerts[a->second] = rec.alert;
        } else {
          idx.emplace(h, r.alerts.size());
          r.alerts.push_back(rec.alert);
        }
        break;
      }
      case JournalRecord::Kind::kAlertRemoved: {
        auto& idx = alerts_of(it->second);
        auto a = idx.find(rec.alert.labels.hash());
        if (a == idx.end()) break;
        const size_t pos = a->second;
        idx.erase(a);
        if (pos + 1 != r.alerts.size()) {
          r.alerts[pos] = std::move(r.alerts.back());
          idx[r.alerts[pos].labels.hash()] = pos;
        }
        r.alerts.pop_back();
        break;
      }
      case JournalRecord::Kind::kInstances:
        r.instances = rec.instances;
        break;
      case JournalRecord::Kind::kNote:
        break;
    }
  }
  return applied;
}

}  // namespace

StateStore::Loaded StateStore::load(Millis now) {
  Loaded out;
  auto names = env_->list_dir(dir_);
  if (!names) return out;  // no state directory (yet)
  std::vector<std::string> group_files;
  for (const auto& name : *names) {
    if (name.starts_with("group-") && name.ends_with(".json")) group_files.push_back(dir_ + "/" + name);
  }
  std::sort(group_files.begin(), group_files.end());
  const Millis heartbeat = read_saved_at(*env_, dir_ + "/saved_at");
  StateSnapshot merged;
  bool any = false;
  std::unordered_set<std::string> covered;  // file \0 group with a group file of its own
  std::unordered_map<std::string, uint64_t> seq_by_path;
  for (const auto& path : group_files) {
    auto snap = load_file(*env_, path, now, out);
    if (!snap) continue;
    any = true;
    seq_by_path[path] = snap->journal_seq;
    out.max_lsn = std::max(out.max_lsn, snap->journal_seq);
    const Millis at = std::max(snap->saved_at, heartbeat);
    merged.saved_at = std::max(merged.saved_at, at);
    for (auto& r : snap->rules) {
      r.saved_at = at;
      covered.insert(r.file + '\0' + r.group);
      merged.rules.push_back(std::move(r));
    }
  }
  if (env_->file_exists(legacy_path())) {
    if (auto snap = load_file(*env_, legacy_path(), now, out)) {
      any = true;
      merged.saved_at = std::max(merged.saved_at, snap->saved_at);
      for (auto& r : snap->rules) {
        if (covered.contains(r.file + '\0' + r.group)) continue;
        r.saved_at = snap->saved_at;
        merged.rules.push_back(std::move(r));
      }
    }
  }
  auto replay = journal().read_all();
  out.max_lsn = std::max(out.max_lsn, replay.max_lsn);
  for (auto& e : replay.errors) out.errors.push_back(std::move(e));
  for (auto& n : replay.notes) out.notes.push_back(std::move(n));
  if (!replay.records.empty()) {
    out.journal_records = apply_journal(merged, replay.records, seq_by_path, *this);
    if (out.journal_records > 0) any = true;
  }
  if (any) out.snapshot = std::move(merged);
  return out;
}

RestoreSummary restore_alerts(AlertMap& into, std::span<const ActiveAlert> saved,
                              const AlertingRuleParams& rule, Millis saved_at, Millis now,
                              const RestoreOptions& opts) {
  RestoreSummary sum;
  const Millis down = now > saved_at ? now - saved_at : 0;
  for (const auto& a : saved) {
    if (down > opts.outage_tolerance || a.labels.get("alertname") != rule.name) {
      ++sum.skipped;
      continue;
    }
    ActiveAlert r = a;
    r.journal_sig = transition_signature(a);  // as on disk: only a changed activeAt is journaled
    // Like Prometheus (which never persists LastSentAt), a restarted process sends every restored
    // alert again at its first evaluation: a notification handed over just before a crash may
    // not have reached the notifier's outbox. The notification log drops what was delivered.
    r.last_sent_at = kNoTime;
    switch (a.state) {
      case AlertState::kFiring:
        ++sum.firing;
        break;
      case AlertState::kPending:
        r.active_at = a.active_at + down;  // the outage does not count towards `for`
        ++sum.pending;
        break;
      case AlertState::kInactive:
        ++sum.resolved;
        break;
    }
    put_alert(into, std::move(r));
  }
  return sum;
}

size_t restore_instances(GrafanaInstances& into, std::span<const GrafanaInstance> saved,
                         Millis saved_at, Millis now, const RestoreOptions& opts) {
  if (now - saved_at > opts.outage_tolerance) return 0;
  for (const auto& in : saved) into.insert_or_assign(in.labels, in);
  return saved.size();
}

std::string alerts_for_state_selector(const AlertingRuleParams& rule) {
  std::string out = "ALERTS_FOR_STATE{alertname=" + go_quote(rule.name);
  for (const auto& l : rule.labels) {
    if (l.name == "alertname" || l.value.find("{{") != std::string::npos) continue;
    out += "," + l.name + "=" + go_quote(l.value);
  }
  out += "}";
  return out;
}

Result<RestoreSummary> restore_from_alerts_for_state(Querier& q, AlertMap& alerts,
                                                     const AlertingRuleParams& rule, Millis now,
                                                     const RestoreOptions& opts) {
  RestoreSummary sum;
  if (alerts.empty()) return sum;
  // A range selector in an instant query returns the raw samples with their timestamps.
  std::string expr = fmt::format("{}[{}ms]", alerts_for_state_selector(rule),
                                 std::max<Millis>(opts.outage_tolerance, 1));
  auto res = q.query(expr, now);
  if (!res) {
    return make_error(
        fmt::format("restoring {} from ALERTS_FOR_STATE: {}", rule.name, res.error().to_string()));
  }
  if (!std::holds_alternative<Matrix>(res->value)) {
    return make_error(fmt::format("restoring {}: expected a matrix from {}, got a {}", rule.name,
                                  expr, result_type_name(res->value)));
  }
  std::unordered_map<uint64_t, const Series*> by_labels;  // by alert identity hash
  for (const auto& s : std::get<Matrix>(res->value)) {
    by_labels.emplace(s.metric.without_metric_name().hash(), &s);
  }
  for (auto& [h, a] : alerts) {
    if (a.state == AlertState::kInactive) continue;
    auto it = by_labels.find(h);
    if (it == by_labels.end() || it->second->points.empty()) {
      ++sum.skipped;
      continue;
    }
    const FPoint& last = it->second->points.back();
    if (std::isnan(last.v)) {
      ++sum.skipped;
      continue;
    }
    const Millis down_at = last.t;
    Millis active_at = seconds_to_ms(static_cast<Millis>(last.v));
    const Millis remaining = rule.for_ms - (down_at - active_at);
    if (remaining <= 0) {
      // Fires on the next evaluation.
    } else if (remaining < opts.grace_period) {
      active_at = now + opts.grace_period - rule.for_ms;
    } else {
      active_at += now - down_at;
    }
    a.active_at = active_at;
    ++sum.pending;
  }
  return sum;
}

#undef RE_TRY

}  // namespace ruleeval::engine
