// Structured logs for the long-running commands: logfmt (default) or JSON lines on stderr.
#pragma once

#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace ruleeval::cli {

enum class LogFormat { kLogfmt, kJson };
enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
LogLevel parse_log_level(std::string_view s);  // unknown -> info

using LogFields = std::initializer_list<std::pair<std::string_view, std::string_view>>;

class Logger {
 public:
  Logger(LogFormat format, LogLevel level) : format_(format), level_(level) {}
  void log(LogLevel level, std::string_view msg, LogFields fields);
  bool enabled(LogLevel level) const { return level >= level_; }
  void debug(std::string_view msg, LogFields f) { log(LogLevel::kDebug, msg, f); }
  void info(std::string_view msg, LogFields f) { log(LogLevel::kInfo, msg, f); }
  void warn(std::string_view msg, LogFields f) { log(LogLevel::kWarn, msg, f); }
  void error(std::string_view msg, LogFields f) { log(LogLevel::kError, msg, f); }

 private:
  LogFormat format_;
  LogLevel level_;
  std::mutex mu_;
};

}  // namespace ruleeval::cli
