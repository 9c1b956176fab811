#include "ruleeval/common/url.hpp"

#include <cctype>

namespace ruleeval {

std::string redact_url(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const size_t auth_start = scheme + 3;
  size_t auth_end = url.find_first_of("/?#", auth_start);
  if (auth_end == std::string_view::npos) auth_end = url.size();
  const std::string_view authority = url.substr(auth_start, auth_end - auth_start);
  const size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  const std::string_view userinfo = authority.substr(0, at);
  const size_t colon = userinfo.find(':');
  if (colon == std::string_view::npos) return std::string(url);  // no password: as Go
  std::string out(url.substr(0, auth_start));
  out.append(userinfo.substr(0, colon)).append(":xxxxx");
  out.append(authority.substr(at));
  out.append(url.substr(auth_end));
  return out;
}

std::string redact_urls_in(std::string_view text) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t s = text.find("://", pos);
    if (s == std::string_view::npos) break;
    // Back to the start of the scheme.
    size_t b = s;
    while (b > pos && (std::isalnum(static_cast<unsigned char>(text[b - 1])) ||
                       text[b - 1] == '+' || text[b - 1] == '-' || text[b - 1] == '.')) {
      --b;
    }
    size_t e = s + 3;
    while (e < text.size() && !std::isspace(static_cast<unsigned char>(text[e])) &&
           text[e] != '"' && text[e] != '\'' && text[e] != '>' && text[e] != '<') {
      ++e;
    }
    out.append(text.substr(pos, b - pos));
    out += redact_url(text.substr(b, e - b));
    pos = e;
  }
  out.append(text.substr(pos));
  return out;
}

SplitUrl split_url_query(std::string_view url) {
  SplitUrl out;
  std::string_view u = url;
  if (size_t h = u.find('#'); h != std::string_view::npos) u = u.substr(0, h);
  const size_t q = u.find('?');
  out.base = std::string(u.substr(0, q));
  if (q != std::string_view::npos && q + 1 < u.size()) out.query = std::string(u.substr(q));
  return out;
}

}  // namespace ruleeval
