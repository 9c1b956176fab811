// AWS STS AssumeRole (see aws_sts.hpp).
#include "ruleeval/common/utf8.hpp"
#include "aws_sts.hpp"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "http_client.hpp"
#include "ruleeval/common/env.hpp"
#include "transport_http.hpp"

namespace ruleeval::notifiers::detail {

namespace {

std::string env(const char* name) {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): nothing in ruleeval calls setenv while it runs
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_name_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_' || c == '-' || c == '.' || c == ':' || u >= 0x80;
}


// A strict reader of the XML subset described in aws_sts.hpp.
class XmlReader {
 public:
  explicit XmlReader(std::string_view s) : s_(s) {}

  Result<std::vector<std::pair<std::string, std::string>>> read() {
    if (s_.starts_with("\xEF\xBB\xBF")) i_ = 3;
    if (s_.substr(i_).starts_with("<?xml")) {
      auto end = s_.find("?>", i_);
      if (end == std::string_view::npos) return bad("unterminated XML declaration");
      i_ = end + 2;
    }
    if (auto ok = misc(); !ok) return std::unexpected(ok.error());
    if (i_ >= s_.size() || s_[i_] != '<') return bad("no root element");
    if (auto ok = element(""); !ok) return std::unexpected(ok.error());
    if (auto ok = misc(); !ok) return std::unexpected(ok.error());
    if (i_ != s_.size()) return bad("content after the root element");
    return std::move(out_);
  }

 private:
  Error bad_error(const std::string& why) const {
    return Error("malformed XML at byte " + std::to_string(i_) + ": " + why);
  }
  std::unexpected<Error> bad(const std::string& why) const {
    return std::unexpected(bad_error(why));
  }

  // White space and comments between elements.
  Result<void> misc() {
    for (;;) {
      while (i_ < s_.size() && is_space(s_[i_])) ++i_;
      if (s_.substr(i_).starts_with("<!--")) {
        auto end = s_.find("-->", i_ + 4);
        if (end == std::string_view::npos) return bad("unterminated comment");
        i_ = end + 3;
        continue;
      }
      return {};
    }
  }

  Result<std::string> name() {
    size_t b = i_;
    while (i_ < s_.size() && is_name_char(s_[i_])) ++i_;
    if (i_ == b) return bad("expected a name");
    return std::string(s_.substr(b, i_ - b));
  }

  Result<void> reference(std::string& text) {
    auto semi = s_.find(';', i_);
    if (semi == std::string_view::npos || semi - i_ > 12) return bad("bad character reference");
    std::string_view ref = s_.substr(i_ + 1, semi - i_ - 1);
    if (ref == "lt") {
      text += '<';
    } else if (ref == "gt") {
      text += '>';
    } else if (ref == "amp") {
      text += '&';
    } else if (ref == "quot") {
      text += '"';
    } else if (ref == "apos") {
      text += '\'';
    } else if (ref.size() > 1 && ref[0] == '#') {
      bool hex = ref[1] == 'x';
      std::string digits(ref.substr(hex ? 2 : 1));
      if (digits.empty()) return bad("bad character reference");
      unsigned long cp = 0;
      for (char c : digits) {
        auto u = static_cast<unsigned char>(c);
        if (!(hex ? std::isxdigit(u) : std::isdigit(u))) return bad("bad character reference");
        cp = cp * (hex ? 16 : 10) +
             static_cast<unsigned long>(std::isdigit(u) ? c - '0' : std::tolower(u) - 'a' + 10);
        if (cp > 0x10FFFF) return bad("bad character reference");
      }
      if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return bad("bad character reference");
      append_utf8(text, static_cast<uint32_t>(cp));  // cp <= 0x10FFFF, checked above
    } else {
      return bad("unknown entity &" + std::string(ref) + ";");
    }
    i_ = semi + 1;
    return {};
  }

  Result<void> element(const std::string& parent) {
    if (++depth_ > 64) return bad("elements nested too deep");
    ++i_;  // '<'
    auto qname = name();
    if (!qname) return std::unexpected(qname.error());
    std::string local = *qname;
    if (auto colon = local.rfind(':'); colon != std::string::npos) local.erase(0, colon + 1);
    const std::string path = parent.empty() ? local : parent + "/" + local;
    // Attributes: name="value" or name='value' (values checked for references, not kept).
    for (;;) {
      size_t before = i_;
      while (i_ < s_.size() && is_space(s_[i_])) ++i_;
      if (i_ >= s_.size()) return bad("unterminated start tag");
      if (s_[i_] == '/' || s_[i_] == '>') break;
      if (i_ == before) return bad("expected white space before an attribute");
      auto an = name();
      if (!an) return std::unexpected(an.error());
      while (i_ < s_.size() && is_space(s_[i_])) ++i_;
      if (i_ >= s_.size() || s_[i_] != '=') return bad("expected '=' after attribute " + *an);
      ++i_;
      while (i_ < s_.size() && is_space(s_[i_])) ++i_;
      if (i_ >= s_.size() || (s_[i_] != '"' && s_[i_] != '\'')) return bad("unquoted attribute");
      char q = s_[i_++];
      std::string ignored;
      while (i_ < s_.size() && s_[i_] != q) {
        if (s_[i_] == '<') return bad("'<' in an attribute value");
        if (s_[i_] == '&') {
          if (auto ok = reference(ignored); !ok) return ok;
        } else {
          ++i_;
        }
      }
      if (i_ >= s_.size()) return bad("unterminated attribute value");
      ++i_;
    }
    const size_t slot = out_.size();
    out_.emplace_back(path, "");
    if (s_[i_] == '/') {
      if (i_ + 1 >= s_.size() || s_[i_ + 1] != '>') return bad("expected '/>'");
      i_ += 2;
      --depth_;
      return {};
    }
    ++i_;  // '>'
    std::string text;
    for (;;) {
      if (i_ >= s_.size()) return bad("unterminated element <" + *qname + ">");
      char c = s_[i_];
      if (c == '&') {
        if (auto ok = reference(text); !ok) return ok;
      } else if (c != '<') {
        text += c;
        ++i_;
      } else if (s_.substr(i_).starts_with("</")) {
        i_ += 2;
        auto end = name();
        if (!end) return std::unexpected(end.error());
        if (*end != *qname) return bad("</" + *end + "> closes <" + *qname + ">");
        while (i_ < s_.size() && is_space(s_[i_])) ++i_;
        if (i_ >= s_.size() || s_[i_] != '>') return bad("unterminated end tag");
        ++i_;
        break;
      } else if (s_.substr(i_).starts_with("<!--")) {
        auto end = s_.find("-->", i_ + 4);
        if (end == std::string_view::npos) return bad("unterminated comment");
        i_ = end + 3;
      } else if (s_.substr(i_).starts_with("<![CDATA[")) {
        auto end = s_.find("]]>", i_ + 9);
        if (end == std::string_view::npos) return bad("unterminated CDATA section");
        text.append(s_.substr(i_ + 9, end - i_ - 9));
        i_ = end + 3;
      } else if (s_.substr(i_).starts_with("<!") || s_.substr(i_).starts_with("<?")) {
        return bad("unsupported markup");
      } else {
        if (auto ok = element(path); !ok) return ok;
      }
    }
    out_[slot].second = std::move(text);
    --depth_;
    return {};
  }

  std::string_view s_;
  size_t i_ = 0;
  int depth_ = 0;
  std::vector<std::pair<std::string, std::string>> out_;
};

const std::string* find(const std::vector<std::pair<std::string, std::string>>& doc,
                        std::string_view path) {
  for (const auto& [p, v] : doc) {
    if (p == path) return &v;
  }
  return nullptr;
}

// "2026-12-05T00:15:00Z" / "...00.123Z" / "...+00:00" (ISO 8601 as STS writes Expiration).
std::optional<std::chrono::system_clock::time_point> parse_time(const std::string& s) {
  std::tm tm{};
  int frac_end = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &frac_end) != 6) {
    return std::nullopt;
  }
  size_t i = static_cast<size_t>(frac_end);
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  }
  long offset = 0;
  std::string zone = s.substr(i);
  if (zone != "Z") {
    int zh = 0, zm = 0;
    if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') ||
        std::sscanf(zone.c_str() + 1, "%2d:%2d", &zh, &zm) != 2) {
      return std::nullopt;
    }
    offset = (zone[0] == '+' ? 1 : -1) * (zh * 3600L + zm * 60L);
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  time_t t = timegm(&tm);
  if (t == static_cast<time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t - offset);
}


struct Cached {
  AwsCredentials creds;
  std::chrono::system_clock::time_point expiry;
};

struct Cache {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<std::mutex>> fetch_mu;
  std::map<std::string, Cached> entries;
};

Cache& cache() {
  static Cache c;
  return c;
}

// Temporary credentials are renewed this long before their Expiration, so that a request
// signed with them does not reach AWS after they expired.
constexpr std::chrono::seconds kRefreshWindow{60};

std::expected<Cached, StsFailure> assume_role(Env& env, const std::string& role_arn,
                                              const std::string& region, const AwsCredentials& base,
                                              const HttpSettings& http) {
  std::string endpoint = aws_configured_endpoint("STS");
  if (endpoint.empty()) endpoint = aws_default_endpoint("sts", region);
  const std::string url = aws_operation_url(endpoint);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         Env::Default()->now().time_since_epoch())
                         .count();
  const std::string body = form_encode({{"Action", "AssumeRole"},
                                        {"Version", "2011-06-15"},
                                        {"DurationSeconds", "900"},
                                        {"RoleArn", role_arn},
                                        {"RoleSessionName", std::to_string(nanos)}});
  const std::string what = "STS AssumeRole " + role_arn + " at " + url;
  auto sent = aws_signed_post(env, url, http, "sts", region, base, body);
  if (!sent) return std::unexpected(StsFailure{0, true, what + ": " + sent.error().message});
  if (!*sent) {
    return std::unexpected(
        StsFailure{0, true, what + ": " + http::transport_reason(sent->error())});
  }
  const std::string& resp = (**sent)->body;
  const long status = (**sent)->status;
  auto doc = parse_aws_xml(resp);
  if (status < 200 || status > 299) {
    // <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>;
    // Alertmanager hands the status and the message to its Retrier: 5xx is retried.
    std::string code, message = resp.substr(0, 512);
    if (doc) {
      if (auto* c = find(*doc, "ErrorResponse/Error/Code")) code = *c;
      if (auto* m = find(*doc, "ErrorResponse/Error/Message")) message = *m;
    }
    return std::unexpected(StsFailure{status, status >= 500,
                                      what + ": unexpected status code " + std::to_string(status) +
                                          (code.empty() ? "" : " (" + code + ")") + ": " +
                                          message});
  }
  if (!doc) {
    return std::unexpected(StsFailure{0, true, what + ": " + doc.error().message});
  }
  const std::string prefix = "AssumeRoleResponse/AssumeRoleResult/Credentials/";
  auto field = [&](const char* name) { return find(*doc, prefix + name); };
  const auto *ak = field("AccessKeyId"), *sk = field("SecretAccessKey"),
             *token = field("SessionToken"), *exp = field("Expiration");
  if (!ak || !sk || !token || !exp || ak->empty() || sk->empty() || token->empty()) {
    return std::unexpected(StsFailure{
        0, true,
        what + ": the answer has no AssumeRoleResponse credentials: " + resp.substr(0, 200)});
  }
  auto expiry = parse_time(*exp);
  if (!expiry) {
    return std::unexpected(StsFailure{0, true, what + ": bad Expiration \"" + *exp + "\""});
  }
  return Cached{{*ak, *sk, *token}, *expiry};
}

}  // namespace

std::string aws_configured_endpoint(std::string_view service_id) {
  if (lower(env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) == "true") return {};
  std::string specific = env(("AWS_ENDPOINT_URL_" + std::string(service_id)).c_str());
  if (!specific.empty()) return specific;
  return env("AWS_ENDPOINT_URL");
}

std::string aws_default_endpoint(std::string_view service, const std::string& region) {
  return "https://" + std::string(service) + "." + region +
         (region.starts_with("cn-") ? ".amazonaws.com.cn" : ".amazonaws.com");
}

std::string aws_operation_url(std::string endpoint) {
  auto q = endpoint.find_first_of("?#");
  endpoint.insert(q == std::string::npos ? endpoint.size() : q, "/");
  return endpoint;
}

Result<std::vector<std::pair<std::string, std::string>>> parse_aws_xml(std::string_view doc) {
  return XmlReader(doc).read();
}

std::expected<AwsCredentials, StsFailure> sts_assume_role(Env& env, const std::string& role_arn,
                                                          const std::string& region,
                                                          const AwsCredentials& base,
                                                          const HttpSettings& http) {
  std::string endpoint = aws_configured_endpoint("STS");
  const std::string key = role_arn + '\x1f' + region + '\x1f' + endpoint + '\x1f' +
                          base.access_key + '\x1f' + base.secret_key + '\x1f' + base.session_token;
  auto& c = cache();
  auto fresh = [](const Cached& e) {
    return Env::Default()->now() + kRefreshWindow < e.expiry;
  };
  std::shared_ptr<std::mutex> fmu;
  {
    std::lock_guard lock(c.mu);
    if (auto it = c.entries.find(key); it != c.entries.end() && fresh(it->second)) {
      return it->second.creds;
    }
    auto& m = c.fetch_mu[key];
    if (!m) m = std::make_shared<std::mutex>();
    fmu = m;
  }
  std::lock_guard fetch_lock(*fmu);
  {
    std::lock_guard lock(c.mu);  // another thread may have fetched them meanwhile
    if (auto it = c.entries.find(key); it != c.entries.end() && fresh(it->second)) {
      return it->second.creds;
    }
  }
  auto got = assume_role(env, role_arn, region, base, http);
  if (!got) return std::unexpected(got.error());
  std::lock_guard lock(c.mu);
  c.entries[key] = *got;
  return got->creds;
}

void sts_reset_cache() {
  auto& c = cache();
  std::lock_guard lock(c.mu);
  c.entries.clear();
}

Result<http::SendResult> aws_signed_post(Env& env, const std::string& url,
                                         const HttpSettings& http,
                                         const std::string& service, const std::string& region,
                                         const AwsCredentials& creds, std::string_view body) {
  auto options = http_options(env, http, url, /*request_has_authorization=*/true);
  if (!options) return std::unexpected(options.error());
  options->aws_sigv4 = "aws:amz:" + region + ":" + service;
  options->aws_access_key = creds.access_key;
  options->aws_secret_key = creds.secret_key;
  // No "Expect:" override: libcurl 7.88 would sign the empty header it never sends.
  options->suppress_expect = false;
  std::vector<std::string> headers = {
      "Content-Type: application/x-www-form-urlencoded; charset=utf-8"};
  if (!creds.session_token.empty()) {
    headers.push_back("X-Amz-Security-Token: " + creds.session_token);
  }
  HttpClient& client = env.http_client();
  client.configure(std::move(*options));
  return client.send(http::Request{"POST", url, body, headers});
}

}  // namespace ruleeval::notifiers::detail
