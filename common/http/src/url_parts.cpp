// http::url_parts (see client.hpp): libcurl's URL parser, so that a caller's view of a URL's
// host and port is the one the request will use.
#include <curl/curl.h>

#include <cctype>
#include <memory>

#include "ruleeval/http/client.hpp"

namespace ruleeval::http {

std::optional<UrlParts> url_parts(std::string_view url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), curl_url_cleanup);
  if (!u) return std::nullopt;
  const std::string s(url);
  if (curl_url_set(u.get(), CURLUPART_URL, s.c_str(), 0) != CURLUE_OK) return std::nullopt;
  auto get = [&](CURLUPart part, unsigned int flags) {
    char* v = nullptr;
    std::string out;
    if (curl_url_get(u.get(), part, &v, flags) == CURLUE_OK && v) out = v;
    curl_free(v);
    return out;
  };
  UrlParts p;
  p.scheme = get(CURLUPART_SCHEME, 0);
  for (auto& c : p.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  p.host = get(CURLUPART_HOST, 0);
  p.port = get(CURLUPART_PORT, CURLU_DEFAULT_PORT);
  return p;
}

}  // namespace ruleeval::http
