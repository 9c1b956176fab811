// http_config helpers (see http_client.hpp): golang.org/x/oauth2's client-credentials token
// source on the shared HTTP client, *_file secrets and Go's form encoding.
#include "http_client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ruleeval/common/env.hpp"
#include "ruleeval/common/escape.hpp"
#include "ruleeval/http/client.hpp"
#include "transport_http.hpp"

namespace ruleeval::notifiers::detail {

using nlohmann::json;

std::string form_encode(const std::multimap<std::string, std::string>& values) {
  std::string out;
  for (const auto& [k, v] : values) {  // multimap: sorted by key, insertion order per key
    if (!out.empty()) out += '&';
    out += url_query_escape(k) + "=" + url_query_escape(v);
  }
  return out;
}

Result<std::string> read_secret_file(const std::string& path) {
  return read_secret_file(*Env::Default(), path);
}

Result<std::string> value_or_secret_file(Env& env, const std::string& value,
                                         const std::string& file) {
  if (!value.empty() || file.empty()) return value;
  return read_secret_file(env, file);
}

Result<std::string> read_secret_file(Env& env, const std::string& path) {
  auto text = env.read_file(path);
  if (!text) return make_error("unable to read secret file " + path + ": " + text.error().message);
  std::string v = std::move(*text);
  // strings.TrimSpace
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (!v.empty() && is_space(v.back())) v.pop_back();
  size_t b = 0;
  while (b < v.size() && is_space(v[b])) ++b;
  return v.substr(b);
}

namespace {

struct CachedToken {
  std::string authorization;  // "Bearer <token>"
  std::chrono::steady_clock::time_point expiry;
  bool expires = false;
};

struct TokenCache {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<std::mutex>> fetch_mu;  // one fetch per client at a time
  std::map<std::string, CachedToken> tokens;
};

TokenCache& token_cache() {
  static TokenCache c;
  return c;
}

// golang.org/x/oauth2 Token.Type(): the Authorization scheme for a token_type.
std::string auth_scheme(const std::string& type) {
  auto lower = type;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "bearer" || type.empty()) return "Bearer";
  if (lower == "mac") return "MAC";
  if (lower == "basic") return "Basic";
  return type;
}

Result<CachedToken> fetch_token(Env& env, const HttpSettings::OAuth2& o,
                                const std::string& secret, Millis timeout_ms) {
  // clientcredentials.Config.Token: grant_type, scope (space-joined), endpoint_params; the
  // client authenticates with HTTP basic auth of the query-escaped id and secret.
  std::multimap<std::string, std::string> form{{"grant_type", "client_credentials"}};
  if (!o.scopes.empty()) {
    std::string scope;
    for (const auto& s : o.scopes) scope += (scope.empty() ? "" : " ") + s;
    form.emplace("scope", scope);
  }
  for (const auto& [k, v] : o.endpoint_params) {
    if (k == "grant_type") {
      form.erase("grant_type");
    } else if (form.count(k)) {
      return make_error("oauth2: cannot overwrite parameter \"" + k + "\"");
    }
    form.emplace(k, v);
  }
  std::string body = form_encode(form);
  http::Options opt;
  opt.timeout_ms = timeout_ms;
  opt.max_body_bytes = size_t{1024} * 1024;  // a token answer is small
  opt.truncate_body = true;
  // The client authenticates with HTTP basic auth of the query-escaped id and secret.
  opt.basic_auth = true;
  opt.basic_user = url_query_escape(o.client_id);
  opt.basic_password = url_query_escape(secret);
  opt.follow_redirects = true;
  opt.max_redirects = 10;
  opt.tls = tls_options(o.tls);
  {  // the token request goes through oauth2's own proxy settings (Transport.Proxy)
    HttpSettings proxy;
    proxy.proxy_url = o.proxy_url;
    proxy.no_proxy = o.no_proxy;
    proxy.proxy_from_environment = o.proxy_from_environment;
    opt.proxy = proxy_for(proxy, o.token_url);
    for (const auto& [name, value] : o.proxy_connect_header) {
      opt.proxy_connect_headers.push_back(name);
      opt.proxy_connect_headers.back().append(": ").append(value);
    }
  }
  static const std::vector<std::string> kHeaders = {
      "Content-Type: application/x-www-form-urlencoded"};
  // This thread's client: the token endpoint's connection is kept alive for the next fetch. The
  // answer is parsed before returning, so the caller may reuse the client right after.
  HttpClient& client = env.http_client();
  client.configure(std::move(opt));
  auto sent = client.send(http::Request{"POST", o.token_url, body, kHeaders});
  if (!sent) {
    return make_error("oauth2: cannot fetch token: " + http::transport_reason(sent.error()));
  }
  const std::string& resp = (*sent)->body;
  const long status = (*sent)->status;
  if (status < 200 || status > 299) {
    return make_error("oauth2: cannot fetch token: " + std::to_string(status) +
                      "\nResponse: " + resp.substr(0, 512));
  }
  const std::string& ct = (*sent)->content_type;
  std::string access, type;
  long long expires_in = 0;
  if (ct.starts_with("application/x-www-form-urlencoded") || ct.starts_with("text/plain")) {
    // x/oauth2 parses such answers as a form (GitHub's style).
    std::istringstream in(resp);
    std::string pair;
    auto unescape = [](const std::string& s) { return url_query_unescape(s); };
    while (std::getline(in, pair, '&')) {
      auto eq = pair.find('=');
      std::string k = unescape(pair.substr(0, eq));
      std::string v = eq == std::string::npos ? "" : unescape(pair.substr(eq + 1));
      if (k == "access_token") access = v;
      if (k == "token_type") type = v;
      if (k == "expires_in") expires_in = std::atoll(v.c_str());
    }
  } else {
    json j = json::parse(resp, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return make_error("oauth2: cannot parse json: " + resp.substr(0, 200));
    }
    if (j.contains("access_token") && j["access_token"].is_string()) access = j["access_token"];
    if (j.contains("token_type") && j["token_type"].is_string()) type = j["token_type"];
    if (j.contains("expires_in")) {
      const auto& e = j["expires_in"];
      if (e.is_number()) expires_in = e.get<long long>();
      if (e.is_string()) expires_in = std::atoll(e.get<std::string>().c_str());
    }
  }
  if (access.empty()) return make_error("oauth2: server response missing access_token");
  CachedToken t;
  t.authorization = auth_scheme(type) + " " + access;
  if (expires_in > 0) {
    t.expires = true;
    t.expiry = Env::Default()->monotonic_now() + std::chrono::seconds(expires_in);
  }
  return t;
}

}  // namespace

Result<std::string> oauth2_authorization(Env& env, const HttpSettings::OAuth2& o,
                                         Millis timeout_ms) {
  std::string secret = o.client_secret;
  if (!o.client_secret_file.empty()) {  // re-read for every request; a new secret, a new token
    auto s = read_secret_file(o.client_secret_file);
    if (!s) return make_error("oauth2: " + s.error().message);
    secret = *s;
  }
  std::string key = o.token_url + '\x1f' + o.client_id + '\x1f' + secret + '\x1f';
  for (const auto& s : o.scopes) key += s + '\x1e';
  for (const auto& [k, v] : o.endpoint_params) key.append(k).append(1, '=').append(v).append(1, '\x1e');
  auto& cache = token_cache();
  std::shared_ptr<std::mutex> fmu;
  auto valid = [](const CachedToken& t) {
    // x/oauth2 treats a token as expired 10 s before its expiry.
    return !t.expires || Env::Default()->monotonic_now() + std::chrono::seconds(10) < t.expiry;
  };
  {
    std::lock_guard lock(cache.mu);
    if (auto it = cache.tokens.find(key); it != cache.tokens.end() && valid(it->second)) {
      return it->second.authorization;
    }
    auto& m = cache.fetch_mu[key];
    if (!m) m = std::make_shared<std::mutex>();
    fmu = m;
  }
  std::lock_guard fetch_lock(*fmu);
  {
    std::lock_guard lock(cache.mu);  // another thread may have fetched it meanwhile
    if (auto it = cache.tokens.find(key); it != cache.tokens.end() && valid(it->second)) {
      return it->second.authorization;
    }
  }
  auto t = fetch_token(env, o, secret, timeout_ms);
  if (!t) return std::unexpected(t.error());
  std::lock_guard lock(cache.mu);
  cache.tokens[key] = *t;
  return t->authorization;
}

void oauth2_reset_cache() {
  auto& cache = token_cache();
  std::lock_guard lock(cache.mu);
  cache.tokens.clear();
}

}  // namespace ruleeval::notifiers::detail
