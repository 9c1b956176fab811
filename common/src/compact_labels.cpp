#include "ruleeval/common/compact_labels.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>

namespace ruleeval {
namespace {

using RefCount = std::atomic<uint32_t>;
static_assert(sizeof(RefCount) == sizeof(uint32_t) && RefCount::is_always_lock_free);
constexpr size_t kRefs = sizeof(RefCount);  // the reference count, then the hash, then:
constexpr size_t kHash = sizeof(uint64_t);   // varint count, varint byte size, the entries
RefCount& refs(char* block) { return *std::launder(reinterpret_cast<RefCount*>(block)); }

// Lengths are LEB128 varints: one byte for the usual name or value under 128 bytes.
size_t varint_size(size_t v) {
  size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}
char* put_varint(char* p, size_t v) {
  for (; v >= 0x80; v >>= 7) *p++ = static_cast<char>((v & 0x7f) | 0x80);
  *p++ = static_cast<char>(v);
  return p;
}
const char* get_varint(const char* p, size_t& v) {
  v = 0;
  for (unsigned shift = 0;; shift += 7) {
    auto b = static_cast<unsigned char>(*p++);
    v |= static_cast<size_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return p;
  }
}

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

CompactLabels::CompactLabels(const Labels& l) {
  // The empty set needs no block unless its hash is not 0 (hash() of a null block).
  if (l.empty() && l.hash() == 0) return;
  size_t bytes = 0;
  for (const auto& x : l) {
    // Label names are identifiers (or short UTF-8 names); values can be long.
    if (x.name.size() > std::numeric_limits<uint16_t>::max() ||
        x.value.size() > std::numeric_limits<uint32_t>::max()) {
      throw std::length_error("label too long to store");
    }
    bytes += varint_size(x.name.size()) + varint_size(x.value.size()) + x.name.size() +
             x.value.size();
  }
  if (bytes > std::numeric_limits<uint32_t>::max()) throw std::length_error("label set too large");
  const size_t header = kRefs + kHash + varint_size(l.size()) + varint_size(bytes);
  // NOLINTNEXTLINE(cppcoreguidelines-owning-memory): freed in release()
  data_ = new char[header + bytes];
  new (data_) RefCount(1);
  store<uint64_t>(data_ + kRefs, l.hash());
  char* p = put_varint(put_varint(data_ + kRefs + kHash, l.size()), bytes);
  for (const auto& x : l) {
    p = put_varint(p, x.name.size());
    p = put_varint(p, x.value.size());
    // NOLINTNEXTLINE(bugprone-not-null-terminated-result): length-prefixed bytes, not C strings
    std::memcpy(p, x.name.data(), x.name.size());
    p += x.name.size();
    // NOLINTNEXTLINE(bugprone-not-null-terminated-result): length-prefixed bytes, not C strings
    std::memcpy(p, x.value.data(), x.value.size());
    p += x.value.size();
  }
}

uint64_t CompactLabels::hash() const { return data_ ? load<uint64_t>(data_ + kRefs) : 0; }

const char* CompactLabels::entries(size_t* count, size_t* bytes) const {
  size_t c = 0, b = 0;
  const char* p = get_varint(get_varint(data_ + kRefs + kHash, c), b);
  if (count) *count = c;
  if (bytes) *bytes = b;
  return p;
}

size_t CompactLabels::byte_size() const {
  if (!data_) return 0;
  size_t b = 0;
  const char* p = entries(nullptr, &b);
  return static_cast<size_t>(p - (data_ + kRefs)) + b;
}

void CompactLabels::release() noexcept {
  if (data_ && refs(data_).fetch_sub(1, std::memory_order_acq_rel) == 1) {
    refs(data_).~RefCount();
    delete[] data_;  // NOLINT(cppcoreguidelines-owning-memory): allocated by the constructor
  }
  data_ = nullptr;
}

CompactLabels::CompactLabels(const CompactLabels& o) : data_(o.data_) {
  if (data_) refs(data_).fetch_add(1, std::memory_order_relaxed);
}

CompactLabels& CompactLabels::operator=(const CompactLabels& o) {
  if (this != &o) {
    if (o.data_) refs(o.data_).fetch_add(1, std::memory_order_relaxed);
    release();
    data_ = o.data_;
  }
  return *this;
}

CompactLabels& CompactLabels::operator=(CompactLabels&& o) noexcept {
  if (this != &o) {
    release();
    data_ = o.data_;
    o.data_ = nullptr;
  }
  return *this;
}

size_t CompactLabels::size() const {
  size_t c = 0;
  if (data_) entries(&c, nullptr);
  return c;
}

LabelView CompactLabels::iterator::operator*() const {
  size_t nl = 0, vl = 0;
  const char* s = get_varint(get_varint(p_, nl), vl);
  return LabelView{std::string_view(s, nl), std::string_view(s + nl, vl)};
}

CompactLabels::iterator& CompactLabels::iterator::operator++() {
  size_t nl = 0, vl = 0;
  const char* s = get_varint(get_varint(p_, nl), vl);
  p_ = s + nl + vl;
  return *this;
}

CompactLabels::iterator CompactLabels::begin() const {
  return iterator(data_ ? entries(nullptr, nullptr) : nullptr);
}
CompactLabels::iterator CompactLabels::end() const {
  if (!data_) return iterator(nullptr);
  size_t b = 0;
  const char* p = entries(nullptr, &b);
  return iterator(p + b);
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
  if (a.data_ == b.data_) return true;
  if (a.hash() != b.hash()) return false;
  size_t n = a.byte_size();
  return n == b.byte_size() &&
         (n == 0 || std::memcmp(a.data_ + kRefs, b.data_ + kRefs, n) == 0);
}

bool operator==(const CompactLabels& a, const Labels& b) {
  if (a.hash() != b.hash() || a.size() != b.size()) return false;
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
