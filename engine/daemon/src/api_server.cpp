#include "ruleeval/engine/api_server.hpp"

#include "ruleeval/common/json_limits.hpp"

#include "api_conn.hpp"

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cctype>
#include <thread>
#include <vector>

namespace ruleeval::engine {

struct ApiServer::Impl {
  Impl(RuleManager& m, std::function<Result<void>()> r) : manager(m), reload(std::move(r)) {}
  RuleManager& manager;
  std::function<Result<void>()> reload;
  detail::ApiHttpServer server{limits()};
  static detail::ApiLimits limits() {
    detail::ApiLimits l;
    l.threads = kApiThreads;
    l.max_queued = kApiMaxQueued;
    l.max_parked = kApiMaxIdle;
    l.first_byte_ms = l.keep_alive_ms = kApiReadTimeoutSec * 1000;
    l.request_deadline_ms = kApiRequestDeadlineSec * 1000;
    l.io_timeout_sec = kApiReadTimeoutSec;
    return l;
  }
  std::thread thread;
  struct Route {
    std::string method, path;
    HttpHandler handler;
  };
  std::vector<Route> routes;
  std::function<std::string()> extra_metrics;
  std::atomic<int> listen_fd{-1};
  HttpHandler status_page;
};

namespace {

HttpRequest to_request(const httplib::Request& r) {
  HttpRequest out;
  out.method = r.method;
  out.path = r.path;
  out.body = r.body;
  for (const auto& [k, v] : r.params) out.params.emplace(k, v);
  for (const auto& [k, v] : r.headers) {
    std::string name = k;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace(std::move(name), v);
  }
  return out;
}

void reply(httplib::Response& res, const HttpResponse& r) {
  res.status = r.status;
  for (const auto& [k, v] : r.headers) res.set_header(k.c_str(), v);
  res.set_content(r.body, r.content_type);
}

std::vector<std::string> all_of(const httplib::Request& r, const std::string& key) {
  std::vector<std::string> out;
  auto range = r.params.equal_range(key);
  for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
  auto range2 = r.params.equal_range(key + "[]");
  for (auto it = range2.first; it != range2.second; ++it) out.push_back(it->second);
  return out;
}


}  // namespace

ApiServer::ApiServer(RuleManager& manager, std::function<Result<void>()> reload)
    : impl_(std::make_unique<Impl>(manager, std::move(reload))) {}

ApiServer::~ApiServer() { stop(); }

void ApiServer::set_extra_metrics(std::function<std::string()> fn) {
  impl_->extra_metrics = std::move(fn);
}

void ApiServer::set_status_page(HttpHandler fn) { impl_->status_page = std::move(fn); }

void ApiServer::add_route(std::string method, std::string path, HttpHandler handler) {
  impl_->routes.push_back({std::move(method), std::move(path), std::move(handler)});
}

Result<void> ApiServer::start(const std::string& host, int port) {
  auto& s = impl_->server;
  auto& m = impl_->manager;
  s.Get("/api/v1/rules", [&m](const httplib::Request& req, httplib::Response& res) {
    RulesFilter f;
    if (req.has_param("type")) {
      auto t = parse_rule_type(req.get_param_value("type"));
      if (!t) {
        res.status = 400;
        res.set_content(render_error("bad_data", t.error().message), "application/json");
        return;
      }
      f.type = *t;
    }
    f.rule_names = all_of(req, "rule_name");
    f.rule_groups = all_of(req, "rule_group");
    f.files = all_of(req, "file");
    f.exclude_alerts = req.get_param_value("exclude_alerts") == "true";
    res.set_content(m.rules_json(f), "application/json");
  });
  s.Get("/api/v1/alerts", [&m](const httplib::Request&, httplib::Response& res) {
    res.set_content(m.alerts_json(), "application/json");
  });
  s.Get("/metrics", [this, &m](const httplib::Request&, httplib::Response& res) {
    std::string body = m.metrics_text();
    body += "# HELP ruleeval_http_connections_rejected_total Connections answered 503 because the "
            "API's queue or idle-connection room was full.\n"
            "# TYPE ruleeval_http_connections_rejected_total counter\n"
            "ruleeval_http_connections_rejected_total " +
            std::to_string(impl_->server.rejected()) + "\n";
    if (impl_->extra_metrics) body += impl_->extra_metrics();
    res.set_content(body, "text/plain; version=0.0.4; charset=utf-8");
  });
  s.Get("/-/healthy", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ruleeval is Healthy.\n", "text/plain");
  });
  s.Get("/-/ready", [&m](const httplib::Request&, httplib::Response& res) {
    if (m.ready()) {
      res.set_content("ruleeval is Ready.\n", "text/plain");
    } else {
      res.status = 503;
      res.set_content("Service Unavailable\n", "text/plain");
    }
  });
  auto reload = [this](const httplib::Request&, httplib::Response& res) {
    Result<void> r = impl_->reload ? impl_->reload() : Result<void>(make_error(""));
    if (r) {
      res.set_content("", "text/plain");
    } else {
      res.status = 500;
      res.set_content("failed to reload config: " + r.error().message + "\n", "text/plain");
    }
  };
  s.Post("/-/reload", reload);
  s.Put("/-/reload", reload);
  s.Get("/", [this, &m](const httplib::Request& req, httplib::Response& res) {
    if (impl_->status_page) return reply(res, impl_->status_page(to_request(req)));
    res.set_content(m.status_html(), "text/html; charset=utf-8");
  });
  for (const auto& r : impl_->routes) {
    std::string pattern = r.path;
    if (!pattern.empty() && pattern.back() == '*') {
      pattern.pop_back();
      pattern += "(.*)";
    }
    HttpHandler h = r.handler;
    auto fn = [h](const httplib::Request& req, httplib::Response& res) {
      // Every JSON body is bounded before a handler parses it (size: set_payload_max_length).
      if (json_nesting_depth(req.body) > kMaxJsonNesting) {
        res.status = 400;
        res.set_content("\"request body is nested more than " + std::to_string(kMaxJsonNesting) +
                            " levels deep\"",
                        "application/json");
        return;
      }
      reply(res, h(to_request(req)));
    };
    if (r.method == "GET") s.Get(pattern, fn);
    if (r.method == "POST") s.Post(pattern, fn);
    if (r.method == "DELETE") s.Delete(pattern, fn);
  }
  // Idle or slow clients must not starve the API (a liveness probe would restart the process),
  // nor grow memory or threads without bound: see api_conn.hpp (kApiThreads workers, a queue of
  // kApiMaxQueued then 503, idle connections wait without a worker, request deadlines), bounded
  // keep-alive, bounded bodies and a listen backlog of kApiBacklog (httplib's default is 5).
  s.set_keep_alive_max_count(100);
  s.set_payload_max_length(kMaxRequestBodyBytes);
  s.set_socket_options([this](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    int domain = 0;
    socklen_t len = sizeof domain;
    if (::getsockopt(sock, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 && domain == AF_INET6) {
      int no = 0;  // "::" serves IPv4 too, as Go's listener does
      ::setsockopt(sock, IPPROTO_IPV6, IPV6_V6ONLY, &no, sizeof no);
    }
    impl_->listen_fd = sock;
  });
  const std::string bind_host = listen_host(host);
  const bool bound = port == 0 ? (port_ = s.bind_to_any_port(bind_host)) > 0
                               : s.bind_to_port(bind_host, port);
  if (!bound && host.empty()) {
    // No IPv6: all IPv4 interfaces.
    if (port == 0) {
      port_ = s.bind_to_any_port("0.0.0.0");
    } else if (s.bind_to_port("0.0.0.0", port)) {
      port_ = port;
    }
  } else if (bound && port != 0) {
    port_ = port;
  }
  if (port_ > 0 && impl_->listen_fd >= 0) ::listen(impl_->listen_fd, kApiBacklog);
  if (port_ <= 0) {
    return make_error("cannot listen on " + host + ":" + std::to_string(port) +
                      " (address in use or not permitted)");
  }
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  return {};
}

std::string ApiServer::listen_host(const std::string& host) {
  // Go's net.Listen(":port") listens on every interface, IPv6 and IPv4; "[::1]" is "::1".
  if (host.empty()) return "::";
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

void ApiServer::stop() {
  if (!impl_) return;
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace ruleeval::engine
