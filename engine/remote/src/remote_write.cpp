#include "ruleeval/engine/remote_write.hpp"

#include <fmt/format.h>
#include <snappy.h>

#include <bit>
#include <chrono>
#include <unordered_map>

#include "backend_http.hpp"
#include "ruleeval/common/env.hpp"
#include "ruleeval/common/excerpt.hpp"
#include "ruleeval/common/millis.hpp"
#include "ruleeval/common/url.hpp"

namespace ruleeval::engine {

namespace {

// Protobuf wire format helpers.
constexpr uint8_t kWireVarint = 0;
constexpr uint8_t kWireFixed64 = 1;
constexpr uint8_t kWireLen = 2;

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void put_tag(std::string& out, uint32_t field, uint8_t wire) {
  put_varint(out, (field << 3) | wire);
}
void put_bytes(std::string& out, uint32_t field, std::string_view b) {
  put_tag(out, field, kWireLen);
  put_varint(out, b.size());
  out.append(b);
}
void put_fixed64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

class Reader {
 public:
  explicit Reader(std::string_view b, size_t base = 0) : b_(b), base_(base) {}
  bool done() const { return pos_ >= b_.size(); }
  size_t offset() const { return base_ + pos_; }
  std::expected<uint64_t, std::string> varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= b_.size()) return err("truncated varint");
      auto c = static_cast<uint8_t>(b_[pos_++]);
      v |= static_cast<uint64_t>(c & 0x7f) << shift;
      if ((c & 0x80) == 0) return v;
    }
    return err("varint too long");
  }
  std::expected<std::string_view, std::string> bytes() {
    auto n = varint();
    if (!n) return std::unexpected(n.error());
    if (*n > b_.size() - pos_) return err("length runs past the end");
    auto out = b_.substr(pos_, *n);
    pos_ += *n;
    return out;
  }
  std::expected<uint64_t, std::string> fixed64() {
    if (b_.size() - pos_ < 8) return err("truncated fixed64");
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
      v |= static_cast<uint64_t>(static_cast<uint8_t>(b_[pos_ + i])) << (8 * i);
    pos_ += 8;
    return v;
  }
  // Skips a field of an unknown number.
  std::expected<void, std::string> skip(uint8_t wire) {
    switch (wire) {
      case kWireVarint: {
        auto v = varint();
        if (!v) return std::unexpected(v.error());
        return {};
      }
      case kWireFixed64: {
        auto v = fixed64();
        if (!v) return std::unexpected(v.error());
        return {};
      }
      case kWireLen: {
        auto v = bytes();
        if (!v) return std::unexpected(v.error());
        return {};
      }
      case 5:
        if (b_.size() - pos_ < 4) return err("truncated fixed32");
        pos_ += 4;
        return {};
      default:
        return err(fmt::format("unsupported wire type {}", wire));
    }
  }
  std::unexpected<std::string> err(std::string_view what) const {
    return std::unexpected(fmt::format("invalid protobuf at byte {}: {}", offset(), what));
  }
  size_t base_for_sub(std::string_view sub) const {
    return base_ + static_cast<size_t>(sub.data() - b_.data());
  }

 private:
  std::string_view b_;
  size_t base_;
  size_t pos_ = 0;
};

// cppcheck-suppress shiftTooManyBitsSigned ; C++20 defines >> of a negative value as arithmetic
uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }

void put_double(std::string& out, uint32_t field, double v) {
  put_tag(out, field, kWireFixed64);
  put_fixed64(out, std::bit_cast<uint64_t>(v));
}

void put_packed_doubles(std::string& out, uint32_t field, const std::vector<double>& vs) {
  std::string tmp;
  for (double v : vs) put_fixed64(tmp, std::bit_cast<uint64_t>(v));
  put_bytes(out, field, tmp);
}

// prometheus.Histogram for a float histogram (remote-write v1 types.proto).
std::string encode_histogram(const FloatHistogram& in, Millis t) {
  FloatHistogram h = in;
  histogram_compact(h);
  std::string out;
  put_double(out, 2, h.count);  // count_float: always set, it marks a float histogram
  put_double(out, 3, h.sum);
  put_tag(out, 4, kWireVarint);
  put_varint(out, zigzag(h.schema));
  put_double(out, 5, h.zero_threshold);
  put_double(out, 7, h.zero_count);  // zero_count_float
  auto side = [&](uint32_t spans_field, uint32_t counts_field, int32_t offset,
                  const std::vector<double>& buckets) {
    if (buckets.empty()) return;
    std::string span;
    put_tag(span, 1, kWireVarint);
    put_varint(span, zigzag(offset));
    put_tag(span, 2, kWireVarint);
    put_varint(span, buckets.size());
    put_bytes(out, spans_field, span);
    put_packed_doubles(out, counts_field, buckets);
  };
  side(8, 10, h.negative_offset, h.negative_buckets);
  side(11, 13, h.positive_offset, h.positive_buckets);
  uint64_t hint = 0;
  switch (h.hint) {
    case CounterResetHint::kUnknown: hint = 0; break;
    case CounterResetHint::kReset: hint = 1; break;
    case CounterResetHint::kNotReset: hint = 2; break;
    case CounterResetHint::kGauge: hint = 3; break;
  }
  if (hint != 0) {
    put_tag(out, 14, kWireVarint);
    put_varint(out, hint);
  }
  put_tag(out, 15, kWireVarint);
  put_varint(out, static_cast<uint64_t>(t));
  if (!h.custom_values.empty()) put_packed_doubles(out, 16, h.custom_values);
  return out;
}


int64_t unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// The inverse of encode_histogram (float histograms with one span per side).
std::expected<std::pair<Millis, HistogramPtr>, std::string> decode_histogram(Reader& r) {
  auto h = std::make_shared<FloatHistogram>();
  Millis t = 0;
  while (!r.done()) {
    auto tag = r.varint();
    if (!tag) return std::unexpected(tag.error());
    auto f = *tag >> 3;
    auto w = static_cast<uint8_t>(*tag & 7);
    if (w == kWireFixed64 && (f == 2 || f == 3 || f == 5 || f == 7)) {
      auto v = r.fixed64();
      if (!v) return std::unexpected(v.error());
      double d = std::bit_cast<double>(*v);
      (f == 2 ? h->count : f == 3 ? h->sum : f == 5 ? h->zero_threshold : h->zero_count) = d;
    } else if (w == kWireVarint && (f == 4 || f == 14 || f == 15)) {
      auto v = r.varint();
      if (!v) return std::unexpected(v.error());
      if (f == 4) h->schema = static_cast<int32_t>(unzigzag(*v));
      if (f == 14) h->hint = *v == 1 ? CounterResetHint::kReset : *v == 2 ? CounterResetHint::kNotReset
                           : *v == 3 ? CounterResetHint::kGauge : CounterResetHint::kUnknown;
      if (f == 15) t = static_cast<Millis>(*v);
    } else if (w == kWireLen && (f == 8 || f == 11)) {
      auto b = r.bytes();
      if (!b) return std::unexpected(b.error());
      Reader sr(*b, r.base_for_sub(*b));
      while (!sr.done()) {
        auto st = sr.varint();
        if (!st) return std::unexpected(st.error());
        if ((*st & 7) != kWireVarint) return std::unexpected("bad bucket span");
        auto v = sr.varint();
        if (!v) return std::unexpected(v.error());
        if ((*st >> 3) == 1) (f == 8 ? h->negative_offset : h->positive_offset) = static_cast<int32_t>(unzigzag(*v));
      }
    } else if (w == kWireLen && (f == 10 || f == 13 || f == 16)) {
      auto b = r.bytes();
      if (!b) return std::unexpected(b.error());
      auto& dst = f == 10 ? h->negative_buckets : f == 13 ? h->positive_buckets : h->custom_values;
      for (size_t i = 0; i + 8 <= b->size(); i += 8) {
        uint64_t bits = 0;
        for (size_t k = 0; k < 8; ++k) bits |= static_cast<uint64_t>(static_cast<uint8_t>((*b)[i + k])) << (8 * k);
        dst.push_back(std::bit_cast<double>(bits));
      }
    } else if (auto sk = r.skip(w); !sk) {
      return std::unexpected(sk.error());
    }
  }
  return std::pair<Millis, HistogramPtr>{t, std::move(h)};
}
}  // namespace

std::string encode_write_request(std::span<const WriteSample> samples) {
  // Group by label set, keeping first-seen order.
  // Keyed by pointer into `samples` (no label copies), hashed and compared by value.
  struct Hash {
    size_t operator()(const Labels* l) const { return l->hash(); }
  };
  struct Eq {
    bool operator()(const Labels* a, const Labels* b) const { return *a == *b; }
  };
  std::unordered_map<const Labels*, size_t, Hash, Eq> index;
  index.reserve(samples.size());
  std::vector<std::pair<const Labels*, std::vector<const WriteSample*>>> series;
  for (const auto& s : samples) {
    auto [it, inserted] = index.try_emplace(&s.labels, series.size());
    if (inserted) series.push_back({&s.labels, {}});
    series[it->second].second.push_back(&s);
  }
  std::string out;
  std::string ts;
  std::string tmp;
  for (const auto& [labels, points] : series) {
    ts.clear();
    for (const auto& l : *labels) {
      tmp.clear();
      put_bytes(tmp, 1, l.name);
      put_bytes(tmp, 2, l.value);
      put_bytes(ts, 1, tmp);
    }
    for (const WriteSample* p : points) {
      if (p->h) continue;
      tmp.clear();
      put_tag(tmp, 1, kWireFixed64);
      put_fixed64(tmp, std::bit_cast<uint64_t>(p->v));
      put_tag(tmp, 2, kWireVarint);
      put_varint(tmp, static_cast<uint64_t>(p->t));  // int64: two's complement, 10 bytes if < 0
      put_bytes(ts, 2, tmp);
    }
    for (const WriteSample* p : points) {
      if (p->h) put_bytes(ts, 4, encode_histogram(*p->h, p->t));
    }
    put_tag(out, 1, kWireLen);
    out.reserve(out.size() + varint_size(ts.size()) + ts.size());
    put_varint(out, ts.size());
    out.append(ts);
  }
  return out;
}

namespace {
std::expected<std::vector<WriteSample>, std::string> decode_request(std::string_view proto) {
  std::vector<WriteSample> out;
  Reader req(proto);
  while (!req.done()) {
    auto tag = req.varint();
    if (!tag) return std::unexpected(tag.error());
    auto field = *tag >> 3;
    auto wire = static_cast<uint8_t>(*tag & 7);
    if (field != 1 || wire != kWireLen) {
      if (auto s = req.skip(wire); !s) return std::unexpected(s.error());
      continue;
    }
    auto ts_bytes = req.bytes();
    if (!ts_bytes) return std::unexpected(ts_bytes.error());
    Reader ts(*ts_bytes, req.base_for_sub(*ts_bytes));
    std::vector<Label> labels;
    std::vector<std::pair<Millis, double>> points;
    std::vector<std::pair<Millis, HistogramPtr>> hists;
    while (!ts.done()) {
      auto t2 = ts.varint();
      if (!t2) return std::unexpected(t2.error());
      auto f2 = *t2 >> 3;
      auto w2 = static_cast<uint8_t>(*t2 & 7);
      if (f2 == 4 && w2 == kWireLen) {
        auto hb = ts.bytes();
        if (!hb) return std::unexpected(hb.error());
        Reader hr(*hb, ts.base_for_sub(*hb));
        auto dh = decode_histogram(hr);
        if (!dh) return std::unexpected(dh.error());
        hists.push_back(std::move(*dh));
        continue;
      }
      if ((f2 != 1 && f2 != 2) || w2 != kWireLen) {
        if (auto s = ts.skip(w2); !s) return std::unexpected(s.error());
        continue;
      }
      auto sub = ts.bytes();
      if (!sub) return std::unexpected(sub.error());
      Reader r(*sub, ts.base_for_sub(*sub));
      if (f2 == 1) {
        Label l;
        while (!r.done()) {
          auto t3 = r.varint();
          if (!t3) return std::unexpected(t3.error());
          auto w3 = static_cast<uint8_t>(*t3 & 7);
          if ((*t3 >> 3) <= 2 && w3 == kWireLen) {
            auto v = r.bytes();
            if (!v) return std::unexpected(v.error());
            ((*t3 >> 3) == 1 ? l.name : l.value) = std::string(*v);
          } else if (auto s = r.skip(w3); !s) {
            return std::unexpected(s.error());
          }
        }
        labels.push_back(std::move(l));
      } else {
        std::pair<Millis, double> p{0, 0};
        while (!r.done()) {
          auto t3 = r.varint();
          if (!t3) return std::unexpected(t3.error());
          auto f3 = *t3 >> 3;
          auto w3 = static_cast<uint8_t>(*t3 & 7);
          if (f3 == 1 && w3 == kWireFixed64) {
            auto v = r.fixed64();
            if (!v) return std::unexpected(v.error());
            p.second = std::bit_cast<double>(*v);
          } else if (f3 == 2 && w3 == kWireVarint) {
            auto v = r.varint();
            if (!v) return std::unexpected(v.error());
            p.first = static_cast<Millis>(*v);
          } else if (auto s = r.skip(w3); !s) {
            return std::unexpected(s.error());
          }
        }
        points.push_back(p);
      }
    }
    Labels lbs = Labels::from_vector(std::move(labels));
    for (const auto& [t, v] : points) out.push_back(WriteSample{lbs, t, v});
    for (auto& [t, h] : hists) out.push_back(WriteSample{lbs, t, 0, std::move(h)});
  }
  return out;
}
}  // namespace

Result<std::vector<WriteSample>> decode_write_request(std::string_view proto) {
  auto r = decode_request(proto);
  if (!r) return make_error(std::move(r.error()));
  return std::move(*r);
}

std::string snappy_compress(std::string_view raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

Result<std::string> snappy_uncompress(std::string_view compressed) {
  std::string out;
  if (!snappy::Uncompress(compressed.data(), compressed.size(), &out)) {
    return make_error("invalid snappy block");
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

namespace {
// The queue's batch deadlines and backoff are real waits: the real monotonic clock.
int64_t steady_ms() { return Env::Default()->monotonic_ms(); }
}  // namespace

RemoteWriteQueue::RemoteWriteQueue(RemoteWriteConfig config, Env* env)
    : config_(std::move(config)), session_(std::make_unique<BackendSession>(config_.http, *env)) {
  if (config_.max_samples_per_send == 0) config_.max_samples_per_send = 1;
  if (config_.max_attempts < 1) config_.max_attempts = 1;
  sleep_ = [](Millis ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };
}

RemoteWriteQueue::~RemoteWriteQueue() { stop(); }

bool RemoteWriteQueue::push(WriteSample s) {
  bool room = true;
  {
    std::lock_guard lock(mu_);
    if (config_.queue_capacity == 0) {
      ++stats_.samples_dropped_queue_full;
      return false;
    }
    while (queue_.size() >= config_.queue_capacity) {
      queue_.pop_front();
      ++stats_.samples_dropped_queue_full;
      room = false;
    }
    queue_.push_back(std::move(s));
    if (queue_.size() >= config_.max_samples_per_send) cv_.notify_one();
  }
  return room;
}

bool RemoteWriteQueue::push(std::span<const WriteSample> samples) {
  bool room = true;
  for (const auto& s : samples) room = push(s) && room;
  return room;
}

size_t RemoteWriteQueue::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

RemoteWriteStats RemoteWriteQueue::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

Result<void> RemoteWriteQueue::send_batch(std::span<const WriteSample> batch) {
  const std::string body = snappy_compress(encode_write_request(batch));
  static const std::string kHeaders[] = {"Content-Encoding: snappy",
                                         "X-Prometheus-Remote-Write-Version: 0.1.0"};
  Millis backoff = config_.min_backoff_ms;
  std::string last;
  for (int attempt = 1; attempt <= config_.max_attempts; ++attempt) {
    auto reply = session_->post(config_.http.url, body, "application/x-protobuf", kHeaders);
    bool retry = false;
    if (!reply) {
      last = fmt::format("{}: {}", redact_url(config_.http.url), reply.error().to_string());
      retry = reply.error().kind == ErrorKind::kTransport;
    } else if (reply->status >= 200 && reply->status < 300) {
      return {};
    } else {
      std::string_view answer = *reply->body;
      while (!answer.empty() && (answer.back() == '\n' || answer.back() == '\r')) {
        answer.remove_suffix(1);
      }
      const std::string snippet = excerpt(answer, 200);
      last = fmt::format("{}: HTTP {}: {}", redact_url(config_.http.url), reply->status, snippet);
      retry = reply->status >= 500 || reply->status == 429;
    }
    if (!retry || attempt == config_.max_attempts || past_deadline()) break;
    {
      std::lock_guard lock(mu_);
      ++stats_.retries;
    }
    if (const int64_t d = deadline_.load(); d > 0) {
      const int64_t left = d - steady_ms();
      if (left <= 0) break;
      sleep_(std::min<Millis>(backoff, left));
    } else {
      sleep_(backoff);
    }
    backoff = std::min(backoff * 2, config_.max_backoff_ms);
  }
  return make_error(std::move(last));
}

Result<void> RemoteWriteQueue::flush() {
  std::lock_guard flush_lock(flush_mu_);
  Result<void> result;
  std::vector<WriteSample> batch;
  for (;;) {
    batch.clear();
    {
      std::lock_guard lock(mu_);
      size_t n = std::min(queue_.size(), config_.max_samples_per_send);
      if (n == 0) break;
      batch.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    }
    Result<void> r;
    if (past_deadline()) {
      r = make_error("shutdown deadline passed; batch dropped");
    } else {
      r = send_batch(batch);
    }
    std::lock_guard lock(mu_);
    if (r) {
      stats_.samples_sent += batch.size();
    } else {
      stats_.samples_failed += batch.size();
      stats_.last_error = r.error().message;
      if (result) result = std::unexpected(r.error());
    }
  }
  return result;
}

void RemoteWriteQueue::start() {
  std::lock_guard lock(mu_);
  if (worker_.joinable()) return;
  stopping_ = false;
  worker_ = std::thread([this] {
    std::unique_lock lk(mu_);
    while (!stopping_) {
      cv_.wait_for(lk, std::chrono::milliseconds(config_.flush_interval_ms),
                   [this] { return stopping_ || queue_.size() >= config_.max_samples_per_send; });
      lk.unlock();
      (void)flush();  // errors are in stats()
      lk.lock();
    }
  });
}

bool RemoteWriteQueue::past_deadline() const {
  const int64_t d = deadline_.load();
  return d > 0 && steady_ms() >= d;
}

void RemoteWriteQueue::stop(Millis budget_ms) {
  {
    std::lock_guard lock(mu_);
    if (!worker_.joinable()) return;
    stopping_ = true;
    deadline_ = steady_ms() + std::max<Millis>(budget_ms, 1);
  }
  cv_.notify_all();
  worker_.join();
  (void)flush();
}

}  // namespace ruleeval::engine
