// The embedded TSDB: an in-memory series store with a postings index, and the Queryable
// interface the evaluator reads through (so that a remote backend can be plugged in later).
//
// Thread-safety: Storage is not synchronised. Readers may share a const Storage, but appends and
// clear() need exclusive access. SeriesView spans stay valid until the next mutation.
#pragma once

#include <cstdint>
#include <atomic>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "ruleeval/common/error.hpp"
#include "ruleeval/common/labels.hpp"
#include "ruleeval/engine/histogram.hpp"
#include "ruleeval/engine/value.hpp"
#include "ruleeval/parser/promql_ast.hpp"

namespace ruleeval::engine {

// A native-histogram sample of a series, kept beside the float samples: the float slot at the same
// timestamp holds histogram_marker().
struct HistogramSample {
  Millis t = 0;
  HistogramPtr h;    // as read back: counter-reset hint derived like Prometheus's TSDB chunks
  HistogramPtr src;  // as appended (the derivation is redone when a neighbour changes)
};

// A read-only view of one stored series: sorted timestamps and their values.
struct SeriesView {
  const Labels* labels = nullptr;
  std::span<const Millis> t;
  std::span<const double> v;
  std::span<const HistogramSample> h;  // sorted by t; empty for float-only series

  // The histogram of sample `idx` when v[idx] is histogram_marker(), else null.
  const HistogramPtr* histogram_at(size_t idx) const;
};

class Queryable {
 public:
  virtual ~Queryable() = default;
  // Every series matching all `matchers` (Prometheus semantics: regexes fully anchored, `.`
  // matching newlines; a matcher that matches "" also matches series without the label),
  // sorted by labels. mint/maxt are hints: a backend may return samples outside them.
  virtual Result<std::vector<SeriesView>> select(std::span<const promql::LabelMatcher> matchers,
                                                 Millis mint, Millis maxt) const = 0;
};

// A compiled label matcher (RE2 for =~ and !~).
class Matcher {
 public:
  static Result<Matcher> make(const promql::LabelMatcher& m);
  bool matches(std::string_view value) const;
  const std::string& name() const { return name_; }
  promql::MatchOp op() const { return op_; }
  const std::string& value() const { return value_; }

 private:
  promql::MatchOp op_ = promql::MatchOp::Equal;
  std::string name_;
  std::string value_;
  std::shared_ptr<const void> re_;  // RE2, kept opaque so RE2 stays private to src/
};

class Storage final : public Queryable {
 public:
  Storage();
  ~Storage() override;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  // Adds a sample. Samples may arrive out of order; a sample at an existing timestamp replaces
  // the old value.
  void append(const Labels& labels, Millis t, double v);
  // Adds a native-histogram sample (same replacement rules). The stored copy's counter-reset hint
  // is what Prometheus's TSDB reads back: gauge stays gauge; a histogram following another one
  // (staleness markers in between are skipped) with the same schema, zero threshold and custom
  // bounds and no detected reset reads back as not_reset; anything else (the first histogram, one
  // after a float, a reset, a layout change) as unknown. Chunk cuts by size are not modelled.
  void append_histogram(const Labels& labels, Millis t, HistogramPtr h);
  // Drops every series.
  void clear();

  size_t num_series() const { return series_.size(); }
  size_t num_samples() const;
  size_t num_histogram_samples() const;

  Result<std::vector<SeriesView>> select(std::span<const promql::LabelMatcher> matchers,
                                         Millis mint, Millis maxt) const override;

 private:
  struct MemSeries {
    Labels labels;
    std::vector<Millis> t;
    std::vector<double> v;
    std::vector<HistogramSample> h;  // side array, sorted by t
    HistogramSample* find_histogram(Millis at);
    // Sets h[k].h from h[k].src and the sample before it.
    void derive_hint(size_t k);
  };
  MemSeries& series_of(const Labels& labels);
  using Postings = std::vector<uint32_t>;  // series ids, ascending

  std::vector<std::unique_ptr<MemSeries>> series_;
  std::unordered_map<Labels, uint32_t> ids_;
  // label name -> label value -> postings
  std::unordered_map<std::string, std::unordered_map<std::string, Postings>> postings_;
  // Position of each series in label order, rebuilt lazily by the first select() after new
  // series were added, so that results sort by integer rank instead of comparing labels.
  const std::vector<uint32_t>& label_rank() const;
  mutable std::vector<uint32_t> rank_;
  mutable std::atomic<bool> rank_valid_{false};
  mutable std::mutex rank_mu_;
};

}  // namespace ruleeval::engine
