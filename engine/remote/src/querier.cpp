#include "ruleeval/engine/querier.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <chrono>

#include <charconv>
#include <cmath>
#include <limits>
#include <memory>

#include "backend_http.hpp"
#include "ruleeval/common/env.hpp"
#include "ruleeval/common/excerpt.hpp"
#include "ruleeval/common/url.hpp"

namespace ruleeval::engine {

std::string_view result_type_name(const Value& v) {
  switch (v.index()) {
    case 0:
      return "scalar";
    case 1:
      return "vector";
    case 2:
      return "matrix";
    default:
      return "string";
  }
}

Result<double> parse_prom_value(std::string_view s) {
  if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (s == "+Inf" || s == "Inf") return std::numeric_limits<double>::infinity();
  if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  std::string_view t = s;
  if (!t.empty() && t.front() == '+') t.remove_prefix(1);
  double v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || (t.size() < s.size() && (t.front() == '-' || t.front() == '+')) ||
      ec != std::errc() || p != t.data() + t.size()) {
    return make_error(fmt::format("invalid sample value \"{}\"", s));
  }
  return v;
}

Result<Millis> parse_prom_time(std::string_view s) {
  auto bad = [&] { return make_error(fmt::format("invalid timestamp \"{}\"", s)); };
  if (s.empty()) return bad();
  if (s.find_first_of("eE") != std::string_view::npos) {
    double d = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(d)) return bad();
    return seconds_to_ms_rounded(d);
  }
  bool neg = s.front() == '-';
  std::string_view t = neg ? s.substr(1) : s;
  auto dot = t.find('.');
  std::string_view whole = t.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view{} : t.substr(dot + 1);
  if (whole.empty() && frac.empty()) return bad();
  int64_t secs = 0;
  if (!whole.empty()) {
    auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), secs);
    if (ec != std::errc() || p != whole.data() + whole.size()) return bad();
  }
  int64_t ms = 0;
  int digits = 0;
  for (char c : frac) {
    if (c < '0' || c > '9') return bad();
    if (digits < 3) ms = ms * 10 + (c - '0');
    ++digits;
  }
  for (; digits < 3; ++digits) ms *= 10;
  if (secs > std::numeric_limits<int64_t>::max() / 1000 - 1) return bad();
  Millis out = seconds_to_ms(secs) + ms;
  return neg ? -out : out;
}

std::string format_prom_time(Millis t) {
  bool neg = t < 0;
  uint64_t a = neg ? 0 - static_cast<uint64_t>(t) : static_cast<uint64_t>(t);
  uint64_t ms = a % 1000;
  std::string out = fmt::format("{}{}", neg ? "-" : "", a / 1000);
  if (ms != 0) {
    std::string f = fmt::format("{:03}", ms);
    while (f.back() == '0') f.pop_back();
    out += "." + f;
  }
  return out;
}

namespace {

using rapidjson::Value;

Error malformed(int status, std::string msg) {
  Error e;
  e.kind = ErrorKind::kMalformed;
  e.http_status = status;
  e.message = std::move(msg);
  return e;
}

std::string_view sv(const Value& v) { return {v.GetString(), v.GetStringLength()}; }

// A JSON number of Unix seconds (a string is accepted too). Doubles hold Unix seconds with
// millisecond fractions exactly enough for rounding to the millisecond.
std::expected<Millis, std::string> time_of(const Value& v) {
  if (v.IsString()) {
    auto t = parse_prom_time(sv(v));
    if (!t) return std::unexpected(t.error().message);
    return *t;
  }
  if (!v.IsNumber()) return std::unexpected("timestamp is not a number");
  double d = v.GetDouble();
  if (!std::isfinite(d) || std::fabs(d) > 9e15) return std::unexpected("timestamp out of range");
  return seconds_to_ms_rounded(d);
}

std::expected<Labels, std::string> metric_of(const Value& obj) {
  auto it = obj.FindMember("metric");
  if (it == obj.MemberEnd()) return Labels{};
  if (!it->value.IsObject()) return std::unexpected("\"metric\" is not an object");
  std::vector<Label> labels;
  labels.reserve(it->value.MemberCount());
  for (const auto& m : it->value.GetObject()) {
    if (!m.value.IsString()) return std::unexpected("label value is not a string");
    labels.push_back(Label{std::string(sv(m.name)), std::string(sv(m.value))});
  }
  return Labels::from_vector(std::move(labels));
}

// [<time>, "<value>"]
std::expected<std::pair<Millis, double>, std::string> point_of(const Value& v) {
  if (!v.IsArray() || v.Size() != 2) return std::unexpected("sample is not a [time, value] pair");
  auto t = time_of(v[0]);
  if (!t) return std::unexpected(t.error());
  if (!v[1].IsString()) return std::unexpected("sample value is not a string");
  auto val = parse_prom_value(sv(v[1]));
  if (!val) return std::unexpected(val.error().message);
  return std::pair{*t, *val};
}

std::expected<void, std::string> decode_data(const Value& data, QueryResult& out) {
  if (!data.IsObject()) return std::unexpected("\"data\" is not an object");
  auto rt = data.FindMember("resultType");
  auto res = data.FindMember("result");
  if (rt == data.MemberEnd() || !rt->value.IsString()) {
    return std::unexpected("\"data.resultType\" is missing");
  }
  if (res == data.MemberEnd()) return std::unexpected("\"data.result\" is missing");
  std::string_view type = sv(rt->value);
  const Value& r = res->value;
  if (type == "vector") {
    if (!r.IsArray()) return std::unexpected("vector result is not an array");
    Vector vec;
    vec.reserve(r.Size());
    for (const auto& el : r.GetArray()) {
      if (!el.IsObject()) return std::unexpected("vector element is not an object");
      auto metric = metric_of(el);
      if (!metric) return std::unexpected(metric.error());
      auto value = el.FindMember("value");
      if (value == el.MemberEnd()) {
        if (el.HasMember("histogram")) {
          return std::unexpected("native histogram samples are not supported");
        }
        return std::unexpected("vector element has no \"value\"");
      }
      auto p = point_of(value->value);
      if (!p) return std::unexpected(p.error());
      Sample smp;
      smp.metric = std::move(*metric);
      smp.t = p->first;
      smp.v = p->second;
      vec.push_back(std::move(smp));
    }
    out.value = std::move(vec);
  } else if (type == "matrix") {
    if (!r.IsArray()) return std::unexpected("matrix result is not an array");
    Matrix mat;
    mat.reserve(r.Size());
    for (const auto& el : r.GetArray()) {
      if (!el.IsObject()) return std::unexpected("matrix element is not an object");
      auto metric = metric_of(el);
      if (!metric) return std::unexpected(metric.error());
      Series s;
      s.metric = std::move(*metric);
      auto values = el.FindMember("values");
      if (values == el.MemberEnd()) {
        if (el.HasMember("histograms")) {
          return std::unexpected("native histogram samples are not supported");
        }
        return std::unexpected("matrix element has no \"values\"");
      }
      if (!values->value.IsArray()) return std::unexpected("\"values\" is not an array");
      s.points.reserve(values->value.Size());
      for (const auto& pv : values->value.GetArray()) {
        auto p = point_of(pv);
        if (!p) return std::unexpected(p.error());
        s.points.push_back(FPoint{p->first, p->second});
      }
      mat.push_back(std::move(s));
    }
    out.value = std::move(mat);
  } else if (type == "scalar") {
    auto p = point_of(r);
    if (!p) return std::unexpected(p.error());
    out.value = Scalar{p->second, p->first};
  } else if (type == "string") {
    if (!r.IsArray() || r.Size() != 2 || !r[1].IsString()) {
      return std::unexpected("string result is not a [time, \"string\"] pair");
    }
    auto t = time_of(r[0]);
    if (!t) return std::unexpected(t.error());
    out.value = String{std::string(sv(r[1])), *t};
  } else {
    return std::unexpected(fmt::format("unknown resultType \"{}\"", type));
  }
  return {};
}

void string_list(const Value& obj, const char* key, std::vector<std::string>& out) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsArray()) return;
  for (const auto& w : it->value.GetArray()) {
    if (w.IsString()) out.emplace_back(sv(w));
  }
}

std::string snippet(std::string_view body) { return excerpt(body, 200); }

}  // namespace

QueryOutcome decode_query_response(std::string_view body, int http_status) {
  const bool ok_status = http_status >= 200 && http_status < 300;
  // In-situ parsing rewrites the buffer and strings point into it. The copy and RapidJSON's
  // first pool chunk are per-thread and reused: a fresh 64 KiB pool per response would cost a
  // heap grow/trim cycle and page faults on every query.
  thread_local std::string buf;
  buf.assign(body);
  struct Release {  // a huge response's copy is not kept for the thread's lifetime
    ~Release() {
      if (buf.capacity() > (1u << 20)) std::string().swap(buf);
    }
  } release;
  // On the heap at first use: a thread_local array lives in every thread's static TLS block,
  // which glibc zeroes at thread start, so all ~70 threads of `ruleeval run` (API workers,
  // notifier, delivery) paid 32 KiB of RSS for a buffer only the evaluation workers use.
  constexpr size_t kPool = 32 << 10;
  thread_local std::unique_ptr<char[]> pool;
  if (!pool) pool = std::make_unique_for_overwrite<char[]>(kPool);  // new[]: 16-byte aligned
  rapidjson::MemoryPoolAllocator<> alloc(pool.get(), kPool);
  rapidjson::Document doc(&alloc);
  doc.ParseInsitu<rapidjson::kParseStopWhenDoneFlag>(buf.data());
  if (doc.HasParseError() || !doc.IsObject()) {
    if (!ok_status) {
      Error e;
      e.kind = ErrorKind::kHttp;
      e.http_status = http_status;
      e.message = body.empty() ? "empty response" : snippet(body);
      return std::unexpected(e);
    }
    if (doc.HasParseError()) {
      return std::unexpected(
          malformed(http_status, fmt::format("invalid JSON at offset {}: {}", doc.GetErrorOffset(),
                                             rapidjson::GetParseError_En(doc.GetParseError()))));
    }
    return std::unexpected(malformed(http_status, "top-level JSON value is not an object"));
  }
  auto st = doc.FindMember("status");
  if (st == doc.MemberEnd() || !st->value.IsString()) {
    if (!ok_status) {
      Error e;
      e.kind = ErrorKind::kHttp;
      e.http_status = http_status;
      e.message = snippet(body);
      return std::unexpected(e);
    }
    return std::unexpected(malformed(http_status, "\"status\" is missing"));
  }
  std::string_view status = sv(st->value);
  if (status == "error") {
    Error e;
    e.kind = ErrorKind::kApi;
    e.http_status = http_status;
    auto et = doc.FindMember("errorType");
    if (et != doc.MemberEnd() && et->value.IsString()) e.code = std::string(sv(et->value));
    auto em = doc.FindMember("error");
    e.message = em != doc.MemberEnd() && em->value.IsString() ? std::string(sv(em->value))
                                                              : "unknown error";
    return std::unexpected(e);
  }
  if (status != "success") {
    return std::unexpected(malformed(http_status, fmt::format("unknown status \"{}\"", status)));
  }
  if (!ok_status) {
    Error e;
    e.kind = ErrorKind::kHttp;
    e.http_status = http_status;
    e.message = "status \"success\" with a non-2xx HTTP status";
    return std::unexpected(e);
  }
  QueryResult out;
  string_list(doc, "warnings", out.warnings);
  string_list(doc, "infos", out.infos);
  auto data = doc.FindMember("data");
  if (data == doc.MemberEnd())
    return std::unexpected(malformed(http_status, "\"data\" is missing"));
  if (auto r = decode_data(data->value, out); !r) {
    return std::unexpected(malformed(http_status, r.error()));
  }
  return out;
}

HttpQuerier::HttpQuerier(HttpClientConfig config, Env* env)
    : config_(std::move(config)), session_(std::make_unique<BackendSession>(config_, *env)) {
  while (!config_.url.empty() && config_.url.back() == '/') config_.url.pop_back();
  // A query string in the URL (?token=...) stays at the end: base + path + query.
  auto split = split_url_query(config_.url);
  base_ = std::move(split.base);
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
  query_ = std::move(split.query);
  shown_base_ = redact_url(base_);
}

HttpQuerier::~HttpQuerier() = default;

QueryOutcome HttpQuerier::post(
    std::string_view path,
    std::initializer_list<std::pair<std::string_view, std::string_view>> form) {
  body_.clear();
  auto add = [&](std::string_view k, std::string_view v) {
    if (!body_.empty()) body_.push_back('&');
    BackendSession::escape_append(body_, k);
    body_.push_back('=');
    BackendSession::escape_append(body_, v);
  };
  for (const auto& [k, v] : form) add(k, v);
  for (const auto& [k, v] : config_.query_params) add(k, v);
  url_.assign(base_).append(path).append(query_);
  auto reply = session_->post(url_, body_, "application/x-www-form-urlencoded");
  // Errors name the URL without its password (and without the query: it may hold a token).
  auto shown = [&] { return shown_base_ + std::string(path); };
  if (!reply) {
    Error e = reply.error();
    e.message = shown() + ": " + redact_urls_in(e.message);
    return std::unexpected(e);
  }
  auto decode_start = Env::Default()->monotonic_now();
  auto out = decode_query_response(*reply->body, reply->status);
  traffic_.response_bytes += reply->body->size();
  traffic_.decode_seconds += Env::Default()->seconds_since(decode_start);
  if (!out && out.error().kind != ErrorKind::kApi) {
    out.error().message = shown() + ": " + out.error().message;
  }
  return out;
}

QueryOutcome HttpQuerier::query(std::string_view expr, Millis t) {
  const std::string time = format_prom_time(t);
  return post("/api/v1/query", {{"query", expr}, {"time", time}});
}

QueryOutcome HttpQuerier::query_range(std::string_view expr, Millis start, Millis end,
                                      Millis step) {
  const std::string a = format_prom_time(start), b = format_prom_time(end),
                    st = format_prom_time(step);
  return post("/api/v1/query_range", {{"query", expr}, {"start", a}, {"end", b}, {"step", st}});
}

}  // namespace ruleeval::engine
