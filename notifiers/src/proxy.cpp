// The proxy a request goes through, as prometheus/common's ProxyConfig.Proxy() picks it
// (v0.44+, Alertmanager 0.26+): proxy_from_environment uses golang.org/x/net/http/httpproxy's
// FromEnvironment; proxy_url with no_proxy uses httpproxy.Config; proxy_url alone is
// http.ProxyURL (every request, loopback too). The NO_PROXY matching is httpproxy's: "*", IPs and
// CIDRs, "[ip]:port", domains (suffix match, "*.x" = ".x", "x" also matches x itself), optional
// ports; localhost and loopback addresses never use a proxy in httpproxy.
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

#include "http_client.hpp"
#include "ruleeval/http/client.hpp"

namespace ruleeval::notifiers::detail {

namespace {

std::string lower_trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct Ip {
  int family = 0;  // AF_INET / AF_INET6; 0 = not an IP
  unsigned char bytes[16] = {};
};

// net.ParseIP: IPv4 addresses compare equal to their IPv4-in-IPv6 form.
Ip parse_ip(const std::string& s) {
  Ip ip;
  in_addr a4{};
  in6_addr a6{};
  if (inet_pton(AF_INET, s.c_str(), &a4) == 1) {
    ip.family = AF_INET6;
    ip.bytes[10] = ip.bytes[11] = 0xff;
    std::memcpy(ip.bytes + 12, &a4, 4);
  } else if (inet_pton(AF_INET6, s.c_str(), &a6) == 1) {
    ip.family = AF_INET6;
    std::memcpy(ip.bytes, &a6, 16);
  }
  return ip;
}

bool is_v4(const Ip& ip) {
  static const unsigned char prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(ip.bytes, prefix, 12) == 0;
}

bool is_loopback(const Ip& ip) {
  if (is_v4(ip)) return ip.bytes[12] == 127;
  static const unsigned char one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return std::memcmp(ip.bytes, one, 16) == 0;
}

// net.ParseCIDR; `bits` counts in the 16-byte form.
bool parse_cidr(const std::string& s, Ip& net, int& bits) {
  auto slash = s.find('/');
  if (slash == std::string::npos) return false;
  const std::string addr = s.substr(0, slash), len = s.substr(slash + 1);
  if (len.empty() || len.size() > 3 ||
      !std::all_of(len.begin(), len.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  net = parse_ip(addr);
  if (!net.family) return false;
  const bool v4 = addr.find(':') == std::string::npos;
  const int n = std::atoi(len.c_str());
  if (n > (v4 ? 32 : 128)) return false;
  bits = v4 ? n + 96 : n;
  return true;
}

bool in_cidr(const Ip& ip, const Ip& net, int bits) {
  for (int i = 0; i < 16; ++i) {
    const int take = std::clamp(bits - 8 * i, 0, 8);
    const unsigned char mask = static_cast<unsigned char>(0xff00 >> take);
    if ((ip.bytes[i] & mask) != (net.bytes[i] & mask)) return false;
  }
  return true;
}

// net.SplitHostPort for "host:port" / "[v6]:port"; false when there is no port.
bool split_host_port(const std::string& s, std::string& host, std::string& port) {
  if (!s.empty() && s[0] == '[') {
    auto end = s.find(']');
    if (end == std::string::npos || end + 1 >= s.size() || s[end + 1] != ':') return false;
    host = s.substr(1, end - 1);
    port = s.substr(end + 2);
    return true;
  }
  auto c = s.rfind(':');
  if (c == std::string::npos || s.find(':') != c) return false;
  host = s.substr(0, c);
  port = s.substr(c + 1);
  return true;
}

// httpproxy's useProxy(canonicalAddr(url)).
bool use_proxy(const std::string& no_proxy, std::string host, const std::string& port) {
  if (host == "localhost") return false;
  const Ip ip = parse_ip(host);
  if (ip.family && is_loopback(ip)) return false;
  host = lower_trim(host);
  size_t start = 0;
  while (start <= no_proxy.size()) {
    size_t comma = no_proxy.find(',', start);
    if (comma == std::string::npos) comma = no_proxy.size();
    std::string p = lower_trim(std::string_view(no_proxy).substr(start, comma - start));
    start = comma + 1;
    if (p.empty()) continue;
    if (p == "*") return false;
    Ip net;
    int bits = 0;
    if (parse_cidr(p, net, bits)) {
      if (ip.family && in_cidr(ip, net, bits)) return false;
      continue;
    }
    std::string phost, pport;
    if (split_host_port(p, phost, pport)) {
      if (phost.empty()) continue;
      if (phost.front() == '[' && phost.back() == ']') phost = phost.substr(1, phost.size() - 2);
    } else {
      phost = p;
    }
    const Ip pip = parse_ip(phost);
    if (pip.family) {
      if (ip.family && std::memcmp(ip.bytes, pip.bytes, 16) == 0 &&
          (pport.empty() || pport == port)) {
        return false;
      }
      continue;
    }
    if (phost.empty()) continue;
    if (phost.rfind("*.", 0) == 0) phost = phost.substr(1);
    bool match_host = false;
    if (phost[0] != '.') {
      match_host = true;
      phost.insert(0, 1, '.');
    }
    const bool suffix = host.size() >= phost.size() &&
                        host.compare(host.size() - phost.size(), phost.size(), phost) == 0;
    if ((suffix || (match_host && host == phost.substr(1))) && (pport.empty() || pport == port)) {
      return false;
    }
  }
  return true;
}

// getenv races only with setenv/putenv, which ruleeval never calls.
std::string env_any(const char* upper, const char* lower) {
  if (const char* v = std::getenv(upper); v && *v) return v;  // NOLINT(concurrency-mt-unsafe)
  if (const char* v = std::getenv(lower); v && *v) return v;  // NOLINT(concurrency-mt-unsafe)
  return {};
}

}  // namespace

std::string proxy_for(const HttpSettings& http, const std::string& url) {
  if (!http.proxy_from_environment && http.proxy_url.empty()) return {};
  if (!http.proxy_from_environment && http.no_proxy.empty()) return http.proxy_url;
  std::string scheme, host, port;
  if (auto parts = http::url_parts(url)) {
    scheme = std::move(parts->scheme);
    host = std::move(parts->host);
    port = std::move(parts->port);
  }
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string proxy, no_proxy;
  if (http.proxy_from_environment) {
    // FromEnvironment: HTTP_PROXY is ignored under CGI (REQUEST_METHOD set).
    no_proxy = env_any("NO_PROXY", "no_proxy");
    if (scheme == "https") {
      proxy = env_any("HTTPS_PROXY", "https_proxy");
    } else if (scheme == "http") {
      // NOLINTNEXTLINE(concurrency-mt-unsafe): nothing in ruleeval calls setenv while it runs
      const char* cgi = std::getenv("REQUEST_METHOD");
      if (!cgi || !*cgi) proxy = env_any("HTTP_PROXY", "http_proxy");
    }
    // httpproxy's parseProxy: a value without a scheme means http://.
    if (!proxy.empty() && proxy.find("://") == std::string::npos) proxy = "http://" + proxy;
  } else {
    proxy = http.proxy_url;
    no_proxy = http.no_proxy;
  }
  if (proxy.empty() || host.empty()) return {};
  return use_proxy(no_proxy, host, port) ? proxy : std::string();
}

}  // namespace ruleeval::notifiers::detail
