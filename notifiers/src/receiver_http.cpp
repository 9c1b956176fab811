// The envelope shared by the opsgenie, victorops, pushover, telegram, discord and webex
// receivers, and the bits of Go's encoding/json and net/url their payloads need.
#include "receiver_http.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "ruleeval/common/env.hpp"
#include "ruleeval/common/escape.hpp"

namespace ruleeval::notifiers::detail {

using ordered = nlohmann::ordered_json;

std::string go_json(const ordered& j) {
  const std::string raw = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(raw.size() + 16);
  for (size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '\\' && i + 1 < raw.size()) {
      // Go 1.19 (Debian's Alertmanager 0.25) writes \b and \f as \u0008 and \u000c.
      const char e = raw[++i];
      if (e == 'b') {
        out += "\\u0008";
      } else if (e == 'f') {
        out += "\\u000c";
      } else {
        out += '\\';
        out += e;
      }
    } else if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xE2' && i + 2 < raw.size() && raw[i + 1] == '\x80' &&
               (raw[i + 2] == '\xA8' || raw[i + 2] == '\xA9')) {
      out += raw[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  out += '\n';
  return out;
}

namespace {

bool unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

std::string trim(std::string s) {
  s.erase(0, s.find_first_not_of(" \t\r\n\v\f"));
  s.erase(s.find_last_not_of(" \t\r\n\v\f") + 1);
  return s;
}

void replace_all(std::string& s, std::string_view from, const std::string& to) {
  for (size_t p = 0; (p = s.find(from, p)) != std::string::npos; p += to.size()) {
    s.replace(p, from.size(), to);
  }
}

}  // namespace

std::string go_query(const std::vector<std::pair<std::string, std::string>>& params) {
  std::vector<std::pair<std::string, std::string>> sorted = params;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& [k, v] : sorted) {
    if (!out.empty()) out += '&';
    out += url_query_escape(k) + "=" + url_query_escape(v);
  }
  return out;
}

std::string go_path_escape(std::string_view s) {
  // url.URL.String() escapes Path with encodePath: unreserved and "$&+,/:;=@" stay.
  std::string out;
  for (unsigned char c : s) {
    if (unreserved(c) || std::string_view("$&+,/:;=@").find(static_cast<char>(c)) !=
                             std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string url_append(const std::string& url, const std::string& path,
                       const std::string& query) {
  const size_t scheme = url.find("://");
  const size_t q = url.find_first_of("?#", scheme == std::string::npos ? 0 : scheme + 3);
  std::string head = q == std::string::npos ? url : url.substr(0, q);
  std::string rest = q == std::string::npos ? "" : url.substr(q);
  std::string old_query, fragment;
  if (!rest.empty() && rest[0] == '?') {
    const size_t h = rest.find('#');
    old_query = rest.substr(1, h == std::string::npos ? std::string::npos : h - 1);
    fragment = h == std::string::npos ? "" : rest.substr(h);
  } else {
    fragment = rest;
  }
  head += path;
  if (!query.empty()) {
    // url.Values: parse, set, Encode (sorted by key).
    std::vector<std::pair<std::string, std::string>> kv;
    std::string key = query.substr(0, query.find('='));
    std::stringstream ss(old_query);
    for (std::string part; std::getline(ss, part, '&');) {
      if (part.empty() || part.substr(0, part.find('=')) == key) continue;
      kv.emplace_back(part.substr(0, part.find('=')),
                      part.find('=') == std::string::npos ? "" : part.substr(part.find('=') + 1));
    }
    kv.emplace_back(key, query.substr(query.find('=') + 1));
    std::stable_sort(kv.begin(), kv.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    old_query.clear();
    for (const auto& [k, v] : kv) {
      if (!old_query.empty()) old_query += '&';
      old_query.append(k).append("=").append(v);
    }
  }
  return head + (old_query.empty() ? "" : "?" + old_query) + fragment;
}

std::string truncate_bytes(std::string_view s, size_t n, bool* truncated) {
  if (truncated) *truncated = s.size() > n;
  if (s.size() <= n) return std::string(s);
  if (n <= 3) return n == 3 ? std::string("…") : std::string(n, '.');
  // Whole runes only, at most n-3 bytes, then the 3-byte marker.
  size_t cut = n - 3;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut)) + "…";
}

std::vector<std::string> safe_split(std::string_view s, char sep) {
  std::string t = trim(std::string(s));
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t p = t.find(sep, start);
    std::string part = t.substr(start, p == std::string::npos ? std::string::npos : p - start);
    if (!part.empty()) out.push_back(part);
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return out;
}

std::string Tmpl::operator()(const std::string& text, const char* field) {
  if (!err_.empty()) return {};
  auto r = x_(text, d_);
  if (!r) {
    err_ = std::string(field) + ": " + r.error().message;
    return {};
  }
  return *r;
}

std::string make_envelope(const std::vector<HttpCall>& calls, const std::string& secret_file,
                          SecretEscape escape, const std::string& read_error) {
  nlohmann::json env = nlohmann::json::object();
  nlohmann::json reqs = nlohmann::json::array();
  for (const auto& c : calls) {
    nlohmann::json headers = nlohmann::json::array();
    for (const auto& [k, v] : c.headers) headers.push_back({k, v});
    reqs.push_back({{"method", c.method},
                    {"url", c.url},
                    {"content_type", c.content_type},
                    {"headers", headers},
                    {"body", c.body}});
  }
  env["requests"] = reqs;
  if (!secret_file.empty()) {
    env["secret_file"] = secret_file;
    env["secret_escape"] = escape == SecretEscape::kPath ? "path" : "none";
    if (!read_error.empty()) env["secret_read_error"] = read_error;
  }
  return env.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

SendResult send_envelope(const OutboxEntry& e, const HttpSettings& http,
                         std::initializer_list<long> retry_codes, bool telegram) {
  SendResult r;
  auto env = nlohmann::json::parse(e.body, nullptr, false);
  if (env.is_discarded() || !env.is_object() || !env.contains("requests") ||
      !env["requests"].is_array()) {
    r.error = "corrupt outbox entry (not a request envelope)";
    return r;
  }
  std::string secret;
  bool has_secret = false;
  if (env.contains("secret_file")) {
    const std::string path = env.value("secret_file", "");
    auto text = Env::Default()->read_file(path);
    if (!text) {
      // Alertmanager does not retry an unreadable key file.
      const std::string what = env.value("secret_read_error", "");
      r.error = what.empty() ? "failed to read API key from file \"" + path + "\""
                             : what + ": open " + path + ": cannot read the file";
      return r;
    }
    secret = trim(*text);
    if (env.value("secret_escape", "") == "path") secret = go_path_escape(secret);
    has_secret = true;
  }
  for (const auto& req : env["requests"]) {
    std::string url = req.value("url", "");
    std::vector<std::string> headers;
    for (const auto& h : req.value("headers", nlohmann::json::array())) {
      std::string v = h.at(1).get<std::string>();
      if (has_secret) replace_all(v, kSecretPlaceholder, secret);
      headers.push_back(h.at(0).get<std::string>() + ": " + v);
    }
    if (has_secret) replace_all(url, kSecretPlaceholder, secret);
    std::string response;
    r = http_call(e, req.value("method", "POST"), url, req.value("body", ""),
                  req.value("content_type", "application/json"), headers, http, &response);
    if (telegram) {
      // telebot: the HTTP status is not looked at, only Telegram's JSON answer.
      if (r.status != 0) {
        auto j = nlohmann::json::parse(response, nullptr, false);
        if (j.is_object() && j.value("ok", false) && j.contains("result") &&
            j["result"].is_object()) {
          r.ok = true;
          r.error.clear();
        } else {
          r.ok = false;
          std::string why = j.is_object() ? j.value("description", std::string()) : "";
          r.error = "telegram: " + (why.empty() ? "unexpected response (status " +
                                                      std::to_string(r.status) + "): " +
                                                      response.substr(0, 200)
                                                : why);
        }
      }
      r.retryable = !r.ok;
      r.retry_after_ms = -1;
    } else if (!r.ok && r.status != 0) {
      for (long code : retry_codes) r.retryable = r.retryable || r.status == code;
    }
    if (!r.ok) {
      if (has_secret) replace_all(r.error, secret, "<secret>");
      return r;
    }
  }
  return r;
}

}  // namespace ruleeval::notifiers::detail
