#include "ruleeval/common/compact_labels.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace ruleeval {
namespace {

constexpr size_t kHeader = 2 * sizeof(uint32_t);
constexpr size_t kEntryHeader = sizeof(uint16_t) + sizeof(uint32_t);

template <class T>
T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class T>
void store(char* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

}  // namespace

CompactLabels::CompactLabels(const Labels& l) : hash_(l.hash()) {
  if (l.empty()) return;
  size_t bytes = 0;
  for (const auto& x : l) {
    // Label names are identifiers (or short UTF-8 names); values can be long.
    if (x.name.size() > std::numeric_limits<uint16_t>::max() ||
        x.value.size() > std::numeric_limits<uint32_t>::max()) {
      throw std::length_error("label too long to store");
    }
    bytes += kEntryHeader + x.name.size() + x.value.size();
  }
  if (bytes > std::numeric_limits<uint32_t>::max()) throw std::length_error("label set too large");
  data_ = std::make_unique_for_overwrite<char[]>(kHeader + bytes);
  char* p = data_.get();
  store<uint32_t>(p, static_cast<uint32_t>(l.size()));
  store<uint32_t>(p + sizeof(uint32_t), static_cast<uint32_t>(bytes));
  p += kHeader;
  for (const auto& x : l) {
    store<uint16_t>(p, static_cast<uint16_t>(x.name.size()));
    store<uint32_t>(p + sizeof(uint16_t), static_cast<uint32_t>(x.value.size()));
    p += kEntryHeader;
    // NOLINTNEXTLINE(bugprone-not-null-terminated-result): length-prefixed bytes, not C strings
    std::memcpy(p, x.name.data(), x.name.size());
    p += x.name.size();
    // NOLINTNEXTLINE(bugprone-not-null-terminated-result): length-prefixed bytes, not C strings
    std::memcpy(p, x.value.data(), x.value.size());
    p += x.value.size();
  }
}

size_t CompactLabels::byte_size() const {
  return data_ ? kHeader + load<uint32_t>(data_.get() + sizeof(uint32_t)) : 0;
}

CompactLabels::CompactLabels(const CompactLabels& o) : hash_(o.hash_) {
  if (!o.data_) return;
  size_t n = o.byte_size();
  data_ = std::make_unique_for_overwrite<char[]>(n);
  std::memcpy(data_.get(), o.data_.get(), n);
}

CompactLabels& CompactLabels::operator=(const CompactLabels& o) {
  if (this != &o) *this = CompactLabels(o);
  return *this;
}

size_t CompactLabels::size() const { return data_ ? load<uint32_t>(data_.get()) : 0; }

LabelView CompactLabels::iterator::operator*() const {
  auto nl = load<uint16_t>(p_);
  auto vl = load<uint32_t>(p_ + sizeof(uint16_t));
  const char* s = p_ + kEntryHeader;
  return LabelView{std::string_view(s, nl), std::string_view(s + nl, vl)};
}

CompactLabels::iterator& CompactLabels::iterator::operator++() {
  auto nl = load<uint16_t>(p_);
  auto vl = load<uint32_t>(p_ + sizeof(uint16_t));
  p_ += kEntryHeader + nl + vl;
  return *this;
}

CompactLabels::iterator CompactLabels::begin() const {
  return iterator(data_ ? data_.get() + kHeader : nullptr);
}
CompactLabels::iterator CompactLabels::end() const {
  return iterator(data_ ? data_.get() + byte_size() : nullptr);
}

Labels CompactLabels::to_labels() const {
  std::vector<Label> out;
  out.reserve(size());
  for (LabelView l : *this) out.push_back(Label{std::string(l.name), std::string(l.value)});
  return Labels::from_sorted(std::move(out));
}

std::string_view CompactLabels::get(std::string_view name) const {
  for (LabelView l : *this) {
    if (l.name == name) return l.value;
    if (l.name > name) break;  // sorted by name
  }
  return {};
}

std::string CompactLabels::to_string() const { return to_labels().to_string(); }

bool operator==(const CompactLabels& a, const CompactLabels& b) {
  if (a.hash_ != b.hash_) return false;
  size_t n = a.byte_size();
  return n == b.byte_size() && (n == 0 || std::memcmp(a.data_.get(), b.data_.get(), n) == 0);
}

bool operator==(const CompactLabels& a, const Labels& b) {
  if (a.hash_ != b.hash() || a.size() != b.size()) return false;
  auto it = b.begin();
  for (LabelView l : a) {
    if (l.name != it->name || l.value != it->value) return false;
    ++it;
  }
  return true;
}

bool operator<(const CompactLabels& a, const CompactLabels& b) {
  auto x = a.begin(), xe = a.end();
  auto y = b.begin(), ye = b.end();
  for (; x != xe && y != ye; ++x, ++y) {
    LabelView p = *x, q = *y;
    if (p.name != q.name) return p.name < q.name;
    if (p.value != q.value) return p.value < q.value;
  }
  return x == xe && y != ye;
}

}  // namespace ruleeval
