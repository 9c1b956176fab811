#include "backend_http.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <sstream>
#include <system_error>

#include "ruleeval/common/env.hpp"

namespace ruleeval::engine {

namespace {

std::expected<std::string, std::string> read_token_file(const std::string& path) {
  auto read = Env::Default()->read_file(path, 1u << 20);
  if (!read) {
    return std::unexpected(
        fmt::format("cannot read bearer_token_file {}: {}", path, read.error().message));
  }
  std::string token = std::move(*read);
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ' ||
                            token.back() == '\t')) {
    token.pop_back();
  }
  if (token.empty()) return std::unexpected("bearer_token_file " + path + " is empty");
  return token;
}

http::Options client_options(const HttpClientConfig& c) {
  http::Options o;
  o.timeout_ms = c.timeout_ms;
  o.connect_timeout_ms = c.connect_timeout_ms;
  o.max_body_bytes = c.max_response_bytes;
  o.gzip = c.gzip;
  if (!c.basic_username.empty()) {
    o.basic_auth = true;
    o.basic_user = c.basic_username;
    o.basic_password = c.basic_password;
  }
  o.tls.ca_file = c.ca_file;
  o.tls.cert_file = c.cert_file;
  o.tls.key_file = c.key_file;
  o.tls.insecure_skip_verify = c.insecure_skip_verify;
  // proxy unset: libcurl's http_proxy/https_proxy environment, as before.
  return o;
}

}  // namespace

BackendSession::BackendSession(const HttpClientConfig& config)
    : config_(config), client_(client_options(config)) {}

Result<HttpReply> BackendSession::post(const std::string& url, std::string_view body,
                                       std::string_view content_type,
                                       std::span<const std::string> extra) {
  const bool same = built_ && config_.bearer_token_file.empty() && content_type == content_type_ &&
                    std::equal(extra.begin(), extra.end(), extra_.begin(), extra_.end());
  if (!same) {
    std::string bearer;
    if (!config_.bearer_token_file.empty()) {
      auto token = read_token_file(config_.bearer_token_file);
      if (!token) return std::unexpected(Error(ErrorKind::kConfig, std::move(token.error())));
      bearer = std::move(*token);
    } else {
      bearer = config_.bearer_token;
    }
    headers_.clear();
    headers_.push_back("Content-Type: " + std::string(content_type));
    for (const auto& [k, v] : config_.headers) headers_.push_back(fmt::format("{}: {}", k, v));
    for (const auto& h : extra) headers_.push_back(h);
    if (!bearer.empty()) headers_.push_back("Authorization: Bearer " + bearer);
    content_type_.assign(content_type);
    extra_.assign(extra.begin(), extra.end());
    built_ = true;
  }
  auto reply = client_.send(http::Request{"POST", url, body, headers_});
  if (!reply) return std::unexpected(std::move(reply.error()));  // kTransport, from the client
  return HttpReply{static_cast<int>((*reply)->status), &(*reply)->body};
}

}  // namespace ruleeval::engine
