// ruleeval::http::Client on libcurl (see client.hpp).
#include "ruleeval/http/client.hpp"

#include <curl/curl.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <mutex>
#include <utility>

#include "ruleeval/common/env.hpp"

namespace ruleeval::http {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_ALL); });
}

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

// Appends `line` to `list`; false when out of memory (the list is kept).
bool append(Slist& list, const std::string& line) {
  curl_slist* n = curl_slist_append(list.get(), line.c_str());
  if (n == nullptr) return false;
  (void)list.release();
  list.reset(n);
  return true;
}

TransportKind classify(CURLcode rc) {
  using K = TransportKind;
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return K::kConnect;
    case CURLE_OPERATION_TIMEDOUT:
      return K::kTimeout;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
      return K::kTls;
    case CURLE_FILESIZE_EXCEEDED:
      return K::kTooLarge;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_LOGIN_DENIED:
      return K::kInvalid;
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT:
      return K::kLocal;
    default:
      return K::kTransfer;
  }
}

long tls_version(TlsOptions::MinVersion v) {
  switch (v) {
    case TlsOptions::MinVersion::kTls10:
      return CURL_SSLVERSION_TLSv1_0;
    case TlsOptions::MinVersion::kTls11:
      return CURL_SSLVERSION_TLSv1_1;
    case TlsOptions::MinVersion::kTls12:
      return CURL_SSLVERSION_TLSv1_2;
    case TlsOptions::MinVersion::kTls13:
      return CURL_SSLVERSION_TLSv1_3;
    case TlsOptions::MinVersion::kDefault:
      break;
  }
  return CURL_SSLVERSION_DEFAULT;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && strncasecmp(s.data(), prefix.data(), prefix.size()) == 0;
}

}  // namespace

std::string transport_reason(const Error& e) {
  const int rc = curl_code(e);
  return rc != 0 ? std::string(curl_easy_strerror(static_cast<CURLcode>(rc))) : e.message;
}

int64_t parse_retry_after(std::string_view value) {
  std::string v(value);
  v.erase(0, v.find_first_not_of(" \t"));
  v.erase(v.find_last_not_of(" \t\r\n") + 1);
  if (v.empty()) return -1;
  if (std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
    return std::stoll(v.substr(0, 9)) * 1000;
  }
  time_t t = curl_getdate(v.c_str(), nullptr);
  if (t > 0) {
    const int64_t now_s = Env::Default()->now_ms() / 1000;
    return std::max<int64_t>(0, (static_cast<int64_t>(t) - now_s) * 1000);
  }
  return -1;
}

void form_escape_append(std::string& out, std::string_view s) {
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

struct Client::Impl {
  CURL* h = nullptr;
  bool applied = false;  // options were applied to h once (a change needs curl_easy_reset)
  bool dirty = true;     // options changed since they were applied
  // What is set on the handle, so that an unchanged request sets nothing again.
  std::string url;
  std::string method;
  std::vector<std::string> lines;  // the header lines `headers` was built from
  Slist headers;
  bool headers_set = false;
  Slist connect_to;     // tls.server_name
  Slist proxy_headers;  // proxy_connect_headers
  // Limits of the write callback, from the options.
  size_t max_body = 0;
  bool truncate = false;
  bool over_limit = false;
  Response response;
  char errbuf[CURL_ERROR_SIZE] = {};

  static size_t on_data(char* ptr, size_t size, size_t nmemb, void* self_ptr) {
    auto* self = static_cast<Impl*>(self_ptr);
    const size_t n = size * nmemb;
    std::string& body = self->response.body;
    if (self->max_body != 0) {
      if (self->truncate) {
        if (body.size() < self->max_body) {
          body.append(ptr, n);
        } else {
          self->response.truncated = true;
        }
        return n;
      }
      if (body.size() + n > self->max_body) {
        self->over_limit = true;
        return 0;  // makes curl fail with CURLE_WRITE_ERROR
      }
    }
    body.append(ptr, n);
    return n;
  }

  static size_t on_header(char* buf, size_t size, size_t n, void* self_ptr) {
    auto* self = static_cast<Impl*>(self_ptr);
    std::string_view line(buf, size * n);
    constexpr std::string_view kName = "retry-after:";
    if (line.size() > kName.size() && starts_with_nocase(line, kName)) {
      self->response.retry_after_ms = parse_retry_after(line.substr(kName.size()));
    }
    return size * n;
  }

  void apply(const Options& o) {
    if (applied) curl_easy_reset(h);  // keeps the connection and TLS session caches
    applied = true;
    url.clear();
    method.clear();
    lines.clear();
    headers_set = false;
    CURL* c = h;
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Impl::on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(o.timeout_ms));
    if (o.connect_timeout_ms > 0) {
      curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout_ms));
    }
    max_body = o.max_body_bytes;
    truncate = o.truncate_body;
    if (max_body != 0 && !truncate) {
      curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_body));
    }
    if (!o.user_agent.empty()) curl_easy_setopt(c, CURLOPT_USERAGENT, o.user_agent.c_str());
    if (o.gzip) curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
    if (o.http_only) curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (o.basic_auth) {
      curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(c, CURLOPT_USERNAME, o.basic_user.c_str());
      curl_easy_setopt(c, CURLOPT_PASSWORD, o.basic_password.c_str());
    }
    if (!o.aws_sigv4.empty()) {
      curl_easy_setopt(c, CURLOPT_AWS_SIGV4, o.aws_sigv4.c_str());
      curl_easy_setopt(c, CURLOPT_USERNAME, o.aws_access_key.c_str());
      curl_easy_setopt(c, CURLOPT_PASSWORD, o.aws_secret_key.c_str());
    }
    const TlsOptions& t = o.tls;
    if (!t.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, t.ca_file.c_str());
    if (!t.cert_file.empty()) curl_easy_setopt(c, CURLOPT_SSLCERT, t.cert_file.c_str());
    if (!t.key_file.empty()) curl_easy_setopt(c, CURLOPT_SSLKEY, t.key_file.c_str());
    if (t.min_version != TlsOptions::MinVersion::kDefault) {
      curl_easy_setopt(c, CURLOPT_SSLVERSION, tls_version(t.min_version));
    }
    if (t.insecure_skip_verify) {
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (o.proxy) curl_easy_setopt(c, CURLOPT_PROXY, o.proxy->c_str());
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, o.follow_redirects ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, o.max_redirects);
    switch (o.version) {
      case Options::Version::kHttp1_1:
        curl_easy_setopt(c, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
        break;
      case Options::Version::kHttp2Tls:
        curl_easy_setopt(c, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
        break;
      case Options::Version::kDefault:
        break;
    }
    if (o.parse_retry_after) {
      curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &Impl::on_header);
      curl_easy_setopt(c, CURLOPT_HEADERDATA, this);
    }
  }
};

Client::Client() : Client(Options{}) {}

Client::Client(Options options) : impl_(std::make_unique<Impl>()), options_(std::move(options)) {
  global_init();
  impl_->h = curl_easy_init();
}

Client::~Client() {
  if (impl_->h != nullptr) curl_easy_cleanup(impl_->h);
}

void Client::configure(Options options) {
  options_ = std::move(options);
  impl_->dirty = true;
}

SendResult Client::send(const Request& request) {
  Impl& im = *impl_;
  if (im.h == nullptr) {
    return std::unexpected(transport_error(TransportKind::kLocal, "curl_easy_init failed"));
  }
  if (im.dirty) {
    im.apply(options_);
    im.dirty = false;
  }
  CURL* c = im.h;

  // tls.server_name: the URL names the TLS host, CURLOPT_CONNECT_TO keeps the connection on the
  // original host, and a Host header keeps the original Host.
  std::string effective, host_line;
  std::string_view url = request.url;
  if (!options_.tls.server_name.empty()) {
    std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), curl_url_cleanup);
    const std::string full(request.url);
    if (!u || curl_url_set(u.get(), CURLUPART_URL, full.c_str(), 0) != CURLUE_OK) {
      return std::unexpected(
          transport_error(TransportKind::kInvalid, "invalid URL \"" + full + "\""));
    }
    auto part = [&](CURLUPart what, unsigned flags) {
      char* p = nullptr;
      curl_url_get(u.get(), what, &p, flags);
      std::string out = p != nullptr ? p : "";
      curl_free(p);
      return out;
    };
    const std::string host = part(CURLUPART_HOST, 0);
    const std::string port = part(CURLUPART_PORT, CURLU_DEFAULT_PORT);
    const std::string explicit_port = part(CURLUPART_PORT, 0);
    host_line = "Host: " + host + (explicit_port.empty() ? "" : ":" + explicit_port);
    curl_url_set(u.get(), CURLUPART_HOST, options_.tls.server_name.c_str(), 0);
    effective = part(CURLUPART_URL, 0);
    if (!effective.empty()) url = effective;
    Slist ct;
    if (!append(ct, options_.tls.server_name + ":" + port + ":" + host + ":" + port)) {
      return std::unexpected(transport_error(TransportKind::kLocal, "out of memory"));
    }
    curl_easy_setopt(c, CURLOPT_CONNECT_TO, ct.get());
    im.connect_to = std::move(ct);
  }
  if (url != im.url) {
    im.url.assign(url);
    curl_easy_setopt(c, CURLOPT_URL, im.url.c_str());  // libcurl keeps its own copy
  }

  // proxy_connect_headers: to the proxy only, and only in CONNECT (an https URL through a proxy).
  if (!options_.proxy_connect_headers.empty()) {
    const bool tunnelled = starts_with_nocase(request.url, "https://");
    if (options_.proxy && !options_.proxy->empty() && tunnelled) {
      Slist ph;
      for (const auto& line : options_.proxy_connect_headers) (void)append(ph, line);
      curl_easy_setopt(c, CURLOPT_HEADEROPT, CURLHEADER_SEPARATE);
      curl_easy_setopt(c, CURLOPT_PROXYHEADER, ph.get());
      im.proxy_headers = std::move(ph);
    } else {
      curl_easy_setopt(c, CURLOPT_PROXYHEADER, static_cast<curl_slist*>(nullptr));
      im.proxy_headers.reset();
    }
  }

  if (request.method != im.method) {
    im.method.assign(request.method);
    if (request.method == "GET") {
      curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, static_cast<const char*>(nullptr));
    } else {
      curl_easy_setopt(c, CURLOPT_POST, 1L);
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST,
                       request.method == "POST" ? nullptr : im.method.c_str());
    }
  }
  if (request.method != "GET") {
    // Never a null pointer: libcurl would read the body from stdin.
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data() != nullptr ? request.body.data() : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }

  // Header lines: the request's, Authorization, Host (server_name), "Expect:" (unless off). The
  // list is kept while the lines stay the same.
  const std::string auth_line =
      options_.authorization.empty() ? std::string() : "Authorization: " + options_.authorization;
  auto for_each_line = [&](auto&& fn) {
    for (const auto& l : request.headers) {
      if (!fn(std::string_view(l))) return false;
    }
    if (!auth_line.empty() && !fn(std::string_view(auth_line))) return false;
    if (!host_line.empty() && !fn(std::string_view(host_line))) return false;
    return !options_.suppress_expect || fn(std::string_view("Expect:"));
  };
  size_t i = 0;
  const bool same = im.headers_set && for_each_line([&](std::string_view l) {
                      return i < im.lines.size() && im.lines[i++] == l;
                    }) && i == im.lines.size();
  if (!same) {
    std::vector<std::string> lines;
    Slist list;
    const bool ok = for_each_line([&](std::string_view l) {
      lines.emplace_back(l);
      return append(list, lines.back());
    });
    if (!ok) {
      return std::unexpected(
          transport_error(TransportKind::kLocal, "out of memory building request headers"));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
    im.headers = std::move(list);
    im.lines = std::move(lines);
    im.headers_set = true;
  }

  im.response.body.clear();
  im.response.content_type.clear();
  im.response.retry_after_ms = -1;
  im.response.truncated = false;
  im.response.status = 0;
  im.over_limit = false;
  im.errbuf[0] = '\0';

  const CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (rc != CURLE_OK) {
    const int code = static_cast<int>(rc);
    if (im.over_limit || rc == CURLE_FILESIZE_EXCEEDED) {
      return std::unexpected(transport_error(
          TransportKind::kTooLarge,
          "response larger than the limit of " + std::to_string(im.max_body) + " bytes", code,
          status));
    }
    return std::unexpected(transport_error(
        classify(rc), im.errbuf[0] != '\0' ? std::string(im.errbuf) : curl_easy_strerror(rc), code,
        status));
  }
  im.response.status = status;
  char* ctype = nullptr;
  curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ctype);
  if (ctype != nullptr) im.response.content_type = ctype;
  return &im.response;
}

Client& thread_client() {
  thread_local Client client;
  return client;
}

namespace {

class CurlProvider final : public HttpProvider {
 public:
  HttpClient& this_thread_client() override { return thread_client(); }
  std::unique_ptr<HttpClient> new_client(Options options) override {
    return std::make_unique<Client>(std::move(options));
  }
};

}  // namespace

void install_default_env_http() {
  static CurlProvider provider;
  Env::install_default_http(&provider);
}

}  // namespace ruleeval::http
