// Both sides of an Alertmanager parity test: a real Alertmanager 0.25 (Debian's) started as a
// child process, and ruleeval's notifier loaded from an alertmanager.yml of its own.
#pragma once

#include <doctest/doctest.h>
#include <httplib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "notify_alerts.hpp"
#include "notify_servers.hpp"
#include "ruleeval/notifiers/notifier.hpp"

namespace ruleeval::notifiers::testing {

// The external URL both sides of a parity test are given.
inline constexpr const char* kExternalUrl = "http://alertmanager.test:9093";

// The command line of a real Alertmanager with `config`, its storage in `storage`, listening on
// 127.0.0.1:port, with `external_url` and clustering off.
inline std::vector<std::string> alertmanager_argv(const std::string& config,
                                                  const std::string& storage, int port,
                                                  const std::string& external_url) {
  return {"/usr/bin/prometheus-alertmanager", "--config.file=" + config,
          "--storage.path=" + storage, "--web.listen-address=127.0.0.1:" + std::to_string(port),
          "--web.external-url=" + external_url, "--cluster.listen-address="};
}

// A real Alertmanager (alertmanager_argv) on a free port, listening once constructed (REQUIREd
// within 15 s) and stopped by the destructor.
class Alertmanager {
 public:
  Alertmanager(const std::string& config, const std::string& storage, const std::string& log,
               const std::string& external_url)
      : port_(free_port()), proc_(alertmanager_argv(config, storage, port_, external_url), log) {
    REQUIRE(wait_port(port_, 15'000));
  }
  // The parity tests' layout under `dir`: am/alertmanager.yml, storage in am/data, log am.log.
  Alertmanager(const std::filesystem::path& dir, const std::string& external_url)
      : Alertmanager((dir / "am" / "alertmanager.yml").string(), (dir / "am" / "data").string(),
                     (dir / "am.log").string(), external_url) {}
  int port() const { return port_; }
  // POSTs `body` to /api/v2/alerts, as Prometheus does; REQUIREs that it is accepted (200).
  void post(const nlohmann::json& body) const {
    httplib::Client client("127.0.0.1", port_);
    auto res = client.Post("/api/v2/alerts", body.dump(), "application/json");
    REQUIRE(res);
    REQUIRE(res->status == 200);
  }
  void post(const std::vector<rules::Alert>& alerts) const { post(post_body(alerts)); }

 private:
  int port_;
  ChildProcess proc_;
};

// ruleeval's notifier for the alertmanager.yml at `path`; REQUIREs that it loads and starts.
inline Result<std::unique_ptr<Notifier>> load_notifier(const std::string& path,
                                                       NotifierOptions o) {
  auto cfg = load_alertmanager_config(path);
  REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().to_string()));
  auto n = Notifier::create(std::move(*cfg), std::move(o));
  REQUIRE_MESSAGE(n, (n ? "" : n.error().to_string()));
  return n;
}

// ruleeval's side of a parity test under `dir` (the layout of Alertmanager(dir, ...)): the
// notifier for re/alertmanager.yml with its state in re/state and kExternalUrl.
inline Result<std::unique_ptr<Notifier>> load_parity_notifier(const std::filesystem::path& dir,
                                                              NotifierOptions o = {}) {
  o.state_dir = (dir / "re" / "state").string();
  o.external_url = kExternalUrl;
  return load_notifier((dir / "re" / "alertmanager.yml").string(), std::move(o));
}

}  // namespace ruleeval::notifiers::testing
