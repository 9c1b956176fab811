// `.ruleeval.yaml`: which checks run, their severities and their parameters.
#include <yaml-cpp/yaml.h>

#include <sstream>

#include "ruleeval/common/env.hpp"
#include "fmt/format.h"
#include "ruleeval/parser/duration.hpp"
#include "ruleeval/rules/features.hpp"
#include "ruleeval/rules/lint.hpp"

namespace ruleeval::rules {
namespace {

SourceLocation where(const std::string& path, const YAML::Node& n) {
  SourceLocation loc;
  loc.file = path;
  const YAML::Mark m = n.Mark();
  if (!m.is_null() && m.line >= 0) {
    loc.line = static_cast<uint32_t>(m.line + 1);
    loc.col = static_cast<uint32_t>(m.column + 1);
  }
  return loc;
}

Result<std::vector<std::string>> string_list(const std::string& path, const YAML::Node& n,
                                             std::string_view what) {
  std::vector<std::string> out;
  if (n.IsNull()) return out;
  if (!n.IsSequence()) return make_error(fmt::format("{} must be a list of strings", what), where(path, n));
  for (const auto& item : n) {
    if (!item.IsScalar()) {
      return make_error(fmt::format("{} must be a list of strings", what), where(path, item));
    }
    out.push_back(item.Scalar());
  }
  return out;
}

Result<std::vector<std::string>> check_names(const std::string& path, const YAML::Node& n,
                                             std::string_view what) {
  auto list = string_list(path, n, what);
  if (!list) return list;
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string& name = (*list)[i];
    bool known = name == "all" || find_check(name) != nullptr;
    for (const auto& c : all_checks()) {
      if (c.name.starts_with(name + "/")) known = true;
    }
    if (!known) {
      return make_error(fmt::format("unknown check \"{}\" in {}", name, what), where(path, n[i]));
    }
  }
  return list;
}

Result<int64_t> duration(const std::string& path, const YAML::Node& n, std::string_view what) {
  if (!n.IsScalar()) return make_error(fmt::format("{} must be a duration", what), where(path, n));
  auto ms = parse_duration(n.Scalar());
  if (!ms) return make_error(fmt::format("{}: {}", what, ms.error().message), where(path, n));
  if (*ms <= 0) return make_error(fmt::format("{} must be positive", what), where(path, n));
  return *ms;
}

Result<LintConfig> parse_config(const std::string& path, const YAML::Node& root) {
  LintConfig cfg;
  if (root.IsNull()) return cfg;
  if (!root.IsMap()) return make_error("config must be a mapping", where(path, root));
  for (const auto& kv : root) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
    const YAML::Node& v = kv.second;
    if (key == "checks") {
      if (!v.IsMap()) return make_error("checks must be a mapping", where(path, v));
      for (const auto& ckv : v) {
        const std::string ck = ckv.first.IsScalar() ? ckv.first.Scalar() : std::string();
        if (ck == "disabled") {
          auto l = check_names(path, ckv.second, "checks.disabled");
          if (!l) return std::unexpected(l.error());
          cfg.disabled = std::move(*l);
        } else if (ck == "enabled") {
          auto l = check_names(path, ckv.second, "checks.enabled");
          if (!l) return std::unexpected(l.error());
          cfg.enabled = std::move(*l);
        } else if (ck == "severity") {
          if (!ckv.second.IsMap()) {
            return make_error("checks.severity must map check names to info|warning|error",
                              where(path, ckv.second));
          }
          for (const auto& s : ckv.second) {
            const std::string name = s.first.IsScalar() ? s.first.Scalar() : std::string();
            if (find_check(name) == nullptr) {
              return make_error(fmt::format("unknown check \"{}\" in checks.severity", name),
                                where(path, s.first));
            }
            auto sev = s.second.IsScalar() ? parse_severity(s.second.Scalar()) : std::nullopt;
            if (!sev) {
              return make_error("severity must be info, warning or error", where(path, s.second));
            }
            cfg.severity[name] = *sev;
          }
        } else {
          return make_error(fmt::format("unknown field \"{}\" in checks", ck),
                            where(path, ckv.first));
        }
      }
    } else if (key == "scrape_interval") {
      auto d = duration(path, v, key);
      if (!d) return std::unexpected(d.error());
      cfg.scrape_interval_ms = *d;
    } else if (key == "lookback") {
      auto d = duration(path, v, key);
      if (!d) return std::unexpected(d.error());
      cfg.lookback_ms = *d;
    } else if (key == "required_labels") {
      auto l = string_list(path, v, key);
      if (!l) return std::unexpected(l.error());
      cfg.required_labels = std::move(*l);
    } else if (key == "enable_features") {
      auto l = string_list(path, v, key);
      if (!l) return std::unexpected(l.error());
      for (const auto& f : *l) {
        if (!apply_feature(f, cfg.experimental_promql)) {
          return make_error(fmt::format("unknown feature \"{}\" in enable_features", f),
                            where(path, v));
        }
      }
    } else if (key == "required_annotations") {
      auto l = string_list(path, v, key);
      if (!l) return std::unexpected(l.error());
      cfg.required_annotations = std::move(*l);
    } else {
      return make_error(fmt::format("unknown field \"{}\"", key), where(path, kv.first));
    }
  }
  return cfg;
}

}  // namespace

Result<LintConfig> parse_lint_config(std::string_view text, const std::string& path) {
  try {
    return parse_config(path, YAML::Load(std::string(text)));
  } catch (const YAML::Exception& e) {
    SourceLocation loc;
    loc.file = path;
    if (!e.mark.is_null()) {
      loc.line = static_cast<uint32_t>(e.mark.line + 1);
      loc.col = static_cast<uint32_t>(e.mark.column + 1);
    }
    return make_error(fmt::format("YAML syntax error: {}", e.msg), loc);
  }
}

Result<LintConfig> load_lint_config(const std::string& path) {
  // Pipes and devices too, bounded: `--config /dev/null` (no config) and `--config <(...)`
  // worked with the ifstream this replaced, as they do with promtool's os.ReadFile.
  auto text = Env::Default()->read_file(path, kMaxInputFileBytes, Env::Streams::kAllow);
  if (!text) {
    return make_error("cannot read config file: " + text.error().message, SourceLocation{path, 0, 0});
  }
  return parse_lint_config(*text, path);
}

}  // namespace ruleeval::rules
