#include "logging.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "ruleeval/common/env.hpp"
#include "ruleeval/common/time_format.hpp"

namespace ruleeval::cli {
namespace {

std::string timestamp() {
  return format_rfc3339_ms(Env::Default()->now_ms(), Rfc3339Fraction::kMillis);
}


std::string_view level_name(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

void append_quoted(std::string& out, std::string_view v, bool json) {
  out += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, json ? "\\u%04x" : "\\x%02x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

void append_logfmt_value(std::string& out, std::string_view v) {
  bool needs_quotes = v.empty();
  for (char c : v) {
    if (c == ' ' || c == '=' || c == '"' || static_cast<unsigned char>(c) < 0x20) needs_quotes = true;
  }
  if (needs_quotes) {
    append_quoted(out, v, false);
  } else {
    out += v;
  }
}

}  // namespace

LogLevel parse_log_level(std::string_view s) {
  if (s == "debug") return LogLevel::kDebug;
  if (s == "warn" || s == "warning") return LogLevel::kWarn;
  if (s == "error") return LogLevel::kError;
  return LogLevel::kInfo;
}

void Logger::log(LogLevel level, std::string_view msg, LogFields fields) {
  if (level < level_) return;
  std::string line;
  if (format_ == LogFormat::kJson) {
    line = "{\"ts\":\"" + timestamp() + "\",\"level\":\"" + std::string(level_name(level)) +
           "\",\"msg\":";
    append_quoted(line, msg, true);
    for (const auto& [k, v] : fields) {
      line += ',';
      append_quoted(line, k, true);
      line += ':';
      append_quoted(line, v, true);
    }
    line += "}\n";
  } else {
    line = "ts=" + timestamp() + " level=" + std::string(level_name(level)) + " msg=";
    append_logfmt_value(line, msg);
    for (const auto& [k, v] : fields) {
      line += ' ';
      line += k;
      line += '=';
      append_logfmt_value(line, v);
    }
    line += '\n';
  }
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace ruleeval::cli
