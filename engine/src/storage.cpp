#include "ruleeval/engine/storage.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <iterator>

namespace ruleeval::engine {

Result<Matcher> Matcher::make(const promql::LabelMatcher& m) {
  Matcher out;
  out.op_ = m.op;
  out.name_ = m.name;
  out.value_ = m.value;
  if (m.op == promql::MatchOp::Regex || m.op == promql::MatchOp::NotRegex) {
    RE2::Options opts;
    opts.set_dot_nl(true);
    opts.set_log_errors(false);
    auto re = std::make_shared<RE2>("^(?:" + m.value + ")$", opts);
    if (!re->ok()) {
      return make_error("error parsing regexp: " + re->error());
    }
    out.re_ = std::move(re);
  }
  return out;
}

bool Matcher::matches(std::string_view value) const {
  switch (op_) {
    case promql::MatchOp::Equal:
      return value == value_;
    case promql::MatchOp::NotEqual:
      return value != value_;
    case promql::MatchOp::Regex:
      return RE2::FullMatch(value, *static_cast<const RE2*>(re_.get()));
    case promql::MatchOp::NotRegex:
      return !RE2::FullMatch(value, *static_cast<const RE2*>(re_.get()));
  }
  return false;
}

Storage::Storage() = default;
Storage::~Storage() = default;

void Storage::append(const Labels& labels, Millis t, double v) {
  auto it = ids_.find(labels);
  MemSeries* s;
  if (it == ids_.end()) {
    auto id = static_cast<uint32_t>(series_.size());
    series_.push_back(std::make_unique<MemSeries>());
    s = series_.back().get();
    s->labels = labels;
    ids_.emplace(labels, id);
    for (const auto& l : labels) postings_[l.name][l.value].push_back(id);
    rank_valid_.store(false, std::memory_order_release);
  } else {
    s = series_[it->second].get();
  }
  if (s->t.empty() || s->t.back() < t) {
    s->t.push_back(t);
    s->v.push_back(v);
    return;
  }
  auto pos = std::lower_bound(s->t.begin(), s->t.end(), t);
  auto idx = pos - s->t.begin();
  if (*pos == t) {
    s->v[idx] = v;
  } else {
    s->t.insert(pos, t);
    s->v.insert(s->v.begin() + idx, v);
  }
}

void Storage::clear() {
  series_.clear();
  ids_.clear();
  postings_.clear();
  skipped_histograms_ = 0;
  rank_valid_.store(false, std::memory_order_release);
}

const std::vector<uint32_t>& Storage::label_rank() const {
  if (rank_valid_.load(std::memory_order_acquire)) return rank_;
  std::lock_guard lock(rank_mu_);
  if (rank_valid_.load(std::memory_order_relaxed)) return rank_;
  std::vector<uint32_t> order(series_.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return series_[a]->labels < series_[b]->labels; });
  rank_.assign(series_.size(), 0);
  for (uint32_t pos = 0; pos < order.size(); ++pos) rank_[order[pos]] = pos;
  rank_valid_.store(true, std::memory_order_release);
  return rank_;
}

size_t Storage::num_samples() const {
  size_t n = 0;
  for (const auto& s : series_) n += s->t.size();
  return n;
}

namespace {

std::vector<uint32_t> intersect(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  std::vector<uint32_t> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace

Result<std::vector<SeriesView>> Storage::select(std::span<const promql::LabelMatcher> matchers,
                                                Millis /*mint*/, Millis /*maxt*/) const {
  std::vector<Matcher> compiled;
  compiled.reserve(matchers.size());
  for (const auto& m : matchers) {
    auto c = Matcher::make(m);
    if (!c) return std::unexpected(c.error());
    compiled.push_back(std::move(*c));
  }
  // Narrow the candidates with the postings of every matcher that does not match "". Those
  // matchers hold for every candidate; the others are checked per series below.
  bool have_candidates = false;
  std::vector<uint32_t> candidates;
  std::vector<const Matcher*> residual;
  for (const auto& m : compiled) {
    if (m.matches("")) {
      residual.push_back(&m);
      continue;
    }
    std::vector<uint32_t> ids;
    auto name_it = postings_.find(m.name());
    if (name_it != postings_.end()) {
      if (m.op() == promql::MatchOp::Equal) {
        auto v_it = name_it->second.find(m.value());
        if (v_it != name_it->second.end()) ids = v_it->second;
      } else {
        for (const auto& [value, p] : name_it->second) {
          if (!m.matches(value)) continue;
          std::vector<uint32_t> merged;
          std::set_union(ids.begin(), ids.end(), p.begin(), p.end(), std::back_inserter(merged));
          ids = std::move(merged);
        }
      }
    }
    candidates = have_candidates ? intersect(candidates, ids) : std::move(ids);
    have_candidates = true;
    if (candidates.empty()) break;
  }
  if (!have_candidates) {
    candidates.resize(series_.size());
    for (uint32_t i = 0; i < candidates.size(); ++i) candidates[i] = i;
  }
  std::vector<uint32_t> kept;
  kept.reserve(candidates.size());
  for (uint32_t id : candidates) {
    const MemSeries& s = *series_[id];
    bool ok = true;
    for (const auto* m : residual) {
      if (!m->matches(s.labels.get(m->name()))) {
        ok = false;
        break;
      }
    }
    if (ok) kept.push_back(id);
  }
  const auto& rank = label_rank();
  std::sort(kept.begin(), kept.end(), [&](uint32_t a, uint32_t b) { return rank[a] < rank[b]; });
  std::vector<SeriesView> out;
  out.reserve(kept.size());
  for (uint32_t id : kept) {
    const MemSeries& s = *series_[id];
    out.push_back(SeriesView{&s.labels, s.t, s.v});
  }
  return out;
}

}  // namespace ruleeval::engine
