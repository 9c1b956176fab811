// bench_query: the client-side cost of one backend query, against a running Prometheus-compatible
// server. Sends every alerting/recording expression of a rule file as an instant query, one after
// another on one thread, through two clients in the same process:
//   ruleeval   HttpQuerier: form encoding, libcurl, RapidJSON decoding into engine values
//   bare curl  one reused libcurl handle POSTing the same forms, discarding the body (the floor
//              of any libcurl-based client: HTTP and the kernel's loopback)
// and prints this process's CPU (user+sys, getrusage) per query for each, their ratio, and the
// decode throughput.
//   bench_query URL RULES.yml [--time UNIX_SECONDS] [--rounds N]
#include <curl/curl.h>
#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ruleeval/engine/querier.hpp"
#include "ruleeval/http/client.hpp"
#include "ruleeval/rules/loader.hpp"

namespace {

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

size_t discard(char*, size_t size, size_t n, void* total) {
  *static_cast<size_t*>(total) += size * n;
  return size * n;
}

std::string form_escape(CURL* c, const std::string& s) {
  char* e = curl_easy_escape(c, s.data(), static_cast<int>(s.size()));
  std::string out(e);
  curl_free(e);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ruleeval;
  http::install_default_env_http();
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_query URL RULES.yml [--time UNIX_SECONDS] [--rounds N]\n");
    return 2;
  }
  const std::string url = argv[1];
  Millis at = to_millis(std::chrono::system_clock::now());
  int rounds = 1;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--time") == 0) at = seconds_to_ms(std::atoll(argv[i + 1]));
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[i + 1]);
  }
  auto loaded = rules::load_rules_file(argv[2]);
  std::vector<std::string> exprs;
  for (const auto& g : loaded.file.groups) {
    for (const auto& r : g.rules) {
      if (!r.expr.value.empty()) exprs.push_back(r.expr.value);
    }
  }
  if (exprs.empty()) {
    std::fprintf(stderr, "bench_query: no expressions in %s\n", argv[2]);
    return 2;
  }

  // ruleeval's client.
  engine::HttpClientConfig cfg;
  cfg.url = url;
  engine::HttpQuerier q(cfg);
  size_t errors = 0, samples = 0;
  for (size_t i = 0; i < std::min<size_t>(exprs.size(), 50); ++i) (void)q.query(exprs[i], at);
  const auto warm = q.traffic();
  double c0 = cpu_seconds();
  auto w0 = std::chrono::steady_clock::now();
  for (int r = 0; r < rounds; ++r) {
    for (const auto& e : exprs) {
      auto out = q.query(e, at);
      if (!out) {
        ++errors;
      } else if (auto* v = std::get_if<engine::Vector>(&out->value)) {
        samples += v->size();
      }
    }
  }
  const double ours = cpu_seconds() - c0;
  const double ours_wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  const auto traffic = q.traffic();
  const double bytes = static_cast<double>(traffic.response_bytes - warm.response_bytes);
  const double decode = traffic.decode_seconds - warm.decode_seconds;

  // Bare libcurl: the same requests, nothing decoded.
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURL* c = curl_easy_init();
  size_t bare_bytes = 0;
  const std::string endpoint = url + "/api/v1/query";
  curl_easy_setopt(c, CURLOPT_URL, endpoint.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &discard);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &bare_bytes);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  const std::string time_param = "&time=" + engine::format_prom_time(at);
  std::vector<std::string> forms;
  forms.reserve(exprs.size());
  for (const auto& e : exprs) forms.push_back("query=" + form_escape(c, e) + time_param);
  for (size_t i = 0; i < std::min<size_t>(forms.size(), 50); ++i) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, forms[i].c_str());
    curl_easy_perform(c);
  }
  bare_bytes = 0;
  c0 = cpu_seconds();
  w0 = std::chrono::steady_clock::now();
  for (int r = 0; r < rounds; ++r) {
    for (const auto& f : forms) {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, f.c_str());
      if (curl_easy_perform(c) != CURLE_OK) ++errors;
    }
  }
  const double bare = cpu_seconds() - c0;
  const double bare_wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  curl_easy_cleanup(c);

  const double n = static_cast<double>(exprs.size()) * rounds;
  fmt::print(
      "bench_query: {} queries ({} expressions x {} rounds) against {}, {} samples, "
      "{} errors\n",
      static_cast<size_t>(n), exprs.size(), rounds, url, samples, errors);
  fmt::print("  {:10} {:>14} {:>12}\n", "", "CPU us/query", "wall us");
  fmt::print("  {:10} {:14.1f} {:12.1f}\n", "ruleeval", ours / n * 1e6, ours_wall / n * 1e6);
  fmt::print("  {:10} {:14.1f} {:12.1f}\n", "bare curl", bare / n * 1e6, bare_wall / n * 1e6);
  fmt::print(
      "  ruleeval's query path costs {:.2f}x a bare libcurl request; decoding {:.1f} MB "
      "took {:.3f} s ({:.0f} MB/s, {:.1f} us/query)\n",
      ours / std::max(bare, 1e-9), bytes / 1e6, decode, bytes / 1e6 / std::max(decode, 1e-9),
      decode / n * 1e6);
  return errors == 0 ? 0 : 1;
}
