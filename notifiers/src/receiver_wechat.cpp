// WeChat Work (Alertmanager 0.25's notify/wechat): an access token from
// GET <api_url>gettoken?corpid=..&corpsecret=.. (cached for 2 hours per integration, dropped on
// error 42001), then POST <api_url>message/send?access_token=.. with the weChatMessage JSON.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "http_client.hpp"
#include "receivers_am2.hpp"
#include "ruleeval/common/env.hpp"
#include "ruleeval/common/escape.hpp"
#include "ruleeval/common/url.hpp"
#include "ruleeval/http/client.hpp"
#include "transport_http.hpp"

namespace ruleeval::notifiers::detail {

using nlohmann::json;
using nlohmann::ordered_json;

std::string go_html_escape_json(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xe2' && i + 2 < in.size() && in[i + 1] == '\x80' &&
               (in[i + 2] == '\xa8' || in[i + 2] == '\xa9')) {
      out += in[i + 2] == '\xa8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

struct Token {
  std::string value;
  std::chrono::steady_clock::time_point at;
};
std::mutex g_tokens_mu;
std::map<std::string, Token> g_tokens;  // integration + corp id + secret -> token


struct Answer {
  bool transport_ok = false;
  std::string error;
  long status = 0;
  std::string body;
};

Answer request(Env& env, const std::string& url, const HttpSettings& http,
               const std::string* post_body) {
  Answer a;
  auto options = http_options(env, http, url);
  if (!options) {
    a.error = options.error().message;
    return a;
  }
  static const std::vector<std::string> kJson = {"Content-Type: application/json"};
  HttpClient& client = env.http_client();
  client.configure(std::move(*options));
  auto sent = client.send(post_body ? http::Request{"POST", url, *post_body, kJson}
                                    : http::Request{"GET", url, {}, {}});
  if (!sent) {
    // notify.RedactURL: the access token and secrets in the URL stay out of the logs.
    a.error = std::string(post_body ? "POST" : "GET") + " failed: " +
              http::transport_reason(sent.error());
    return a;
  }
  a.transport_ok = true;
  a.status = (*sent)->status;
  a.body = (*sent)->body;
  return a;
}

}  // namespace

void wechat_reset_tokens() {
  std::lock_guard lock(g_tokens_mu);
  g_tokens.clear();
}

Result<std::string> wechat_payload(const WechatConfig& c, const NotificationData& d,
                                   const Expander& x) {
  std::map<std::string, std::string> v;
  for (auto [key, text] : {std::pair{"touser", &c.to_user}, {"toparty", &c.to_party},
                           {"totag", &c.to_tag}, {"agentid", &c.agent_id},
                           {"content", &c.message}}) {
    auto r = x(*text, d);
    if (!r) return std::unexpected(r.error());
    v[key] = *r;
  }
  // weChatMessage, field order and omitempty as Go's encoding/json writes it (text and markdown
  // are structs: always present).
  ordered_json msg;
  msg["text"] = {{"content", c.message_type == "markdown" ? "" : v["content"]}};
  for (const char* k : {"touser", "toparty", "totag", "agentid"}) {
    if (!v[k].empty()) msg[k] = v[k];
  }
  msg["safe"] = "0";
  if (!c.message_type.empty()) msg["msgtype"] = c.message_type;
  msg["markdown"] = {{"content", c.message_type == "markdown" ? v["content"] : ""}};
  json out{{"body", go_html_escape_json(msg.dump()) + "\n"}};
  // Templated credentials are rendered now (the notification's data is gone at send time).
  for (auto [key, text] : {std::pair{"corpid", &c.corp_id}, {"corpsecret", &c.api_secret}}) {
    if (text->find("{{") == std::string::npos) continue;
    auto r = x(*text, d);
    if (!r) return std::unexpected(r.error());
    out[key] = *r;
  }
  return out.dump();
}

SendResult wechat_send(Env& env, const OutboxEntry& e, const WechatConfig& c) {
  SendResult r;
  json entry = json::parse(e.body, nullptr, false);
  if (entry.is_discarded() || !entry.is_object()) {
    r.error = "corrupt wechat entry";
    return r;
  }
  const std::string corpid = entry.value("corpid", c.corp_id);
  const std::string secret = entry.value("corpsecret", c.api_secret);
  const std::string key = e.integration + '\x1f' + corpid + '\x1f' + secret;
  // api_url's query is replaced for gettoken (u.RawQuery = ...) and kept for message/send.
  auto base = split_url_query(c.api_url);
  std::string token;
  {
    std::lock_guard lock(g_tokens_mu);
    if (auto it = g_tokens.find(key);
        it != g_tokens.end() && Env::Default()->monotonic_now() - it->second.at <= std::chrono::hours(2)) {
      token = it->second.value;
    }
  }
  if (token.empty()) {
    std::string url = base.base + "gettoken?" +
                      form_encode({{"corpsecret", secret}, {"corpid", corpid}});
    Answer a = request(env, url, c.http, nullptr);
    if (!a.transport_ok) {
      r.retryable = true;
      r.error = "wechat: " + a.error;
      return r;
    }
    json j = json::parse(a.body, nullptr, false);
    if (j.is_discarded()) {
      r.error = "wechat: gettoken answered no JSON (status " + std::to_string(a.status) + ")";
      return r;
    }
    if (j.is_object() && j.contains("access_token") && j["access_token"].is_string()) {
      token = j["access_token"].get<std::string>();
    }
    if (token.empty()) {
      r.error = "invalid APISecret for CorpID: " + c.corp_id;
      return r;
    }
    std::lock_guard lock(g_tokens_mu);
    g_tokens[key] = Token{token, Env::Default()->monotonic_now()};
  }
  // url.Values of the api_url's query plus access_token, re-encoded sorted.
  std::multimap<std::string, std::string> q;
  if (base.query.size() > 1) {
    std::string qs = base.query.substr(1);
    size_t start = 0;
    while (start <= qs.size()) {
      size_t amp = qs.find('&', start);
      std::string pair = qs.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
      if (!pair.empty()) {
        auto eq = pair.find('=');
        auto unesc = [](const std::string& s) { return url_query_unescape(s); };
        std::string k = unesc(pair.substr(0, eq));
        if (k != "access_token") {
          q.emplace(k, eq == std::string::npos ? "" : unesc(pair.substr(eq + 1)));
        }
      }
      if (amp == std::string::npos) break;
      start = amp + 1;
    }
  }
  q.emplace("access_token", token);
  std::string body = entry.value("body", "");
  Answer a = request(env, base.base + "message/send?" + form_encode(q), c.http, &body);
  r.status = a.status;
  if (!a.transport_ok) {
    r.retryable = true;
    r.error = "wechat: " + a.error;
    return r;
  }
  if (a.status != 200) {
    r.retryable = true;
    r.error = "unexpected status code " + std::to_string(a.status);
    return r;
  }
  json j = json::parse(a.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    r.retryable = true;
    r.error = "wechat: cannot parse the answer: " + a.body.substr(0, 200);
    return r;
  }
  // Alertmanager 0.25 reads {"code", "error"} (not WeChat's errcode/errmsg); so does ruleeval,
  // to deliver exactly when Alertmanager does.
  long code = j.contains("code") && j["code"].is_number_integer() ? j["code"].get<long>() : 0;
  std::string err = j.contains("error") && j["error"].is_string() ? j["error"].get<std::string>() : "";
  if (code == 0) {
    r.ok = true;
    return r;
  }
  r.error = "wechat: " + err;
  if (code == 42001) {  // the access token expired
    std::lock_guard lock(g_tokens_mu);
    g_tokens.erase(key);
    r.retryable = true;
  }
  return r;
}

}  // namespace ruleeval::notifiers::detail
