#include "ruleeval/engine/status_page.hpp"

#include <charconv>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "ruleeval/common/go_format.hpp"
#include "ruleeval/common/escape.hpp"
#include "ruleeval/engine/group_eval.hpp"
#include "ruleeval/engine/http_api.hpp"
#include "ruleeval/parser/promql.hpp"

namespace ruleeval::engine::status {

std::string escape_html(std::string_view s) { return html_escape(s); }

namespace {


// Only http(s) and relative links become hrefs: a `javascript:` runbook_url must not run.
bool safe_url(std::string_view u) {
  auto lower = std::string(u.substr(0, 8));
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.starts_with("http://") || lower.starts_with("https://") ||
         (!u.empty() && u[0] == '/' && (u.size() == 1 || u[1] != '/'));
}

std::string_view get(const LabelPairs& l, std::string_view name) {
  for (const auto& [k, v] : l)
    if (k == name) return v;
  return {};
}

bool icontains(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return true;
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  });
  return it != hay.end();
}

bool matches(const AlertItem& a, const PageFilter& f) {
  if (!f.state.empty() && a.state != f.state) return false;
  for (const auto& [k, v] : f.labels)
    if (get(a.labels, k) != v) return false;
  if (!f.q.empty()) {
    if (icontains(a.rule, f.q)) return true;
    for (const auto& [k, v] : a.labels)
      if (icontains(k, f.q) || icontains(v, f.q)) return true;
    for (const auto& [k, v] : a.annotations)
      if (icontains(v, f.q)) return true;
    return false;
  }
  return true;
}

// Prometheus's humanize (template function), from the project's template function table.
std::string humanize(double v) {
  static const tmpl::FuncMap funcs = alert_template_functions(nullptr, 0, "");
  auto it = funcs.find("humanize");
  if (it == funcs.end()) return format_go_float(v, 21);
  tmpl::Value arg(v);
  auto r = it->second.fn(std::span<const tmpl::Value>(&arg, 1));
  if (!r) return format_go_float(v, 21);
  return r->to_string();
}

std::string time_cell(Millis t, Millis now, bool ago) {
  if (t == kNoTime || t <= 0) return "never";
  std::string rfc = format_rfc3339(t);
  std::string rel = ago ? (t <= now ? format_age(now - t) + " ago" : "in " + format_age(t - now))
                        : format_age(now - t);
  return fmt::format("<time datetime=\"{0}\" title=\"{0}\">{1}</time>", escape_html(rfc),
                     escape_html(rel));
}

std::string badges(const LabelPairs& labels, std::string_view skip = {}) {
  std::string o;
  for (const auto& [k, v] : labels) {
    if (k == skip) continue;
    o += fmt::format("<span class=\"lb\">{}=&#34;{}&#34;</span> ", escape_html(k),
                     escape_html(v));
  }
  return o;
}

std::string matcher_string(const LabelPairs& labels) {
  std::string o;
  for (const auto& [k, v] : labels) {
    if (!o.empty()) o += '\n';
    o.append(k).append("=").append(v);
  }
  return o;
}

std::string_view kStyle =
    "body{font-family:system-ui,sans-serif;margin:0;padding:0 1em 2em;color:#222;"
    "background:#fafafa}"
    "header{position:sticky;top:0;background:#fafafa;padding:.5em 0;border-bottom:1px solid #ddd}"
    "h1{font-size:1.3em;margin:.3em 0}h2{font-size:1.15em;margin-top:1.5em}"
    "h3{font-size:1em;margin:.8em 0 .3em}"
    ".card{background:#fff;border:1px solid #ddd;border-left:6px solid #999;border-radius:4px;"
    "padding:.5em .8em;margin:.5em 0;overflow-wrap:anywhere}"
    ".card.firing{border-left-color:#c62828}.card.pending{border-left-color:#f9a825}"
    ".card.resolved{border-left-color:#2e7d32;opacity:.85}"
    ".lb{display:inline-block;background:#eef;border-radius:3px;padding:0 .35em;margin:.1em;"
    "font-size:.85em;font-family:monospace;overflow-wrap:anywhere}"
    ".an{font-weight:600}.muted{color:#666;font-size:.9em}.err{color:#b00020}"
    ".ok{color:#2e7d32}.warn{color:#a66a00}"
    ".banner{background:#fde0e0;border:1px solid #c62828;padding:.5em .8em;border-radius:4px}"
    "table{border-collapse:collapse;width:100%;font-size:.9em}"
    "td,th{border-bottom:1px solid #ddd;padding:.3em .4em;text-align:left;vertical-align:top}"
    ".tw{overflow-x:auto}"
    "pre.q{white-space:pre-wrap;overflow-wrap:anywhere;background:#f4f4f4;padding:.4em;"
    "margin:.2em 0}"
    ".m{color:#1565c0}.f{color:#6a1b9a}.k{color:#ad1457;font-weight:600}.n{color:#00695c}"
    ".s{color:#2e7d32}.l{color:#444}"
    "form.f1 input,form.f1 textarea{width:100%;box-sizing:border-box;margin:.1em 0}"
    "details{margin:.3em 0}svg{display:block;max-width:100%}"
    "nav{display:flex;flex-wrap:wrap;gap:.2em .8em}"
    "@media (max-width:600px){body{padding:0 .4em}td,th{padding:.2em}}";

// Tiny inline script, progressive enhancement only (every form works without it): the refresh
// toggle (remembered in the URL), the silence form posted in the background (message in place
// instead of a page load), expire buttons. Talks to this server only.
std::string_view kScript = R"JS(
(function(){
var rs=document.getElementById('refresh');
if(rs){rs.addEventListener('change',function(){var u=new URL(location.href);
u.searchParams.set('refresh',rs.checked?'30':'0');location.href=u.toString();});}
function msg(f,t,bad){var m=f.querySelector('.msg');if(m){m.textContent=t;m.className='msg '+(bad?'err':'ok');}}
document.querySelectorAll('form.silence').forEach(function(f){
f.addEventListener('submit',function(ev){ev.preventDefault();
fetch(f.action,{method:'POST',headers:{'Accept':'application/json',
'Content-Type':'application/x-www-form-urlencoded'},body:new URLSearchParams(new FormData(f))})
.then(function(r){return r.json().then(function(j){if(!r.ok)throw new Error(j.error||r.status);return j;});})
.then(function(){msg(f,'silence created');setTimeout(function(){location.reload();},300);})
.catch(function(e){msg(f,'failed: '+e.message,true);});});});
document.querySelectorAll('form.expire').forEach(function(f){
f.addEventListener('submit',function(ev){ev.preventDefault();var b=f.querySelector('button');
fetch('/api/v2/silence/'+encodeURIComponent(f.id.value),{method:'DELETE'})
.then(function(r){if(!r.ok)throw new Error(r.status);location.reload();})
.catch(function(e){b.textContent='failed: '+e.message;});});});
})();
)JS";

// "sent", "retrying: <error>", "failed to the fallback (ops): <error>", with a class for colour.
std::string outcome_html(const DeliveryItem& d) {
  const char* cls = d.outcome == "sent" ? "ok" : d.outcome == "queued" ? "warn" : "err";
  std::string text = escape_html(d.outcome);
  if (d.outcome == "failed" && !d.fallback.empty()) {
    text = "failed to the fallback <strong>" + escape_html(d.fallback) + "</strong>";
  }
  std::string o = fmt::format("<span class=\"{} outcome\">{}</span>", cls, text);
  if (!d.error.empty()) o += " — <span class=\"err\">" + escape_html(d.error) + "</span>";
  return o;
}

std::string silence_form(const AlertItem& a) {
  LabelPairs ls = a.labels;
  return fmt::format(
      "<details><summary>Silence this alert</summary>"
      "<form class=\"silence f1\" method=\"post\" action=\"/silences\">"
      "<label>Matchers (one per line, name=value, =~ for regex)<textarea name=\"matchers\" "
      "rows=\"{}\" required>{}</textarea></label>"
      "<label>Duration (hours)<input name=\"hours\" type=\"number\" min=\"0.1\" step=\"0.1\" "
      "value=\"2\"></label>"
      "<label>Created by<input name=\"createdBy\" value=\"\" required></label>"
      "<label>Comment<input name=\"comment\" value=\"\" required></label>"
      "<button type=\"submit\">Create silence</button> <span class=\"msg\"></span>"
      "</form></details>",
      std::min<size_t>(ls.size() + 1, 8), escape_html(matcher_string(ls)));
}

void render_alert(std::string& o, const AlertItem& a, const PageData& d,
                  const std::vector<const DeliveryItem*>& deliveries) {
  Millis now = d.now;
  std::string_view name = get(a.labels, "alertname");
  if (name.empty()) name = a.rule;
  o += fmt::format("<div class=\"card {}\">", escape_html(a.state));
  o += fmt::format("<div><strong>{}</strong> <span class=\"muted\">{}</span> ",
                   escape_html(name), escape_html(a.state));
  o += fmt::format("value <span class=\"v\" title=\"{}\">{}</span></div>",
                   escape_html(humanize(a.value)), escape_html(format_go_float(a.value, 21)));
  o += "<div>" + badges(a.labels, "alertname") + "</div>";
  o += "<div class=\"muted\">";
  if (a.state == "resolved") {
    o += "resolved " + time_cell(a.resolved_at, now, true) + ", active since " +
         time_cell(a.active_at, now, true);
  } else {
    o += "active since " + time_cell(a.active_at, now, true);
    if (a.state == "firing" && a.fired_at != kNoTime)
      o += ", firing since " + time_cell(a.fired_at, now, true);
    if (a.state == "pending") {
      Millis left = a.active_at + a.for_ms - now;
      o += left > 0 ? ", <span class=\"warn\">fires in " + escape_html(format_age(left)) +
                          " unless it clears</span>"
                    : ", <span class=\"warn\">fires at the next evaluation</span>";
    }
  }
  o += fmt::format(" · rule <code>{}</code> in group <code>{}</code></div>", escape_html(a.rule),
                   escape_html(a.group));
  std::string_view summary = get(a.annotations, "summary");
  std::string_view description = get(a.annotations, "description");
  if (!summary.empty()) o += "<div class=\"an summary\">" + escape_html(summary) + "</div>";
  if (!description.empty())
    o += "<div class=\"description\">" + escape_html(description) + "</div>";
  for (const auto& [k, v] : a.annotations) {
    if (k == "summary" || k == "description" || k == "runbook_url") continue;
    o += fmt::format("<div class=\"muted\">{}: {}</div>", escape_html(k), escape_html(v));
  }
  std::string links;
  std::string_view runbook = get(a.annotations, "runbook_url");
  if (!runbook.empty()) {
    links += safe_url(runbook)
                 ? fmt::format("<a class=\"runbook\" href=\"{}\" rel=\"noopener\">Runbook</a> ",
                               escape_html(runbook))
                 : "runbook: <code>" + escape_html(runbook) + "</code> ";
  }
  if (!a.generator_url.empty() && safe_url(a.generator_url))
    links += fmt::format("<a class=\"source\" href=\"{}\" rel=\"noopener\">Source query</a> ",
                         escape_html(a.generator_url));
  if (!links.empty()) o += "<div>" + links + "</div>";
  if (!a.silenced_by.empty()) {
    o += "<div class=\"warn\">silenced by";
    for (const auto& id : a.silenced_by) o += " <code>" + escape_html(id) + "</code>";
    o += "</div>";
  }
  if (d.notifier) {
    if (deliveries.empty()) {
      o += "<div class=\"muted\">no notification sent yet</div>";
    } else {
      o += "<div class=\"delivery\">";
      for (const auto* dl : deliveries) {
        o += fmt::format("<div>→ <strong>{}</strong> ({}) {}: {}</div>", escape_html(dl->receiver),
                         escape_html(dl->integration), time_cell(dl->at, now, true),
                         outcome_html(*dl));
      }
      o += "</div>";
    }
    if (a.state != "resolved") o += silence_form(a);
  }
  o += "</div>";
}

std::string strip(const RuleItem& r, Millis now) {
  // The window reaches back to the oldest band the daemon still knows (alerts resolved more than
  // 15 minutes ago are forgotten), at least 15 minutes and at most 3 hours.
  constexpr Millis kMin = 15 * Millis{60'000}, kMax = 3 * Millis{3600'000};
  Millis oldest = now;
  for (const auto& b : r.bands) oldest = std::min(oldest, b.from);
  const Millis kWindow = std::clamp<Millis>((now - oldest) * 5 / 4, kMin, kMax);
  constexpr int kW = 300, kH = 14;
  Millis from = now - kWindow;
  std::string o = fmt::format(
      "<svg class=\"strip\" viewBox=\"0 0 {0} {1}\" width=\"{0}\" height=\"{1}\" "
      "role=\"img\" aria-label=\"state of the last {2}\"><rect width=\"{0}\" height=\"{1}\" "
      "fill=\"#e8f5e9\"/>",
      kW, kH, format_age(kWindow));
  for (const auto& b : r.bands) {
    Millis a = std::max(b.from, from), e = std::min(b.to, now);
    if (e <= a) continue;
    double x = static_cast<double>(a - from) * kW / static_cast<double>(kWindow);
    double w = std::max(1.0, static_cast<double>(e - a) * kW / static_cast<double>(kWindow));
    o += fmt::format("<rect x=\"{:.1f}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\"><title>{} {} "
                     "→ {}</title></rect>",
                     x, w, kH, b.state == "firing" ? "#c62828" : "#f9a825", escape_html(b.state),
                     escape_html(format_rfc3339(b.from)), escape_html(format_rfc3339(b.to)));
  }
  o += fmt::format("</svg><div class=\"muted\">last {}: green inactive, yellow pending, red "
                   "firing</div>",
                   format_age(kWindow));
  return o;
}

}  // namespace

std::string format_age(Millis d) {
  if (d < 0) d = -d;
  int64_t s = trunc_seconds(d);
  if (s < 60) return fmt::format("{}s", s);
  int64_t m = s / 60;
  if (m < 60) return s % 60 ? fmt::format("{}m{}s", m, s % 60) : fmt::format("{}m", m);
  int64_t h = m / 60;
  if (h < 24) return m % 60 ? fmt::format("{}h{}m", h, m % 60) : fmt::format("{}h", h);
  return h % 24 ? fmt::format("{}d{}h", h / 24, h % 24) : fmt::format("{}d", h / 24);
}

LabelPairs group_key_labels(std::string_view key) {
  LabelPairs out;
  size_t open = key.rfind(":{");
  if (open == std::string_view::npos) return out;
  std::string_view s = key.substr(open + 2);
  size_t i = 0;
  while (i < s.size() && s[i] != '}') {
    while (i < s.size() && (s[i] == ' ' || s[i] == ',')) ++i;
    size_t eq = s.find('=', i);
    if (eq == std::string_view::npos || eq + 1 >= s.size() || s[eq + 1] != '"') break;
    std::string name(s.substr(i, eq - i));
    std::string value;
    size_t j = eq + 2;
    for (; j < s.size() && s[j] != '"'; ++j) {
      if (s[j] == '\\' && j + 1 < s.size()) {
        ++j;
        value += s[j] == 'n' ? '\n' : s[j];
      } else {
        value += s[j];
      }
    }
    out.emplace_back(std::move(name), std::move(value));
    i = j + 1;
  }
  return out;
}

PageFilter parse_filter(std::string_view state, const std::vector<std::string>& labels,
                        std::string_view q, std::string_view refresh,
                        std::vector<std::string>* errors) {
  PageFilter f;
  if (state == "firing" || state == "pending" || state == "resolved") {
    f.state = std::string(state);
  } else if (!state.empty()) {
    f.errors.push_back("state=\"" + std::string(state) +
                       "\" is not a state (firing, pending or resolved): showing every state");
  }
  auto valid_name = [](std::string_view n) {
    if (n.empty() || std::isdigit(static_cast<unsigned char>(n[0]))) return false;
    return std::all_of(n.begin(), n.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
  };
  for (const auto& l : labels) {
    size_t eq = l.find('=');
    std::string name = eq == std::string::npos ? l : l.substr(0, eq);
    while (!name.empty() && name.back() == ' ') name.pop_back();
    while (!name.empty() && name.front() == ' ') name.erase(0, 1);
    std::string why;
    if (eq == std::string::npos) {
      why = "is not name=value";
    } else if (!name.empty() && (name.back() == '!' || l.compare(eq, 2, "=~") == 0)) {
      why = "uses an operator other than = (only exact matches are supported)";
    } else if (!valid_name(name)) {
      why = fmt::format("has an invalid label name \"{}\"", name);
    }
    if (!why.empty()) {
      f.errors.push_back(fmt::format("label=\"{}\" {}: this filter is ignored", l, why));
      f.bad_labels.push_back(l);
      continue;
    }
    std::string v = l.substr(eq + 1);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    f.labels.emplace_back(name, v);
  }
  f.q = std::string(q);
  if (refresh == "0" || refresh == "off") {
    f.refresh_seconds = 0;
  } else if (!refresh.empty()) {
    int secs = 0;
    auto [p, ec] = std::from_chars(refresh.data(), refresh.data() + refresh.size(), secs);
    if (ec == std::errc() && p == refresh.data() + refresh.size() && secs >= 5 && secs <= 86400) {
      f.refresh_seconds = secs;
    } else {
      f.errors.push_back("refresh=\"" + std::string(refresh) +
                         "\" is not 0, off or a number of seconds from 5 to 86400: refreshing "
                         "every 30s");
    }
  }
  if (errors) errors->insert(errors->end(), f.errors.begin(), f.errors.end());
  return f;
}

std::string cross_site_reason(std::string_view origin, std::string_view referer,
                              std::string_view host) {
  if (host.empty()) return "the request has no Host header";
  std::string_view from = !origin.empty() ? origin : referer;
  if (from.empty()) {
    return "the request has neither an Origin nor a Referer header (forms of this page send "
           "them; scripts should use /api/v2/silences)";
  }
  size_t scheme = from.find("://");
  if (scheme == std::string_view::npos) return "the request comes from another site";
  std::string_view authority = from.substr(scheme + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (authority != host) return "the request comes from another site";
  return "";
}

std::string render_notice_page(std::string_view title, std::string_view message, bool error) {
  return fmt::format(
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<link rel=\"icon\" href=\"data:,\"><title>{} - ruleeval</title><style>{}</style></head>"
      "<body><h1>{}</h1><p class=\"{} notice\">{}</p><p><a href=\"/\">Back to the status page"
      "</a></p></body></html>",
      escape_html(title), kStyle, escape_html(title), error ? "err" : "ok", escape_html(message));
}

std::string highlight_promql(std::string_view query) {
  auto parsed = promql::parse(query, promql::ParseOptions::all());
  if (!parsed) return escape_html(query);
  struct Mark {
    uint32_t b, e;
    const char* cls;
  };
  std::vector<Mark> marks;
  promql::walk(**parsed, [&](const promql::Expr& e) {
    uint32_t b = e.span.begin;
    if (e.is<promql::NumberLiteral>()) {
      marks.push_back({b, e.span.end, "n"});
    } else if (e.is<promql::StringLiteral>()) {
      marks.push_back({b, e.span.end, "s"});
    } else if (const auto* v = e.as<promql::VectorSelector>()) {
      if (!v->name.empty() && !v->name_in_braces && query.substr(b).starts_with(v->name))
        marks.push_back({b, static_cast<uint32_t>(b + v->name.size()), "m"});
      for (const auto& m : v->matchers) {
        if (m.span.end <= m.span.begin || m.span.end > query.size()) continue;
        marks.push_back({m.span.begin, m.span.end, "l"});
      }
    } else if (const auto* c = e.as<promql::Call>()) {
      std::string_view n = c->func ? std::string_view(c->func->name) : std::string_view();
      if (!n.empty() && query.substr(b).starts_with(n))
        marks.push_back({b, static_cast<uint32_t>(b + n.size()), "f"});
    } else if (const auto* a = e.as<promql::Aggregate>()) {
      std::string_view n = promql::to_string(a->op);
      if (query.substr(b).starts_with(n))
        marks.push_back({b, static_cast<uint32_t>(b + n.size()), "k"});
    }
  });
  std::sort(marks.begin(), marks.end(), [](const Mark& x, const Mark& y) { return x.b < y.b; });
  std::string o;
  size_t pos = 0;
  for (const auto& m : marks) {
    if (m.b < pos || m.e > query.size() || m.e <= m.b) continue;  // overlapping or empty
    o += escape_html(query.substr(pos, m.b - pos));
    o += fmt::format("<span class=\"{}\">{}</span>", m.cls,
                     escape_html(query.substr(m.b, m.e - m.b)));
    pos = m.e;
  }
  o += escape_html(query.substr(pos));
  return o;
}

std::string render_status_page(const PageData& d, const PageFilter& f) {
  std::string o;
  o.reserve(4096 + d.alerts.size() * 1500);
  o += "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
       "<link rel=\"icon\" href=\"data:,\">";  // no favicon request (and no 404)
  if (f.refresh_seconds > 0)
    o += fmt::format("<meta http-equiv=\"refresh\" content=\"{}\">", f.refresh_seconds);
  size_t n_firing = 0, n_pending = 0;
  for (const auto& a : d.alerts) {
    n_firing += a.state == "firing";
    n_pending += a.state == "pending";
  }
  o += fmt::format("<title>{}ruleeval</title><style>", n_firing ? fmt::format("({} firing) ", n_firing) : "");
  o += kStyle;
  o += "</style></head><body><header><h1>ruleeval</h1><nav>"
       "<a href=\"#alerts\">Alerts</a>";
  if (d.notifier) o += "<a href=\"#delivery\">Delivery</a><a href=\"#silences\">Silences</a>";
  o += "<a href=\"#rules\">Rules</a><a href=\"/api/v1/alerts\">JSON</a>"
       "<a href=\"/metrics\">Metrics</a></nav>";
  o += fmt::format(
      "<div class=\"muted\">{} firing, {} pending · rendered <time datetime=\"{}\">{}</time> · "
      "<label><input type=\"checkbox\" id=\"refresh\"{}> auto-refresh every 30s</label></div>",
      n_firing, n_pending, escape_html(format_rfc3339(d.now)), escape_html(format_rfc3339(d.now)),
      f.refresh_seconds > 0 ? " checked" : "");
  // Filters: a GET form, so the URL can be shared.
  std::string label_value;
  for (const auto& [k, v] : f.labels) {
    if (!label_value.empty()) label_value += ",";
    label_value.append(k).append("=").append(v);
  }
  o += "<form method=\"get\" action=\"/\" class=\"filters\">"
       "<select name=\"state\" aria-label=\"state\">";
  for (std::string_view s : {"", "firing", "pending", "resolved"}) {
    o += fmt::format("<option value=\"{}\"{}>{}</option>", s, f.state == s ? " selected" : "",
                     s.empty() ? "all states" : s);
  }
  o += "</select> ";
  if (f.labels.empty() && f.bad_labels.empty()) {
    o += "<input name=\"label\" placeholder=\"label=value\" size=\"16\"> ";
  } else {
    for (const auto& [k, v] : f.labels)
      o += fmt::format("<input name=\"label\" value=\"{}\" size=\"16\"> ",
                       escape_html(fmt::format("{}={}", k, v)));
    for (const auto& l : f.bad_labels) {
      o += fmt::format("<input name=\"label\" value=\"{}\" size=\"16\" aria-invalid=\"true\"> ",
                       escape_html(l));
    }
  }
  o += fmt::format(
      "<input name=\"q\" placeholder=\"search\" value=\"{}\" size=\"16\">"
      "{}<button type=\"submit\">Filter</button> <a href=\"/\">clear</a></form></header>",
      escape_html(f.q), f.refresh_seconds == 0 ? "<input type=\"hidden\" name=\"refresh\" value=\"0\">" : "");
  if (!f.errors.empty()) {
    o += "<div class=\"banner err\" id=\"filter-errors\" role=\"alert\"><strong>Filter problems:</strong><ul>";
    for (const auto& e : f.errors) o += "<li>" + escape_html(e) + "</li>";
    o += "</ul></div>";
  }

  // Alert state that could not be written is the first thing to know (a durability problem).
  if (d.state_write_failures > 0) {
    o += fmt::format(
        "<div class=\"banner state-write-failing\"><strong>Alert state is not being saved</strong>: "
        "{} write failure(s); last error: <span class=\"err\">{}</span></div>",
        d.state_write_failures, escape_html(d.state_write_error));
  }

  // Failing receivers first.
  if (d.notifier) {
    for (const auto& r : d.receivers) {
      if (!r.failing()) continue;
      o += fmt::format(
          "<div class=\"banner receiver-failing\"><strong>Receiver {} ({}) is failing</strong>: "
          "{} consecutive failed attempts, {} queued; last error: <span class=\"err\">{}</span>"
          "</div>",
          escape_html(r.receiver), escape_html(r.integration), r.consecutive_failures, r.queued,
          escape_html(r.last_error));
    }
  }

  // Alerts, grouped by state.
  o += "<section id=\"alerts\"><h2>Alerts</h2>";
  std::vector<std::vector<const DeliveryItem*>> per_alert(d.alerts.size());
  std::vector<LabelPairs> keys;
  keys.reserve(d.deliveries.size());
  for (const auto& dl : d.deliveries) keys.push_back(group_key_labels(dl.group_key));
  for (const char* st : {"firing", "pending", "resolved"}) {
    std::vector<size_t> idx;
    for (size_t i = 0; i < d.alerts.size(); ++i)
      if (d.alerts[i].state == st && matches(d.alerts[i], f)) idx.push_back(i);
    if (!f.state.empty() && f.state != st) continue;
    std::sort(idx.begin(), idx.end(), [&](size_t x, size_t y) {
      const auto& a = d.alerts[x];
      const auto& b = d.alerts[y];
      Millis ta = std::string_view(st) == "resolved" ? -a.resolved_at : a.active_at;
      Millis tb = std::string_view(st) == "resolved" ? -b.resolved_at : b.active_at;
      return ta != tb ? ta < tb : a.rule < b.rule;
    });
    o += fmt::format("<h3 class=\"{}\">{} ({})</h3>", st,
                     std::string_view(st) == "resolved" ? "Resolved in the last 15 minutes"
                     : std::string_view(st) == "firing" ? "Firing"
                                                        : "Pending",
                     idx.size());
    if (idx.empty()) o += "<p class=\"muted\">none</p>";
    for (size_t i : idx) {
      const auto& a = d.alerts[i];
      std::vector<const DeliveryItem*> dls;
      for (size_t k = 0; k < d.deliveries.size(); ++k) {
        bool all = !keys[k].empty() || d.deliveries[k].group_key.ends_with(":{}");
        for (const auto& [n, v] : keys[k])
          if (get(a.labels, n) != v) {
            all = false;
            break;
          }
        if (all) dls.push_back(&d.deliveries[k]);
      }
      render_alert(o, a, d, dls);
    }
  }
  o += "</section>";

  if (d.notifier) {
    // Delivery per alert group.
    o += "<section id=\"delivery\"><h2>Delivery</h2>";
    std::vector<const ReceiverItem*> recv;
    recv.reserve(d.receivers.size());
    for (const auto& r : d.receivers) recv.push_back(&r);
    std::stable_sort(recv.begin(), recv.end(), [](const ReceiverItem* a, const ReceiverItem* b) {
      return a->failing() > b->failing();
    });
    o += "<h3>Receivers</h3><div class=\"tw\"><table><tr><th>receiver</th><th>integration</th>"
         "<th>sent</th><th>failed</th><th>retried</th><th>queued</th><th>status</th></tr>";
    for (const auto* r : recv) {
      o += fmt::format(
          "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
          escape_html(r->receiver), escape_html(r->integration), r->sent, r->failed, r->retried,
          r->queued,
          r->failing() ? "<span class=\"err\">failing: " + escape_html(r->last_error) + "</span>"
                       : std::string("<span class=\"ok\">ok</span>"));
    }
    o += "</table></div><h3>Notifications per alert group</h3>";
    if (d.deliveries.empty()) o += "<p class=\"muted\">no notification sent yet</p>";
    else {
      std::vector<const DeliveryItem*> dl;
      dl.reserve(d.deliveries.size());
      for (const auto& x : d.deliveries) dl.push_back(&x);
      std::stable_sort(dl.begin(), dl.end(), [](const DeliveryItem* a, const DeliveryItem* b) {
        if ((a->outcome != "sent") != (b->outcome != "sent")) return a->outcome != "sent";
        return a->at > b->at;
      });
      o += "<div class=\"tw\"><table><tr><th>alert group</th><th>receiver</th><th>when</th>"
           "<th>alerts</th><th>outcome</th></tr>";
      for (const auto* x : dl) {
        o += fmt::format(
            "<tr><td><code>{}</code></td><td>{} <span class=\"muted\">{}</span></td><td>{}</td>"
            "<td>{} firing, {} resolved</td><td>{}</td></tr>",
            escape_html(x->group_key), escape_html(x->receiver), escape_html(x->integration),
            time_cell(x->at, d.now, true), x->firing, x->resolved, outcome_html(*x));
      }
      o += "</table></div>";
    }
    o += "</section>";

    // Silences.
    o += "<section id=\"silences\"><h2>Silences</h2>";
    std::vector<const SilenceItem*> act, exp;
    for (const auto& s : d.silences) (s.state == "expired" ? exp : act).push_back(&s);
    auto table = [&](std::vector<const SilenceItem*>& v, bool expire) {
      std::sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->ends_at > b->ends_at; });
      o += "<div class=\"tw\"><table><tr><th>matchers</th><th>state</th><th>starts</th>"
           "<th>ends</th><th>by</th><th>comment</th><th></th></tr>";
      for (const auto* s : v) {
        o += fmt::format(
            "<tr class=\"silence-row\"><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td><td>{}</td><td>{}</td></tr>",
            escape_html(s->matchers), escape_html(s->state), time_cell(s->starts_at, d.now, true),
            time_cell(s->ends_at, d.now, true), escape_html(s->created_by),
            escape_html(s->comment),
            expire ? fmt::format("<form class=\"expire\" method=\"post\" action=\"/silences/expire\">"
                                 "<input type=\"hidden\" name=\"id\" value=\"{}\">"
                                 "<button class=\"expire\" type=\"submit\">Expire</button></form>",
                                 escape_html(s->id))
                   : std::string());
      }
      o += "</table></div>";
    };
    o += fmt::format("<h3>Active and pending ({})</h3>", act.size());
    if (act.empty()) o += "<p class=\"muted\">none</p>";
    else table(act, true);
    o += fmt::format("<details><summary>Expired ({})</summary>", exp.size());
    table(exp, false);
    o += "</details></section>";
  }

  // Rules.
  o += "<section id=\"rules\"><h2>Rules</h2>";
  for (const auto& g : d.groups) {
    o += fmt::format(
        "<h3>{} <span class=\"muted\">{} · every {} · last evaluation {} took {:.3f}s · {} "
        "iterations, <span class=\"{}\">{} missed</span></span></h3>",
        escape_html(g.name), escape_html(g.file), escape_html(format_age(g.interval)),
        time_cell(g.last_eval, d.now, true), g.eval_seconds, g.iterations,
        g.missed ? "err" : "muted", g.missed);
    for (const auto& r : g.rules) {
      o += fmt::format("<div class=\"card rule {}\"><div><strong>{}</strong> <span class=\"muted\">{}</span> ",
                       r.firing ? "firing" : r.pending ? "pending" : "",
                       escape_html(r.name), r.alerting ? "alert" : "record");
      o += fmt::format("health <span class=\"{}\">{}</span>", r.health == "err" ? "err" : "ok",
                       escape_html(r.health));
      if (r.alerting) {
        o += fmt::format(" · {} firing, {} pending", r.firing, r.pending);
        if (r.for_ms) o += " · for " + escape_html(format_age(r.for_ms));
      }
      o += fmt::format(" · evaluated {} in {:.3f}s</div>", time_cell(r.last_eval, d.now, true),
                       r.eval_seconds);
      o += "<pre class=\"q\">" + highlight_promql(r.query) + "</pre>";
      if (r.last_error)
        o += "<div class=\"err\">last error: " + escape_html(*r.last_error) + "</div>";
      if (r.alerting) o += strip(r, d.now);
      o += "</div>";
    }
  }
  o += "</section><script>";
  o += kScript;
  o += "</script></body></html>";
  return o;
}

}  // namespace ruleeval::engine::status
