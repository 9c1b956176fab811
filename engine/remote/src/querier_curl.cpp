#include "querier_curl.hpp"

#include <fmt/format.h>

#include <cstring>
#include <mutex>
#include <sstream>
#include <system_error>

#include "ruleeval/common/env.hpp"

namespace ruleeval::engine {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

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

}  // namespace

CurlSession::CurlSession(const HttpClientConfig& config) : config_(config) {
  global_init();
  curl_ = curl_easy_init();
  if (curl_ != nullptr) configure();
}

CurlSession::~CurlSession() {
  if (curl_ != nullptr) curl_easy_cleanup(curl_);
  curl_slist_free_all(headers_);
}

void CurlSession::configure() {
  CURL* c = curl_;
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &CurlSession::on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf_);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout_ms));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config_.connect_timeout_ms));
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(config_.max_response_bytes));
  curl_easy_setopt(c, CURLOPT_USERAGENT, "ruleeval/0.1");
  if (config_.gzip) curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
  if (!config_.basic_username.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, config_.basic_username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, config_.basic_password.c_str());
  }
  if (!config_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, config_.ca_file.c_str());
  if (!config_.cert_file.empty()) curl_easy_setopt(c, CURLOPT_SSLCERT, config_.cert_file.c_str());
  if (!config_.key_file.empty()) curl_easy_setopt(c, CURLOPT_SSLKEY, config_.key_file.c_str());
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, config_.insecure_skip_verify ? 0L : 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, config_.insecure_skip_verify ? 0L : 2L);
}

size_t CurlSession::on_data(char* ptr, size_t size, size_t nmemb, void* self_ptr) {
  auto* self = static_cast<CurlSession*>(self_ptr);
  size_t n = size * nmemb;
  if (self->buffer_.size() + n > self->config_.max_response_bytes) {
    self->over_limit_ = true;
    return 0;  // makes curl fail with CURLE_WRITE_ERROR
  }
  self->buffer_.append(ptr, n);
  return n;
}

void CurlSession::escape_append(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out.reserve(out.size() + s.size() + 8);
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
}

std::string CurlSession::escape(std::string_view s) {
  std::string out;
  escape_append(out, s);
  return out;
}

std::expected<HttpReply, QueryError> CurlSession::post(const std::string& url,
                                                       std::string_view body,
                                                       std::string_view content_type,
                                                       std::span<const std::string> extra) {
  QueryError err;
  err.kind = QueryError::Kind::kTransport;
  if (curl_ == nullptr) {
    err.message = "curl_easy_init failed";
    return std::unexpected(err);
  }
  // Header list: reused while the content type and extra headers stay the same.
  std::string key(content_type);
  for (const auto& h : extra) (key += '\n') += h;
  if (headers_ == nullptr || key != headers_key_ || !config_.bearer_token_file.empty()) {
    std::string bearer;
    if (!config_.bearer_token_file.empty()) {
      auto token = read_token_file(config_.bearer_token_file);
      if (!token) {
        err.kind = QueryError::Kind::kConfig;
        err.message = token.error();
        return std::unexpected(err);
      }
      bearer = std::move(*token);
    } else {
      bearer = config_.bearer_token;
    }
    std::unique_ptr<curl_slist, SlistDeleter> headers;
    bool ok = true;
    auto add_header = [&](const std::string& line) {
      curl_slist* n = curl_slist_append(headers.get(), line.c_str());
      if (n == nullptr) {
        ok = false;
        return;
      }
      (void)headers.release();
      headers.reset(n);
    };
    add_header("Content-Type: " + std::string(content_type));
    add_header("Expect:");  // no 100-continue round trip for larger POST bodies
    for (const auto& [k, v] : config_.headers) add_header(k + ": " + v);
    for (const auto& h : extra) add_header(h);
    if (!bearer.empty()) add_header("Authorization: Bearer " + bearer);
    if (!ok) {
      err.message = "out of memory building request headers";
      return std::unexpected(err);
    }
    curl_slist_free_all(headers_);
    headers_ = headers.release();
    headers_key_ = std::move(key);
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
  }

  CURL* c = curl_;
  buffer_.clear();
  over_limit_ = false;
  errbuf_[0] = '\0';
  if (url != url_) {
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());  // libcurl keeps its own copy
    url_ = url;
  }
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));

  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (rc != CURLE_OK) {
    err.http_status = static_cast<int>(status);
    if (over_limit_ || rc == CURLE_FILESIZE_EXCEEDED) {
      err.message =
          fmt::format("response larger than the limit of {} bytes", config_.max_response_bytes);
    } else {
      err.message = errbuf_[0] != '\0' ? std::string(errbuf_) : curl_easy_strerror(rc);
    }
    return std::unexpected(err);
  }
  return HttpReply{static_cast<int>(status), &buffer_};
}

}  // namespace ruleeval::engine
