#include "grafana_notify.hpp"

#include <glob.h>

#include <sstream>

#include "ruleeval/common/env.hpp"
#include "ruleeval/notifiers/grafana_provisioning.hpp"
#include "ruleeval/rules/loader.hpp"

namespace ruleeval::cli {
namespace {

// Only regular files of bounded size: a FIFO or /dev/zero among the rule files must not block or
// exhaust memory here (the rule manager reports them with its own error).
std::optional<std::string> read_file(const std::string& path) {
  auto text = Env::Default()->read_file(path);
  if (!text) return std::nullopt;
  return std::move(*text);
}

}  // namespace

Result<void> add_grafana_notifications(const rules::RunConfig& cfg,
                                       std::optional<notifiers::NotifyConfig>& ncfg) {
  std::string smtp_text = cfg.text;
  if (!cfg.alertmanager_config_file.empty()) {
    if (auto t = read_file(cfg.alertmanager_config_file)) smtp_text = *t;
  }
  const notifiers::GrafanaSmtp smtp = notifiers::grafana_smtp_from(smtp_text);
  std::vector<notifiers::GrafanaNotifications> parts;
  std::vector<notifiers::RuleNotificationSettings> settings;
  for (const auto& pattern : cfg.rule_files) {
    glob_t g{};
    // glob without GLOB_TILDE races only with setlocale, which ruleeval never calls.
    // NOLINTNEXTLINE(concurrency-mt-unsafe)
    if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        const std::string path = g.gl_pathv[i];
        auto text = read_file(path);
        if (!text) continue;  // the rule manager reports unreadable files
        if (notifiers::has_grafana_notifications(*text)) {
          auto p = notifiers::parse_grafana_notifications(*text, path, smtp);
          if (!p) {
            globfree(&g);
            return std::unexpected(p.error());
          }
          parts.push_back(std::move(*p));
        }
        if (text->find("notification_settings") != std::string::npos) {
          rules::LoadResult lr = rules::load_rules_text(*text, path);
          for (const auto& rg : lr.file.groups) {
            for (const auto& r : rg.rules) {
              if (!r.grafana || !r.grafana->notification) continue;
              const auto& ns = *r.grafana->notification;
              settings.push_back({ns, SourceLocation{path, ns.pos.line, ns.pos.col}});
            }
          }
        }
      }
    }
    globfree(&g);
  }
  if (parts.empty() && settings.empty()) return {};
  const bool has_route = ncfg.has_value() && !ncfg->route.receiver.empty();
  if (!ncfg) ncfg.emplace();
  return notifiers::merge_grafana_notifications(*ncfg, has_route, std::move(parts), settings);
}

Result<std::string> grafana_notifications_for_reload(
    const rules::RunConfig& cfg, const std::optional<notifiers::NotifyConfig>& running) {
  std::string fp;
  for (const auto& pattern : cfg.rule_files) {
    glob_t g{};
    // glob without GLOB_TILDE races only with setlocale, which ruleeval never calls.
    // NOLINTNEXTLINE(concurrency-mt-unsafe)
    if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        const std::string path = g.gl_pathv[i];
        auto text = read_file(path);
        if (!text) continue;
        if (notifiers::has_grafana_notifications(*text)) {
          fp += path + "\n" + notifiers::grafana_notifications_fingerprint(*text);
        }
        if (text->find("notification_settings") == std::string::npos) continue;
        rules::LoadResult lr = rules::load_rules_text(*text, path);
        for (const auto& rg : lr.file.groups) {
          for (const auto& r : rg.rules) {
            if (!r.grafana || !r.grafana->notification) continue;
            const auto& ns = *r.grafana->notification;
            fp += "settings " + ns.receiver + " " + ns.fingerprint() + "\n";
            if (running && !running->find_receiver(ns.receiver)) {
              globfree(&g);
              SourceLocation where{path, ns.pos.line, ns.pos.col};
              if (ns.receiver_pos.known()) {
                where.line = ns.receiver_pos.line;
                where.col = ns.receiver_pos.col;
              }
              return make_error("notification_settings.receiver \"" + ns.receiver +
                                    "\" is not a receiver of the running notifier (contact "
                                    "points are loaded when ruleeval starts: restart it to add "
                                    "one)",
                                where);
            }
          }
        }
      }
    }
    globfree(&g);
  }
  if (fp.empty()) return fp;  // no Grafana notification parts: nothing to check
  // The whole notification configuration as `ruleeval run` builds it at start.
  std::optional<notifiers::NotifyConfig> ncfg;
  if (cfg.has_notifications) {
    auto n = notifiers::notify_config_of(cfg);
    if (!n) return std::unexpected(n.error());
    ncfg = std::move(*n);
  }
  if (auto g = add_grafana_notifications(cfg, ncfg); !g) return std::unexpected(g.error());
  return fp;
}

std::optional<Error> lint_grafana_notifications(std::string_view text, const std::string& path) {
  if (!notifiers::has_grafana_notifications(text)) return std::nullopt;
  // Lint has no ruleeval.yaml: email contact points are checked without an SMTP server.
  notifiers::GrafanaSmtp smtp;
  smtp.smarthost = "lint:25";
  smtp.from = "lint@localhost";
  auto p = notifiers::parse_grafana_notifications(text, path, smtp);
  if (!p) return p.error();
  // Templates may be defined in another file: only Grafana's own default names are reported.
  if (auto ok = notifiers::check_grafana_templates(*p, p->template_defs, true); !ok) {
    return ok.error();
  }
  // Receivers named by the tree must be defined in the same file unless they come from
  // ruleeval.yaml, which lint does not read: only time intervals are cross-checked here.
  for (const auto& [name, where] : p->interval_refs) {
    if (!p->time_intervals.contains(name)) {
      return Error("undefined time interval \"" + name + "\" used in route", where);
    }
  }
  return std::nullopt;
}

}  // namespace ruleeval::cli
