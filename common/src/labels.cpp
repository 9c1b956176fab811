#include "ruleeval/common/labels.hpp"

#include <xxhash.h>

#include <algorithm>

namespace ruleeval {
namespace {

constexpr char kSep = '\xff';

// Hashes name\xffvalue\xff... with one-shot XXH3 over a reused per-thread buffer (no allocation
// once the buffer has grown; the streaming XXH3 state would cost a heap allocation per hash).
class Hasher {
 public:
  Hasher() : buf_(buffer()) { buf_.clear(); }
  void add(const Label& l) {
    buf_.append(l.name);
    buf_.push_back(kSep);
    buf_.append(l.value);
    buf_.push_back(kSep);
  }
  uint64_t digest() const { return XXH3_64bits(buf_.data(), buf_.size()); }

 private:
  static std::string& buffer() {
    thread_local std::string b;
    return b;
  }
  std::string& buf_;
};

bool contains(std::span<const std::string> names, std::string_view n) {
  return std::find(names.begin(), names.end(), n) != names.end();
}

}  // namespace

Labels::Labels(std::initializer_list<Label> init) : Labels(from_vector(std::vector<Label>(init))) {}

Labels Labels::from_vector(std::vector<Label> labels) {
  std::stable_sort(labels.begin(), labels.end(),
                   [](const Label& a, const Label& b) { return a.name < b.name; });
  std::vector<Label> out;
  out.reserve(labels.size());
  for (auto& l : labels) {
    if (!out.empty() && out.back().name == l.name) {
      out.back().value = std::move(l.value);
    } else {
      out.push_back(std::move(l));
    }
  }
  std::erase_if(out, [](const Label& l) { return l.value.empty(); });
  return from_sorted(std::move(out));
}

Labels Labels::from_sorted(std::vector<Label> labels) {
  Labels l;
  labels.shrink_to_fit();  // label sets live long (series, alerts): no spare capacity
  l.labels_ = std::move(labels);
  l.rehash();
  return l;
}

void Labels::rehash() {
  if (labels_.empty()) {
    hash_ = 0;
    return;
  }
  Hasher h;
  for (const auto& l : labels_) h.add(l);
  hash_ = h.digest();
}

std::string_view Labels::get(std::string_view name) const {
  auto it = std::lower_bound(labels_.begin(), labels_.end(), name,
                             [](const Label& l, std::string_view n) { return l.name < n; });
  if (it != labels_.end() && it->name == name) return it->value;
  return {};
}

bool Labels::has(std::string_view name) const { return !get(name).empty(); }

uint64_t Labels::hash_for(std::span<const std::string> names) const {
  Hasher h;
  for (const auto& l : labels_) {
    if (contains(names, l.name)) h.add(l);
  }
  return h.digest();
}

uint64_t Labels::hash_without(std::span<const std::string> names) const {
  Hasher h;
  for (const auto& l : labels_) {
    if (l.name != kMetricName && !contains(names, l.name)) h.add(l);
  }
  return h.digest();
}

Labels Labels::keep_only(std::span<const std::string> names) const {
  std::vector<Label> out;
  for (const auto& l : labels_) {
    if (contains(names, l.name)) out.push_back(l);
  }
  return from_sorted(std::move(out));
}

Labels Labels::drop(std::span<const std::string> names) const {
  std::vector<Label> out;
  for (const auto& l : labels_) {
    if (!contains(names, l.name)) out.push_back(l);
  }
  return from_sorted(std::move(out));
}

Labels Labels::without_metric_name() const {
  if (!has(kMetricName)) return *this;
  std::vector<Label> out;
  out.reserve(labels_.size() - 1);
  for (const auto& l : labels_) {
    if (l.name != kMetricName) out.push_back(l);
  }
  return from_sorted(std::move(out));
}

std::string Labels::to_string() const {
  std::string out;
  std::string_view name = metric_name();
  out += name;
  bool first = true;
  out += '{';
  for (const auto& l : labels_) {
    if (l.name == kMetricName) continue;
    if (!first) out += ", ";
    first = false;
    out += l.name;
    out += '=';
    out += go_quote(l.value);
  }
  out += '}';
  if (!name.empty() && first) out.resize(out.size() - 2);  // bare metric name, no braces
  return out;
}

bool operator<(const Labels& a, const Labels& b) {
  size_t n = std::min(a.labels_.size(), b.labels_.size());
  for (size_t i = 0; i < n; ++i) {
    const Label& x = a.labels_[i];
    const Label& y = b.labels_[i];
    if (x.name != y.name) return x.name < y.name;
    if (x.value != y.value) return x.value < y.value;
  }
  return a.labels_.size() < b.labels_.size();
}

LabelsBuilder::LabelsBuilder(const Labels& base) : labels_(base.begin(), base.end()) {}

LabelsBuilder& LabelsBuilder::set(std::string_view name, std::string_view value) {
  auto it = std::lower_bound(labels_.begin(), labels_.end(), name,
                             [](const Label& l, std::string_view n) { return l.name < n; });
  if (it != labels_.end() && it->name == name) {
    if (value.empty()) {
      labels_.erase(it);
    } else {
      it->value.assign(value);
    }
  } else if (!value.empty()) {
    labels_.insert(it, Label{std::string(name), std::string(value)});
  }
  return *this;
}

LabelsBuilder& LabelsBuilder::del(std::string_view name) { return set(name, {}); }

std::string_view LabelsBuilder::get(std::string_view name) const {
  auto it = std::lower_bound(labels_.begin(), labels_.end(), name,
                             [](const Label& l, std::string_view n) { return l.name < n; });
  if (it != labels_.end() && it->name == name) return it->value;
  return {};
}

Labels LabelsBuilder::build() const { return Labels::from_sorted(labels_); }

namespace {
// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid.
size_t utf8_len(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n = 0;
  uint32_t cp = 0;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
      cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return n;
}
}  // namespace

std::string go_quote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; ++i; continue;
      case '\\': out += "\\\\"; ++i; continue;
      case '\a': out += "\\a"; ++i; continue;
      case '\b': out += "\\b"; ++i; continue;
      case '\f': out += "\\f"; ++i; continue;
      case '\n': out += "\\n"; ++i; continue;
      case '\r': out += "\\r"; ++i; continue;
      case '\t': out += "\\t"; ++i; continue;
      case '\v': out += "\\v"; ++i; continue;
      default: break;
    }
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
      ++i;
      continue;
    }
    size_t n = utf8_len(s, i);
    if (n == 0) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
      ++i;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  out += '"';
  return out;
}

}  // namespace ruleeval
