// Template syntax errors surface when the config loads, naming the receiver and the field.
#include <string>
#include <utility>
#include <vector>

#include "notifier_internal.hpp"
#include "payloads.hpp"

namespace ruleeval::notifiers {
namespace detail {

Result<void> check_templates(const NotifyConfig& config) {
  for (const auto& rc : config.receivers) {
    auto check = [&](const std::string& kind, size_t i, const char* field,
                     const std::string& text) -> Result<void> {
      auto r = detail::check_template(text, config.template_defs);
      if (!r) {
        return make_error("receiver \"" + rc.name + "\" " + kind + "[" + std::to_string(i) + "]." +
                              field + ": " + r.error().message,
                          rc.where);
      }
      return {};
    };
    for (size_t i = 0; i < rc.slack.size(); ++i) {
      const auto& c = rc.slack[i];
      for (auto [f, t] : {std::pair{"title", &c.title},
                          {"title_link", &c.title_link},
                          {"pretext", &c.pretext},
                          {"text", &c.text},
                          {"fallback", &c.fallback},
                          {"color", &c.color},
                          {"footer", &c.footer},
                          {"callback_id", &c.callback_id},
                          {"channel", &c.channel},
                          {"username", &c.username},
                          {"icon_emoji", &c.icon_emoji},
                          {"icon_url", &c.icon_url}}) {
        if (auto r = check("slack_configs", i, f, *t); !r) return r;
      }
    }
    for (size_t i = 0; i < rc.pagerduty.size(); ++i) {
      const auto& c = rc.pagerduty[i];
      for (auto [f, t] : {std::pair{"routing_key", &c.routing_key},
                          {"client", &c.client},
                          {"client_url", &c.client_url},
                          {"description", &c.description},
                          {"severity", &c.severity},
                          {"source", &c.source},
                          {"class", &c.class_},
                          {"component", &c.component},
                          {"group", &c.group}}) {
        if (auto r = check("pagerduty_configs", i, f, *t); !r) return r;
      }
      for (const auto& [k, v] : c.details) {
        if (auto r = check("pagerduty_configs", i, ("details." + k).c_str(), v); !r) return r;
      }
    }
    for (size_t i = 0; i < rc.email.size(); ++i) {
      const auto& c = rc.email[i];
      for (auto [f, t] :
           {std::pair{"to", &c.to}, {"from", &c.from}, {"html", &c.html}, {"text", &c.text}}) {
        if (auto r = check("email_configs", i, f, *t); !r) return r;
      }
      for (const auto& [k, v] : c.headers) {
        if (auto r = check("email_configs", i, ("headers." + k).c_str(), v); !r) return r;
      }
    }
    using Fields = std::vector<std::pair<std::string, const std::string*>>;
    auto check_all = [&](const char* kind, size_t i, const Fields& fields) -> Result<void> {
      for (const auto& [f, t] : fields) {
        if (auto r = check(kind, i, f.c_str(), *t); !r) return r;
      }
      return {};
    };
    for (size_t i = 0; i < rc.opsgenie.size(); ++i) {
      const auto& c = rc.opsgenie[i];
      Fields f{{"api_key", &c.api_key},   {"message", &c.message}, {"description", &c.description},
               {"source", &c.source},     {"entity", &c.entity},   {"actions", &c.actions},
               {"tags", &c.tags},         {"note", &c.note},       {"priority", &c.priority}};
      for (const auto& [k, v] : c.details) f.emplace_back("details." + k, &v);
      for (const auto& r : c.responders) {
        for (const auto* t : {&r.id, &r.name, &r.username, &r.type}) f.emplace_back("responders", t);
      }
      if (auto r = check_all("opsgenie_configs", i, f); !r) return r;
    }
    for (size_t i = 0; i < rc.victorops.size(); ++i) {
      const auto& c = rc.victorops[i];
      Fields f{{"routing_key", &c.routing_key},
               {"message_type", &c.message_type},
               {"state_message", &c.state_message},
               {"entity_display_name", &c.entity_display_name},
               {"monitoring_tool", &c.monitoring_tool}};
      for (const auto& [k, v] : c.custom_fields) f.emplace_back("custom_fields." + k, &v);
      if (auto r = check_all("victorops_configs", i, f); !r) return r;
    }
    for (size_t i = 0; i < rc.pushover.size(); ++i) {
      const auto& c = rc.pushover[i];
      if (auto r = check_all("pushover_configs", i,
                             {{"user_key", &c.user_key}, {"token", &c.token}, {"title", &c.title},
                              {"message", &c.message}, {"url", &c.url},
                              {"url_title", &c.url_title}, {"sound", &c.sound},
                              {"priority", &c.priority}});
          !r) {
        return r;
      }
    }
    for (size_t i = 0; i < rc.telegram.size(); ++i) {
      if (auto r = check_all("telegram_configs", i, {{"message", &rc.telegram[i].message}}); !r) {
        return r;
      }
    }
    for (size_t i = 0; i < rc.discord.size(); ++i) {
      const auto& c = rc.discord[i];
      if (auto r = check_all("discord_configs", i, {{"title", &c.title}, {"message", &c.message}});
          !r) {
        return r;
      }
    }
    for (size_t i = 0; i < rc.webex.size(); ++i) {
      if (auto r = check_all("webex_configs", i, {{"message", &rc.webex[i].message}}); !r) {
        return r;
      }
    }
    for (size_t i = 0; i < rc.msteams.size(); ++i) {
      const auto& c = rc.msteams[i];
      if (auto r = check_all("msteams_configs", i,
                             {{"title", &c.title}, {"summary", &c.summary}, {"text", &c.text}});
          !r) {
        return r;
      }
    }
    for (size_t i = 0; i < rc.msteamsv2.size(); ++i) {
      const auto& c = rc.msteamsv2[i];
      if (auto r = check_all("msteamsv2_configs", i, {{"title", &c.title}, {"text", &c.text}});
          !r) {
        return r;
      }
    }
  }
  return {};
}

}  // namespace detail
}  // namespace ruleeval::notifiers
