// opsgenie_configs: Alertmanager 0.25's notify/opsgenie. A firing group creates (or, with
// update_alerts, creates and updates) the OpsGenie alert whose alias is the SHA-256 of the group
// key; a resolved group closes it. Authorization "GenieKey <api_key>"; 429 and 5xx are retried.
#include "receiver_http.hpp"

namespace ruleeval::notifiers::detail {

using ordered = nlohmann::ordered_json;

Result<std::string> opsgenie_envelope(const OpsGenieConfig& c, const NotificationData& d,
                                      const Expander& x) {
  Tmpl tmpl(x, d);
  // details: the common labels, then the configured details (templated) on top; a Go map, so
  // encoded with sorted keys.
  std::map<std::string, std::string> details;
  for (const auto& l : d.common_labels) details[l.name] = l.value;
  for (const auto& [k, v] : c.details) details[k] = tmpl(v, ("details." + k).c_str());

  const std::string alias = sha256_hex(d.group_key);
  std::vector<HttpCall> calls;
  if (d.status == "resolved") {
    ordered msg = ordered::object();
    msg["source"] = tmpl(c.source, "source");
    HttpCall call;
    call.url = url_append(c.api_url, "v2/alerts/" + alias + "/close", "identifierType=alias");
    call.body = go_json(msg);
    calls.push_back(std::move(call));
  } else {
    const std::string message =
        truncate_runes(tmpl(c.message, "message"), kOpsGenieMaxMessageRunes);
    ordered responders = ordered::array();
    for (const auto& r : c.responders) {
      const std::string id = tmpl(r.id, "responders.id"), name = tmpl(r.name, "responders.name"),
                        username = tmpl(r.username, "responders.username"),
                        type = tmpl(r.type, "responders.type");
      if (id.empty() && name.empty() && username.empty() && type.empty()) continue;
      auto responder = [](const std::string& i, const std::string& n, const std::string& u,
                          const std::string& t) {
        ordered o = ordered::object();
        if (!i.empty()) o["id"] = i;
        if (!n.empty()) o["name"] = n;
        if (!u.empty()) o["username"] = u;
        o["type"] = t;
        return o;
      };
      if (type == "teams") {
        // "teams" is a comma-separated list of team names, one responder each.
        for (const auto& team : safe_split(name, ',')) {
          responders.push_back(responder("", tmpl(team, "responders.name"), "", "team"));
        }
        continue;
      }
      responders.push_back(responder(id, name, username, type));
    }
    const std::string description = tmpl(c.description, "description");
    ordered msg = ordered::object();
    msg["alias"] = alias;
    msg["message"] = message;
    if (!description.empty()) msg["description"] = description;
    msg["details"] = ordered::object();
    for (const auto& [k, v] : details) msg["details"][k] = v;
    msg["source"] = tmpl(c.source, "source");
    if (!responders.empty()) msg["responders"] = responders;
    auto tags = safe_split(tmpl(c.tags, "tags"), ',');
    if (!tags.empty()) msg["tags"] = tags;
    for (auto [key, field] : {std::pair{"note", &c.note}, {"priority", &c.priority},
                              {"entity", &c.entity}}) {
      std::string v = tmpl(*field, key);
      if (!v.empty()) msg[key] = v;
    }
    auto actions = safe_split(tmpl(c.actions, "actions"), ',');
    if (!actions.empty()) msg["actions"] = actions;
    HttpCall create;
    create.url = url_append(c.api_url, "v2/alerts");
    create.body = go_json(msg);
    calls.push_back(std::move(create));
    if (c.update_alerts) {
      ordered m = ordered::object();
      if (!message.empty()) m["message"] = message;
      HttpCall upd;
      upd.method = "PUT";
      upd.url = url_append(c.api_url, "v2/alerts/" + alias + "/message", "identifierType=alias");
      upd.body = go_json(m);
      calls.push_back(std::move(upd));
      ordered dm = ordered::object();
      if (!description.empty()) dm["description"] = description;
      HttpCall desc;
      desc.method = "PUT";
      desc.url =
          url_append(c.api_url, "v2/alerts/" + alias + "/description", "identifierType=alias");
      desc.body = go_json(dm);
      calls.push_back(std::move(desc));
    }
  }
  // The key: inline (a template, like every field), or the key file read at send time.
  std::string key = c.api_key.empty() ? std::string(kSecretPlaceholder) : tmpl(c.api_key, "api_key");
  if (!tmpl.ok()) return std::unexpected(tmpl.error());
  for (auto& call : calls) call.headers.emplace_back("Authorization", "GenieKey " + key);
  return make_envelope(calls, c.api_key.empty() ? c.api_key_file : std::string());
}

}  // namespace ruleeval::notifiers::detail
