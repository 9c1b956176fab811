#include "ruleeval/rules/report.hpp"

#include <set>
#include <unordered_map>

#include "fmt/format.h"
#include "ruleeval/common/escape.hpp"
#include "ruleeval/rules/lint.hpp"

namespace ruleeval::rules {

std::optional<OutputFormat> parse_output_format(std::string_view s) {
  if (s == "text") return OutputFormat::Text;
  if (s == "json") return OutputFormat::Json;
  if (s == "github") return OutputFormat::Github;
  if (s == "sarif") return OutputFormat::Sarif;
  if (s == "checkstyle") return OutputFormat::Checkstyle;
  return std::nullopt;
}

ReportSummary summarize(std::span<const Diagnostic> diags, size_t files) {
  ReportSummary s;
  s.files = files;
  for (const auto& d : diags) {
    switch (d.severity) {
      case Severity::Error:
        ++s.errors;
        break;
      case Severity::Warning:
        ++s.warnings;
        break;
      case Severity::Info:
        ++s.infos;
        break;
    }
  }
  return s;
}

std::string to_string(const ReportSummary& s) {
  const size_t total = s.errors + s.warnings + s.infos;
  const std::string files = fmt::format("{} file{}", s.files, s.files == 1 ? "" : "s");
  if (total == 0) return "no problems in " + files;
  return fmt::format("{} problem{} ({} error{}, {} warning{}, {} info) in {}", total,
                     total == 1 ? "" : "s", s.errors, s.errors == 1 ? "" : "s", s.warnings,
                     s.warnings == 1 ? "" : "s", s.infos, files);
}

std::string json_quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

namespace {


// GitHub workflow command escaping; properties also escape ':' and ','.
std::string gh_escape(std::string_view s, bool property) {
  std::string out;
  for (char c : s) {
    if (c == '%') {
      out += "%25";
    } else if (c == '\r') {
      out += "%0D";
    } else if (c == '\n') {
      out += "%0A";
    } else if (property && c == ':') {
      out += "%3A";
    } else if (property && c == ',') {
      out += "%2C";
    } else {
      out += c;
    }
  }
  return out;
}

std::string_view source_line(std::string_view text, uint32_t line) {
  size_t off = 0;
  for (uint32_t l = 1; l < line; ++l) {
    off = text.find('\n', off);
    if (off == std::string_view::npos) return {};
    ++off;
  }
  if (off > text.size()) return {};
  size_t end = text.find('\n', off);
  if (end == std::string_view::npos) end = text.size();
  std::string_view s = text.substr(off, end - off);
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}

std::string render_text(std::span<const Diagnostic> diags, std::span<const RuleFile* const> files) {
  std::unordered_map<std::string_view, const RuleFile*> texts;
  for (const RuleFile* f : files) texts.emplace(f->path, f);
  std::string out;
  for (const auto& d : diags) {
    out += d.to_string();
    out += '\n';
    auto it = texts.find(d.where.file);
    if (it == texts.end() || d.where.line == 0) continue;
    std::string_view line = it->second->line_starts.empty()
                                ? source_line(it->second->text, d.where.line)
                                : it->second->line_text(d.where.line);
    if (line.empty()) continue;
    const std::string num = std::to_string(d.where.line);
    out += fmt::format(" {} | {}\n", num, line);
    std::string pad;
    // Keep tabs so the caret lines up under tab-indented text.
    for (uint32_t i = 1; i < d.where.col && i - 1 < line.size(); ++i) {
      pad += line[i - 1] == '\t' ? '\t' : ' ';
    }
    out += fmt::format(" {} | {}^\n", std::string(num.size(), ' '), pad);
  }
  return out;
}

std::string render_json(std::span<const Diagnostic> diags) {
  std::string out = "[";
  bool first = true;
  for (const auto& d : diags) {
    out += first ? "\n  " : ",\n  ";
    first = false;
    out += fmt::format(
        "{{\"file\":{},\"line\":{},\"column\":{},\"severity\":\"{}\",\"check\":{},"
        "\"message\":{},\"group\":{},\"rule\":{}}}",
        json_quote(d.where.file), d.where.line, d.where.col, to_string(d.severity),
        json_quote(d.check), json_quote(d.message), json_quote(d.group), json_quote(d.rule));
  }
  out += first ? "]\n" : "\n]\n";
  return out;
}

std::string render_github(std::span<const Diagnostic> diags) {
  std::string out;
  for (const auto& d : diags) {
    const char* level = d.severity == Severity::Error     ? "error"
                        : d.severity == Severity::Warning ? "warning"
                                                          : "notice";
    out += fmt::format("::{} file={}", level, gh_escape(d.where.file, true));
    if (d.where.line != 0) out += fmt::format(",line={}", d.where.line);
    if (d.where.col != 0) out += fmt::format(",col={}", d.where.col);
    out += fmt::format(",title={}::{}\n", gh_escape(d.check, true), gh_escape(d.message, false));
  }
  return out;
}

std::string render_sarif(std::span<const Diagnostic> diags) {
  std::string out =
      "{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\","
      "\"runs\":[{\"tool\":{\"driver\":{\"name\":\"ruleeval\",\"informationUri\":"
      "\"https://github.com/ruleeval/ruleeval\",\"rules\":[";
  bool first = true;
  for (const auto& c : all_checks()) {
    out += first ? "" : ",";
    first = false;
    out += fmt::format("{{\"id\":{},\"shortDescription\":{{\"text\":{}}}}}", json_quote(c.name),
                       json_quote(c.summary));
  }
  out += "]}},\"results\":[";
  first = true;
  for (const auto& d : diags) {
    out += first ? "" : ",";
    first = false;
    const char* level = d.severity == Severity::Error     ? "error"
                        : d.severity == Severity::Warning ? "warning"
                                                          : "note";
    std::string region;
    if (d.where.line != 0) {
      region = fmt::format(",\"region\":{{\"startLine\":{}", d.where.line);
      if (d.where.col != 0) region += fmt::format(",\"startColumn\":{}", d.where.col);
      region += "}";
    }
    out += fmt::format(
        "{{\"ruleId\":{},\"level\":\"{}\",\"message\":{{\"text\":{}}},\"locations\":[{{"
        "\"physicalLocation\":{{\"artifactLocation\":{{\"uri\":{}}}{}}}}}]}}",
        json_quote(d.check), level, json_quote(d.message), json_quote(d.where.file), region);
  }
  out += "]}]}\n";
  return out;
}

std::string render_checkstyle(std::span<const Diagnostic> diags,
                              std::span<const RuleFile* const> files) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<checkstyle version=\"4.3\">\n";
  // Every linted file appears, clean ones with no errors, as checkstyle consumers expect.
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const RuleFile* f : files) {
    if (seen.insert(f->path).second) names.push_back(f->path);
  }
  for (const auto& d : diags) {
    if (seen.insert(d.where.file).second) names.push_back(d.where.file);
  }
  for (const auto& name : names) {
    out += fmt::format("  <file name=\"{}\">\n", xml_escape(name));
    for (const auto& d : diags) {
      if (d.where.file != name) continue;
      out += fmt::format(
          "    <error line=\"{}\" column=\"{}\" severity=\"{}\" message=\"{}\" "
          "source=\"ruleeval.{}\"/>\n",
          d.where.line, d.where.col, to_string(d.severity), xml_escape(d.message),
          xml_escape(d.check));
    }
    out += "  </file>\n";
  }
  out += "</checkstyle>\n";
  return out;
}

}  // namespace

std::string render_report(std::span<const Diagnostic> diags, OutputFormat format,
                          std::span<const RuleFile* const> files) {
  switch (format) {
    case OutputFormat::Text:
      return render_text(diags, files);
    case OutputFormat::Json:
      return render_json(diags);
    case OutputFormat::Github:
      return render_github(diags);
    case OutputFormat::Sarif:
      return render_sarif(diags);
    case OutputFormat::Checkstyle:
      return render_checkstyle(diags, files);
  }
  return {};
}

}  // namespace ruleeval::rules
