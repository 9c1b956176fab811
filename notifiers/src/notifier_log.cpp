// Where the notifier's errors are logged: set_notifier_log()'s sink, else stderr.
#include <functional>
#include <iostream>
#include <mutex>
#include <string>
#include <string_view>

#include "notifier_internal.hpp"
#include "ruleeval/common/url.hpp"

namespace ruleeval::notifiers {

namespace {

std::mutex g_log_mu;
std::function<void(std::string_view, bool)> g_log;  // set_notifier_log(); else stderr

}  // namespace

namespace detail {

void log_error(const std::string& msg) {
  const std::string text = redact_urls_in(msg);
  std::lock_guard lock(g_log_mu);
  if (g_log) {
    g_log("notifier: " + text, true);
  } else {
    std::cerr << "ruleeval notifier: " << text << '\n';
  }
}

}  // namespace detail

void set_notifier_log(std::function<void(std::string_view message, bool error)> fn) {
  std::lock_guard lock(g_log_mu);
  g_log = std::move(fn);
}

}  // namespace ruleeval::notifiers
