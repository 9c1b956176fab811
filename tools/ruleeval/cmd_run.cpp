// `ruleeval run`: evaluates the rule groups of ruleeval.yaml on their intervals, keeps alert
// state, serves the HTTP API and hands alerts to the notification pipeline.
//   SIGHUP or POST /-/reload: reload (atomic swap; on failure the old config stays).
//   SIGTERM / SIGINT: finish the current evaluations, persist, exit 0.
// Exit codes: 0 clean shutdown or valid config (--check-config), 2 bad config or usage.
#include <fmt/format.h>
#include <malloc.h>
#include <csignal>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "commands.hpp"
#include "features.hpp"
#include "grafana_notify.hpp"
#include "logging.hpp"
#include "ruleeval/common/env.hpp"
#include "ruleeval/engine/api_server.hpp"
#include "ruleeval/engine/manager.hpp"
#include "ruleeval/engine/status_page.hpp"
#include "ruleeval/notifiers/config.hpp"
#include "ruleeval/notifiers/matcher.hpp"
#include "ruleeval/notifiers/notifier.hpp"
#include "ruleeval/notifiers/silences_api.hpp"
#include "ruleeval/rules/run_config.hpp"

namespace ruleeval::cli {
namespace {

// The notifier's part of the status page: silences, receiver health, the notification log.
void fill_status_notifier(engine::status::PageData& d, notifiers::Notifier& n) {
  d.notifier = true;
  for (const auto& s : n.silences().list()) {
    d.silences.push_back({s.id, notifiers::matchers_to_string(s.matchers), s.starts_at, s.ends_at,
                          s.created_by, s.comment, s.state(d.now)});
  }
  auto metrics = n.metrics();
  for (const auto& m : metrics) {
    d.receivers.push_back({m.receiver, m.integration, m.sent, m.failed, m.retried, m.queued,
                           m.consecutive_failures, m.last_error});
  }
  for (auto& e : n.notification_log()) {
    engine::status::DeliveryItem di;
    di.group_key = e.group_key;
    di.integration = e.integration;
    di.receiver = e.integration.substr(0, e.integration.find('/'));
    di.at = e.at;
    di.firing = e.firing;
    di.resolved = e.resolved;
    di.outcome = e.outcome;
    di.error = e.error;
    di.fallback = e.fallback;
    d.deliveries.push_back(std::move(di));
  }
  for (auto& a : d.alerts) {
    if (a.state == "resolved") continue;
    std::vector<Label> v;
    for (const auto& [k, val] : a.external_labels) v.push_back({k, val});
    for (const auto& [k, val] : a.labels) v.push_back({k, val});  // the alert's win (last)
    a.silenced_by = n.silences().silenced_by(Labels::from_vector(std::move(v)), d.now);
  }
}

struct RunFlags {
  std::string config = "ruleeval.yaml";
  std::string state_dir = "state";
  std::string listen = "127.0.0.1:9095";
  std::string shard = "0/1";
  std::string log_level = "info";
  std::string log_format = "logfmt";
  bool check_config = false;
  size_t workers = 2;
  double duration_s = 0;  // 0 = until signalled
  std::vector<std::string> features;
};

// `ruleeval run` lives in the real world: Env::Default() for its own clock, and handed to the
// rule manager and the notifier (ruleeval/common/env.hpp).
Env* run_env() { return Env::Default(); }
int64_t now_ms() { return run_env()->now_ms(); }

// Prints alerts when no route/receivers are configured, so nothing is ever silently dropped.
class ConsoleSink final : public rules::AlertSink {
 public:
  explicit ConsoleSink(Logger& log) : log_(log) {}
  void send(std::span<const rules::Alert> alerts, Millis now) override {
    if (!log_.enabled(LogLevel::kInfo)) return;
    for (const auto& a : alerts) {
      bool resolved = a.resolved_at(now);
      std::string annotations;
      for (const auto& l : a.annotations) annotations += l.name + "=" + l.value + " ";
      log_.info(resolved ? "notification: resolved" : "notification: firing",
                {{"alert", a.labels.to_string()}, {"annotations", annotations}});
    }
  }

 private:
  Logger& log_;
};

bool split_host_port(const std::string& s, std::string& host, int& port) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  host = s.substr(0, colon);
  try {
    port = std::stoi(s.substr(colon + 1));
  } catch (const std::exception&) {
    return false;
  }
  return port >= 0 && port < 65536;
}

void print_errors(const std::vector<Error>& errs) {
  for (const auto& e : errs) std::cerr << e.to_string() << "\n";
}

// The signals `ruleeval run` handles itself: SIGHUP reloads, SIGTERM and SIGINT stop.
sigset_t run_signals() {
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGHUP);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  return sigs;
}

// Whether a SIGTERM or SIGINT is waiting (blocked, not yet taken by sigtimedwait): start-up then
// stops early instead of finishing first. A waiting SIGHUP is left for the main loop.
const char* pending_stop_signal() {
  sigset_t pending;
  sigemptyset(&pending);
  if (sigpending(&pending) != 0) return nullptr;
  if (sigismember(&pending, SIGTERM) == 1) return "SIGTERM";
  if (sigismember(&pending, SIGINT) == 1) return "SIGINT";
  return nullptr;
}

int run(const RunFlags& f) {
  const sigset_t sigs = run_signals();
  if (!f.check_config) {
    // Before any thread exists (the rule loader's pool, the notifier's loop and delivery
    // workers, remote write, the HTTP server, the evaluation workers), because a thread takes
    // its signal mask and its malloc arena limit from the moment it starts:
    //  - SIGHUP/SIGTERM/SIGINT are blocked here, so every thread inherits the mask and these
    //    signals reach only the main loop's sigtimedwait. A thread started with them unblocked
    //    would take a SIGHUP (systemd's ExecReload, sent at any time, even during start-up) with
    //    the default action: the whole process killed. A signal that comes during start-up
    //    waits until the main loop takes it (a SIGTERM stops start-up early, see below).
    //  - glibc gives every thread that allocates its own arena (up to 8 per core), and each
    //    keeps the pages its thread freed: with evaluation, notifier, delivery and HTTP threads
    //    that inflates RSS well past what the rules and alerts hold. Two arenas are enough for
    //    two evaluation workers (--workers); the scheduler also malloc_trim()s periodically.
    //    mallopt(M_ARENA_MAX) is meant to be set before threads allocate.
    // --check-config keeps the default actions: it starts no server and Ctrl-C stops it.
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    //  - SIGPIPE is ignored, as a daemon's must be: a write to a pipe or socket whose reader went
    //    away (the file receiver's `path: "-"` on a closed standard output, a client that hung
    //    up) then fails with EPIPE and is handled as that write's error (the notification is
    //    retried from the outbox), instead of ending the process and every page with it.
    //    cpp-httplib's Server also ignores it, but only once constructed, after other threads
    //    may have written; this makes it explicit and independent of the API server.
    // NOLINTNEXTLINE(concurrency-mt-unsafe): no other thread runs yet
    std::signal(SIGPIPE, SIG_IGN);
    // NOLINTNEXTLINE(concurrency-mt-unsafe): no other thread runs yet
    mallopt(M_ARENA_MAX, static_cast<int>(std::max<size_t>(2, f.workers)));
  }
  Logger log(f.log_format == "json" ? LogFormat::kJson : LogFormat::kLogfmt,
             parse_log_level(f.log_level));
  auto shard = engine::parse_shard(f.shard);
  if (!shard) {
    std::cerr << "--shard: " << shard.error().message << "\n";
    return 2;
  }
  std::string host;
  int port = 0;
  if (!split_host_port(f.listen, host, port)) {
    std::cerr << "--listen-address: want host:port, got \"" << f.listen << "\"\n";
    return 2;
  }
  auto cfg = rules::load_run_config(f.config);
  if (!cfg) {
    print_errors(cfg.error());
    return 2;
  }
  // Loading a large rules directory takes a while: a SIGTERM meanwhile stops here (nothing has
  // started yet, so there is nothing to finish or save).
  if (const char* sig = f.check_config ? nullptr : pending_stop_signal()) {
    log.info("shutting down during start-up", {{"signal", sig}});
    return 0;
  }
  std::optional<notifiers::NotifyConfig> ncfg;
  if (cfg->has_notifications) {
    auto n = notifiers::notify_config_of(*cfg);
    if (!n) {
      std::cerr << n.error().to_string() << "\n";
      return 2;
    }
    ncfg = std::move(*n);
  }
  // Grafana provisioning files among the rule files: contact points, policies, mute timings,
  // templates, and the rules' notification_settings.
  if (auto g = add_grafana_notifications(*cfg, ncfg); !g) {
    std::cerr << g.error().to_string() << "\n";
    return 2;
  }
  if (!cfg->fallback_receiver.empty() && (!ncfg || !ncfg->find_receiver(cfg->fallback_receiver))) {
    std::cerr << f.config << ": fallback_receiver: receiver \"" << cfg->fallback_receiver
              << "\" is not defined\n";
    return 2;
  }

  engine::ManagerOptions mopts;
  mopts.env = run_env();
  if (std::string unknown; !parse_features(f.features, mopts.experimental_promql, unknown)) {
    std::cerr << "ruleeval run: unknown feature \"" << unknown << "\"\n";
    return 2;
  }
  mopts.shard = *shard;
  mopts.workers = f.workers;
  mopts.state_dir = f.check_config ? "" : f.state_dir;  // --check-config touches no state
  mopts.on_transition = [&log](const engine::ActiveAlert& a, engine::AlertState from,
                               engine::AlertState to) {
    std::string msg = to == engine::AlertState::kFiring     ? "alert firing"
                      : to == engine::AlertState::kPending  ? "alert pending"
                      : from == engine::AlertState::kFiring ? "alert resolved"
                                                            : "alert no longer pending";
    log.info(msg, {{"alert", a.labels.to_string()},
                   {"from", engine::to_string(from)},
                   {"to", engine::to_string(to)}});
  };

  mopts.log = [&log](std::string_view message, bool error) {
    if (error) {
      log.error(std::string(message), {});
    } else {
      log.info(std::string(message), {});
    }
  };

  // One logger for everything: the notifier's lines follow --log-format too.
  notifiers::set_notifier_log(mopts.log);
  std::shared_ptr<rules::AlertSink> sink;
  std::shared_ptr<notifiers::Notifier> notifier;
  if (ncfg && !f.check_config) {
    notifiers::NotifierOptions nopts;
    nopts.env = std::shared_ptr<Env>(std::shared_ptr<Env>{}, run_env());  // not owned
    if (!f.state_dir.empty()) nopts.state_dir = f.state_dir + "/notify";
    if (!cfg->external_url.empty()) nopts.external_url = cfg->external_url;
    nopts.fallback_receiver = cfg->fallback_receiver;
    std::error_code ec;
    if (!nopts.state_dir.empty()) std::filesystem::create_directories(nopts.state_dir, ec);
    auto n = notifiers::Notifier::create(*ncfg, nopts);
    if (!n) {
      std::cerr << n.error().to_string() << "\n";
      return 2;
    }
    notifier = std::shared_ptr<notifiers::Notifier>(std::move(*n));
    sink = notifier;
  } else {
    sink = std::make_shared<ConsoleSink>(log);
  }

  engine::RuleManager manager(mopts, sink);
  // The rule manager first (its last evaluations may still send alerts), then the notifier, given
  // up to 5 s to deliver what is queued (the outbox keeps the rest for the next start).
  auto stop_components = [&] {
    manager.stop();
    if (notifier) {
      notifier->wait_idle(5000);
      notifier->stop();
    }
    log.info("stopped", {});
  };
  if (auto r = manager.apply(*cfg); !r) {
    print_errors(r.error());
    return 2;
  }
  if (std::string sl = manager.state_log(); !sl.empty()) {
    if (sl.find("unusable") != std::string::npos) {
      log.error(sl, {});
    } else {
      log.info(sl, {});
    }
  }
  // Restored state and the notifier's outbox are on disk and unchanged: a SIGTERM that came
  // while the rules were compiled and the state restored stops before evaluation starts.
  if (const char* sig = f.check_config ? nullptr : pending_stop_signal()) {
    log.info("shutting down during start-up", {{"signal", sig}});
    stop_components();
    return 0;
  }
  if (f.check_config) {
    std::cout << f.config << ": OK (" << manager.group_count() << " rule groups, "
              << cfg->datasources.size() << " datasources"
              << (ncfg ? ", notifications configured" : "") << ")\n";
    return 0;
  }

  std::mutex reload_mu;
  // The notifier keeps the configuration it started with; a reload checks the Grafana
  // notification files and warns when they changed (grafana_notify.hpp).
  std::string notify_fp;
  if (auto fp = grafana_notifications_for_reload(*cfg, std::nullopt)) notify_fp = *fp;
  auto reload = [&]() -> Result<void> {
    std::lock_guard lock(reload_mu);
    std::string error;
    auto c = rules::load_run_config(f.config);
    Result<std::string> fp = c ? grafana_notifications_for_reload(*c, ncfg) : std::string();
    if (!c) {
      error = c.error().front().to_string();
    } else if (!fp) {
      error = fp.error().to_string();
    } else if (auto r = manager.apply(*c); !r) {
      error = r.error().front().to_string();
    } else {
      manager.note_reload(true, now_ms());
      log.info("configuration reloaded",
               {{"file", f.config}, {"groups", std::to_string(manager.group_count())}});
      if (*fp != notify_fp) {
        log.warn("Grafana contact points, policies, mute timings or templates changed: the "
                 "notifier keeps the ones it started with until ruleeval restarts",
                 {{"file", f.config}});
      }
      return {};
    }
    manager.note_reload(false, now_ms());
    log.error("reload failed, keeping the previous configuration", {{"err", error}});
    return make_error(std::move(error));
  };
  manager.note_reload(true, now_ms());

  engine::ApiServer api(manager, reload);
  if (notifier) {
    api.set_extra_metrics([notifier] { return notifier->metrics_text(); });
    auto reply = [](notifiers::ApiReply r) {
      return engine::HttpResponse{r.status, "application/json", std::move(r.body), {}};
    };
    api.add_route("GET", "/api/v2/silences", [notifier, reply](const engine::HttpRequest&) {
      return reply(notifiers::silences_list(notifier->silences(), now_ms()));
    });
    api.add_route("POST", "/api/v2/silences", [notifier, reply](const engine::HttpRequest& r) {
      return reply(notifiers::silences_create(notifier->silences(), r.body, now_ms()));
    });
    api.add_route("DELETE", "/api/v2/silence/*", [notifier, reply](const engine::HttpRequest& r) {
      std::string id = r.path.substr(r.path.rfind('/') + 1);
      return reply(notifiers::silences_expire(notifier->silences(), id, now_ms()));
    });
    // The status page's forms, without JavaScript: POST application/x-www-form-urlencoded,
    // same-origin only, answered with a 303 back to the page (or JSON for the page's script).
    auto form_reply = [](const engine::HttpRequest& r, const notifiers::ApiReply& a,
                         const std::string& done_title) {
      const bool wants_json = r.header("accept").find("application/json") != std::string::npos;
      if (a.status == 200) {
        if (wants_json) return engine::HttpResponse{200, "application/json", a.body, {}};
        return engine::HttpResponse{303, "text/plain", "", {{"Location", "/#silences"}}};
      }
      std::string why = notifiers::reply_reason(a);
      if (wants_json) {
        return engine::HttpResponse{a.status, "application/json",
                                    notifiers::error_json(why), {}};
      }
      return engine::HttpResponse{a.status, "text/html; charset=utf-8",
                                  engine::status::render_notice_page(done_title, why, true), {}};
    };
    auto csrf = [](const engine::HttpRequest& r) -> std::optional<engine::HttpResponse> {
      std::string why = engine::status::cross_site_reason(r.header("origin"), r.header("referer"),
                                                          r.header("host"));
      if (why.empty()) return std::nullopt;
      return engine::HttpResponse{403, "text/html; charset=utf-8",
                                  engine::status::render_notice_page("Refused", why, true), {}};
    };
    api.add_route("POST", "/silences", [notifier, form_reply, csrf](const engine::HttpRequest& r) {
      if (auto refused = csrf(r)) return *refused;
      return form_reply(r, notifiers::silences_create_form(notifier->silences(), r.params, now_ms()),
                        "Silence not created");
    });
    api.add_route("POST", "/silences/expire",
                  [notifier, form_reply, csrf](const engine::HttpRequest& r) {
                    if (auto refused = csrf(r)) return *refused;
                    auto it = r.params.find("id");
                    std::string id = it == r.params.end() ? std::string() : it->second;
                    return form_reply(
                        r, notifiers::silences_expire(notifier->silences(), id, now_ms()),
                        "Silence not expired");
                  });
  }
  api.set_status_page([&manager, notifier](const engine::HttpRequest& r) {
    namespace st = engine::status;
    auto param = [&r](const char* k) {
      auto it = r.params.find(k);
      return it == r.params.end() ? std::string() : it->second;
    };
    std::vector<std::string> labels;
    for (auto [a, b] = r.params.equal_range("label"); a != b; ++a)
      if (!a->second.empty()) labels.push_back(a->second);
    st::PageFilter filter =
        st::parse_filter(param("state"), labels, param("q"), param("refresh"));
    st::PageData d = manager.status_data();
    if (notifier) fill_status_notifier(d, *notifier);
    return engine::HttpResponse{200, "text/html; charset=utf-8", st::render_status_page(d, filter),
                                {}};
  });
  if (auto r = api.start(host, port); !r) {
    std::cerr << r.error().to_string() << "\n";
    return 2;
  }
  log.info("ruleeval started", {{"config", f.config},
                                {"groups", std::to_string(manager.group_count())},
                                {"listen", fmt::format("{}:{}", host, api.port())},
                                {"shard", f.shard}});
  manager.start();

  auto deadline = f.duration_s > 0 ? now_ms() + static_cast<int64_t>(f.duration_s * 1000) : 0;
  for (;;) {
    timespec ts{0, 200'000'000};
    int sig = sigtimedwait(&sigs, nullptr, &ts);
    // sigtimedwait takes the lowest-numbered signal first (SIGHUP): a stop waiting behind it
    // wins over the reload, so a SIGTERM is not held up by a reload nobody needs any more.
    const char* stop = sig == SIGTERM  ? "SIGTERM"
                       : sig == SIGINT ? "SIGINT"
                       : sig == SIGHUP ? pending_stop_signal()
                                       : nullptr;
    if (stop) {
      log.info("shutting down", {{"signal", stop}});
      break;
    }
    if (sig == SIGHUP) (void)reload();  // logged by reload()
    if (deadline && now_ms() >= deadline) {
      log.info("run duration reached, shutting down", {});
      break;
    }
  }
  api.stop();
  stop_components();
  return 0;
}

}  // namespace

void register_run(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<RunFlags>();
  auto* sub = app.add_subcommand("run", "Evaluate rules against a backend and send notifications");
  sub->add_option("-c,--config", flags->config, "Configuration file")->capture_default_str();
  sub->add_option("--state-dir", flags->state_dir, "Where alert state and the outbox live")
      ->capture_default_str();
  sub->add_option("--listen-address", flags->listen, "HTTP API address")->capture_default_str();
  sub->add_option("--shard", flags->shard, "Evaluate only the groups of shard i of N (i/N)")
      ->capture_default_str();
  sub->add_option("--log-level", flags->log_level, "debug|info|warn|error")->capture_default_str();
  sub->add_option("--log-format", flags->log_format, "logfmt|json")->capture_default_str();
  sub->add_option("--workers", flags->workers, "Groups evaluated concurrently")
      ->capture_default_str();
  sub->add_option("--duration", flags->duration_s, "Stop after this many seconds (0 = never)");
  sub->add_flag("--check-config", flags->check_config, "Validate the configuration and exit");
  sub->add_option("--enable-feature", flags->features,
                  "Enable experimental PromQL (promql-experimental-functions, ...; also "
                  "enable_features: in ruleeval.yaml)")
      ->allow_extra_args(false);
  sub->callback([flags, &exit_code] { exit_code = run(*flags); });
}

}  // namespace ruleeval::cli
