// The datasources of `ruleeval run` (private to the engine): an embedded store loaded from series
// files, or a Prometheus-compatible HTTP backend; both time their queries for /metrics.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ruleeval/common/env.hpp"
#include "ruleeval/common/url.hpp"
#include "ruleeval/engine/querier_rule.hpp"
#include "ruleeval/engine/storage.hpp"

namespace ruleeval::engine {

class Datasource {
 public:
  virtual ~Datasource() = default;
  // Runs `fn` with a querier and an appender for rule results. Implementations serialise access
  // as they need to.
  virtual void with_querier(const std::function<void(RuleQuerier&, const AppendFn&)>& fn) = 0;
  virtual std::string describe() const = 0;
  Env* env = Env::Default();  // the monotonic clock that times the queries, and their HTTP
  // Capability: the embedded store this datasource evaluates against, or null for a remote
  // backend. Rule results and native histograms are appended to it (only inside with_querier(),
  // which holds the datasource's lock), and ALERTS series are kept in it.
  virtual Storage* local_store() { return nullptr; }
  // The series files the local store was loaded from (a reload keeps a datasource with the same
  // name and files, and so its data); null for a remote backend.
  virtual const std::vector<std::string>* series_files() const { return nullptr; }
  std::string name;
  // Backend latency (seconds), for /metrics.
  std::mutex stats_mu;
  uint64_t requests = 0;
  double request_seconds = 0;
  uint64_t response_bytes = 0;  // HTTP backends: bodies received and the time to decode them
  double decode_seconds = 0;
};

// Times every query and counts it, for the datasource metrics.
class TimedQuerier final : public RuleQuerier {
 public:
  TimedQuerier(RuleQuerier& inner, Datasource& ds) : inner_(inner), ds_(ds) {}
  Result<QueryResult> instant(const promql::Expr& e, std::string_view text, Millis t) override {
    auto start = ds_.env->monotonic_now();
    auto r = inner_.instant(e, text, t);
    note(start);
    return r;
  }
  Result<QueryResult> range(const promql::Expr& e, std::string_view text, Millis a, Millis b,
                            Millis step) override {
    auto start = ds_.env->monotonic_now();
    auto r = inner_.range(e, text, a, b, step);
    note(start);
    return r;
  }

 private:
  void note(std::chrono::steady_clock::time_point start) {
    double secs = ds_.env->seconds_since(start);
    std::lock_guard lock(ds_.stats_mu);
    ++ds_.requests;
    ds_.request_seconds += secs;
  }
  RuleQuerier& inner_;
  Datasource& ds_;
};

class EmbeddedDatasource final : public Datasource {
 public:
  explicit EmbeddedDatasource(const EngineOptions& opts) : opts_(opts) {}
  void with_querier(const std::function<void(RuleQuerier&, const AppendFn&)>& fn) override {
    std::lock_guard lock(mu_);
    LocalRuleQuerier local(store_, opts_);
    TimedQuerier q(local, *this);
    AppendFn append = [this](const Labels& l, Millis t, double v) { store_.append(l, t, v); };
    fn(q, append);
  }
  std::string describe() const override { return "embedded"; }
  Storage* local_store() override { return &store_; }
  const std::vector<std::string>* series_files() const override { return &files; }
  Storage& store() { return store_; }
  std::vector<std::string> files;

 private:
  std::mutex mu_;
  Storage store_;
  EngineOptions opts_;
};

// A Prometheus-compatible backend. Each evaluation borrows one HttpRuleQuerier (one curl handle,
// reused connection) from a small pool, so concurrent groups never share a handle. Rule results
// cannot be written back to the backend here; they go to remote_write when configured.
class HttpDatasource final : public Datasource {
 public:
  explicit HttpDatasource(HttpClientConfig cfg) : cfg_(std::move(cfg)) {}
  void with_querier(const std::function<void(RuleQuerier&, const AppendFn&)>& fn) override {
    std::unique_ptr<HttpRuleQuerier> q;
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        q = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (!q) q = std::make_unique<HttpRuleQuerier>(cfg_, env);  // HTTP through the manager's Env
    TimedQuerier timed(*q, *this);
    static const AppendFn kDiscard = [](const Labels&, Millis, double) {};
    const HttpQuerier::Traffic before = q->querier().traffic();
    fn(timed, kDiscard);
    const HttpQuerier::Traffic& after = q->querier().traffic();
    {
      std::lock_guard lock(stats_mu);
      response_bytes += after.response_bytes - before.response_bytes;
      decode_seconds += after.decode_seconds - before.decode_seconds;
    }
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(q));
  }
  std::string describe() const override { return redact_url(cfg_.url); }
  const HttpClientConfig& config() const { return cfg_; }

 private:
  HttpClientConfig cfg_;
  std::mutex mu_;
  std::vector<std::unique_ptr<HttpRuleQuerier>> idle_;
};

}  // namespace ruleeval::engine
