// URL helpers shared by everything that shows or builds URLs.
#pragma once

#include <string>
#include <string_view>

namespace ruleeval {

// Go's url.URL.Redacted(), as Prometheus shows URLs: the password of the userinfo part is
// replaced by "xxxxx" ("http://user:xxxxx@host/"). Anything that is not a URL with userinfo is
// returned unchanged.
std::string redact_url(std::string_view url);

// Redacts every URL with userinfo that appears in `text` (error messages that quote a URL).
std::string redact_urls_in(std::string_view text);

// Splits "scheme://host/path?query#frag" into the part before '?' and the query ("" or
// "?a=b"); a fragment is dropped. Lets a path be appended to a base URL that has a query.
struct SplitUrl {
  std::string base;
  std::string query;
};
SplitUrl split_url_query(std::string_view url);

}  // namespace ruleeval
