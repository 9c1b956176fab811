#include "promql_regex.hpp"

#include <re2/re2.h>

#include <unordered_map>

namespace ruleeval::promql::detail {

const RegexInfo& regex_info(std::string_view pattern) {
  constexpr size_t kMaxEntries = 4096;
  thread_local std::unordered_map<std::string, RegexInfo> cache;
  auto it = cache.find(std::string(pattern));
  if (it != cache.end()) return it->second;
  if (cache.size() >= kMaxEntries) cache.clear();
  RE2::Options o;
  o.set_dot_nl(true);
  o.set_log_errors(false);
  RE2 re(re2::StringPiece(pattern.data(), pattern.size()), o);
  RegexInfo info;
  info.ok = re.ok();
  if (info.ok) {
    info.matches_empty = RE2::FullMatch("", re);
  } else {
    info.error = re.error();
  }
  return cache.emplace(std::string(pattern), std::move(info)).first->second;
}

}  // namespace ruleeval::promql::detail
