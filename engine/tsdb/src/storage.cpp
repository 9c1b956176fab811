#include "ruleeval/engine/storage.hpp"

#include "ruleeval/engine/regex_cache.hpp"

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
    auto re = anchored_regex(m.value);
    if (!re) return make_error("error parsing regexp: " + re.error().message);
    out.re_ = std::move(*re);
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

Storage::MemSeries& Storage::series_of(const Labels& labels) {
  auto it = ids_.find(labels);
  if (it != ids_.end()) return *series_[it->second];
  auto id = static_cast<uint32_t>(series_.size());
  series_.push_back(std::make_unique<MemSeries>());
  MemSeries* s = series_.back().get();
  s->labels = labels;
  ids_.emplace(labels, id);
  for (const auto& l : labels) postings_[l.name][l.value].push_back(id);
  rank_valid_.store(false, std::memory_order_release);
  return *s;
}

namespace {
bool hist_less(const HistogramSample& a, Millis t) { return a.t < t; }
}  // namespace

const HistogramPtr* SeriesView::histogram_at(size_t idx) const {
  if (idx >= v.size() || !is_histogram_marker(v[idx])) return nullptr;
  auto it = std::lower_bound(h.begin(), h.end(), t[idx], hist_less);
  if (it == h.end() || it->t != t[idx]) return nullptr;
  return &it->h;
}

HistogramSample* Storage::MemSeries::find_histogram(Millis at) {
  auto it = std::lower_bound(h.begin(), h.end(), at, hist_less);
  return it != h.end() && it->t == at ? &*it : nullptr;
}

void Storage::MemSeries::derive_hint(size_t k) {
  const HistogramPtr& src = h[k].src;
  CounterResetHint hint = CounterResetHint::kUnknown;
  if (src->hint == CounterResetHint::kGauge) {
    hint = CounterResetHint::kGauge;
  } else {
    // The sample before this one, skipping staleness markers.
    size_t idx = static_cast<size_t>(std::lower_bound(t.begin(), t.end(), h[k].t) - t.begin());
    const FloatHistogram* prev = nullptr;
    while (idx > 0) {
      --idx;
      if (is_stale_nan(v[idx])) continue;
      if (is_histogram_marker(v[idx])) {
        if (auto* ps = find_histogram(t[idx])) prev = ps->src.get();
      }
      break;
    }
    if (prev && prev->hint != CounterResetHint::kGauge && prev->schema == src->schema &&
        prev->zero_threshold == src->zero_threshold &&
        prev->custom_values == src->custom_values && !histogram_detect_reset(*src, *prev)) {
      hint = CounterResetHint::kNotReset;
    }
  }
  if (src->hint == hint) {
    h[k].h = src;
  } else if (k > 0 && h[k - 1].src == src && h[k - 1].h->hint == hint) {
    h[k].h = h[k - 1].h;  // a repeated literal shares its copy
  } else {
    auto copy = std::make_shared<FloatHistogram>(*src);
    copy->hint = hint;
    h[k].h = std::move(copy);
  }
}

void Storage::append(const Labels& labels, Millis t, double v) {
  MemSeries* s = &series_of(labels);
  if (s->t.empty() || s->t.back() < t) {
    s->t.push_back(t);
    s->v.push_back(v);
    return;
  }
  auto pos = std::lower_bound(s->t.begin(), s->t.end(), t);
  auto idx = pos - s->t.begin();
  if (*pos == t) {
    if (is_histogram_marker(s->v[idx])) {
      auto it = std::lower_bound(s->h.begin(), s->h.end(), t, hist_less);
      if (it != s->h.end() && it->t == t) s->h.erase(it);
    }
    s->v[idx] = v;
  } else {
    s->t.insert(pos, t);
    s->v.insert(s->v.begin() + idx, v);
  }
  // A histogram after this sample may now follow a float instead of a histogram.
  auto next = std::upper_bound(s->h.begin(), s->h.end(), t,
                               [](Millis a, const HistogramSample& b) { return a < b.t; });
  if (next != s->h.end()) s->derive_hint(static_cast<size_t>(next - s->h.begin()));
}

void Storage::append_histogram(const Labels& labels, Millis t, HistogramPtr hp) {
  if (!hp) return;
  MemSeries* s = &series_of(labels);
  auto hit = std::lower_bound(s->h.begin(), s->h.end(), t, hist_less);
  size_t k = static_cast<size_t>(hit - s->h.begin());
  if (hit != s->h.end() && hit->t == t) {
    hit->src = std::move(hp);
  } else {
    s->h.insert(hit, HistogramSample{t, nullptr, std::move(hp)});
  }
  if (s->t.empty() || s->t.back() < t) {
    s->t.push_back(t);
    s->v.push_back(histogram_marker());
  } else {
    auto pos = std::lower_bound(s->t.begin(), s->t.end(), t);
    auto idx = pos - s->t.begin();
    if (*pos == t) {
      s->v[idx] = histogram_marker();
    } else {
      s->t.insert(pos, t);
      s->v.insert(s->v.begin() + idx, histogram_marker());
    }
  }
  s->derive_hint(k);
  if (k + 1 < s->h.size()) s->derive_hint(k + 1);
}

void Storage::clear() {
  series_.clear();
  ids_.clear();
  postings_.clear();
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

size_t Storage::num_histogram_samples() const {
  size_t n = 0;
  for (const auto& s : series_) n += s->h.size();
  return n;
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
    out.push_back(SeriesView{&s.labels, s.t, s.v, s.h});
  }
  return out;
}

}  // namespace ruleeval::engine
