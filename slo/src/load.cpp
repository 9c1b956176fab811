// SLO spec loading: Sloth prometheus/v1, the Sloth CRD, OpenSLO v1alpha, Pyrra v1alpha1, and
// Sloth's AlertWindows files. Unknown keys are refused (a key accepted and ignored is a defect).
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <tuple>

#include "goyaml.hpp"
#include "ruleeval/common/env.hpp"
#include "ruleeval/common/go_format.hpp"
#include "ruleeval/parser/duration.hpp"
#include "ruleeval/parser/promql.hpp"
#include "ruleeval/slo/slo.hpp"

namespace ruleeval::slo {

namespace {

namespace fs = std::filesystem;

struct Ctx {
  std::string path;
  std::vector<Error>* errors;
  SourceLocation at(const YAML::Node& n) const {
    auto m = n.Mark();
    if (m.is_null()) return {path, 0, 0};
    return {path, static_cast<uint32_t>(m.line + 1), static_cast<uint32_t>(m.column + 1)};
  }
  void fail(const YAML::Node& n, std::string msg) const { errors->emplace_back(std::move(msg), at(n)); }
};

// Checks a mapping against its allowed keys; reports unknown ones. False when `n` is no map.
bool check_map(const Ctx& c, const YAML::Node& n, std::string_view what,
               std::initializer_list<std::string_view> allowed,
               std::initializer_list<std::string_view> refused = {}) {
  if (!n.IsMap()) {
    c.fail(n, std::string(what) + " must be a mapping");
    return false;
  }
  for (auto it = n.begin(); it != n.end(); ++it) {
    std::string k = it->first.Scalar();
    bool ok = false;
    for (auto a : allowed) ok = ok || a == k;
    bool refuse = false;
    for (auto r : refused) refuse = refuse || r == k;
    if (refuse)
      c.fail(it->first, "\"" + k + "\" in " + std::string(what) + " is not supported by ruleeval slo");
    else if (!ok)
      c.fail(it->first, "unknown field \"" + k + "\" in " + std::string(what));
  }
  return true;
}

std::string str(const Ctx& c, const YAML::Node& n, std::string_view what) {
  if (!n) return {};
  if (!n.IsScalar()) {
    c.fail(n, std::string(what) + " must be a string");
    return {};
  }
  return n.Scalar();
}

bool boolean(const Ctx& c, const YAML::Node& n, std::string_view what) {
  if (!n) return false;
  std::string s = n.IsScalar() ? n.Scalar() : "";
  if (s == "true") return true;
  if (s == "false") return false;
  c.fail(n, std::string(what) + " must be true or false");
  return false;
}

std::optional<double> number(const Ctx& c, const YAML::Node& n, std::string_view what) {
  if (!n || !n.IsScalar()) {
    c.fail(n, std::string(what) + " must be a number");
    return std::nullopt;
  }
  const std::string& s = n.Scalar();
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v)) {
    c.fail(n, std::string(what) + " must be a number, got \"" + s + "\"");
    return std::nullopt;
  }
  return v;
}

StrMap str_map(const Ctx& c, const YAML::Node& n, std::string_view what) {
  StrMap m;
  if (!n || n.IsNull()) return m;
  if (!n.IsMap()) {
    c.fail(n, std::string(what) + " must be a mapping of strings");
    return m;
  }
  for (auto it = n.begin(); it != n.end(); ++it) {
    if (!it->second.IsScalar()) {
      c.fail(it->second, std::string(what) + " value of \"" + it->first.Scalar() + "\" must be a string");
      continue;
    }
    m[it->first.Scalar()] = it->second.Scalar();
  }
  return m;
}

StrMap merge(StrMap a, const StrMap& b) {
  for (const auto& [k, v] : b) a[k] = v;
  return a;
}

bool alnum(char ch) { return std::isalnum(static_cast<unsigned char>(ch)) != 0; }
// ^[A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]$ (Sloth's names)
bool valid_name(const std::string& v) {
  if (v.size() < 2 || !alnum(v.front()) || !alnum(v.back())) return false;
  for (char ch : v)
    if (!alnum(ch) && ch != '-' && ch != '_' && ch != '.') return false;
  return true;
}
bool valid_label_name(const std::string& v) {
  if (v.empty() || std::isdigit(static_cast<unsigned char>(v[0]))) return false;
  for (char ch : v)
    if (!alnum(ch) && ch != '_') return false;
  return true;
}
bool has_window_var(const std::string& q) { return find_window_var(q, 0).first != std::string::npos; }

// The query with {{.window}} rendered must be valid PromQL (Sloth's ValidateQueryExpression).
void check_promql(const Ctx& c, const YAML::Node& at, const std::string& tpl, std::string_view what) {
  std::string q;
  size_t last = 0;
  for (auto [pos, len] = find_window_var(tpl, 0); pos != std::string::npos; std::tie(pos, len) = find_window_var(tpl, last)) {
    q += tpl.substr(last, pos - last) + "5m";
    last = pos + len;
  }
  q += tpl.substr(last);
  auto e = promql::parse(q);
  if (!e)
    c.fail(at, std::string(what) + " is not valid PromQL: " + std::to_string(e.error().where.line) + ":" +
                   std::to_string(e.error().where.col) + ": " + e.error().message);
}

void validate_slo(const Ctx& c, const YAML::Node& at, const Slo& s, bool check_sli = true) {
  auto name_ok = [&](const std::string& v, std::string_view what) {
    if (v.empty())
      c.fail(at, std::string(what) + " is required");
    else if (!valid_name(v))
      c.fail(at, std::string(what) + " \"" + v +
                     "\" must start and end with an alphanumeric and can only contain alphanumeric, "
                     "'.', '_', and '-'");
  };
  name_ok(s.service, "service");
  name_ok(s.name, "SLO name");
  if (!(s.objective > 0 && s.objective <= 100))
    c.fail(at, "objective must be > 0 and <= 100 (a percent), got " + format_go_float(s.objective, 6));
  for (const auto& [k, _] : s.labels)
    if (!valid_label_name(k)) c.fail(at, "invalid label name \"" + k + "\"");
  if (s.pyrra.kind != PyrraIndicator::None) return;
  if (!check_sli) {
  } else if (s.sli == SliKind::Events) {
    if (s.error_query == s.total_query)
      c.fail(at, "sli: both error and total queries can't be the same");
    if (!has_window_var(s.error_query))
      c.fail(at, "sli error query template must contain the {{ .window }} variable");
    if (!has_window_var(s.total_query))
      c.fail(at, "sli total query template must contain the {{ .window }} variable");
    check_promql(c, at, s.error_query, "sli error query");
    check_promql(c, at, s.total_query, "sli total query");
  } else if (!has_window_var(s.error_ratio_query)) {
    c.fail(at, "sli raw error ratio query template must contain the {{ .window }} variable");
  } else {
    check_promql(c, at, s.error_ratio_query, "sli raw error ratio query");
  }
  for (const AlertMeta* a : {&s.page, &s.ticket}) {
    if (a->disable) continue;
    if (a->name.empty()) c.fail(at, "alerting.name is required unless both alerts are disabled");
    for (const auto& [k, _] : a->labels)
      if (!valid_label_name(k)) c.fail(at, "invalid alert label name \"" + k + "\"");
  }
}

// Sloth prometheus/v1 and the CRD share the shape; the CRD spells keys in camelCase.
void load_sloth(const Ctx& c, const YAML::Node& spec, bool k8s, SpecDoc& doc,
                const LoadOptions& opts) {
  const char* k_error = k8s ? "errorQuery" : "error_query";
  const char* k_total = k8s ? "totalQuery" : "total_query";
  const char* k_raw = k8s ? "errorRatioQuery" : "error_ratio_query";
  const char* k_page = k8s ? "pageAlert" : "page_alert";
  const char* k_ticket = k8s ? "ticketAlert" : "ticket_alert";
  const char* k_plugins = k8s ? "sloPlugins" : "slo_plugins";
  if (k8s) {
    check_map(c, spec, "spec", {"service", "labels", "slos"}, {k_plugins});
  } else {
    check_map(c, spec, "the spec", {"version", "service", "labels", "slos"}, {k_plugins});
  }
  std::string service = str(c, spec["service"], "service");
  StrMap labels = str_map(c, spec["labels"], "labels");
  YAML::Node slos = spec["slos"];
  if (!slos || !slos.IsSequence() || slos.size() == 0) {
    c.fail(slos ? slos : spec, "at least one SLO is required");
    return;
  }
  for (const auto& n : slos) {
    if (!check_map(c, n, "an SLO",
                   {"name", "description", "objective", "labels", "sli", "alerting"}, {"plugins"}))
      continue;
    Slo s;
    s.where = c.at(n);
    s.service = service;
    s.name = str(c, n["name"], "name");
    s.id = service + "-" + s.name;
    s.description = str(c, n["description"], "description");
    s.period_ms = opts.default_period_ms;
    if (auto o = number(c, n["objective"], "objective")) s.objective = *o;
    s.labels = merge(labels, str_map(c, n["labels"], "labels"));
    YAML::Node sli = n["sli"];
    bool sli_ok = false;
    if (!sli) {
      c.fail(n, "sli is required");
    } else if (check_map(c, sli, "sli", {"events", "raw", "plugin"})) {
      int kinds = (sli["events"] ? 1 : 0) + (sli["raw"] ? 1 : 0) + (sli["plugin"] ? 1 : 0);
      if (kinds != 1) c.fail(sli, kinds == 0 ? "at least one SLI type is required" : "only one SLI type is allowed");
      sli_ok = kinds == 1 && !sli["plugin"];
      if (auto p = sli["plugin"]) {
        std::string id = p.IsMap() ? str(c, p["id"], "plugin id") : "";
        c.fail(p, "plugin SLIs are not supported by ruleeval slo (plugin \"" + id +
                      "\"): write the SLI as events or raw");
      }
      if (auto e = sli["events"]; e && check_map(c, e, "sli.events", {k_error, k_total})) {
        s.sli = SliKind::Events;
        s.error_query = str(c, e[k_error], k_error);
        s.total_query = str(c, e[k_total], k_total);
      }
      if (auto r = sli["raw"]; r && check_map(c, r, "sli.raw", {k_raw})) {
        s.sli = SliKind::Raw;
        s.error_ratio_query = str(c, r[k_raw], k_raw);
      }
    }
    YAML::Node al = n["alerting"];
    std::string alert_name;
    StrMap al_labels, al_ann;
    YAML::Node page, ticket;
    if (al && check_map(c, al, "alerting", {"name", "labels", "annotations", k_page, k_ticket})) {
      alert_name = str(c, al["name"], "alerting.name");
      al_labels = str_map(c, al["labels"], "alerting.labels");
      al_ann = str_map(c, al["annotations"], "alerting.annotations");
      page = al[k_page];
      ticket = al[k_ticket];
    }
    auto meta = [&](const YAML::Node& a, std::string_view what) {
      AlertMeta m;
      StrMap l, an;
      bool disable = false;
      if (a && !a.IsNull() && check_map(c, a, what, {"disable", "labels", "annotations"})) {
        disable = boolean(c, a["disable"], "disable");
        l = str_map(c, a["labels"], "labels");
        an = str_map(c, a["annotations"], "annotations");
      }
      if (!disable) {
        m.disable = false;
        m.name = alert_name;
        m.labels = merge(al_labels, l);
        m.annotations = merge(al_ann, an);
      }
      return m;
    };
    s.page = meta(page, k_page);
    s.ticket = meta(ticket, k_ticket);
    validate_slo(c, n, s, sli_ok);
    doc.slos.push_back(std::move(s));
  }
}

void load_k8s_meta(const Ctx& c, const YAML::Node& md, SpecDoc& doc) {
  if (!md || !check_map(c, md, "metadata", {"name", "namespace", "labels", "annotations"})) {
    if (!md) c.fail(md, "metadata is required");
    return;
  }
  doc.k8s_name = str(c, md["name"], "metadata.name");
  doc.k8s_namespace = str(c, md["namespace"], "metadata.namespace");
  doc.k8s_labels = str_map(c, md["labels"], "metadata.labels");
  doc.k8s_annotations = str_map(c, md["annotations"], "metadata.annotations");
  if (doc.k8s_name.empty()) c.fail(md, "metadata.name is required");
}

void load_openslo(const Ctx& c, const YAML::Node& root, SpecDoc& doc, const LoadOptions& opts) {
  check_map(c, root, "the OpenSLO document", {"apiVersion", "kind", "metadata", "spec"});
  YAML::Node md = root["metadata"];
  std::string name;
  if (md && check_map(c, md, "metadata", {"name", "displayName"})) name = str(c, md["name"], "metadata.name");
  YAML::Node spec = root["spec"];
  if (!spec || !check_map(c, spec, "spec",
                          {"service", "description", "budgetingMethod", "objectives", "timeWindows"})) {
    if (!spec) c.fail(root, "spec is required");
    return;
  }
  std::string service = str(c, spec["service"], "service");
  std::string bm = str(c, spec["budgetingMethod"], "budgetingMethod");
  if (!bm.empty() && bm != "Occurrences")
    c.fail(spec["budgetingMethod"], "budgetingMethod \"" + bm + "\" is not supported (only Occurrences)");
  int64_t period = opts.default_period_ms;
  if (auto tw = spec["timeWindows"]) {
    if (!tw.IsSequence()) {
      c.fail(tw, "timeWindows must be a list");
    } else if (tw.size() > 1) {
      c.fail(tw, "only 1 time window is supported");
    } else if (tw.size() == 1 && check_map(c, tw[0], "a time window", {"count", "unit", "isRolling", "calendar"})) {
      if (tw[0]["calendar"]) c.fail(tw[0]["calendar"], "calendar time windows are not supported");
      std::string unit = str(c, tw[0]["unit"], "unit");
      std::string lower;
      for (char ch : unit) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (lower != "day") c.fail(tw[0], "only days based time windows are supported");
      if (auto n = number(c, tw[0]["count"], "count")) period = static_cast<int64_t>(*n) * 24 * 3600 * 1000;
    }
  }
  auto objs = spec["objectives"];
  if (!objs || !objs.IsSequence() || objs.size() == 0) {
    c.fail(objs ? objs : spec, "at least one SLO is required");
    return;
  }
  for (size_t i = 0; i < objs.size(); ++i) {
    auto o = objs[i];
    if (!check_map(c, o, "an objective", {"ratioMetrics", "target", "displayName", "value", "op"})) continue;
    if (o["op"] || o["value"]) c.fail(o, "threshold objectives (op/value) are not supported: use ratioMetrics");
    auto rm = o["ratioMetrics"];
    Slo s;
    s.where = c.at(o);
    s.service = service;
    s.name = name + "-" + std::to_string(i);
    s.id = service + "-" + s.name;
    s.description = str(c, spec["description"], "description");
    s.period_ms = period;
    if (auto t = number(c, o["target"], "target")) s.objective = *t * 100;
    s.sli = SliKind::Raw;
    if (!rm) {
      c.fail(o, "missing ratioMetrics");
      continue;
    }
    if (!check_map(c, rm, "ratioMetrics", {"good", "total", "counter"})) continue;
    auto q = [&](const char* k) {
      auto n = rm[k];
      if (!n || !check_map(c, n, k, {"source", "queryType", "query", "metricSource"})) {
        if (!n) c.fail(rm, std::string("ratioMetrics.") + k + " is required");
        return std::string();
      }
      std::string src = str(c, n["source"], "source");
      if (src != "prometheus" && src != "sloth") c.fail(n, std::string("prometheus or sloth query ratio '") + k + "' source is required");
      if (str(c, n["queryType"], "queryType") != "promql")
        c.fail(n, std::string("unsupported '") + k + "' indicator query type: " + n["queryType"].as<std::string>(""));
      return str(c, n["query"], "query");
    };
    std::string good = q("good"), total = q("total");
    s.error_ratio_query.assign("\n  1 - (\n    (\n      ").append(good).append("\n    )\n    /\n    (\n      ")
        .append(total).append("\n    )\n  )\n");
    validate_slo(c, o, s);
    doc.slos.push_back(std::move(s));
  }
}

// Pyrra v1alpha1 ServiceLevelObjective.
void load_pyrra(const Ctx& c, const YAML::Node& root, SpecDoc& doc, const LoadOptions& opts) {
  check_map(c, root, "the ServiceLevelObjective", {"apiVersion", "kind", "metadata", "spec"});
  load_k8s_meta(c, root["metadata"], doc);
  auto spec = root["spec"];
  if (!spec || !check_map(c, spec, "spec", {"target", "window", "description", "indicator", "alerting", "partialResponseStrategy"})) {
    if (!spec) c.fail(root, "spec is required");
    return;
  }
  if (spec["partialResponseStrategy"]) c.fail(spec["partialResponseStrategy"], "partialResponseStrategy (Thanos) is not supported");
  Slo s;
  s.where = c.at(spec);
  s.name = doc.k8s_name;
  s.service = doc.k8s_name;
  s.id = doc.k8s_name;
  s.description = str(c, spec["description"], "description");
  s.labels = doc.k8s_labels;
  if (auto t = spec["target"]) {
    if (auto v = number(c, t, "target")) s.objective = *v;
  } else {
    c.fail(spec, "target is required");
  }
  s.period_ms = opts.default_period_ms;
  if (auto w = spec["window"]) {
    auto d = parse_duration(str(c, w, "window"));
    if (!d || *d <= 0)
      c.fail(w, "window: " + (d ? std::string("must be positive") : d.error().message));
    else
      s.period_ms = *d;
  } else {
    c.fail(spec, "window is required");
  }
  auto ind = spec["indicator"];
  if (!ind || !check_map(c, ind, "indicator", {"ratio", "latency", "latencyNative", "boolGauge"})) {
    if (!ind) c.fail(spec, "indicator is required");
    return;
  }
  auto grouping = [&](const YAML::Node& n) {
    std::vector<std::string> g;
    if (auto gn = n["grouping"]) {
      if (!gn.IsSequence()) c.fail(gn, "grouping must be a list");
      else
        for (const auto& x : gn) g.push_back(str(c, x, "grouping"));
    }
    return g;
  };
  auto metric = [&](const YAML::Node& n, const char* k) {
    auto m = n[k];
    if (!m || !check_map(c, m, k, {"metric"})) {
      if (!m) c.fail(n, std::string(k) + " is required");
      return std::string();
    }
    return str(c, m["metric"], "metric");
  };
  int kinds = 0;
  if (auto r = ind["ratio"]; r && check_map(c, r, "indicator.ratio", {"errors", "total", "grouping"})) {
    ++kinds;
    s.pyrra.kind = PyrraIndicator::Ratio;
    s.pyrra.errors = metric(r, "errors");
    s.pyrra.total = metric(r, "total");
    s.pyrra.grouping = grouping(r);
  }
  if (auto r = ind["latency"]; r && check_map(c, r, "indicator.latency", {"success", "total", "grouping"})) {
    ++kinds;
    s.pyrra.kind = PyrraIndicator::Latency;
    s.pyrra.errors = metric(r, "success");
    s.pyrra.total = metric(r, "total");
    s.pyrra.grouping = grouping(r);
  }
  if (auto r = ind["latencyNative"]; r && check_map(c, r, "indicator.latencyNative", {"latency", "total", "grouping"})) {
    ++kinds;
    s.pyrra.kind = PyrraIndicator::LatencyNative;
    s.pyrra.latency = str(c, r["latency"], "latency");
    s.pyrra.metric = metric(r, "total");
    s.pyrra.grouping = grouping(r);
  }
  if (auto r = ind["boolGauge"]; r && check_map(c, r, "indicator.boolGauge", {"metric", "grouping"})) {
    ++kinds;
    s.pyrra.kind = PyrraIndicator::BoolGauge;
    s.pyrra.metric = str(c, r["metric"], "metric");
    s.pyrra.grouping = grouping(r);
  }
  if (kinds != 1) c.fail(ind, "exactly one of ratio, latency, latencyNative, boolGauge is required");
  // Pyrra's defaults: burn-rate and absent alerts on. `disabled` (deprecated) turns the burn-rate
  // alerts off only; the absent alerts follow `absent` (Pyrra's Burnrates() and IncreaseRules()).
  if (auto a = spec["alerting"]; a && check_map(c, a, "alerting", {"disabled", "burnrates", "absent", "name", "absentName"})) {
    if (a["disabled"] && boolean(c, a["disabled"], "disabled")) s.pyrra_burnrate_alerts = false;
    if (a["burnrates"] && !boolean(c, a["burnrates"], "burnrates")) s.pyrra_burnrate_alerts = false;
    if (a["absent"] && !boolean(c, a["absent"], "absent")) s.pyrra_absent_alerts = false;
    if (a["name"]) s.pyrra_alert_name = str(c, a["name"], "name");
    if (a["absentName"]) s.pyrra_absent_name = str(c, a["absentName"], "absentName");
  }
  s.pyrra_annotations = doc.k8s_annotations;
  if (!(s.objective > 0 && s.objective < 100)) c.fail(spec["target"] ? spec["target"] : spec, "target must be > 0 and < 100");
  doc.slos.push_back(std::move(s));
}

}  // namespace

const char* spec_kind_name(SpecKind k) {
  switch (k) {
    case SpecKind::SlothV1: return "prometheus/v1";
    case SpecKind::SlothK8s: return "sloth.slok.dev/v1";
    case SpecKind::OpenSLO: return "openslo/v1alpha";
    case SpecKind::Pyrra: return "pyrra.dev/v1alpha1";
  }
  return "";
}

LoadOutcome load_specs(const std::string& text, const std::string& path, const LoadOptions& opts) {
  LoadOutcome out;
  Ctx c{path, &out.errors};
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    out.errors.emplace_back("invalid YAML: " + e.msg,
                            SourceLocation{path, static_cast<uint32_t>(e.mark.line + 1),
                                           static_cast<uint32_t>(e.mark.column + 1)});
    return out;
  }
  for (const auto& d : docs) {
    if (!d || d.IsNull()) continue;
    if (!d.IsMap()) {
      c.fail(d, "an SLO spec must be a mapping");
      continue;
    }
    SpecDoc doc;
    doc.where = c.at(d);
    try {
      std::string version = d["version"] && d["version"].IsScalar() ? d["version"].Scalar() : "";
      std::string api = d["apiVersion"] && d["apiVersion"].IsScalar() ? d["apiVersion"].Scalar() : "";
      std::string kind = d["kind"] && d["kind"].IsScalar() ? d["kind"].Scalar() : "";
      if (d["version"]) {
        if (version != "prometheus/v1") {
          c.fail(d["version"], "invalid spec version \"" + version + "\", should be \"prometheus/v1\"");
          continue;
        }
        doc.kind = SpecKind::SlothV1;
        load_sloth(c, d, false, doc, opts);
      } else if (api == "sloth.slok.dev/v1" && kind == "PrometheusServiceLevel") {
        doc.kind = SpecKind::SlothK8s;
        check_map(c, d, "the PrometheusServiceLevel", {"apiVersion", "kind", "metadata", "spec", "status"});
        load_k8s_meta(c, d["metadata"], doc);
        if (!d["spec"]) c.fail(d, "spec is required");
        else load_sloth(c, d["spec"], true, doc, opts);
      } else if (api == "openslo/v1alpha" && kind == "SLO") {
        doc.kind = SpecKind::OpenSLO;
        load_openslo(c, d, doc, opts);
      } else if (api == "pyrra.dev/v1alpha1" && kind == "ServiceLevelObjective") {
        doc.kind = SpecKind::Pyrra;
        load_pyrra(c, d, doc, opts);
      } else {
        c.fail(d, std::string("unknown SLO spec: expected `version: prometheus/v1`, a sloth.slok.dev/v1 "
                              "PrometheusServiceLevel, an openslo/v1alpha SLO or a pyrra.dev/v1alpha1 "
                              "ServiceLevelObjective (got apiVersion \"")
                      .append(api).append("\", kind \"").append(kind).append("\")"));
        continue;
      }
    } catch (const YAML::Exception& e) {
      out.errors.emplace_back("invalid spec: " + e.msg,
                              SourceLocation{path, static_cast<uint32_t>(e.mark.line + 1),
                                             static_cast<uint32_t>(e.mark.column + 1)});
      continue;
    }
    out.docs.push_back(std::move(doc));
  }
  if (out.docs.empty() && out.errors.empty())
    out.errors.emplace_back("no SLO spec found", SourceLocation{path, 1, 1});
  return out;
}

// ---- windows ---------------------------------------------------------------------------------

double burn_factor(int64_t period_ms, double budget_percent, int64_t long_ms) {
  auto hours = [](int64_t ms) {
    int64_t ns_h = 3600LL * 1000;
    // NOLINTNEXTLINE(bugprone-integer-division): Go's Duration.Hours() split, truncation intended
    return static_cast<double>(ms / ns_h) + static_cast<double>(ms % ns_h) / (60.0 * 60 * 1e3);
  };
  double required = budget_percent * hours(period_ms) / 100;
  return required / hours(long_ms);
}

namespace {
Windows make(int64_t days, double b1, double b2, double b3, double b4) {
  const int64_t m = 60'000, h = 3'600'000, d = 24 * h;
  Windows w;
  w.period_ms = days * d;
  w.page_quick = {b1, 5 * m, 1 * h};
  w.page_slow = {b2, 30 * m, 6 * h};
  w.ticket_quick = {b3, 2 * h, 1 * d};
  w.ticket_slow = {b4, 6 * h, 3 * d};
  return w;
}
}  // namespace

WindowsCatalog WindowsCatalog::builtin() {
  WindowsCatalog c;
  // Google SRE workbook budgets (2%, 5%, 10%, 10%) for 30d and 28d; a 7d period spends a larger
  // share of its smaller budget per window (8%, 12.5%, 20%, 42%).
  for (const auto& w : {make(30, 2, 5, 10, 10), make(28, 2, 5, 10, 10), make(7, 8, 12.5, 20, 42)})
    c.by_period_[w.period_ms] = w;
  return c;
}

Result<Windows> WindowsCatalog::parse(const std::string& text, const std::string& path) {
  std::vector<Error> errs;
  Ctx c{path, &errs};
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return make_error("invalid YAML: " + e.msg, {path, static_cast<uint32_t>(e.mark.line + 1),
                                                  static_cast<uint32_t>(e.mark.column + 1)});
  }
  Windows w;
  w.source = path;
  if (!root || !root.IsMap()) return make_error("an AlertWindows spec must be a mapping", {path, 1, 1});
  check_map(c, root, "AlertWindows", {"apiVersion", "kind", "spec"});
  if (str(c, root["apiVersion"], "apiVersion") != "sloth.slok.dev/v1" ||
      str(c, root["kind"], "kind") != "AlertWindows")
    c.fail(root, "invalid spec version: expected apiVersion sloth.slok.dev/v1, kind AlertWindows");
  auto spec = root["spec"];
  if (!spec || !check_map(c, spec, "spec", {"sloPeriod", "page", "ticket"})) {
    if (!spec) c.fail(root, "spec is required");
  } else {
    auto dur = [&](const YAML::Node& n, const char* what) -> int64_t {
      if (!n) return 0;
      auto d = parse_duration(str(c, n, what));
      if (!d) {
        c.fail(n, std::string(what) + ": " + d.error().message);
        return 0;
      }
      return *d;
    };
    w.period_ms = dur(spec["sloPeriod"], "sloPeriod");
    if (!w.period_ms) c.fail(spec, "slo period is required");
    auto tier = [&](const YAML::Node& parent, const char* sev, const char* speed, Window& out) {
      auto p = parent[sev];
      if (!p || !check_map(c, p, sev, {"quick", "slow"})) {
        if (!p) c.fail(spec, std::string(sev) + " is required");
        return;
      }
      auto t = p[speed];
      std::string what = std::string(sev) + " " + speed;
      if (!t || !check_map(c, t, what, {"errorBudgetPercent", "shortWindow", "longWindow"})) {
        if (!t) c.fail(p, "invalid " + what + ": window is required");
        return;
      }
      if (auto b = t["errorBudgetPercent"]) {
        if (auto v = number(c, b, "errorBudgetPercent")) out.budget_percent = *v;
      }
      out.short_ms = dur(t["shortWindow"], "shortWindow");
      out.long_ms = dur(t["longWindow"], "longWindow");
      if (!out.long_ms) c.fail(t, "invalid " + what + ": long window is required");
      if (!out.short_ms) c.fail(t, "invalid " + what + ": short window is required");
      if (out.budget_percent <= 0) c.fail(t, "invalid " + what + ": error budget is required");
      if (out.short_ms && out.long_ms && out.short_ms >= out.long_ms)
        c.fail(t, "invalid " + what + ": the short window must be shorter than the long window");
      if (w.period_ms && out.long_ms > w.period_ms)
        c.fail(t, "invalid " + what + ": the long window is longer than the SLO period");
    };
    tier(spec, "page", "quick", w.page_quick);
    tier(spec, "page", "slow", w.page_slow);
    tier(spec, "ticket", "quick", w.ticket_quick);
    tier(spec, "ticket", "slow", w.ticket_slow);
  }
  if (!errs.empty()) return std::unexpected(errs.front());
  return w;
}

Result<WindowsCatalog> WindowsCatalog::load_dir(const std::string& dir) {
  WindowsCatalog cat;
  Env* env = Env::Default();
  if (!env->is_directory(dir)) return make_error("windows path is not a directory", {dir, 0, 0});
  // The *.yaml and *.yml regular files of the tree (a symlink to a file counts; the walk does
  // not descend into a symlinked directory, as std::filesystem's and Sloth's do not).
  std::vector<fs::path> files;
  std::vector<fs::path> todo{fs::path(dir)};
  while (!todo.empty()) {
    fs::path d = std::move(todo.back());
    todo.pop_back();
    auto names = env->list_dir(d.string());
    if (!names) return make_error("cannot read directory: " + names.error().message, {dir, 0, 0});
    for (const auto& n : *names) {
      fs::path p = d / n;
      const std::string ps = p.string();
      const auto ext = p.extension().string();
      if (env->is_directory(ps)) {
        if (!env->is_symlink(ps)) todo.push_back(std::move(p));
      } else if ((ext == ".yaml" || ext == ".yml") && env->is_regular_file(ps)) {
        files.push_back(std::move(p));
      }
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto text = env->read_file(f.string());
    if (!text) return make_error("cannot read file: " + text.error().message, {f.string(), 0, 0});
    auto w = parse(*text, f.string());
    if (!w) return std::unexpected(w.error());
    auto [it, inserted] = cat.by_period_.emplace(w->period_ms, *w);
    if (!inserted) {
      const Windows& o = it->second;
      auto same = [](const Window& a, const Window& b) {
        return a.budget_percent == b.budget_percent && a.short_ms == b.short_ms && a.long_ms == b.long_ms;
      };
      if (!(same(o.page_quick, w->page_quick) && same(o.page_slow, w->page_slow) &&
            same(o.ticket_quick, w->ticket_quick) && same(o.ticket_slow, w->ticket_slow)))
        return make_error("\"" + format_duration(w->period_ms) + "\" slo period is already loaded from " + o.source,
                          {f.string(), 1, 1});
    }
  }
  if (cat.by_period_.empty()) return make_error("no AlertWindows files (*.yaml, *.yml) found", {dir, 0, 0});
  return cat;
}

const Windows* WindowsCatalog::find(int64_t period_ms) const {
  auto it = by_period_.find(period_ms);
  return it == by_period_.end() ? nullptr : &it->second;
}

std::vector<int64_t> WindowsCatalog::periods() const {
  std::vector<int64_t> p;
  p.reserve(by_period_.size());
  for (const auto& [k, _] : by_period_) p.push_back(k);
  return p;
}

}  // namespace ruleeval::slo
