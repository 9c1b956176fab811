// http_config on libcurl (see http_client.hpp): prometheus/common v0.38's HTTP client options
// as Alertmanager 0.25 applies them, and golang.org/x/oauth2's client-credentials token source.
#include "http_client.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ruleeval/common/env.hpp"

namespace ruleeval::notifiers::detail {

using nlohmann::json;

CurlLists::~CurlLists() {
  if (headers) curl_slist_free_all(headers);
  if (connect_to) curl_slist_free_all(connect_to);
  if (proxy_headers) curl_slist_free_all(proxy_headers);
}

std::string query_escape(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string form_encode(const std::multimap<std::string, std::string>& values) {
  std::string out;
  for (const auto& [k, v] : values) {  // multimap: sorted by key, insertion order per key
    if (!out.empty()) out += '&';
    out += query_escape(k) + "=" + query_escape(v);
  }
  return out;
}

Result<std::string> read_secret_file(const std::string& path) {
  auto text = Env::Default()->read_file(path);
  if (!text) return make_error("unable to read secret file " + path + ": " + text.error().message);
  std::string v = std::move(*text);
  // strings.TrimSpace
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (!v.empty() && is_space(v.back())) v.pop_back();
  size_t b = 0;
  while (b < v.size() && is_space(v[b])) ++b;
  return v.substr(b);
}

void apply_tls_settings(CURL* h, const TlsSettings& t) {
  if (!t.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, t.ca_file.c_str());
  if (!t.cert_file.empty()) curl_easy_setopt(h, CURLOPT_SSLCERT, t.cert_file.c_str());
  if (!t.key_file.empty()) curl_easy_setopt(h, CURLOPT_SSLKEY, t.key_file.c_str());
  long v = CURL_SSLVERSION_TLSv1_2;  // Go's crypto/tls defaults to a TLS 1.2 minimum for clients
  if (t.min_version == "TLS10") v = CURL_SSLVERSION_TLSv1_0;
  if (t.min_version == "TLS11") v = CURL_SSLVERSION_TLSv1_1;
  if (t.min_version == "TLS13") v = CURL_SSLVERSION_TLSv1_3;
  curl_easy_setopt(h, CURLOPT_SSLVERSION, v);
  if (t.insecure_skip_verify) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
}

namespace {

size_t append_body(char* ptr, size_t size, size_t n, void* user) {
  auto* s = static_cast<std::string*>(user);
  if (s->size() < 1024 * 1024) s->append(ptr, size * n);  // a token answer is small
  return size * n;
}

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

Result<CachedToken> fetch_token(const HttpSettings::OAuth2& o, const std::string& secret,
                                Millis timeout_ms) {
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
  CURL* h = curl_easy_init();
  if (!h) return make_error("oauth2: curl_easy_init failed");
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> guard(h, curl_easy_cleanup);
  CurlLists lists;
  lists.headers = curl_slist_append(lists.headers, "Content-Type: application/x-www-form-urlencoded");
  lists.headers = curl_slist_append(lists.headers, "User-Agent: ruleeval/0.1");
  lists.headers = curl_slist_append(lists.headers, "Expect:");
  std::string user = query_escape(o.client_id), pass = query_escape(secret);
  std::string resp;
  curl_easy_setopt(h, CURLOPT_URL, o.token_url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
  curl_easy_setopt(h, CURLOPT_USERNAME, user.c_str());
  curl_easy_setopt(h, CURLOPT_PASSWORD, pass.c_str());
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, lists.headers);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
  apply_tls_settings(h, o.tls);
  {  // the token request goes through oauth2's own proxy settings (Transport.Proxy)
    HttpSettings proxy;
    proxy.proxy_url = o.proxy_url;
    proxy.no_proxy = o.no_proxy;
    proxy.proxy_from_environment = o.proxy_from_environment;
    proxy.proxy_connect_header = o.proxy_connect_header;
    apply_proxy(h, o.token_url, proxy, lists);
  }
  CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    return make_error(std::string("oauth2: cannot fetch token: ") + curl_easy_strerror(rc));
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status > 299) {
    return make_error("oauth2: cannot fetch token: " + std::to_string(status) +
                      "\nResponse: " + resp.substr(0, 512));
  }
  char* ctype = nullptr;
  curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype);
  std::string ct = ctype ? ctype : "";
  std::string access, type;
  long long expires_in = 0;
  if (ct.starts_with("application/x-www-form-urlencoded") || ct.starts_with("text/plain")) {
    // x/oauth2 parses such answers as a form (GitHub's style).
    std::istringstream in(resp);
    std::string pair;
    auto unescape = [&](const std::string& s) {
      int n = 0;
      char* u = curl_easy_unescape(h, s.c_str(), static_cast<int>(s.size()), &n);
      std::string out(u ? std::string(u, static_cast<size_t>(n)) : s);
      curl_free(u);
      std::replace(out.begin(), out.end(), '+', ' ');
      return out;
    };
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

Result<std::string> oauth2_authorization(const HttpSettings::OAuth2& o, Millis timeout_ms) {
  std::string secret = o.client_secret;
  if (!o.client_secret_file.empty()) {  // re-read for every request; a new secret, a new token
    auto s = read_secret_file(o.client_secret_file);
    if (!s) return make_error("oauth2: " + s.error().message);
    secret = *s;
  }
  std::string key = o.token_url + '\x1f' + o.client_id + '\x1f' + secret + '\x1f';
  for (const auto& s : o.scopes) key += s + '\x1e';
  for (const auto& [k, v] : o.endpoint_params) key += k + '=' + v + '\x1e';
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
  auto t = fetch_token(o, secret, timeout_ms);
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

void apply_proxy(CURL* h, const std::string& url, const HttpSettings& http, CurlLists& lists) {
  // prometheus/common's ProxyConfig (proxy.cpp); "" = direct, never libcurl's own reading of
  // http_proxy & co. proxy_connect_header goes to the proxy only, in CONNECT requests (Go's
  // Transport.ProxyConnectHeader): CURLHEADER_SEPARATE keeps it out of the request itself.
  const std::string proxy = proxy_for(http, url);
  curl_easy_setopt(h, CURLOPT_PROXY, proxy.c_str());
  // libcurl would also send CURLOPT_PROXYHEADER with a plain-HTTP request to the proxy, which
  // Go does not: only an https target (tunnelled through CONNECT) gets them.
  const bool tunnelled =
      url.size() >= 8 && (url.compare(0, 8, "https://") == 0 || url.compare(0, 8, "HTTPS://") == 0);
  if (!proxy.empty() && tunnelled && !http.proxy_connect_header.empty()) {
    for (const auto& [name, value] : http.proxy_connect_header) {
      lists.proxy_headers = curl_slist_append(lists.proxy_headers, (name + ": " + value).c_str());
    }
    curl_easy_setopt(h, CURLOPT_HEADEROPT, CURLHEADER_SEPARATE);
    curl_easy_setopt(h, CURLOPT_PROXYHEADER, lists.proxy_headers);
  } else {
    curl_easy_setopt(h, CURLOPT_PROXYHEADER, static_cast<curl_slist*>(nullptr));
  }
}

Result<void> setup_http(CURL* h, const std::string& url, const HttpSettings& http,
                        CurlLists& lists, bool request_has_authorization) {
  std::string effective = url;
  if (!http.tls.server_name.empty()) {
    // Go's tls.Config.ServerName: the name sent in SNI and verified in the certificate, while
    // the connection and the Host header stay those of the URL.
    CURLU* u = curl_url();
    std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> ug(u, curl_url_cleanup);
    if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
      return make_error("invalid URL \"" + url + "\"");
    }
    char *host = nullptr, *port = nullptr, *scheme = nullptr;
    curl_url_get(u, CURLUPART_HOST, &host, 0);
    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    std::string h_host = host ? host : "", h_port = port ? port : "", h_scheme = scheme ? scheme : "";
    curl_free(host);
    curl_free(port);
    curl_free(scheme);
    char* explicit_port = nullptr;
    curl_url_get(u, CURLUPART_PORT, &explicit_port, 0);
    std::string host_header = h_host + (explicit_port ? std::string(":") + explicit_port : "");
    curl_free(explicit_port);
    curl_url_set(u, CURLUPART_HOST, http.tls.server_name.c_str(), 0);
    char* out = nullptr;
    curl_url_get(u, CURLUPART_URL, &out, 0);
    if (out) effective = out;
    curl_free(out);
    lists.connect_to = curl_slist_append(
        lists.connect_to,
        (http.tls.server_name + ":" + h_port + ":" + h_host + ":" + h_port).c_str());
    curl_easy_setopt(h, CURLOPT_CONNECT_TO, lists.connect_to);
    lists.headers = curl_slist_append(lists.headers, ("Host: " + host_header).c_str());
  }
  curl_easy_setopt(h, CURLOPT_URL, effective.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(http.timeout_ms));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<Millis>(http.timeout_ms, 10'000)));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  // Authorization: authorization / bearer_token (inline or file), basic_auth, or oauth2 -- unless
  // the request carries its own (opsgenie's GenieKey...), which wins as in prometheus/common.
  if (!request_has_authorization) {
    std::string credentials = http.bearer_token;
    if (!http.bearer_token_file.empty()) {
      auto s = read_secret_file(http.bearer_token_file);
      if (!s) return std::unexpected(s.error());
      credentials = *s;
    }
    if (!credentials.empty()) {
      lists.headers = curl_slist_append(
          lists.headers, ("Authorization: " + http.authorization_type + " " + credentials).c_str());
    }
    if (!http.basic_user.empty() || !http.basic_password.empty() ||
        !http.basic_password_file.empty()) {
      std::string pw = http.basic_password;
      if (!http.basic_password_file.empty()) {
        auto s = read_secret_file(http.basic_password_file);
        if (!s) return std::unexpected(s.error());
        pw = *s;
      }
      curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(h, CURLOPT_USERNAME, http.basic_user.c_str());
      curl_easy_setopt(h, CURLOPT_PASSWORD, pw.c_str());
    }
    if (!http.oauth2.token_url.empty()) {
      auto a = oauth2_authorization(http.oauth2, http.timeout_ms);
      if (!a) return std::unexpected(a.error());
      lists.headers = curl_slist_append(lists.headers, ("Authorization: " + *a).c_str());
    }
  }
  TlsSettings tls = http.tls;
  tls.insecure_skip_verify = tls.insecure_skip_verify || http.insecure_skip_verify;
  apply_tls_settings(h, tls);
  apply_proxy(h, url, http, lists);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, http.follow_redirects ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);  // Go's http.Client stops after 10
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
                   http.enable_http2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1);
  return {};
}

}  // namespace ruleeval::notifiers::detail
