// Real Prometheus and VictoriaMetrics servers for integration tests: free ports on 127.0.0.1,
// temp dirs, killed (and their dirs removed) when the object dies, and with PR_SET_PDEATHSIG so
// they die with the test process even if it crashes.
#pragma once

#include <string>
#include <vector>

namespace ruleeval::testing {

std::string find_binary(const std::string& name);  // "" when not on PATH
int free_port();

class ServerProcess {
 public:
  // Starts `argv` (argv[0] is a path); output goes to <dir>/server.log.
  ServerProcess(std::vector<std::string> argv, std::string dir);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  bool running() const;
  std::string log_tail() const;

 private:
  int pid_ = -1;
  std::string dir_;
};

struct TempDir {
  TempDir();
  ~TempDir();
  std::string path;
};

// Minimal blocking HTTP helpers (libcurl) for loading data and polling readiness.
struct HttpResult {
  long status = 0;
  std::string body;
  std::string error;
};
HttpResult http_get(const std::string& url);
HttpResult http_post(const std::string& url, const std::string& body,
                     const std::string& content_type);
// Polls url until it answers 200 or timeout_ms passes.
bool wait_ready(const std::string& url, int timeout_ms);

}  // namespace ruleeval::testing
