#include "ruleeval/engine/regex_cache.hpp"

#include <re2/re2.h>

#include <mutex>
#include <unordered_map>

namespace ruleeval::engine {

namespace {

struct Hash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct Cache {
  std::mutex mu;
  std::unordered_map<std::string, std::shared_ptr<const RE2>, Hash, std::equal_to<>> map;
};

Cache& cache() {
  static auto* c = new Cache;  // never destroyed: usable from other static destructors
  return *c;
}

}  // namespace

Result<std::shared_ptr<const RE2>> anchored_regex(std::string_view pattern) {
  Cache& c = cache();
  {
    std::lock_guard lock(c.mu);
    auto it = c.map.find(pattern);
    if (it != c.map.end()) return it->second;
  }
  RE2::Options opts;
  opts.set_dot_nl(true);
  opts.set_log_errors(false);
  std::string anchored;
  anchored.reserve(pattern.size() + 6);
  anchored.append("^(?:").append(pattern).append(")$");
  auto re = std::make_shared<const RE2>(anchored, opts);
  if (!re->ok()) return make_error(re->error());
  std::lock_guard lock(c.mu);
  if (c.map.size() >= kRegexCacheMaxEntries) c.map.clear();
  c.map.emplace(std::string(pattern), re);
  return re;
}

}  // namespace ruleeval::engine
