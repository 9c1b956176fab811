// Both sides of an Alertmanager parity test: a real Alertmanager 0.25 (Debian's) started as a
// child process, and ruleeval's notifier loaded from an alertmanager.yml of its own.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ruleeval/notifiers/notifier.hpp"

namespace ruleeval::notifiers::testing {

// The command line of a real Alertmanager with `config`, its storage in `storage`, listening on
// 127.0.0.1:port, with `external_url` and clustering off.
inline std::vector<std::string> alertmanager_argv(const std::string& config,
                                                  const std::string& storage, int port,
                                                  const std::string& external_url) {
  return {"/usr/bin/prometheus-alertmanager", "--config.file=" + config,
          "--storage.path=" + storage, "--web.listen-address=127.0.0.1:" + std::to_string(port),
          "--web.external-url=" + external_url, "--cluster.listen-address="};
}

// ruleeval's notifier for the alertmanager.yml at `path`; REQUIREs that it loads and starts.
inline Result<std::unique_ptr<Notifier>> load_notifier(const std::string& path,
                                                       NotifierOptions o) {
  auto cfg = load_alertmanager_config(path);
  REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().to_string()));
  auto n = Notifier::create(std::move(*cfg), std::move(o));
  REQUIRE_MESSAGE(n, (n ? "" : n.error().to_string()));
  return n;
}

}  // namespace ruleeval::notifiers::testing
