// Output formats of the replay report (replay_report.hpp): summary JSON (RapidJSON's writer),
// the what-if text table, and the self-contained HTML report with inline SVG timelines.
#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>
#include <ctime>

#include "ruleeval/engine/replay_report.hpp"
#include "ruleeval/parser/duration.hpp"

namespace ruleeval::engine::replay {

std::string rfc3339(Millis t) {
  Millis secs = floor_seconds(t);
  Millis ms = t - seconds_to_ms(secs);
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  if (ms != 0) return fmt::format("{}.{:03}Z", buf, ms);
  return fmt::format("{}Z", buf);
}

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void key(Writer& w, std::string_view k) { w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }
void str(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
void seconds(Writer& w, Millis ms) {
  if (ms % 1000 == 0) {
    w.Int64(trunc_seconds(ms));
  } else {
    w.Double(ms_to_seconds(ms));
  }
}
void time_or_null(Writer& w, Millis t) {
  if (is_set(t)) {
    str(w, rfc3339(t));
  } else {
    w.Null();
  }
}
void labels(Writer& w, const Labels& l) {
  w.StartObject();
  for (const auto& x : l) {
    key(w, x.name);
    str(w, x.value);
  }
  w.EndObject();
}
void dist(Writer& w, const Distribution& d) {
  w.StartObject();
  key(w, "count");
  w.Uint64(d.count);
  key(w, "median");
  seconds(w, d.median);
  key(w, "p90");
  seconds(w, d.p90);
  key(w, "max");
  seconds(w, d.max);
  w.EndObject();
}
void spans(Writer& w, const std::vector<Span>& s) {
  w.StartArray();
  for (const auto& x : s) {
    w.StartObject();
    key(w, "start");
    str(w, rfc3339(x.start));
    key(w, "end");
    str(w, rfc3339(x.end));
    w.EndObject();
  }
  w.EndArray();
}
Millis span_ms(const std::vector<Span>& s) {
  Millis t = 0;
  for (const auto& x : s) t += x.end - x.start;
  return t;
}

}  // namespace

std::string summary_json(const ReplayReport& r) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  key(w, "from");
  str(w, rfc3339(r.from));
  key(w, "to");
  str(w, rfc3339(r.to));
  key(w, "evaluations");
  w.Uint64(r.evaluations);
  key(w, "peak_concurrent_firing");
  w.Uint64(r.peak_firing);
  key(w, "peak_at");
  time_or_null(w, r.peak_at);
  key(w, "rules");
  w.StartArray();
  for (const auto& rule : r.rules) {
    w.StartObject();
    key(w, "file");
    str(w, rule.file);
    key(w, "group");
    str(w, rule.group);
    key(w, "rule");
    str(w, rule.rule);
    key(w, "grafana");
    w.Bool(rule.grafana);
    key(w, "firing_starts");
    w.Uint64(rule.firing_starts);
    key(w, "pending_only");
    w.Uint64(rule.pending_only);
    key(w, "flaps");
    w.Uint64(rule.flaps);
    key(w, "flap_window_seconds");
    seconds(w, rule.flap_window_ms);
    key(w, "refires_within_repeat_interval");
    w.Uint64(rule.refires);
    key(w, "firing_seconds");
    seconds(w, rule.firing_ms);
    key(w, "firing_seconds_per_episode");
    dist(w, rule.episode_firing);
    key(w, "time_to_fire_seconds");
    dist(w, rule.detection_delay);
    key(w, "peak_concurrent_firing");
    w.Uint64(rule.peak_firing);
    key(w, "peak_at");
    time_or_null(w, rule.peak_at);
    key(w, "evaluations");
    w.Uint64(rule.evaluations);
    key(w, "failed_evaluations");
    w.Uint64(rule.failed_evaluations);
    key(w, "error_periods");
    spans(w, rule.error_periods);
    key(w, "nodata_seconds");
    seconds(w, rule.nodata_ms);
    key(w, "error_state_seconds");
    seconds(w, rule.error_ms);
    key(w, "episodes");
    w.StartArray();
    for (const auto& in : rule.instances) {
      for (const auto& e : in.episodes) {
        w.StartObject();
        key(w, "labels");
        labels(w, in.labels);
        key(w, "pending_at");
        time_or_null(w, e.pending_at);
        key(w, "fired_at");
        time_or_null(w, e.fired_at);
        key(w, "resolved_at");
        time_or_null(w, e.resolved_at);
        key(w, "firing_seconds");
        seconds(w, is_set(e.fired_at) ? e.end - e.fired_at : 0);
        key(w, "pending_seconds");
        seconds(w, (is_set(e.fired_at) ? e.fired_at : e.end) - e.pending_at);
        key(w, "flap");
        w.Bool(e.flap);
        w.EndObject();
      }
    }
    w.EndArray();
    key(w, "instances");
    w.StartArray();
    for (const auto& in : rule.instances) {
      w.StartObject();
      key(w, "labels");
      labels(w, in.labels);
      key(w, "firing_starts");
      w.Uint64(in.firing_starts);
      key(w, "pending_only");
      w.Uint64(in.pending_only);
      key(w, "flaps");
      w.Uint64(in.flaps);
      key(w, "refires_within_repeat_interval");
      w.Uint64(in.refires);
      key(w, "firing_seconds");
      seconds(w, in.firing_ms);
      key(w, "nodata_periods");
      spans(w, in.nodata);
      key(w, "nodata_seconds");
      seconds(w, span_ms(in.nodata));
      key(w, "error_periods");
      spans(w, in.errors);
      key(w, "error_seconds");
      seconds(w, span_ms(in.errors));
      w.EndObject();
    }
    w.EndArray();
    key(w, "what_if");
    w.StartArray();
    for (const auto& v : rule.what_if) {
      w.StartObject();
      key(w, to_string(v.key));
      str(w, v.value);
      key(w, "firing_starts");
      w.Uint64(v.firing_starts);
      key(w, "pending_only");
      w.Uint64(v.pending_only);
      key(w, "firing_seconds");
      seconds(w, v.firing_ms);
      key(w, "median_time_to_fire_seconds");
      seconds(w, v.detection_delay.median);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize()) + "\n";
}

namespace {
std::string dur(Millis ms) { return ms == 0 ? "0s" : format_duration(ms); }
}  // namespace

std::string what_if_table(const ReplayReport& r) {
  std::string out;
  for (const auto& rule : r.rules) {
    if (rule.what_if.empty()) continue;
    out += fmt::format("{} ({} / {}): {} page(s), {} pending-only, median time to fire {}\n",
                       rule.rule, rule.file, rule.group, rule.firing_starts, rule.pending_only,
                       dur(rule.detection_delay.median));
    out += fmt::format("  {:<24} {:>8} {:>13} {:>22}\n", "what-if", "pages", "pending-only",
                       "median time to fire");
    for (const auto& v : rule.what_if) {
      out += fmt::format("  {:<24} {:>8} {:>13} {:>22}\n",
                         fmt::format("{}={}", to_string(v.key), v.value), v.firing_starts,
                         v.pending_only, dur(v.detection_delay.median));
    }
  }
  return out;
}

std::vector<const RuleReport*> ranked(const ReplayReport& r) {
  std::vector<const RuleReport*> out;
  out.reserve(r.rules.size());
  for (const auto& x : r.rules) out.push_back(&x);
  std::stable_sort(out.begin(), out.end(), [](const RuleReport* a, const RuleReport* b) {
    if (a->firing_starts != b->firing_starts) return a->firing_starts > b->firing_starts;
    if (a->flaps != b->flaps) return a->flaps > b->flaps;
    return a->firing_ms > b->firing_ms;
  });
  return out;
}

// ---- HTML and SVG ----------------------------------------------------------------------------

namespace {

// Escapes text and attribute values for HTML and SVG (both XML-ish): & < > " '.
std::string esc(std::string_view s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      case '\'':
        o += "&#39;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

// A minimal SVG writer, hand-written because no Debian library offers one: elements with
// escaped attributes and text, nothing else. Every value passing through it is escaped.
class Svg {
 public:
  Svg(double width, double height)
      : out_(fmt::format(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" "
            "viewBox=\"0 0 {:.0f} {:.0f}\" role=\"img\">",
            width, height, width, height)) {}
  void rect(double x, double y, double w, double h, std::string_view cls,
            std::string_view title = {}) {
    out_ += fmt::format("<rect x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\" "
                        "class=\"{}\"",
                        x, y, std::max(w, 0.75), h, esc(cls));
    if (title.empty()) {
      out_ += "/>";
    } else {
      out_ += fmt::format("><title>{}</title></rect>", esc(title));
    }
  }
  void line(double x1, double y1, double x2, double y2, std::string_view cls) {
    out_ += fmt::format(
        "<line x1=\"{:.2f}\" y1=\"{:.2f}\" x2=\"{:.2f}\" y2=\"{:.2f}\" class=\"{}\"/>", x1, y1,
        x2, y2, esc(cls));
  }
  void text(double x, double y, std::string_view s, std::string_view cls,
            std::string_view anchor = "start") {
    out_ += fmt::format("<text x=\"{:.2f}\" y=\"{:.2f}\" class=\"{}\" text-anchor=\"{}\">{}</text>",
                        x, y, esc(cls), esc(anchor), esc(s));
  }
  std::string finish() { return out_ + "</svg>"; }

 private:
  std::string out_;
};

std::string label_text(const Labels& l) {
  std::string s = "{";
  bool first = true;
  for (const auto& x : l) {
    if (x.name == "alertname") continue;
    s += fmt::format("{}{}=\"{}\"", first ? "" : ", ", x.name, x.value);
    first = false;
  }
  return s + "}";
}

constexpr size_t kMaxRows = 40;  // instances drawn per rule; the rest are counted

std::string timeline(const RuleReport& rule, Millis from, Millis to) {
  const double left = 260, width = 640, row = 16, top = 22;
  std::vector<const InstanceReport*> rows;
  rows.reserve(rule.instances.size());
  for (const auto& in : rule.instances) rows.push_back(&in);
  std::stable_sort(rows.begin(), rows.end(), [](const InstanceReport* a, const InstanceReport* b) {
    return a->firing_starts + a->pending_only > b->firing_starts + b->pending_only;
  });
  const size_t shown = std::min(rows.size(), kMaxRows);
  const bool errors = !rule.error_periods.empty();
  const size_t nrows = shown + (errors ? 1 : 0) + (shown == 0 ? 1 : 0);
  Svg svg(left + width + 10, top + static_cast<double>(nrows) * row + 8);
  const double span = static_cast<double>(std::max<Millis>(1, to - from));
  auto x = [&](Millis t) {
    return left + width * static_cast<double>(std::clamp(t, from, to) - from) / span;
  };
  svg.text(left, 12, rfc3339(from), "axis");
  svg.text(left + width, 12, rfc3339(to), "axis", "end");
  svg.line(left, top - 4, left + width, top - 4, "axis");
  double y = top;
  if (errors) {
    svg.text(left - 6, y + row - 4, "query errors", "lbl", "end");
    for (const auto& s : rule.error_periods) {
      svg.rect(x(s.start), y + 2, x(std::max(s.end, s.start + rule.interval)) - x(s.start),
               row - 4, "err", fmt::format("query errors {} .. {}", rfc3339(s.start), rfc3339(s.end)));
    }
    y += row;
  }
  if (shown == 0) svg.text(left - 6, y + row - 4, "no alerts", "lbl", "end");
  for (size_t i = 0; i < shown; ++i) {
    const InstanceReport& in = *rows[i];
    std::string name = label_text(in.labels);
    std::string shortname = name.size() > 40 ? name.substr(0, 39) + "…" : name;
    svg.text(left - 6, y + row - 4, shortname, "lbl", "end");
    for (const auto& e : in.episodes) {
      Millis pend_end = is_set(e.fired_at) ? e.fired_at : e.end;
      if (pend_end > e.pending_at) {
        svg.rect(x(e.pending_at), y + 2, x(pend_end) - x(e.pending_at), row - 4, "pending",
                 fmt::format("{} pending {} .. {}", name, rfc3339(e.pending_at), rfc3339(pend_end)));
      }
      if (is_set(e.fired_at)) {
        svg.rect(x(e.fired_at), y + 2, x(e.end) - x(e.fired_at), row - 4,
                 e.flap ? "firing flap" : "firing",
                 fmt::format("{} firing {} .. {}{}", name, rfc3339(e.fired_at), rfc3339(e.end),
                             e.flap ? " (flap)" : ""));
      }
    }
    for (const auto& s : in.nodata) {
      svg.rect(x(s.start), y + 2, x(s.end) - x(s.start), row - 4, "nodata",
               fmt::format("{} no data {} .. {}", name, rfc3339(s.start), rfc3339(s.end)));
    }
    for (const auto& s : in.errors) {
      svg.rect(x(s.start), y + 2, x(s.end) - x(s.start), row - 4, "err",
               fmt::format("{} error {} .. {}", name, rfc3339(s.start), rfc3339(s.end)));
    }
    y += row;
  }
  std::string out = svg.finish();
  if (rows.size() > shown) {
    out += fmt::format("<p class=\"more\">{} more instance(s) not drawn.</p>", rows.size() - shown);
  }
  return out;
}

constexpr std::string_view kCss = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:32px}
table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td.l,th.l{text-align:left}
.rule{display:flex;gap:24px;align-items:flex-start;flex-wrap:wrap}
svg{background:#fafafa;border:1px solid #ddd}
svg .pending{fill:#f0b429}svg .firing{fill:#d64545}svg .flap{fill:#8e1f1f}
svg .nodata{fill:#9aa5b1}svg .err{fill:#7b4fd6}
svg .axis{font-size:10px;fill:#555;stroke:#999}svg .lbl{font-size:10px;fill:#333}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}
.more{color:#666;font-size:12px}
)";

}  // namespace

std::string html_report(const ReplayReport& r) {
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  h += fmt::format("<title>ruleeval replay {} .. {}</title><style>{}</style></head><body>\n",
                   esc(rfc3339(r.from)), esc(rfc3339(r.to)), kCss);
  h += fmt::format("<h1>What the rules would have paged, {} .. {}</h1>\n", esc(rfc3339(r.from)),
                   esc(rfc3339(r.to)));
  size_t pages = 0;
  for (const auto& x : r.rules) pages += x.firing_starts;
  h += fmt::format("<p>{} alerting rule(s), {} page(s) in total, at most {} alert(s) firing at "
                   "once{}.</p>\n",
                   r.rules.size(), pages, r.peak_firing,
                   is_set(r.peak_at) ? " (" + esc(rfc3339(r.peak_at)) + ")" : "");
  h += "<p class=\"legend\"><span style=\"background:#f0b429\"></span>pending"
       "<span style=\"background:#d64545\"></span>firing"
       "<span style=\"background:#8e1f1f\"></span>firing again soon after a resolve (flap)"
       "<span style=\"background:#9aa5b1\"></span>no data"
       "<span style=\"background:#7b4fd6\"></span>error</p>\n";
  h += "<h2>Noisiest rules</h2>\n<table id=\"ranking\"><tr><th>#</th><th class=\"l\">rule</th>"
       "<th class=\"l\">group</th><th>pages</th><th>pending-only</th><th>flaps</th>"
       "<th>firing time</th><th>median episode</th><th>p90 episode</th><th>max episode</th>"
       "<th>median time to fire</th><th>peak firing</th><th>failed evals</th></tr>\n";
  auto rank = ranked(r);
  for (size_t i = 0; i < rank.size(); ++i) {
    const RuleReport& x = *rank[i];
    h += fmt::format(
        "<tr><td>{}</td><td class=\"l\"><a href=\"#rule-{}\">{}</a></td><td class=\"l\">{}</td>"
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td><td>{}</td></tr>\n",
        i + 1, i, esc(x.rule), esc(x.group), x.firing_starts, x.pending_only, x.flaps,
        dur(x.firing_ms), dur(x.episode_firing.median), dur(x.episode_firing.p90),
        dur(x.episode_firing.max), dur(x.detection_delay.median), x.peak_firing,
        x.failed_evaluations);
  }
  h += "</table>\n";
  for (size_t i = 0; i < rank.size(); ++i) {
    const RuleReport& x = *rank[i];
    h += fmt::format("<section class=\"rule-section\" id=\"rule-{}\"><h2>{} <small>({}, group "
                     "{})</small></h2>\n",
                     i, esc(x.rule), esc(x.file), esc(x.group));
    h += fmt::format("<p>{} page(s), {} pending-only, {} flap(s) (refired within {}), firing {} "
                     "in total; {} evaluation(s), {} failed.</p>\n",
                     x.firing_starts, x.pending_only, x.flaps, esc(dur(x.flap_window_ms)),
                     esc(dur(x.firing_ms)), x.evaluations, x.failed_evaluations);
    h += "<div class=\"rule\"><div class=\"timeline\">";
    h += timeline(x, r.from, r.to);
    h += "</div>";
    if (!x.what_if.empty()) {
      h += "<table class=\"what-if\"><tr><th class=\"l\">what-if</th><th>pages</th>"
           "<th>pending-only</th><th>firing time</th><th>median time to fire</th></tr>";
      h += fmt::format("<tr><td class=\"l\">as written</td><td>{}</td><td>{}</td><td>{}</td>"
                       "<td>{}</td></tr>",
                       x.firing_starts, x.pending_only, esc(dur(x.firing_ms)),
                       esc(dur(x.detection_delay.median)));
      for (const auto& v : x.what_if) {
        h += fmt::format("<tr><td class=\"l\">{}={}</td><td>{}</td><td>{}</td><td>{}</td>"
                         "<td>{}</td></tr>",
                         esc(to_string(v.key)), esc(v.value), v.firing_starts, v.pending_only,
                         esc(dur(v.firing_ms)), esc(dur(v.detection_delay.median)));
      }
      h += "</table>";
    }
    h += "</div></section>\n";
  }
  h += "</body></html>\n";
  return h;
}

}  // namespace ruleeval::engine::replay
